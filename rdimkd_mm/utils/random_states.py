"""Side passes (fits, teacher evaluation) that leave the training's random streams as they were."""
import random
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch


@contextmanager
def preserved_random_states() -> Iterator[None]:
    """Restore the Python, NumPy and torch (CPU and CUDA) random states on exit."""
    python, numpy = random.getstate(), np.random.get_state()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices):
        try:
            yield
        finally:
            random.setstate(python)
            np.random.set_state(numpy)
