# RdimKD-R for segmentors at the decode head's last feature before the classifier
# (`decode_head.bottleneck` for PSPNet and DeepLabV3), k = a quarter of the teacher's channels,
# on the standardised loss (1 - the projected channels' mean Pearson correlation) at weight 2.5.
# Measured in benchmarks/results/quality.md (5 seeds, trained teacher): 2.5 was the best of the
# 5-seed sweep x1/16..x16 around the earlier default 10, which it beat on every seed; the sweep
# now runs around 2.5. Detection's default weight is 10 (rdimkd-r_fpn.py): README, "Loss scale".
# The last backbone stage ('backbone[3]') is a possible second point, not measured. A pair config
# inherits this next to the student's config and writes `distill=_base_.seg_distill`. Nothing is
# fitted before training (a PCA or autoencoder projection needs FitProjectionsHook).
seg_distill = [
    dict(
        name='head',
        student='decode_head.bottleneck',
        teacher='decode_head.bottleneck',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.RandomProjection', k=0.25),
            normalize='standardize',
            loss_weight=2.5)),
]
