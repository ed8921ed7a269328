# RdimKD-R: distil the synthetic-demo RetinaNet teacher into its student at all FPN levels.
_base_ = ['../synthetic/retinanet_r18-w16_fpn64_synthetic-coco.py']

model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='configs/synthetic/retinanet_r50-w32_fpn128_synthetic-coco.py',
    teacher_checkpoint='work_dirs/retinanet_r50-w32_fpn128_synthetic-coco/iter_800.pth',
    distill=[
        dict(
            name='fpn',
            student='neck',  # all 5 FPN levels; 'neck[0]' would take P3 only
            teacher='neck',
            loss=dict(
                type='rdimkd_mm.RdimKDLoss',
                projection=dict(type='rdimkd_mm.RandomProjection', k=32),
                # KD starts ~90x the task loss at weight 1 with this pair: 0.02 balances them.
                loss_weight=0.02)),
    ])
custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=20)]
