"""Checks of a checkpoint's weights beyond its keys and shapes: non-finite values, the EMA
copies an EMA hook leaves beside the weights, and a ``load_from`` of another model."""
from typing import Dict, List, Optional

import torch
from torch import Tensor, nn


def non_finite_tensors(state: Dict[str, Tensor]) -> List[str]:
    """The names of the floating-point tensors of ``state`` that hold NaN or inf."""
    return [name for name, value in state.items() if torch.is_tensor(value)
            and value.is_floating_point() and not bool(torch.isfinite(value).all())]


def shown(names: List[str], limit: int = 5) -> str:
    """``'a, b, c and 7 more'``."""
    more = f' and {len(names) - limit} more' if len(names) > limit else ''
    return ', '.join(names[:limit]) + more


def check_finite_weights(state: Dict[str, Tensor], path: str, what: str = 'model') -> None:
    """Refuse a checkpoint whose weights hold NaN or inf (a diverged training run).

    Raises:
        ValueError: naming the file, its role and the non-finite tensors.
    """
    bad = non_finite_tensors(state)
    if bad:
        raise ValueError(
            f'The {what} checkpoint {path!r} holds NaN or inf in {len(bad)} of {len(state)} '
            f'tensors ({shown(bad)}): the run that wrote it diverged. Use an earlier '
            'checkpoint of that run, or retrain it with a lower learning rate or gradient '
            'clipping (optim_wrapper.clip_grad).')


def ema_copies_hint(expected: Dict[str, Tensor], state: Dict[str, Tensor]) -> Optional[str]:
    """What to do when ``state`` is ``expected`` plus the ``ema_*`` buffers of an EMA hook
    (mmcv/mmdet 2.x EMAHook, e.g. YOLOX model-zoo checkpoints); None otherwise."""
    ema = [k for k in state if k not in expected and k.startswith('ema_')]
    rest = [k for k in state if k not in expected and not k.startswith('ema_')]
    if not ema or rest or any(k not in state for k in expected):
        return None
    return (f'it holds the model\'s weights and {len(ema)} ema_* tensors, the averaged copies '
            'an EMA hook (mmcv/mmdet 2.x EMAHook) stored beside them. Keep one set: drop the '
            'copies with sd = torch.load(PATH)["state_dict"]; torch.save({"state_dict": '
            '{k: v for k, v in sd.items() if not k.startswith("ema_")}}, NEW_PATH), or convert '
            'the averaged weights to the model\'s names with the tool of the library that wrote '
            'it, and give NEW_PATH')


def check_load_from_fits(model: nn.Module, state: Dict[str, Tensor], path: str,
                         mismatch: str) -> None:
    """Refuse ``load_from`` into a plain model when it fits fewer than half of the model's
    tensors (another architecture: mmengine would load the few that fit and train the rest
    from the initial weights). A partial fit, such as a head with another ``num_classes``, is
    left to mmengine, which loads what fits and lists the rest.

    Raises:
        RuntimeError: naming the file, how much fits, and the fix.
    """
    expected = model.state_dict()
    fits = sum(1 for k, v in expected.items()
               if k in state and getattr(state[k], 'shape', None) == v.shape)
    if fits * 2 >= len(expected):
        return
    raise RuntimeError(
        f'load_from {path!r} fits only {fits} of the model\'s {len(expected)} tensors '
        f'({mismatch}): it is a checkpoint of another model, and training would start from '
        'the initial weights. Set load_from to a checkpoint of this architecture, or to None.')
