# Benchmark student, trained alone (the baseline): PSPNet R18 (quarter width, output stride 8).
_base_ = [
    '../_base_/seg_data_128.py',
    '../../../configs/_base_/schedules/synthetic_seg_schedule.py',
    '../../../configs/_base_/models/pspnet_r18-w16-d8.py',
]
data_preprocessor = dict(size=_base_.crop_size)
model = dict(data_preprocessor=data_preprocessor)
