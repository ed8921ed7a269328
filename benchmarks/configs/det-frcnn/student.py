# Benchmark student of the fourth detector family, trained alone (the baseline): Faster R-CNN
# R18 at quarter width (base 16) with a 64-channel FPN, RPN and RoI head, from scratch.
_base_ = [
    '../_base_/det_data_128.py',
    '../../../configs/_base_/schedules/synthetic_det_schedule.py',
    '../_base_/faster_rcnn_128.py',
]
model = dict(
    backbone=dict(base_channels=16),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=128)))
optim_wrapper = dict(optimizer=dict(lr=0.002))
