# RdimKD-P: as rdimkd-r.py, with K = the top C_t / 4 = 32 principal components of the teacher's
# features, fitted before training (FitProjectionsHook).
_base_ = ['./rdimkd-r.py']
model = dict(distill=[
    dict(
        name='head',
        student='decode_head.bottleneck',
        teacher='decode_head.bottleneck',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.PCAProjection', k=0.25),
            normalize='standardize',
            loss_weight=2.5)),
])
custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=50)]
