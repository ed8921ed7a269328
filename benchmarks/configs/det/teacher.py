# Benchmark teacher: the synthetic-demo RetinaNet R50 (half width, 128-channel FPN) at 128x128.
_base_ = [
    '../_base_/det_data_128.py',
    '../../../configs/_base_/schedules/synthetic_det_schedule.py',
    '../../../configs/_base_/models/retinanet_r50-w32_fpn128.py',
]
