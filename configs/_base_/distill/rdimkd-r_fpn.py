# RdimKD-R at the first three neck levels (P3-P5 of RetinaNet/FCOS/GFL, P2-P4 of the R-CNNs),
# k = a quarter of the teacher's channels, on the teacher-normalised loss at weight 1. Measured
# in benchmarks/results/quality.md (5 seeds, trained teacher): +5.1 bbox mAP over the student
# alone on every seed, below PKD. Only three levels: on the earlier, weaker benchmark all five
# scored below the student alone at every weight tried. A pair config inherits this next to the
# student's config and writes `distill=_base_.fpn_distill` into its distiller.
fpn_distill = [
    dict(
        name='fpn',
        student='neck[0:3]',
        teacher='neck[0:3]',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.RandomProjection', k=0.25),
            loss_weight=1.0)),
]
# Measures the loss scales (and fits PCA/autoencoder projections) before training.
custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=50)]
