# Benchmark teacher of the third detector family: YOLOX-S as mmdet ships it (CSPDarknet, PAFPN,
# decoupled head with objectness, SimOTA assigner), from scratch at 128x128, with the benchmark's
# detection data and schedule (AdamW at lr 2e-3, as the RetinaNet and RTMDet pairs).
_base_ = [
    '../_base_/det_data_128.py',
    '../../../configs/_base_/schedules/synthetic_det_schedule.py',
    '../_base_/yolox_s_128.py',
]
optim_wrapper = dict(optimizer=dict(lr=0.002))
