"""The step guard in isolation: which steps FiniteOptimWrapper / FiniteAmpOptimWrapper skip and
what FiniteGuardHook says. The runs through tools/train.py are in
tests/test_tools/test_train_faults.py."""
import math
from types import SimpleNamespace

import pytest
import torch
from mmengine.optim.optimizer import amp_optimizer_wrapper

from rdimkd_mm.engine import FiniteAmpOptimWrapper, FiniteGuardHook, FiniteOptimWrapper


def wrapper_and_param(cls=FiniteOptimWrapper, **kwargs):
    param = torch.nn.Parameter(torch.ones(3))
    return cls(optimizer=torch.optim.SGD([param], lr=0.1), **kwargs), param


def test_a_finite_step_is_applied():
    wrapper, param = wrapper_and_param(clip_grad=dict(max_norm=1.0))
    wrapper.update_params((param * 2).sum())
    assert wrapper.nonfinite_step is None and not torch.equal(param, torch.ones(3))


@pytest.mark.parametrize('scale', [float('nan'), float('inf')])
def test_a_non_finite_loss_or_gradient_is_never_applied(scale):
    # Loss NaN: the weights stay; loss finite but its gradient not (0 * inf): the same.
    for loss_of in (lambda p: p.sum() * scale, lambda p: (p * scale).sum() * 0 + 1):
        wrapper, param = wrapper_and_param()
        wrapper.update_params(loss_of(param))
        assert torch.equal(param.detach(), torch.ones(3))
        assert wrapper.nonfinite_step is not None
        assert not math.isfinite(wrapper.nonfinite_step.grad_norm)


def test_without_the_hook_the_next_step_raises():
    wrapper, param = wrapper_and_param()
    wrapper.update_params(param.sum() * float('nan'))
    with pytest.raises(FloatingPointError, match='FiniteGuardHook'):
        wrapper.update_params(param.sum())


def test_amp_leaves_inf_gradients_to_the_loss_scaler(monkeypatch):
    """An inf gradient under AMP is the scaler's skipped step (the scale drops, training goes
    on); an inf loss is a stop."""
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available', lambda: True)
    wrapper, param = wrapper_and_param(FiniteAmpOptimWrapper)
    wrapper.loss_scaler = torch.amp.GradScaler('cpu', init_scale=2.0**16)
    wrapper.update_params((param * torch.tensor([1e38, 1, 1])).sum() * 0 + param.sum() * 1e35)
    assert wrapper.nonfinite_step is None, 'the scaler, not the guard, skips an overflow'
    assert wrapper.loss_scaler.get_scale() < 2.0**16
    assert torch.equal(param.detach(), torch.ones(3))
    wrapper.update_params(param.sum())  # goes on
    assert not torch.equal(param.detach(), torch.ones(3))
    wrapper.update_params(param.sum() * float('inf'))
    assert wrapper.nonfinite_step is not None and wrapper.nonfinite_step.grad_norm is None


def test_the_hook_names_the_non_finite_loss_and_the_fix():
    wrapper, param = wrapper_and_param()
    wrapper.update_params(param.sum() * float('nan'))
    runner = SimpleNamespace(optim_wrapper=wrapper, iter=2,
                             message_hub=SimpleNamespace(get_info=lambda key: 'w/iter_2.pth'))
    outputs = dict(loss=torch.tensor(float('nan')), loss_cls=torch.tensor(float('nan')),
                   loss_kd_fpn=torch.tensor(0.5), kd_ratio_fpn=torch.tensor(float('nan')))
    with pytest.raises(FloatingPointError) as error:
        FiniteGuardHook().after_train_iter(runner, 0, None, outputs)
    assert str(error.value) == (
        'Iteration 3: loss_cls is nan, so this step was not applied and training stops; the '
        'last checkpoint, w/iter_2.pth, holds finite weights. To go on, '
        'lower the learning rate (optim_wrapper.optimizer.lr) or enable gradient clipping '
        '(optim_wrapper.clip_grad=dict(max_norm=10)), then --resume or start afresh.')
    assert wrapper.nonfinite_step is None  # reported once


def test_the_hook_refuses_to_save_non_finite_weights():
    runner = SimpleNamespace(iter=4)
    state = {'a': torch.ones(2), 'b': torch.tensor([1.0, float('inf')]),
             'n': torch.tensor(3)}
    with pytest.raises(FloatingPointError, match=r'iteration 4: 1 of 3 model tensors hold '
                                                 r'NaN or inf \(b\)'):
        FiniteGuardHook().before_save_checkpoint(runner, dict(state_dict=state))
