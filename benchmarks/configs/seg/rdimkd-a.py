# RdimKD-A with the shipped segmentation default, untouched
# (configs/_base_/distill/rdimkd-a_seg-head.py): the PSP head's bottleneck, K = the encoder of an
# autoencoder fitted to the teacher's features before training (its FitProjectionsHook),
# k = C_t / 4 = 32, standardised loss at weight 2.5.
_base_ = ['./rdimkd-r.py', '../../../configs/_base_/distill/rdimkd-a_seg-head.py']
model = dict(distill=_base_.seg_distill)
custom_hooks = _base_.seg_distill_hooks
