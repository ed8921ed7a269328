# Together: the segmentation default untouched (RdimKD-A on the PSP head's bottleneck, weight
# 2.5) plus CWD on the logits at its published setting (tau 1, weight 5).
_base_ = ['../../../configs/seg/rdimkd-a.py']
model = dict(distill=[
    _base_.seg_distill[0],
    dict(
        name='logits',
        student='decode_head.conv_seg',
        teacher='decode_head.conv_seg',
        loss=dict(type='rdimkd_mm.CWDLoss', tau=1.0, loss_weight=5.0)),
])
