# The recipe's two-point arm on the second family, untouched but for the head feature's address:
# RdimKD-A (k = C_t / 4, standardised loss, weight 2.5) at `decode_head.sep_bottleneck` and, with
# the same loss, at the backbone's last stage (student 128 -> teacher 256 channels).
_base_ = ['./rdimkd-a.py']
model = dict(distill=[
    _base_.model.distill[0],
    dict(
        name='layer4',
        student='backbone.layer4',
        teacher='backbone.layer4',
        loss=_base_.model.distill[0].loss),
])
