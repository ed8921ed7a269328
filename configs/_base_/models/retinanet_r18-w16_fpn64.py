# CPU-sized RetinaNet student: ResNet-18 at quarter width (base_channels=16), 64-channel FPN.
_base_ = './retinanet_r50-w32_fpn128.py'
model = dict(
    backbone=dict(depth=18, base_channels=16),
    neck=dict(in_channels=[32, 64, 128], out_channels=64),
    bbox_head=dict(in_channels=64, feat_channels=64))
