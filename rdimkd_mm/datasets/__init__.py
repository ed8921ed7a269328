"""Deterministic synthetic datasets in the COCO and Cityscapes formats."""
from .synthetic_cityscapes import generate_cityscapes_segmentation
from .synthetic_coco import SYNTHETIC_COCO_CLASSES, generate_coco_detection

__all__ = [
    'SYNTHETIC_COCO_CLASSES', 'generate_coco_detection',
    'generate_cityscapes_segmentation'
]
