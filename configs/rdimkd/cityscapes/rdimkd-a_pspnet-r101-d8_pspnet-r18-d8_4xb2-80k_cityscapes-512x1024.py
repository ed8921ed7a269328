# RdimKD-A on Cityscapes: PSPNet ResNet-101-D8 -> PSPNet ResNet-18-D8 (512x1024 crops, 80k),
# with the segmentation default (configs/_base_/distill/rdimkd-a_seg.py): RdimKD-A at the PSP
# bottleneck (k = 128 of 512) and, with the same loss, at the backbones' last stage (stride 8
# on both, k = 512 of 2048); K = the encoder of an autoencoder fitted to the teacher's
# features before training, standardised loss at weight 2.5.
# Teacher weights: mmseg model zoo, pspnet_r101-d8_4xb2-80k_cityscapes-512x1024, saved under
# checkpoints/ by `python tools/download_teacher.py <this config>`.
_base_ = [
    'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    '../../_base_/distill/rdimkd-a_seg.py',
]

model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='mmseg::pspnet/pspnet_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    teacher_checkpoint='checkpoints/pspnet_r101-d8_4xb2-80k_cityscapes-512x1024.pth',
    distill=_base_.seg_distill,
    probe_size=(512, 512))
custom_hooks = _base_.seg_distill_hooks  # fits the autoencoders before training
