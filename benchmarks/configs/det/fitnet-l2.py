# Full-feature L2 mimic (FitNet-style) on the same features through the same connector, with no
# projection (all 128 teacher channels), made scale-free by the teacher normalisation: each level's
# squared distance divided by the teacher's variance, measured before training
# (FitProjectionsHook), at weight 1. (The same loss standardised instead, at RdimKD-R's weight, is
# PKD's loss: see the PKD/CWD arm.)
_base_ = ['./rdimkd-r.py']
model = dict(distill=[
    dict(
        name='fpn',
        student='neck[0:3]',
        teacher='neck[0:3]',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.IdentityProjection'),
            normalize='teacher',
            loss_weight=1.0)),
])
custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=50)]
