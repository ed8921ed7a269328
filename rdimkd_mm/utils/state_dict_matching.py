"""Strict weight loading: a state dict must have exactly the model's keys and shapes."""
from typing import Dict, Optional

import torch
from torch import nn

from .checkpoint_reading import read_state_dict
from .weight_checks import check_finite_weights, ema_copies_hint

#: What else to try when a checkpoint does not fit the model, by its role.
_MISMATCH_HINTS = {
    'load_from': ". On a distiller, load_from takes a checkpoint of the same distillation "
    "config; to start the student from a plain model's checkpoint, set "
    "model.student.init_cfg=dict(type='Pretrained', checkpoint=PATH) instead",
    'resume': '. --resume takes a checkpoint of a run of the same config',
}


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
