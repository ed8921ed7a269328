# RdimKD-R: distil the synthetic-demo RetinaNet teacher into its student at FPN levels P3-P5.
_base_ = ['../synthetic/retinanet_r18-w16_fpn64_synthetic-coco.py']

model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='{{fileDirname}}/../synthetic/retinanet_r50-w32_fpn128_synthetic-coco.py',
    teacher_checkpoint='work_dirs/retinanet_r50-w32_fpn128_synthetic-coco',  # its latest
    distill=[
        dict(
            name='fpn',
            # P3-P5 ('neck' would take all 5 levels). Here the extra P6/P7 levels made the KD
            # loss large and the student worse, see README "The demo".
            student='neck[0:3]',
            teacher='neck[0:3]',
            loss=dict(
                type='rdimkd_mm.RdimKDLoss',
                projection=dict(type='rdimkd_mm.RandomProjection', k=32),
                normalize=None,  # the raw loss: the weight was tuned for it
                loss_weight=0.01)),
    ])
# The fit before training; pictures of the projected teacher and student features of two
# validation images every 200 iterations and at the end (WORK_DIR/<time>/vis_data/vis_image/).
custom_hooks = [
    dict(type='rdimkd_mm.FitProjectionsHook', num_batches=20),
    dict(type='rdimkd_mm.ProjectedFeatureVisHook', interval=200),
]
