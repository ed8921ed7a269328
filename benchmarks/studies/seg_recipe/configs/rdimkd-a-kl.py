# How: the default's point (the PSP head's bottleneck) and projection (RdimKD-A, k = C_t / 4
# = 32), with CWD's comparison in the subspace: each standardised projected channel becomes a
# softmax over positions, KL at tau 1 and CWD's published weight 5 (ProjectedKLLoss).
_base_ = ['../../../configs/seg/rdimkd-a.py']
custom_imports = dict(
    imports=['benchmarks.studies.seg_recipe.projected_kl_loss'], allow_failed_imports=False)
model = dict(distill=[
    dict(
        name='head',
        student='decode_head.bottleneck',
        teacher='decode_head.bottleneck',
        loss=dict(
            type='rdimkd_mm.ProjectedKLLoss',
            projection=dict(type='rdimkd_mm.AutoencoderProjection', k=0.25),
            normalize='standardize',
            tau=1.0,
            loss_weight=5.0)),
])
