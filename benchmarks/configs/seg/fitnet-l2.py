# Full-feature L2 mimic (FitNet-style): as rdimkd-r.py (same connector, feature and weight) with
# no projection, i.e. all 128 teacher channels.
_base_ = ['./rdimkd-r.py']
model = dict(distill=[
    dict(
        name='head',
        student='decode_head.bottleneck',
        teacher='decode_head.bottleneck',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.IdentityProjection'),
            normalize=None,  # the raw loss: the weight was tuned for it
            loss_weight=0.1)),
])
custom_hooks = []
