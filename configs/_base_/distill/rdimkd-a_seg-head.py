# RdimKD-A for segmentors at the decode head's last feature before the classifier only
# (`decode_head.bottleneck` for PSPNet and DeepLabV3): the head-only form of the segmentation
# default (rdimkd-a_seg.py, which adds the backbone's last output with this loss). K = the
# encoder of an autoencoder fitted to the teacher's features before training, k = a quarter of
# the teacher's channels, on the standardised loss (1 - the projected channels' mean Pearson
# correlation) at weight 2.5. The benchmark's RdimKD-A arm distils with it; measured in
# benchmarks/results/ (trained teacher): A beat the student
# baseline on every seed of ten (seg_10_seeds), RdimKD-R at the same point and weight on nine;
# A's sweep x1/4..x4 (seg_a_sweep, 5 seeds) beat the baseline at every weight, and 2.5 was the
# best of them. Detection's default is RdimKD-R at weight 10 on FPN P3-P5 (rdimkd-r_fpn.py); why
# one weight per task: docs/benchmarks/loss_scale_study.md. A pair config inherits this next to
# the student's config and writes
#   distill=_base_.seg_distill            (in its model)
#   custom_hooks = _base_.seg_distill_hooks   (or its student's custom_hooks + these)
# The fit streams 20 training batches through the frozen teacher, as the benchmark did
# (3-6 s there); without the hook the first training step stops with an error that says so.
# RdimKD-R (RandomProjection) needs no fit and gained less: docs/benchmarks/synthetic.md.
# check_head_feature=True: the build stops if an address is not its model's head feature (e.g.
# DeepLabV3+'s is `decode_head.sep_bottleneck`) and names it; set both addresses then.
seg_distill = [
    dict(
        name='head',
        student='decode_head.bottleneck',
        teacher='decode_head.bottleneck',
        check_head_feature=True,
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.AutoencoderProjection', k=0.25),
            normalize='standardize',
            loss_weight=2.5)),
]
seg_distill_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=20)]
