"""Safe checkpoint reading (``weights_only=True``, always), with a diagnosis when it fails.

Every checkpoint rdimkd_mm reads, and, once ``import rdimkd_mm`` has run
:func:`~rdimkd_mm.utils.safe_loading.install_safe_loading`, every checkpoint mmengine's Runner
reads (``load_from``, ``resume``, ``init_cfg=dict(type='Pretrained', checkpoint=...)``, local or
downloaded), goes through :func:`read_checkpoint`: ``torch.load(..., weights_only=True)`` with
an explicit argument, which neither an mmengine loader passing ``weights_only=False`` nor
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` can switch off. The allow-list it loads with is
:mod:`rdimkd_mm.utils.checkpoint_allow_list`.
"""
import os.path as osp
import pickle
import re
from collections import OrderedDict
from typing import Any, Callable, Dict, Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.runner import find_latest_checkpoint

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
