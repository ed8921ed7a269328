# Real Cityscapes at data/cityscapes, 512x1024 crops (mmseg's standard dataset config, unchanged).
_base_ = 'mmseg::_base_/datasets/cityscapes.py'
