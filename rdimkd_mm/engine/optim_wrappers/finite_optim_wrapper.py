"""Optimizer wrappers that never apply a step with a non-finite loss or gradient."""
from typing import Dict, List, NamedTuple, Optional

import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from torch import Tensor

from rdimkd_mm.registry import OPTIM_WRAPPERS


class NonFiniteStep(NamedTuple):
    """A step the guard did not apply: the total loss and the gradient norm (None under AMP,
    where the loss scaler owns the gradients)."""
    loss: float
    grad_norm: Optional[float]


class _FiniteStepMixin:
    """Checks the total loss and (without AMP) the gradient norm before the optimizer steps,
    with one device sync, and skips the step if either is not finite.

    The skipped step is recorded in :attr:`nonfinite_step`; :class:`FiniteGuardHook` reads it
    after the iteration and stops training naming the losses. If nothing reads it, the next
    step raises instead, so a run never goes on silently without updates.
    """

    nonfinite_step: Optional[NonFiniteStep] = None
    _step_loss: Optional[Tensor] = None

    def update_params(self, loss: Tensor, step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        self._step_loss = loss.detach()
        try:
            super().update_params(loss, step_kwargs, zero_kwargs)
        finally:
            self._step_loss = None

    def step(self, **kwargs) -> None:
        if self.nonfinite_step is not None:
            raise FloatingPointError(
                f'A training step was skipped because its loss ({self.nonfinite_step.loss}) or '
                f'gradient norm ({self.nonfinite_step.grad_norm}) was not finite, and nothing '
                'stopped the run: add rdimkd_mm.FiniteGuardHook to custom_hooks (tools/train.py '
                'does), lower the learning rate or enable optim_wrapper.clip_grad.')
        if self._finite(self._step_loss):
            super().step(**kwargs)

    def _finite(self, loss: Optional[Tensor]) -> bool:
        norm = self._grad_norm()
        checked = [t.float().reshape(()) for t in (loss, norm) if t is not None]
        if not checked or bool(torch.isfinite(  # the one device sync
                torch.stack([t.to(checked[0].device) for t in checked])).all()):
            return True
        self.nonfinite_step = NonFiniteStep(
            loss=float('nan') if loss is None else float(loss),
            grad_norm=None if norm is None else float(norm))
        return False

    def _grad_norm(self) -> Optional[Tensor]:
        grads: List[Tensor] = [p.grad for group in self.optimizer.param_groups
                               for p in group['params'] if p.grad is not None]
        return torch.nn.utils.get_total_norm(grads) if grads else None


@OPTIM_WRAPPERS.register_module()
class FiniteOptimWrapper(_FiniteStepMixin, OptimWrapper):
    """mmengine's :class:`OptimWrapper` that skips (and records, see
    :class:`FiniteGuardHook`) a step whose total loss or gradient norm is NaN or infinite, so
    non-finite values never reach the weights. ``tools/train.py`` uses it in place of
    ``OptimWrapper``."""


@OPTIM_WRAPPERS.register_module()
class FiniteAmpOptimWrapper(_FiniteStepMixin, AmpOptimWrapper):
    """mmengine's :class:`AmpOptimWrapper` with the loss check of :class:`FiniteOptimWrapper`.

    The gradients are left to the loss scaler: a step it skips for inf/NaN gradients (and
    lowers the scale) is normal mixed-precision training; a non-finite loss is not, since no
    scale fixes the forward pass. ``tools/train.py --amp`` uses it.
    """

    def _grad_norm(self) -> Optional[Tensor]:
        return None
