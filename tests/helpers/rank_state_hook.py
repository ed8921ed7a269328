"""A test-only hook: every rank writes its fitted projections and student weights after
training, so a test can compare the ranks of a ``tools/dist_train.sh`` run."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from rdimkd_mm.engine.projection_fit import fitted_state_dict


@HOOKS.register_module()
class RankStateHook(Hook):
    """Save ``{'projections': ..., 'student': ...}`` to ``<work_dir>/rank_state/<rank>.pth``."""

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        path = osp.join(runner.work_dir, 'rank_state', f'{get_rank()}.pth')
        torch.save(dict(projections=fitted_state_dict(model),
                        student=model.student.state_dict(),
                        wrapped=type(runner.model).__name__), path)
