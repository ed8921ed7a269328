# RdimKD-A: as the RdimKD-R config, with K = the encoder of an autoencoder (256 -> 64 -> 256,
# non-linear decoder) pre-trained on the teacher's FPN features before training
# (FitProjectionsHook), then frozen.
_base_ = ['./rdimkd-r_fpn_retinanet-r101_retinanet-r50_1x_coco.py']
model = dict(distill=[
    dict(
        name='fpn',
        student='neck[0:3]',
        teacher='neck[0:3]',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.AutoencoderProjection', k=64, hidden_channels=256),
            normalize='standardize',
            loss_weight=10.0)),
])
custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=50)]
