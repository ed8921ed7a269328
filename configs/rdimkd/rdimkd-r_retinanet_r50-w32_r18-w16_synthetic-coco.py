# RdimKD-R: distil the synthetic-demo RetinaNet teacher into its student with the shipped
# detection default, untouched (configs/_base_/distill/rdimkd-r_fpn.py): FPN P3-P5,
# k = C_t / 4 = 32, standardised loss at weight 10 per level.
_base_ = [
    '../synthetic/retinanet_r18-w16_fpn64_synthetic-coco.py',
    '../_base_/distill/rdimkd-r_fpn.py',
]

model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='{{fileDirname}}/../synthetic/retinanet_r50-w32_fpn128_synthetic-coco.py',
    teacher_checkpoint='work_dirs/retinanet_r50-w32_fpn128_synthetic-coco',  # its latest
    distill=_base_.fpn_distill)
# FitProjectionsHook fits nothing for RdimKD-R on the standardised loss; it is here so that a
# PCA or autoencoder projection (or normalize='teacher') set with --cfg-options is fitted
# before training. ProjectedFeatureVisHook draws the projected teacher and student features of
# two validation images every 200 iterations and at the end (WORK_DIR/<time>/vis_data/vis_image/).
custom_hooks = [
    dict(type='rdimkd_mm.FitProjectionsHook', num_batches=20),
    dict(type='rdimkd_mm.ProjectedFeatureVisHook', interval=200),
]
