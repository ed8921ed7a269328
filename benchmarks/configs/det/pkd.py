# PKD (Cao et al., NeurIPS 2022): MSE of per-channel standardised features (1 - Pearson r) at the
# same FPN levels P3-P5 as RdimKD, through the same 1x1 conv connector (64 -> 128 channels), at
# its published weight for a RetinaNet student: 10 per level (see PKDLoss).
_base_ = ['./rdimkd-r.py']
model = dict(distill=[
    dict(
        name='fpn',
        student='neck[0:3]',
        teacher='neck[0:3]',
        loss=dict(type='rdimkd_mm.PKDLoss', loss_weight=10.0)),
])
custom_hooks = []
