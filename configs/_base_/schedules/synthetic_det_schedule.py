# Iteration-based schedule for the synthetic detection set (CPU-sized).
_base_ = 'mmdet::_base_/default_runtime.py'
max_iters = 800
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[int(max_iters * 0.75), int(max_iters * 0.9)], gamma=0.1)
]
# AdamW trains these small from-scratch detectors much faster than SGD (measured: 400 iters,
# student bbox mAP 0.021 with AdamW vs 0.005 with SGD lr 0.02).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.001, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=8)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
