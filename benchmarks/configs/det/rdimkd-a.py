# RdimKD-A: as rdimkd-r.py, with K = the encoder of an autoencoder fitted to the teacher's features.
_base_ = ['./rdimkd-r.py']
model = dict(distill=[
    dict(
        name='fpn',
        student='neck[0:3]',
        teacher='neck[0:3]',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.AutoencoderProjection', k=0.25),
            loss_weight=1.0)),
])
