# RdimKD-R on Cityscapes: PSPNet ResNet-101-D8 -> PSPNet ResNet-18-D8 (512x1024 crops, 80k),
# distilled at the decode head's bottleneck (512 -> k=64 of the teacher's 512 channels) and
# the last backbone stage (2048 channels, k=256).
# Teacher weights: mmseg model zoo, pspnet_r101-d8_4xb2-80k_cityscapes-512x1024, saved under
# checkpoints/ (nothing is downloaded at run time).
_base_ = ['mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py']

model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='mmseg::pspnet/pspnet_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    teacher_checkpoint='checkpoints/pspnet_r101-d8_4xb2-80k_cityscapes-512x1024.pth',
    distill=[
        dict(
            name='head',
            student='decode_head.bottleneck',
            teacher='decode_head.bottleneck',
            loss=dict(
                type='rdimkd_mm.RdimKDLoss',
                projection=dict(type='rdimkd_mm.RandomProjection', k=64),
                loss_weight=1.0)),
        dict(
            name='c5',
            student='backbone[3]',
            teacher='backbone[3]',
            loss=dict(
                type='rdimkd_mm.RdimKDLoss',
                projection=dict(type='rdimkd_mm.RandomProjection', k=256),
                loss_weight=1.0)),
    ],
    probe_size=(512, 512))
custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=100)]
