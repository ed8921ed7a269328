# Teacher of the synthetic detection demo.
_base_ = [
    '../_base_/datasets/synthetic_coco_detection.py',
    '../_base_/schedules/synthetic_det_schedule.py',
    '../_base_/models/retinanet_r50-w32_fpn128.py',
]
