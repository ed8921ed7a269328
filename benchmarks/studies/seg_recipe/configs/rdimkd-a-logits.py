# Where: RdimKD-A with the default's loss and weight, moved from the PSP head's bottleneck to
# the logits (decode_head.conv_seg, CWD's point): K = an autoencoder's encoder fitted to the
# teacher's 19 class logits, k = 10 (below the class count), standardised loss at weight 2.5.
_base_ = ['../../../configs/seg/rdimkd-r.py']
model = dict(distill=[
    dict(
        name='logits',
        student='decode_head.conv_seg',
        teacher='decode_head.conv_seg',
        loss=dict(
            type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.AutoencoderProjection', k=10),
            normalize='standardize',
            loss_weight=2.5)),
])
custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=20)]
