# RdimKD-R on COCO: GFL ResNet-101 (multi-scale 2x) -> GFL ResNet-50 (multi-scale 2x), FPN levels.
# Teacher weights: mmdet model zoo, gfl_r101_fpn_ms-2x_coco, saved under checkpoints/.
_base_ = [
    'mmdet::gfl/gfl_r50_fpn_ms-2x_coco.py',
    '../../_base_/distill/rdimkd-r_fpn.py',
]

model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py',
    teacher_checkpoint='checkpoints/gfl_r101_fpn_ms-2x_coco.pth',
    distill=_base_.fpn_distill)
