# Full-feature L2 mimic (FitNet-style): as rdimkd-r.py (same connector, features, normalisation
# and weight) with no projection, i.e. all 128 teacher channels. Under the teacher normalisation
# this is also the weight matched to RdimKD-R: a random orthogonal K keeps, in expectation, the
# same share k / C_t of the error and of the teacher's variance, so their ratio is unchanged.
_base_ = ['./rdimkd-r.py']
model = dict(distill=[
    dict(
        name='fpn',
        student='neck[0:3]',
        teacher='neck[0:3]',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.IdentityProjection'),
            loss_weight=1.0)),
])
