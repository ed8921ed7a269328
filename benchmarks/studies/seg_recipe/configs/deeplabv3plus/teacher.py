# Second-family teacher: DeepLabV3+ R18 at half width, on the benchmark's data and schedule.
_base_ = [
    '../../../../configs/_base_/seg_data_128.py',
    '../../../../../configs/_base_/schedules/synthetic_seg_schedule.py',
    './deeplabv3plus_r18.py',
]
data_preprocessor = dict(size=_base_.crop_size)
model = dict(data_preprocessor=data_preprocessor)
# The benchmark's learning rate for segmentors trained from scratch (benchmarks/configs/seg).
optim_wrapper = dict(optimizer=dict(lr=0.004))
