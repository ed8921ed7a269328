# Benchmark student of the third detector family, trained alone (the baseline): YOLOX-tiny as
# mmdet ships it (deepen 0.33, widen 0.375, 96-channel PAFPN and head), from scratch.
_base_ = [
    '../_base_/det_data_128.py',
    '../../../configs/_base_/schedules/synthetic_det_schedule.py',
    '../_base_/yolox_s_128.py',
]
model = dict(
    backbone=dict(widen_factor=0.375),
    neck=dict(in_channels=[96, 192, 384], out_channels=96),
    bbox_head=dict(in_channels=96, feat_channels=96))
optim_wrapper = dict(optimizer=dict(lr=0.002))
