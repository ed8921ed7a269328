"""The allow-list of globals that safe checkpoint loading (``weights_only=True``) accepts.

``weights_only`` loading refuses every global that is not allow-listed. mmengine's checkpoints
carry a few: numpy arrays/scalars (seeds, logged values) and ``HistoryBuffer`` objects of the
message hub, whose statistics methods are pickled as ``getattr(HistoryBuffer, 'min')``. Allowing
``builtins.getattr`` itself would let a checkpoint reach any attribute of any allowed object, so
it is replaced by :func:`_history_buffer_getattr`, which only resolves HistoryBuffer's registered
statistics methods. Anything else (``os.system``, ``eval``, ...) is still refused by torch.
"""
import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

_DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj, name: str):
    """``getattr`` restricted to HistoryBuffer's statistics methods (e.g. ``'mean'``)."""
    if obj is HistoryBuffer and (name in _DEFAULT_STATISTICS
                                 or name in HistoryBuffer._statistics_methods):
        return getattr(obj, name)
    raise torch.serialization.pickle.UnpicklingError(
        f'Refused getattr({obj!r}, {name!r}) while loading a checkpoint: only HistoryBuffer '
        'statistics methods are allowed.')


def _numpy_globals() -> list:
    """The numpy types and reconstructors that mmengine checkpoints pickle."""
    core = getattr(np, '_core', None) or np.core
    safe = [np.ndarray, np.dtype, core.multiarray._reconstruct, core.multiarray.scalar]
    # numpy < 2 pickles arrays and scalars under ``numpy.core``; numpy >= 2 under ``numpy._core``.
    safe += [(core.multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
             (core.multiarray.scalar, 'numpy.core.multiarray.scalar')]
    safe += [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    return safe


def allow_mmengine_checkpoint_globals() -> None:
    """Allow-list exactly what mmengine/mmdet/mmseg checkpoints need for safe loading."""
    torch.serialization.add_safe_globals([
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
        (_history_buffer_getattr, '__builtin__.getattr'),
        *_numpy_globals(),
    ])
