# Student of the synthetic segmentation demo, trained alone (the baseline).
_base_ = [
    '../_base_/datasets/synthetic_cityscapes.py',
    '../_base_/schedules/synthetic_seg_schedule.py',
    '../_base_/models/pspnet_r18-w16-d8.py',
]
