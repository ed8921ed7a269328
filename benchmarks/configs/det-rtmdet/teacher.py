# Benchmark teacher of the second detector family: RTMDet-S as mmdet ships it (CSPNeXt, PAFPN,
# quality focal + GIoU losses, dynamic soft-label assigner), from scratch at 128x128, with the
# benchmark's detection data and schedule (AdamW at lr 2e-3, as the RetinaNet pair).
_base_ = [
    '../_base_/det_data_128.py',
    '../../../configs/_base_/schedules/synthetic_det_schedule.py',
    '../_base_/rtmdet_s_128.py',
]
optim_wrapper = dict(optimizer=dict(lr=0.002))
