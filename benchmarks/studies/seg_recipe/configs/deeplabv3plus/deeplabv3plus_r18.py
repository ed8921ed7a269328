# The second segmentor family of the study: DeepLabV3+ (mmseg's DepthwiseSeparableASPPHead,
# decoder on the stride-4 features) on ResNetV1c-18 at half width (base 32, output stride 8),
# scaled like the benchmark's PSPNet: head channels 128, low-level projection 12 channels,
# ASPP dilations (1, 6, 12, 18) for a 16x16 stride-8 map of a 128 px crop. No pretrained weights.
_base_ = ['../../../../../configs/_base_/models/pspnet_r50-w32-d8.py']
model = dict(
    backbone=dict(depth=18),
    decode_head=dict(
        _delete_=True,
        type='DepthwiseSeparableASPPHead',
        in_channels=256,
        in_index=3,
        channels=128,
        dilations=(1, 6, 12, 18),
        c1_in_channels=32,
        c1_channels=12,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=_base_.norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(in_channels=128))
