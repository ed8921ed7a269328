# RdimKD-R for segmentors at the decode head's last feature before the classifier
# (`decode_head.bottleneck` for PSPNet and DeepLabV3), k = a quarter of the teacher's channels,
# on the teacher-normalised loss at weight 1. Measured in benchmarks/results/quality.md (5 seeds,
# trained teacher): +0.6 mIoU over the student alone (4 of 5 seeds), below CWD. The last
# backbone stage ('backbone[3]') is a possible second point, not measured yet. A pair config
# inherits this next to the student's config and writes `distill=_base_.seg_distill`.
seg_distill = [
    dict(
        name='head',
        student='decode_head.bottleneck',
        teacher='decode_head.bottleneck',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.RandomProjection', k=0.25),
            loss_weight=1.0)),
]
# Measures the loss scales before training.
custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=50)]
