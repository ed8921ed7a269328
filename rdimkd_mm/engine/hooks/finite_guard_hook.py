"""Stop training at a non-finite step, and never save a checkpoint of non-finite weights."""
import math
from typing import Dict, List, Optional

import torch
from mmengine.hooks import Hook

from rdimkd_mm.registry import HOOKS
from rdimkd_mm.utils.weight_checks import non_finite_tensors, shown


@HOOKS.register_module()
class FiniteGuardHook(Hook):
    """Stops training after a step that :class:`FiniteOptimWrapper` (or
    :class:`FiniteAmpOptimWrapper`) skipped for a non-finite loss or gradient norm, naming each
    non-finite loss and the change to make; and refuses to write a checkpoint whose model
    weights or buffers hold NaN or inf.

    It runs first after each iteration, before the logger and :class:`CheckpointHook`, so the
    last checkpoint on disk stays the last finite one. ``tools/train.py`` adds it to every
    config.
    """

    priority = 'HIGHEST'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[Dict] = None) -> None:
        for wrapper in _wrappers(runner.optim_wrapper):
            skipped = getattr(wrapper, 'nonfinite_step', None)
            if skipped is not None:
                wrapper.nonfinite_step = None
                raise FloatingPointError(nonfinite_message(
                    runner.iter + 1, skipped.loss, skipped.grad_norm, outputs or {},
                    runner.message_hub.get_info('last_ckpt')))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('state_dict', {})
        bad = non_finite_tensors(state)
        if bad:
            raise FloatingPointError(
                f'Refusing to save a checkpoint at iteration {runner.iter}: {len(bad)} of '
                f'{len(state)} model tensors hold NaN or inf ({shown(bad)}). The checkpoints '
                'already saved are kept; resume from the last one (--resume) with a lower '
                'learning rate or gradient clipping (optim_wrapper.clip_grad).')


def _wrappers(optim_wrapper) -> List:
    """The optimizer wrappers of a runner (one, or each of an ``OptimWrapperDict``)."""
    values = getattr(optim_wrapper, 'optim_wrappers', None)
    return list(values.values()) if isinstance(values, dict) else [optim_wrapper]


def nonfinite_message(iteration: int, loss: float, grad_norm: Optional[float],
                      log_vars: Dict, last_checkpoint: Optional[str]) -> str:
    """What a stop at a non-finite step says: the non-finite losses (or the gradient norm when
    every loss is finite), that the step was not applied, and what to change."""
    values = {k: float(v.detach().float().mean()) if torch.is_tensor(v) else v
              for k, v in log_vars.items() if k != 'loss' and 'loss' in k}
    bad = {k: v for k, v in values.items()
           if isinstance(v, float) and not math.isfinite(v)}
    if bad:
        what = ', '.join(f'{k} is {v}' for k, v in bad.items())
    elif not math.isfinite(loss):
        what = f'the total loss is {loss}'
    else:
        what = (f'the gradient norm is {grad_norm} while every loss is finite (gradients that '
                'overflow, or a loss with an undefined gradient)')
    fixes = ['lower the learning rate (optim_wrapper.optimizer.lr)',
             'enable gradient clipping (optim_wrapper.clip_grad=dict(max_norm=10))']
    if any(k.startswith('loss_kd_') for k in bad):
        fixes.insert(0, "lower the KD point's loss_weight (model.distill.<i>.loss.loss_weight)"
                     ' and check that the teacher checkpoint is the one of the teacher config')
    kept = (f'the last checkpoint, {last_checkpoint}, holds finite weights' if last_checkpoint
            else 'no checkpoint was saved yet')
    return (f'Iteration {iteration}: {what}, so this step was not applied and training '
            f'stops; {kept}. To go on, ' + ', '.join(fixes[:-1])
            + f' or {fixes[-1]}, then --resume or start afresh.')
