"""CWDLoss: the channel-wise softened KL, on hand-made examples."""
import math

import pytest
import torch

from rdimkd_mm.models.losses import CWDLoss


def _cwd(channels=4, **kwargs):
    return CWDLoss(student_channels=channels, teacher_channels=channels, **kwargs)


def test_cwd_hand_computed_example():
    """Teacher logits (0, 0) -> p = (1/2, 1/2); student (0, ln 3) -> q = (1/4, 3/4);
    KL(p || q) = 1/2 ln 2 + 1/2 ln(2/3) = 1/2 ln(4/3). A second, equal channel adds 0 and
    halves the channel mean."""
    teacher = torch.tensor([0.0, 0.0]).view(1, 1, 1, 2)
    student = torch.tensor([0.0, math.log(3)]).view(1, 1, 1, 2)
    expected = 0.5 * math.log(4 / 3)
    torch.testing.assert_close(_cwd(1)(student, teacher), torch.tensor(expected), rtol=1e-5,
                               atol=0)
    same = torch.tensor([1.0, -2.0]).view(1, 1, 1, 2)
    two = _cwd(2)(torch.cat([student, same], 1), torch.cat([teacher, same], 1))
    torch.testing.assert_close(two, torch.tensor(expected / 2), rtol=1e-5, atol=0)


def test_cwd_zero_when_equal_up_to_a_constant_per_channel_and_positive_otherwise():
    torch.manual_seed(0)
    teacher = torch.randn(2, 3, 4, 4)
    shift = torch.randn(2, 3, 1, 1)
    loss = _cwd(3, tau=2.0)
    assert loss(teacher.clone(), teacher).abs().item() < 1e-6
    assert loss(teacher + shift, teacher).abs().item() < 1e-6
    assert loss(torch.randn(2, 3, 4, 4), teacher).item() > 0.1


def test_cwd_temperature_enters_as_tau_squared_times_the_softened_kl():
    """loss(tau) on (s, t) = tau^2 * loss(1) on (s / tau, t / tau)."""
    torch.manual_seed(0)
    student, teacher = 3 * torch.randn(2, 4, 3, 5), 3 * torch.randn(2, 4, 3, 5)
    soft = _cwd(tau=4.0)(student, teacher)
    torch.testing.assert_close(soft, 16 * _cwd()(student / 4, teacher / 4), rtol=1e-5, atol=0)
    assert abs(soft.item() - _cwd()(student, teacher).item()) > 0.1


def test_cwd_rejects_a_non_positive_temperature():
    with pytest.raises(ValueError, match='tau'):
        _cwd(tau=0.0)
