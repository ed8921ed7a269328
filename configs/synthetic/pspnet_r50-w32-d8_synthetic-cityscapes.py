# Teacher of the synthetic segmentation demo.
_base_ = [
    '../_base_/datasets/synthetic_cityscapes.py',
    '../_base_/schedules/synthetic_seg_schedule.py',
    '../_base_/models/pspnet_r50-w32-d8.py',
]
