# RdimKD-R on COCO: RetinaNet ResNeXt-101-64x4d -> RetinaNet ResNet-50, the first three FPN levels.
# Teacher weights: mmdet model zoo, retinanet_x101-64x4d_fpn_1x_coco, saved under checkpoints/.
_base_ = ['./rdimkd-r_fpn_retinanet-r101_retinanet-r50_1x_coco.py']
model = dict(
    teacher='mmdet::retinanet/retinanet_x101-64x4d_fpn_1x_coco.py',
    teacher_checkpoint='checkpoints/retinanet_x101-64x4d_fpn_1x_coco.pth')
