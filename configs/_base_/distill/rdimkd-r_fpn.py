# RdimKD-R at the first three neck levels (P3-P5 of RetinaNet/FCOS/GFL, P2-P4 of the R-CNNs),
# k = a quarter of the teacher's channels, on the standardised loss (1 - the projected channels'
# mean Pearson correlation, in [0, 2] per level whatever the pair) at weight 10 per level.
# Measured in benchmarks/results/quality.md (5 seeds, trained teacher, weight sweep x1/4..x4),
# checked untouched on RTMDet, YOLOX and Faster R-CNN (P2-P4) (benchmarks/results/det_rtmdet,
# det_yolox, det_frcnn).
# A pair config inherits this next to the student's config and writes `distill=_base_.fpn_distill`
# into its distiller. Nothing is fitted before training (a PCA or autoencoder projection needs
# FitProjectionsHook in custom_hooks).
fpn_distill = [
    dict(
        name='fpn',
        student='neck[0:3]',
        teacher='neck[0:3]',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.RandomProjection', k=0.25),
            normalize='standardize',
            loss_weight=10.0)),
]
