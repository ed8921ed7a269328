# CPU-sized PSPNet student: ResNetV1c-18 at quarter width (base 16), output stride 8.
_base_ = './pspnet_r50-w32-d8.py'
model = dict(
    backbone=dict(depth=18, base_channels=16, stem_channels=16),
    decode_head=dict(in_channels=128, channels=64),
    auxiliary_head=dict(in_channels=64, channels=32))
