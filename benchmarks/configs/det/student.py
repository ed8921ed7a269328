# Benchmark student, trained alone (the baseline): RetinaNet R18 (quarter width, 64-channel FPN).
_base_ = [
    '../_base_/det_data_128.py',
    '../../../configs/_base_/schedules/synthetic_det_schedule.py',
    '../../../configs/_base_/models/retinanet_r18-w16_fpn64.py',
]
# From scratch: GroupNorm in the head's convs (as FCOS and "Rethinking ImageNet Pre-training")
# and lr 2e-3 learn about 1.8x faster than the plain head at lr 1e-3
# (benchmarks/studies/calibration/calibration_notes.md).
model = dict(bbox_head=dict(norm_cfg=dict(type='GN', num_groups=16, requires_grad=True)))
optim_wrapper = dict(optimizer=dict(lr=0.002))
