"""RdimKDLoss on the base class's template (level_loss): the numbers of the direct formula."""
import pytest
import torch

import rdimkd_mm  # noqa: F401  (populates the registries)
from rdimkd_mm.models.losses import RdimKDLoss
from rdimkd_mm.models.losses.base_distill_loss import standardize_channels


def reference_levels(loss, students, teachers):
    """Each level's weighted loss, written out: connector, crop, K^T on both sides, distance,
    scale, weight; float32 throughout."""
    out = []
    for level, (student, teacher) in enumerate(zip(students, teachers)):
        connected = loss.connectors[level](student)
        h, w = (min(a, b) for a, b in zip(connected.shape[-2:], teacher.shape[-2:]))
        connected, teacher = connected[..., :h, :w], teacher[..., :h, :w]
        projection = loss.projections[level]
        z_s, z_t = projection(connected.float()), projection(teacher.detach().float())
        if loss.normalize == 'standardize':
            value = 0.5 * (standardize_channels(z_s) - standardize_channels(z_t)).pow(2).mean()
        elif loss.reduction == 'sum':
            value = (z_s - z_t).pow(2).sum(1).mean()
        else:
            value = (z_s - z_t).pow(2).mean()
        if loss.normalize == 'teacher':
            value = value / loss.scales[level]
        out.append(loss.loss_weight * value)
    return out


@pytest.mark.parametrize('normalize,reduction', [(None, 'sum'), (None, 'mean'),
                                                 ('teacher', 'sum'), ('standardize', 'sum')])
def test_level_losses_equal_the_direct_formula(normalize, reduction):
    torch.manual_seed(0)
    loss = RdimKDLoss(student_channels=6, teacher_channels=8, num_levels=2, normalize=normalize,
                      reduction=reduction, loss_weight=2.5,
                      projection=dict(type='rdimkd_mm.RandomProjection', k=3))
    students = [torch.randn(2, 6, 9, 7), torch.randn(2, 6, 5, 4)]
    teachers = [torch.randn(2, 8, 8, 7) * 3 + 1, torch.randn(2, 8, 5, 4) * 0.5]  # crop level 0
    if normalize == 'teacher':
        loss.fit_begin()
        for level, teacher in enumerate(teachers):
            loss.fit_step(level, teacher)
        loss.fit_end()
    got = loss.level_losses(students, teachers)
    expected = reference_levels(loss, students, teachers)
    assert len(got) == 2
    for value, reference in zip(got, expected):
        torch.testing.assert_close(value, reference, rtol=1e-6, atol=0)
    torch.testing.assert_close(loss(students, teachers), sum(expected), rtol=1e-6, atol=0)


def test_level_loss_is_the_unweighted_term():
    torch.manual_seed(1)
    loss = RdimKDLoss(student_channels=4, teacher_channels=4, loss_weight=10.0,
                      projection=dict(type='rdimkd_mm.RandomProjection', k=2))
    student, teacher = torch.randn(2, 4, 6, 6), torch.randn(2, 4, 6, 6)
    weighted = loss.level_losses([student], [teacher])[0]
    torch.testing.assert_close(loss.level_loss(student, teacher, 0) * 10.0, weighted)
