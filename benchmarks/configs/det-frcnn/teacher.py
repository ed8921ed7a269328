# Benchmark teacher of the fourth detector family, the two-stage one: Faster R-CNN R18 at half
# width, 128-channel FPN (P2-P6), from scratch at 128x128, with the benchmark's detection data
# and schedule (AdamW at lr 2e-3, as the other detection pairs).
_base_ = [
    '../_base_/det_data_128.py',
    '../../../configs/_base_/schedules/synthetic_det_schedule.py',
    '../_base_/faster_rcnn_128.py',
]
optim_wrapper = dict(optimizer=dict(lr=0.002))
