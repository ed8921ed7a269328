"""Deterministic synthetic data sets in the COCO and Cityscapes file formats.

Data for the demo, the tests and the benchmark (``tools/make_synthetic_data.py``); not part of
the distillation package ``rdimkd_mm``.
"""
from .cityscapes import generate_cityscapes_segmentation
from .coco import SYNTHETIC_COCO_CLASSES, generate_coco_detection, to_coco2017_layout

__all__ = [
    'SYNTHETIC_COCO_CLASSES', 'generate_coco_detection', 'generate_cityscapes_segmentation',
    'to_coco2017_layout'
]
