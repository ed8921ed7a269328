"""rdimkd_mm: RdimKD knowledge distillation for mmdet 3.x and mmseg 1.x.

Importing the package checks the torch version, makes every local checkpoint read (by
rdimkd_mm and by mmengine's Runner) a ``torch.load(..., weights_only=True)`` with the
allow-list of :mod:`rdimkd_mm.utils.checkpoint_allow_list`, and registers the components
(``rdimkd_mm.registry``).
"""
import re

import torch

#: The oldest torch whose weights-only unpickler takes the ``(function, 'module.name')``
#: allow-list entries that safe loading of mmengine checkpoints needs.
MIN_TORCH = (2, 6)


def check_torch_version(version: str) -> None:
    """Raise ImportError for a torch older than :data:`MIN_TORCH` (e.g. ``'2.5.1+cu121'``)."""
    major, minor = (int(x) for x in re.match(r'(\d+)\.(\d+)', version).groups())
    if (major, minor) < MIN_TORCH:
        raise ImportError(
            f'rdimkd_mm needs torch >= {MIN_TORCH[0]}.{MIN_TORCH[1]} to load checkpoints '
            f'safely, but torch {version} is installed. Install a newer torch (see '
            "docs/get_started/install.md; e.g. pip install 'torch>=2.6,<2.14', or the CUDA "
            'build from https://pytorch.org), then rebuild mmcv against it: pip uninstall -y '
            'mmcv && bash scripts/setup_env.sh.')


check_torch_version(torch.__version__)

from .utils.safe_loading import install_safe_loading  # noqa: E402
from .version import __version__  # noqa: E402

install_safe_loading()

from . import engine, models  # noqa: E402,F401  (registration)

__all__ = ['__version__', 'MIN_TORCH', 'check_torch_version']
