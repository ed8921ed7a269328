# Real COCO 2017 at data/coco (mmdet's standard dataset config, unchanged).
_base_ = 'mmdet::_base_/datasets/coco_detection.py'
