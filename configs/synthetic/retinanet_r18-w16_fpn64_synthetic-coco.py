# Student of the synthetic detection demo, trained alone (the baseline).
_base_ = [
    '../_base_/datasets/synthetic_coco_detection.py',
    '../_base_/schedules/synthetic_det_schedule.py',
    '../_base_/models/retinanet_r18-w16_fpn64.py',
]
