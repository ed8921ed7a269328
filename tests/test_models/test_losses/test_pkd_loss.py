"""PKDLoss: one minus the mean channel Pearson correlation, on hand-made examples."""
import torch

from rdimkd_mm.models.losses import PKDLoss


def _pkd(channels=4, **kwargs):
    return PKDLoss(student_channels=channels, teacher_channels=channels, **kwargs)


def _pearson(a, b):
    """Mean over channels of the Pearson correlation over (N, H, W), with torch.corrcoef."""
    a, b = a.transpose(0, 1).flatten(1), b.transpose(0, 1).flatten(1)
    return torch.stack([torch.corrcoef(torch.stack([x, y]))[0, 1] for x, y in zip(a, b)]).mean()


def test_pkd_hand_computed_example():
    """s = (1, 2, 3), t = (1, 3, 2): centred (-1, 0, 1) and (-1, 1, 0), r = 1/2, loss = 1 - r."""
    student = torch.tensor([1., 2., 3.]).view(1, 1, 1, 3)
    teacher = torch.tensor([1., 3., 2.]).view(1, 1, 1, 3)
    torch.testing.assert_close(_pkd(1)(student, teacher), torch.tensor(0.5), rtol=1e-5, atol=0)
    torch.testing.assert_close(_pkd(1)(student, -teacher), torch.tensor(1.5), rtol=1e-5, atol=0)


def test_pkd_is_one_minus_the_mean_channel_pearson_correlation():
    torch.manual_seed(0)
    student = torch.randn(3, 5, 4, 6)
    teacher = 0.7 * student + torch.randn(3, 5, 4, 6)
    value = _pkd(5, loss_weight=2.0)(student, teacher)
    assert 0.2 < value.item() < 1.8
    torch.testing.assert_close(value, 2.0 * (1 - _pearson(student, teacher)), rtol=1e-4, atol=0)
    torch.testing.assert_close(_pkd(5)(teacher, teacher), torch.tensor(0.0), rtol=0, atol=1e-6)


def test_pkd_ignores_per_channel_scale_and_offset_on_either_side():
    torch.manual_seed(0)
    student, teacher = torch.randn(2, 4, 5, 5), torch.randn(2, 4, 5, 5)
    scale = torch.tensor([0.1, 1.0, 30.0, 500.0]).view(1, 4, 1, 1)
    offset = torch.tensor([-100.0, 0.0, 3.0, 1e3]).view(1, 4, 1, 1)
    loss = _pkd()
    value = loss(student, teacher)
    torch.testing.assert_close(loss(scale * student + offset, teacher), value, rtol=1e-4, atol=0)
    torch.testing.assert_close(loss(student, scale * teacher - offset), value, rtol=1e-4, atol=0)
    # Not any rescaling: flipping one channel's sign changes its correlation's sign.
    flip = torch.tensor([-1.0, 1.0, 1.0, 1.0]).view(1, 4, 1, 1)
    assert abs(loss(flip * student, teacher).item() - value.item()) > 1e-3
