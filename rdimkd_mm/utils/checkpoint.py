"""Safe checkpoint reading (``weights_only=True``, always) and strict weight loading.

Every checkpoint rdimkd_mm reads, and, once ``import rdimkd_mm`` has run
:func:`~rdimkd_mm.utils.safe_loading.install_safe_loading`, every checkpoint mmengine's Runner
reads (``load_from``, ``resume``, ``init_cfg=dict(type='Pretrained', checkpoint=...)``, local or
downloaded), goes through :func:`read_checkpoint`: ``torch.load(..., weights_only=True)`` with
an explicit argument, which neither an mmengine loader passing ``weights_only=False`` nor
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` can switch off.

``weights_only`` loading refuses every global that is not allow-listed. mmengine's checkpoints
carry a few: numpy arrays/scalars (seeds, logged values) and ``HistoryBuffer`` objects of the
message hub, whose statistics methods are pickled as ``getattr(HistoryBuffer, 'min')``. Allowing
``builtins.getattr`` itself would let a checkpoint reach any attribute of any allowed object, so
it is replaced by :func:`_history_buffer_getattr`, which only resolves HistoryBuffer's registered
statistics methods. Anything else (``os.system``, ``eval``, ...) is still refused by torch.
"""
import os.path as osp
import pickle
import re
from collections import OrderedDict
from typing import Any, Callable, Dict, Optional, Union

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import find_latest_checkpoint
from torch import nn

from .weight_checks import check_finite_weights, ema_copies_hint

MapLocation = Union[None, str, torch.device, Callable, Dict[str, str]]


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read, or that safe loading refuses.

    Args:
        message (str): The whole message: the file, its role, why, and what to change.
        reason (str): Just why (e.g. ``'the file is empty'``).
    """

    def __init__(self, message: str, reason: str = '') -> None:
        super().__init__(message)
        self.reason = reason


#: What to change, by the role of the checkpoint (``what``) in the error messages.
_HINTS = {
    'teacher': 'train the teacher first (python tools/train.py TEACHER_CONFIG) or get its '
    'weights from the model zoo, then set model.teacher_checkpoint to the file',
    'projections': 'write it with tools/fit_projections.py, or drop projections_file from '
    'FitProjectionsHook to fit before training',
    'resume': 'resume from another checkpoint of the run, or give --resume without a path: it '
    'takes the newest readable checkpoint in the work dir',
    'load_from': 'set load_from to a checkpoint written by tools/train.py, or to None',
    'test': 'give a checkpoint written by tools/train.py for this config (the file '
    'WORK_DIR/last_checkpoint names)',
    'distiller': 'give a checkpoint written by tools/train.py for this config (the file '
    'WORK_DIR/last_checkpoint names)',
    None: "check the config's load_from, the --resume file and any init_cfg=dict("
    "type='Pretrained', checkpoint=...)",
}

#: What else to try when a checkpoint does not fit the model, by its role.
_MISMATCH_HINTS = {
    'load_from': ". On a distiller, load_from takes a checkpoint of the same distillation "
    "config; to start the student from a plain model's checkpoint, set "
    "model.student.init_cfg=dict(type='Pretrained', checkpoint=PATH) instead",
    'resume': '. --resume takes a checkpoint of a run of the same config',
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


def read_checkpoint(path: str, what: Optional[str] = 'model',
                    map_location: MapLocation = 'cpu') -> Any:
    """Read a whole checkpoint with ``torch.load(path, weights_only=True)`` and the allow-list.

    Args:
        path (str): A local checkpoint file.
        what (str, optional): Its role in the error messages (``'teacher'``, ``'resume'``,
            ...); None for one mmengine reads (``load_from``, resume, ``init_cfg``).
            Default: ``'model'``.
        map_location: As for :func:`torch.load`. Default: ``'cpu'``.

    Returns:
        The unpickled checkpoint (usually a dict).

    Raises:
        FileNotFoundError: if the file does not exist.
        CheckpointError: if the file cannot be read or safe loading refuses it.
    """
    label = _label(path, what)
    hint = _HINTS.get(what, 'check the path')
    if not path or not osp.isfile(osp.expanduser(path)):
        raise FileNotFoundError(f'{label[0].upper()}{label[1:]} does not exist: {hint}.')
    path = osp.expanduser(path)
    try:
        # Explicit: TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD only overrides an unset weights_only.
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises RuntimeError, EOFError, KeyError, ... on bad bytes
        raise _failure(path, label, hint, error) from None


def _label(path: str, what: Optional[str]) -> str:
    if what is None:
        return f'the checkpoint {path!r} (read by mmengine: load_from, resume or init_cfg)'
    return f'the {what} checkpoint {path!r}'


def _first_text_line(path: str) -> Optional[str]:
    """The first line of ``path`` if the file is text (a ``last_checkpoint`` file, a log, ...);
    None for binary files."""
    with open(path, 'rb') as f:
        head = f.read(512)
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError:
        return None
    if not all(c.isprintable() or c.isspace() for c in text):
        return None
    return text.strip().splitlines()[0] if text.strip() else ''


def _failure(path: str, label: str, hint: str, error: Exception) -> CheckpointError:
    """The error for a file ``torch.load(..., weights_only=True)`` failed on."""
    reason = _plain_reason(path, error)
    if reason is None and isinstance(error, pickle.UnpicklingError):
        stop = _refused_at(error)
        return CheckpointError(
            f'Refused to load {label}: safe loading (torch.load with weights_only=True and '
            f'rdimkd_mm\'s allow-list) stopped at "{stop}": the file holds objects or pickle '
            'instructions outside the allow-list, which could run code when unpickled. If you '
            'trust where the file comes from, re-save its weights alone: torch.save('
            "{'state_dict': torch.load(PATH, weights_only=False)['state_dict']}, NEW_PATH).",
            reason=f'refused by safe loading, which stopped at "{stop}"')
    if reason is None:
        detail = _first_line(error)
        reason = ('the file is truncated or corrupted, or was not written by torch.save '
                  f'({type(error).__name__}{": " + detail if detail else ""})')
    return CheckpointError(f'Cannot read {label}: {reason}. {hint[0].upper()}{hint[1:]}.',
                           reason=reason)


def _refused_at(error: Exception) -> str:
    """Where safe loading stopped, with the refused global's name in the one form for every
    torch: ``'Unsupported global: GLOBAL posix.system'`` (torch >= 2.9 says "Trying to load
    unsupported GLOBAL posix.system whose module posix is blocked")."""
    match = re.search(r'GLOBAL ([\w.]+)', str(error))
    if match:
        return f'Unsupported global: GLOBAL {match.group(1)}'
    return _first_line(error, 'WeightsUnpickler error:')


def _plain_reason(path: str, error: Exception) -> Optional[str]:
    """Why ``path`` is no checkpoint when it is obvious (no permission, empty, text); else
    None."""
    if isinstance(error, PermissionError):
        return str(error)
    if osp.getsize(path) == 0:
        return 'the file is empty'
    first = _first_text_line(path)
    if first is None:
        return None
    named = f'; it names {first!r}: give that file instead' if osp.isfile(first) else ''
    return f'it is a text file (starting {first[:80]!r}), not a checkpoint{named}'


def _first_line(error: Exception, after: str = '') -> str:
    """The first sentence of ``error``'s message (after the marker ``after``, if it occurs)."""
    text = str(error)
    text = text[text.index(after) + len(after):] if after and after in text else text
    line = next((x.strip() for x in text.splitlines() if x.strip()), '')
    return re.split(r'(?<=[a-z])\. ', line)[0].rstrip('.')[:200]


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
    """The state dict of a checkpoint file, read safely on the CPU (see :func:`state_dict_of`).

    Raises:
        FileNotFoundError: if the file does not exist.
        CheckpointError: if the file cannot be read or safe loading refuses it.
        RuntimeError: if it holds no state dict.
    """
    return state_dict_of(read_checkpoint(path, what), path, what)


def state_dict_of(checkpoint: Any, path: str, what: str = 'model') -> Dict[str, torch.Tensor]:
    """``state_dict`` of an mmengine checkpoint (or a bare state dict) read from ``path``,
    without DDP's ``module.`` prefix.

    Raises:
        RuntimeError: if ``checkpoint`` holds no state dict.
    """
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise RuntimeError(f'The {what} checkpoint {path!r} holds no state dict.')
    return OrderedDict((k[len('module.'):] if k.startswith('module.') else k, v)
                       for k, v in state.items())


def check_state_dict(model: nn.Module, state: Dict[str, torch.Tensor], path: str,
                     what: str = 'model') -> None:
    """Check that ``state`` (read from ``path``) has exactly the keys and shapes of ``model``.

    Raises:
        RuntimeError: if ``state`` is a distiller's for a plain model, or does not match.
    """
    if any(k.startswith('student.') for k in state) and not any(
            k.startswith('student.') for k in model.state_dict()):
        raise RuntimeError(
            f'The {what} checkpoint {path!r} is a distiller checkpoint (keys student.*); '
            'export its student first: python tools/export_student.py CONFIG CHECKPOINT OUT_DIR')
    ema = ema_copies_hint(model.state_dict(), state)
    if ema:
        raise RuntimeError(f'The {what} checkpoint {path!r} does not match the model built '
                           f'from the config: {ema}.')
    mismatch = state_dict_mismatch(model.state_dict(), state)
    if mismatch:
        raise RuntimeError(
            f'The {what} checkpoint {path!r} does not match the model built from the config: '
            f'{mismatch}. Check that the config is the one the checkpoint was trained with '
            f'(architecture, num_classes, channels){_MISMATCH_HINTS.get(what, "")}.')


def load_state_dict_strict(model: nn.Module, state: Dict[str, torch.Tensor], path: str,
                           what: str = 'model') -> None:
    """Load ``state`` (read from ``path``) into ``model`` after :func:`check_state_dict` and
    :func:`check_finite_weights`."""
    check_state_dict(model, state, path, what)
    check_finite_weights(state, path, what)
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
        CheckpointError: if the file cannot be read or safe loading refuses it.
        RuntimeError: if it does not match the model.
    """
    load_state_dict_strict(model, read_state_dict(path, what), path, what)
