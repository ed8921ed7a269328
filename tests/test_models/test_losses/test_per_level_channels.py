"""One distillation point whose levels have other channels each (YOLOv3's neck: 512, 256, 128):
each level gets its own connector and projection. (The YOLOv3 zoo pair trains it through
tools/train.py in tests/test_runner_pairs.py.)"""
import pytest
import torch
from torch import nn

from rdimkd_mm.models import RdimKDLoss


def test_each_level_has_its_own_connector_and_projection():
    loss = RdimKDLoss(student_channels=[96, 96, 96], teacher_channels=[512, 256, 128],
                      projection=dict(type='rdimkd_mm.RandomProjection', k=0.25), num_levels=3)
    assert [(c.in_channels, c.out_channels) for c in loss.connectors] == [(96, 512), (96, 256),
                                                                          (96, 128)]
    assert [p.k for p in loss.projections] == [128, 64, 32]
    students = [torch.randn(2, 96, s, s, requires_grad=True) for s in (4, 8, 16)]
    teachers = [torch.randn(2, c, s, s) for c, s in ((512, 4), (256, 8), (128, 16))]
    levels = loss.level_losses(students, teachers)
    assert len(levels) == 3 and all(torch.isfinite(v) and v > 0 for v in levels)
    sum(levels).backward()
    assert all(s.grad is not None and s.grad.abs().sum() > 0 for s in students)


def test_same_channels_on_a_level_keeps_its_identity_connector():
    loss = RdimKDLoss(student_channels=[8, 4], teacher_channels=[8, 16],
                      projection=dict(type='rdimkd_mm.RandomProjection', k=2), num_levels=2)
    assert isinstance(loss.connectors[0], nn.Identity)
    assert isinstance(loss.connectors[1], nn.Conv2d)


def test_a_level_of_other_channels_than_built_for_is_an_error():
    loss = RdimKDLoss(student_channels=[8, 4], teacher_channels=[8, 16],
                      projection=dict(type='rdimkd_mm.RandomProjection', k=2), num_levels=2)
    with pytest.raises(ValueError, match=r'teacher level 1 of shape \(N, 16, H, W\)'):
        loss.level_losses([torch.randn(1, 8, 2, 2), torch.randn(1, 4, 2, 2)],
                          [torch.randn(1, 8, 2, 2), torch.randn(1, 8, 2, 2)])


def test_one_channel_count_per_level_or_one_for_all():
    with pytest.raises(ValueError, match=r'teacher_channels \[8, 16\] gives 2 channel count\(s\) '
                       r'for 3 level\(s\)'):
        RdimKDLoss(student_channels=8, teacher_channels=[8, 16],
                   projection=dict(type='rdimkd_mm.RandomProjection', k=2), num_levels=3)


def test_pca_and_the_teacher_scale_fit_per_level_channels():
    loss = RdimKDLoss(student_channels=4, teacher_channels=[16, 8], normalize='teacher',
                      projection=dict(type='rdimkd_mm.PCAProjection', k=2), num_levels=2)
    loss.fit_begin()
    for _ in range(2):
        loss.fit_step(0, torch.randn(4, 16, 8, 8))
        loss.fit_step(1, torch.randn(4, 8, 8, 8))
    loss.fit_end()
    assert loss.is_fitted and [line.split(',')[0] for line in loss.fit_summary()] == [
        'level 0: k=2 of 16', 'level 1: k=2 of 8']
