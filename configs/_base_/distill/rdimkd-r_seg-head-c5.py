# RdimKD-R for segmentors: the decode head's bottleneck (the feature before the classifier,
# k = 64) and the last backbone stage (k = 256). A pair config inherits this next to the
# student's config and writes `distill=_base_.seg_distill` into its distiller.
seg_distill = [
    dict(
        name='head',
        student='decode_head.bottleneck',
        teacher='decode_head.bottleneck',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.RandomProjection', k=64),
            loss_weight=1.0)),
    dict(
        name='c5',
        student='backbone[3]',
        teacher='backbone[3]',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.RandomProjection', k=256),
            loss_weight=1.0)),
]
custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=100)]
