# The benchmark's detection data: the synthetic COCO-format set at 128x128 in an easier variant
# (no shapes under 16 px, solid colours, <= 6 shapes and <= 3 distractors per image, 1000 train
# images; benchmarks/tasks.py), which a from-scratch RetinaNet learns within the benchmark's
# budget on 2 CPU cores (benchmarks/studies/calibration/calibration_notes.md). Same CocoDataset
# and CocoMetric.
_base_ = '../../../configs/_base_/datasets/synthetic_coco_detection.py'
data_root = 'data/bench/synthetic_coco_128_solid/'
image_scale = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    num_workers=1, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator
