# RdimKD-P: as the RdimKD-R config, with K = the top-64 principal directions of each teacher FPN
# level, fitted on 50 training batches before training (FitProjectionsHook).
_base_ = ['./rdimkd-r_fpn_retinanet-r101_retinanet-r50_1x_coco.py']
model = dict(distill=[
    dict(
        name='fpn',
        student='neck[0:3]',
        teacher='neck[0:3]',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.PCAProjection', k=64),
            normalize='standardize',
            loss_weight=10.0)),
])
custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=50)]
