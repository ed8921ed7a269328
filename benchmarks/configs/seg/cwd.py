# CWD (Shu et al., ICCV 2021) at its published point and setting: the logits (the classifier
# decode_head.conv_seg; equal class counts, so no connector), tau=1, loss weight 5 (see CWDLoss).
_base_ = ['./rdimkd-r.py']
model = dict(distill=[
    dict(
        name='logits',
        student='decode_head.conv_seg',
        teacher='decode_head.conv_seg',
        loss=dict(type='rdimkd_mm.CWDLoss', tau=1.0, loss_weight=5.0)),
])
custom_hooks = []
