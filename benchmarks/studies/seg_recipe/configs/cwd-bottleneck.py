# Where: CWD with its published setting (tau 1, weight 5) moved from the logits to the
# default's point, the PSP head's bottleneck (student 64 -> teacher 128 channels through
# CWDLoss's 1x1 conv connector).
_base_ = ['../../../configs/seg/rdimkd-r.py']
model = dict(distill=[
    dict(
        name='head',
        student='decode_head.bottleneck',
        teacher='decode_head.bottleneck',
        loss=dict(type='rdimkd_mm.CWDLoss', tau=1.0, loss_weight=5.0)),
])
custom_hooks = []
