# CWD (Shu et al., ICCV 2021), the peer method, on the RdimKD-A config's pair: PSPNet R101-D8 ->
# R18-D8 at its published point, the logits (decode_head.conv_seg; equal class counts, no
# connector), tau=1, weight 5 (see CWDLoss). The comparison arm of the Cityscapes suite.
_base_ = ['../../rdimkd/cityscapes/rdimkd-a_pspnet-r101-d8_pspnet-r18-d8_4xb2-80k_cityscapes-512x1024.py']
model = dict(distill=[
    dict(
        name='logits',
        student='decode_head.conv_seg',
        teacher='decode_head.conv_seg',
        loss=dict(type='rdimkd_mm.CWDLoss', tau=1.0, loss_weight=5.0)),
])
custom_hooks = []  # no projection to fit
