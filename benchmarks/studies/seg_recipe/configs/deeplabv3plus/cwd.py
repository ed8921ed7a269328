# CWD at its published point and setting: the logits (decode_head.conv_seg), tau 1, weight 5.
_base_ = ['./rdimkd-a.py']
model = dict(distill=[
    dict(
        name='logits',
        student='decode_head.conv_seg',
        teacher='decode_head.conv_seg',
        loss=dict(type='rdimkd_mm.CWDLoss', tau=1.0, loss_weight=5.0)),
])
custom_hooks = []
