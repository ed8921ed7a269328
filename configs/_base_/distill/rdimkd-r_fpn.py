# RdimKD-R at every FPN level (k = 64 of 256 channels). A pair config inherits this next to the
# student's config and writes `distill=_base_.fpn_distill` into its distiller.
fpn_distill = [
    dict(
        name='fpn',
        student='neck',
        teacher='neck',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.RandomProjection', k=64),
            loss_weight=1.0)),
]
custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=100)]
