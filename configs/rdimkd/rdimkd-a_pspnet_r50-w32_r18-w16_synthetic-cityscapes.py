# RdimKD-A: distil the synthetic-demo PSPNet teacher into its student with the head-only form
# of the segmentation default (configs/_base_/distill/rdimkd-a_seg-head.py), untouched: the
# decode head's bottleneck (the PSP feature before the classifier), K = the encoder of an
# autoencoder fitted to the teacher's features before training, k = C_t / 4 = 32, standardised
# loss at weight 2.5.
_base_ = [
    '../synthetic/pspnet_r18-w16-d8_synthetic-cityscapes.py',
    '../_base_/distill/rdimkd-a_seg-head.py',
]

model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='{{fileDirname}}/../synthetic/pspnet_r50-w32-d8_synthetic-cityscapes.py',
    teacher_checkpoint='work_dirs/pspnet_r50-w32-d8_synthetic-cityscapes',  # its latest
    distill=_base_.seg_distill)
# The default's FitProjectionsHook fits the autoencoder on 20 training batches before training.
# ProjectedFeatureVisHook draws the projected teacher and student features of two validation
# images every 200 iterations and at the end (WORK_DIR/<time>/vis_data/vis_image/).
custom_hooks = [
    *_base_.seg_distill_hooks,
    dict(type='rdimkd_mm.ProjectedFeatureVisHook', interval=200),
]
