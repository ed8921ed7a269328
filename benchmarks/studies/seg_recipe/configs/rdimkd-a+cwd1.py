# Together: the segmentation default untouched (RdimKD-A on the PSP head's bottleneck, weight
# 2.5) plus CWD on the logits at a quarter of its published weight (tau 1, weight 1.25).
_base_ = ['./rdimkd-a+cwd5.py']
model = dict(distill=[
    _base_.seg_distill[0],
    dict(
        name='logits',
        student='decode_head.conv_seg',
        teacher='decode_head.conv_seg',
        loss=dict(type='rdimkd_mm.CWDLoss', tau=1.0, loss_weight=1.25)),
])
