# RdimKD-R on COCO: RetinaNet ResNet-101 (teacher) -> RetinaNet ResNet-50 (student), FPN P3-P5
# (configs/_base_/distill/rdimkd-r_fpn.py), k = 64 of 256. The student keeps mmdet's 1x schedule.
# Teacher weights: the mmdet model-zoo checkpoint of retinanet_r101_fpn_1x_coco, saved as
# checkpoints/retinanet_r101_fpn_1x_coco.pth by `python tools/download_teacher.py <this config>`.
_base_ = [
    'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
    '../../_base_/distill/rdimkd-r_fpn.py',
]

model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='mmdet::retinanet/retinanet_r101_fpn_1x_coco.py',
    teacher_checkpoint='checkpoints/retinanet_r101_fpn_1x_coco.pth',
    distill=_base_.fpn_distill)
