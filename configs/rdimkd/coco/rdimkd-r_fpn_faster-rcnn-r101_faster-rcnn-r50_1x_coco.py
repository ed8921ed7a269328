# RdimKD-R on COCO: Faster R-CNN ResNet-101 -> Faster R-CNN ResNet-50, the first three FPN levels.
# Teacher weights: mmdet model zoo, faster-rcnn_r101_fpn_1x_coco, saved under checkpoints/.
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    '../../_base_/distill/rdimkd-r_fpn.py',
]

model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py',
    teacher_checkpoint='checkpoints/faster-rcnn_r101_fpn_1x_coco.pth',
    distill=_base_.fpn_distill)
