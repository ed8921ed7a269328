# RdimKD-R with the earlier default loss: each level's squared distance in the subspace divided by
# the teacher's variance there (normalize='teacher'), measured before training
# (FitProjectionsHook), at weight 1 (the sweep also runs 4).
_base_ = ['./rdimkd-r.py']
model = dict(distill=[
    dict(
        name='fpn',
        student='neck[0:3]',
        teacher='neck[0:3]',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.RandomProjection', k=0.25),
            normalize='teacher',
            loss_weight=1.0)),
])
custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=50)]
