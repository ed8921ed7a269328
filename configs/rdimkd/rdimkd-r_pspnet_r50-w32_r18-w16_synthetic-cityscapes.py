# RdimKD-R: distil the synthetic-demo PSPNet teacher into its student with the shipped
# segmentation default, untouched (configs/_base_/distill/rdimkd-r_seg-head.py): the decode
# head's bottleneck (the PSP feature before the classifier), k = C_t / 4 = 32, standardised loss
# at weight 2.5.
_base_ = [
    '../synthetic/pspnet_r18-w16-d8_synthetic-cityscapes.py',
    '../_base_/distill/rdimkd-r_seg-head.py',
]

model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='{{fileDirname}}/../synthetic/pspnet_r50-w32-d8_synthetic-cityscapes.py',
    teacher_checkpoint='work_dirs/pspnet_r50-w32-d8_synthetic-cityscapes',  # its latest
    distill=_base_.seg_distill)
# FitProjectionsHook fits nothing for RdimKD-R on the standardised loss; it is here so that a
# PCA or autoencoder projection (or normalize='teacher') set with --cfg-options is fitted
# before training. ProjectedFeatureVisHook draws the projected teacher and student features of
# two validation images every 200 iterations and at the end (WORK_DIR/<time>/vis_data/vis_image/).
custom_hooks = [
    dict(type='rdimkd_mm.FitProjectionsHook', num_batches=20),
    dict(type='rdimkd_mm.ProjectedFeatureVisHook', interval=200),
]
