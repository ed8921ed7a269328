# RdimKD-R on COCO: FCOS ResNet-101 (caffe, GN head) -> FCOS ResNet-50, the first three FPN levels.
# Teacher weights: mmdet model zoo, fcos_r101-caffe_fpn_gn-head-1x_coco, saved under checkpoints/.
# The two use the same (caffe) input normalisation; the distiller would re-normalise otherwise.
_base_ = [
    'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    '../../_base_/distill/rdimkd-r_fpn.py',
]

model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='mmdet::fcos/fcos_r101-caffe_fpn_gn-head-1x_coco.py',
    teacher_checkpoint='checkpoints/fcos_r101-caffe_fpn_gn-head-1x_coco.pth',
    distill=_base_.fpn_distill)
