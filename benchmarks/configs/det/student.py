# Benchmark student, trained alone (the baseline): RetinaNet R18 (quarter width, 64-channel FPN).
_base_ = [
    '../_base_/det_data_128.py',
    '../../../configs/_base_/schedules/synthetic_det_schedule.py',
    '../../../configs/_base_/models/retinanet_r18-w16_fpn64.py',
]
