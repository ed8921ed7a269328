# The recipe's combination on the second family, untouched but for the head feature's address:
# RdimKD-A (weight 2.5) at `decode_head.sep_bottleneck` plus CWD on the logits (tau 1, weight
# 1.25).
_base_ = ['./rdimkd-a.py']
model = dict(distill=[
    _base_.model.distill[0],
    dict(
        name='logits',
        student='decode_head.conv_seg',
        teacher='decode_head.conv_seg',
        loss=dict(type='rdimkd_mm.CWDLoss', tau=1.0, loss_weight=1.25)),
])
