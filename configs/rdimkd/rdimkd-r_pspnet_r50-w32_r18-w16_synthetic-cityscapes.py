# RdimKD-R: distil the synthetic-demo PSPNet teacher into its student at the decode head's
# bottleneck (the PSP feature before the classifier; 128 teacher channels, k = 32).
_base_ = ['../synthetic/pspnet_r18-w16-d8_synthetic-cityscapes.py']

model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='{{fileDirname}}/../synthetic/pspnet_r50-w32-d8_synthetic-cityscapes.py',
    teacher_checkpoint='work_dirs/pspnet_r50-w32-d8_synthetic-cityscapes',  # its latest
    distill=[
        dict(
            name='head',
            student='decode_head.bottleneck',
            teacher='decode_head.bottleneck',
            loss=dict(
                type='rdimkd_mm.RdimKDLoss',
                projection=dict(type='rdimkd_mm.RandomProjection', k=32),
                normalize=None,  # the raw loss: the weight was tuned for it
                loss_weight=0.1)),
    ])
# The fit before training; pictures of the projected teacher and student features of two
# validation images every 200 iterations and at the end (WORK_DIR/<time>/vis_data/vis_image/).
custom_hooks = [
    dict(type='rdimkd_mm.FitProjectionsHook', num_batches=20),
    dict(type='rdimkd_mm.ProjectedFeatureVisHook', interval=200),
]
