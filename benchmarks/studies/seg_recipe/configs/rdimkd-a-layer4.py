# Where: the default (RdimKD-A, k = C_t / 4, standardised loss, weight 2.5) on the PSP head's
# bottleneck and, with the same loss, on the backbone's last stage (layer4: student 128 ->
# teacher 256 channels through the loss's 1x1 conv connector).
_base_ = ['../../../configs/seg/rdimkd-a.py']
model = dict(distill=[
    _base_.seg_distill[0],
    dict(
        name='layer4',
        student='backbone.layer4',
        teacher='backbone.layer4',
        loss=_base_.seg_distill[0].loss),
])
