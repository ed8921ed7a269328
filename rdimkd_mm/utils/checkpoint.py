"""Safe checkpoint loading on torch >= 2.6 (``weights_only=True``) and strict weight loading.

torch >= 2.6 unpickles checkpoints with ``weights_only=True``, which refuses every global that
is not allow-listed. mmengine's checkpoints carry a few: numpy arrays/scalars (seeds, logged
values) and ``HistoryBuffer`` objects of the message hub, whose statistics methods are
pickled as ``getattr(HistoryBuffer, 'min')``. Allowing ``builtins.getattr`` itself would let a
checkpoint reach any attribute of any allowed object, so it is replaced by
:func:`_history_buffer_getattr`, which only resolves HistoryBuffer's registered statistics
methods. Anything else (``os.system``, ``eval``, ...) is still refused by torch.
"""
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader, find_latest_checkpoint
from torch import nn

_HINTS = {
    'teacher': 'train the teacher first (python tools/train.py TEACHER_CONFIG) or get its '
    'weights from the model zoo, then set model.teacher_checkpoint to the file',
    'projections': 'write it with tools/fit_projections.py or drop model.projections_file',
}


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


def checkpoint_file(path: str, what: str = 'model') -> str:
    """``path`` itself, or for a work dir the latest checkpoint its ``last_checkpoint`` names."""
    if not osp.isdir(path):
        return path
    latest = find_latest_checkpoint(path)
    if latest is None:
        raise FileNotFoundError(f'The {what} checkpoint {path!r} is a directory without a '
                                'last_checkpoint file: train there first, or name the '
                                'checkpoint file.')
    print_log(f'The {what} checkpoint: {latest} (the latest in {path})', logger='current')
    return latest


def read_checkpoint(path: str, what: str = 'model') -> dict:
    """Read a whole checkpoint on the CPU with safe (``weights_only``) unpickling.

    Raises:
        FileNotFoundError: if the file does not exist.
        RuntimeError: if safe loading refuses the file.
    """
    if not path or not osp.isfile(path):
        raise FileNotFoundError(f'The {what} checkpoint {path!r} does not exist: '
                                f"{_HINTS.get(what, 'check the path')}.")
    try:
        return CheckpointLoader.load_checkpoint(path, map_location='cpu')
    except torch.serialization.pickle.UnpicklingError as error:
        raise RuntimeError(f'Refused to load the {what} checkpoint {path!r}: it contains '
                           'objects that could execute code when unpickled (torch '
                           f'weights_only loading). Details: {error}') from None


def state_dict_mismatch(expected: Dict[str, torch.Tensor],
                        state: Dict[str, torch.Tensor]) -> Optional[str]:
    """Describe how ``state`` differs from ``expected`` (keys and shapes); None if it fits."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [f'{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(v.shape)}'
                  for k, v in expected.items()
                  if k in state and hasattr(state[k], 'shape') and state[k].shape != v.shape]
    if not (missing or unexpected or mismatched):
        return None

    def head(items):
        return f'{items[:5]}{" ..." if len(items) > 5 else ""} ({len(items)})'

    return (f'missing keys {head(missing)}, unexpected keys {head(unexpected)}, shape '
            f'mismatches {head(mismatched)}')


def read_state_dict(path: str, what: str = 'model') -> Dict[str, torch.Tensor]:
    """The state dict of a checkpoint file (``state_dict`` of an mmengine checkpoint, or a bare
    state dict), read safely on the CPU, without DDP's ``module.`` prefix.

    Raises:
        FileNotFoundError: if the file does not exist.
        RuntimeError: if the file is refused by safe loading or holds no state dict.
    """
    checkpoint = read_checkpoint(path, what)
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise RuntimeError(f'The {what} checkpoint {path!r} holds no state dict.')
    return OrderedDict((k[len('module.'):] if k.startswith('module.') else k, v)
                       for k, v in state.items())


def load_state_dict_strict(model: nn.Module, state: Dict[str, torch.Tensor], path: str,
                           what: str = 'model') -> None:
    """Load ``state`` (read from ``path``) into ``model`` after checking keys and shapes.

    Raises:
        RuntimeError: if ``state`` is a distiller's for a plain model, or does not match.
    """
    if any(k.startswith('student.') for k in state) and not any(
            k.startswith('student.') for k in model.state_dict()):
        raise RuntimeError(
            f'The {what} checkpoint {path!r} is a distiller checkpoint (keys student.*); '
            'export its student first: python tools/export_student.py CONFIG CHECKPOINT OUT_DIR')
    mismatch = state_dict_mismatch(model.state_dict(), state)
    if mismatch:
        raise RuntimeError(
            f'The {what} checkpoint {path!r} does not match the model built from the config: '
            f'{mismatch}. Check that the config is the one the checkpoint was trained with '
            '(architecture, num_classes, channels).')
    model.load_state_dict(state, strict=True)


def load_checkpoint_strict(model: nn.Module, path: str, what: str = 'model') -> None:
    """Load the checkpoint ``path`` into ``model`` on the CPU with ``strict=True``.

    Args:
        model (nn.Module): Receives the weights.
        path (str): Checkpoint (an mmengine checkpoint with ``state_dict`` or a bare
            state dict).
        what (str): What the file is (``'teacher'``, ...), for the error messages.

    Raises:
        FileNotFoundError: if the file does not exist.
        RuntimeError: if the file is refused by safe loading or does not match the model.
    """
    load_state_dict_strict(model, read_state_dict(path, what), path, what)
