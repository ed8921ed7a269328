# Faster R-CNN (ResNet, FPN P2-P6, RPN, RoIAlign + 2-fc box head) as mmdet's
# faster-rcnn_r50_fpn.py, sized for the benchmark's 128x128 data, 8 classes and 2 CPU cores:
# R18 at half width (base 32) with a 128-channel FPN, from scratch (no pretrained backbone),
# RPN anchors from 16 px (scale 4 at stride 4: the objects start at 16 px), fewer proposals
# and sampled RoIs than COCO's (128-pixel images), a 256-wide box head.
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'
model = dict(
    backbone=dict(depth=18, base_channels=32, init_cfg=None),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=128),
    rpn_head=dict(
        in_channels=128,
        feat_channels=128,
        anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=128),
        bbox_head=dict(in_channels=128, fc_out_channels=256, num_classes=8)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=300)))
