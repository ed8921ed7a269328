"""rdimkd_mm: RdimKD knowledge distillation for mmdet 3.x and mmseg 1.x.

Importing the package registers its components (``rdimkd_mm.registry``) and allow-lists the
globals mmengine checkpoints need for torch's safe ``weights_only`` loading.
"""
from .utils.checkpoint import allow_mmengine_checkpoint_globals
from .version import __version__

allow_mmengine_checkpoint_globals()

from . import engine, models  # noqa: E402,F401  (registration)

__all__ = ['__version__']
