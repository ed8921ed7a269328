# RdimKD-P: as rdimkd-r.py, with K = the top-32 principal components of the teacher's features.
_base_ = ['./rdimkd-r.py']
model = dict(distill=[
    dict(
        name='fpn',
        student='neck[0:3]',
        teacher='neck[0:3]',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.PCAProjection', k=32),
            normalize=None,  # the raw loss: the weight was tuned for it
            loss_weight=0.01)),
])
