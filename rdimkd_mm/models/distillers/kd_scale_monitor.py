"""Watches the KD/task loss ratio over the first training steps and warns when KD dominates."""
import logging
from typing import Dict, Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from torch import Tensor

Loss = Union[Tensor, float, Sequence[Tensor]]


def detached_sum(loss: Loss) -> Tensor:
    """A logged loss (a tensor or a list of per-level tensors) as one detached scalar."""
    loss = sum(loss) if isinstance(loss, (list, tuple)) else loss
    return loss.detach() if isinstance(loss, Tensor) else torch.tensor(float(loss))


def task_loss(losses: Dict[str, Loss]) -> Tensor:
    """The sum of the task losses among ``losses``: the ``loss*`` entries that are not KD
    losses (``loss_kd_*``), detached."""
    return sum(detached_sum(v) for k, v in losses.items()
               if 'loss' in k and not k.startswith('loss_kd_'))


def format_ratio(value: float) -> str:
    """A loss ratio to three significant digits, without an exponent: 0.0473, 9.04, 616."""
    return f'{value:.3g}' if value < 100 else f'{value:.0f}'


class KDScaleMonitor:
    """Sums the KD and the task losses of the first ``kd_check_iters`` training steps; at the
    last of them logs their mean ratio and the first step's, and warns once if the KD losses
    averaged more than ``kd_dominance_ratio`` times the task losses.

    The check judges the mean over many steps rather than the first step, because a freshly
    initialised head's first task loss can be far below its usual scale (a focal-style
    classification loss may start near zero), which would make a well-weighted KD loss look
    hundreds of times too large. A KD loss that stays about 100x above the task loss or more,
    on the other hand, can leave the student learning little of its task, most of all under
    SGD, where the loss scale also sets the step size; the warning then suggests the
    ``loss_weight`` factor that would bring the ratio near 10x. It only logs: training goes on
    unchanged.

    Args:
        kd_check_iters (int, optional): Steps the check averages; the class default when None.
        kd_dominance_ratio (float, optional): Mean KD/task ratio above which it warns; the
            class default when None.
    """

    #: Mean KD / task loss ratio over the first steps above which the monitor warns.
    kd_dominance_ratio = 100.0
    #: Training steps whose losses the check averages before it judges.
    kd_check_iters = 50

    def __init__(self, kd_check_iters: Optional[int] = None,
                 kd_dominance_ratio: Optional[float] = None) -> None:
        if kd_check_iters is not None:
            self.kd_check_iters = kd_check_iters
        if kd_dominance_ratio is not None:
            self.kd_dominance_ratio = kd_dominance_ratio
        self.steps = 0
        self.sums = (0.0, 0.0)  # KD, task: summed over the steps seen
        self.first_step = (0.0, 0.0)  # KD, task at the first step

    @property
    def done(self) -> bool:
        """Whether the check has judged (it sees no more steps)."""
        return self.steps >= self.kd_check_iters

    def update(self, losses: Dict[str, Loss]) -> None:
        """Add one step's losses (``loss_kd_*`` are KD, other ``loss*`` entries task); judge at
        the ``kd_check_iters``-th step. One device sync, then; none before."""
        if self.done:
            return
        kd = sum(detached_sum(v) for k, v in losses.items() if k.startswith('loss_kd_'))
        task = task_loss(losses)
        if self.steps == 0:
            self.first_step = (kd, task)
        self.sums = (self.sums[0] + kd, self.sums[1] + task)
        self.steps += 1
        if self.done:
            self._judge()

    def _judge(self) -> None:
        steps = self.steps
        kd, task = (float(total) / steps for total in self.sums)
        first_kd, first_task = (float(v) for v in self.first_step)
        if task > 0 and first_task > 0:
            print_log(
                f'KD/task loss ratio over the first {steps} steps: {format_ratio(kd / task)}x '
                f'on average (KD {kd:.4g}, task {task:.4g}), '
                f'{format_ratio(first_kd / first_task)}x at the first step; the warning '
                f'threshold is {self.kd_dominance_ratio:g}x.',
                logger='current', level=logging.INFO)
        if task > 0 and kd > self.kd_dominance_ratio * task:
            print_log(
                f'Over the first {steps} steps the KD losses averaged {kd:.4g}, {kd / task:.0f}x '
                f'the task losses ({task:.4g}); the student may learn little of its task. '
                f'Consider a loss_weight about {10 * task / kd:.2g} times the current one, to '
                'train near 10x (the kd_ratio_* values in the log follow this ratio).',
                logger='current', level=logging.WARNING)
