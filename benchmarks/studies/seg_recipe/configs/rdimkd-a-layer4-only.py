# Where, separated: the default's loss (RdimKD-A, k = C_t / 4, standardised, weight 2.5) on the
# backbone's last stage alone (layer4: student 128 -> teacher 256 channels), not the head.
_base_ = ['../../../configs/seg/rdimkd-a.py']
model = dict(distill=[
    dict(
        name='layer4',
        student='backbone.layer4',
        teacher='backbone.layer4',
        loss=_base_.seg_distill[0].loss),
])
