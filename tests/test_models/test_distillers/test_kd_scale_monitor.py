"""KDScaleMonitor: the start-of-training KD/task reading and the dominance warning."""
import pytest
import torch

from rdimkd_mm.models.distillers import KDScaleMonitor, kd_scale_monitor


@pytest.fixture
def logged(monkeypatch):
    lines = []
    monkeypatch.setattr(kd_scale_monitor, 'print_log',
                        lambda msg, **kwargs: lines.append((kwargs['level'], msg)))
    return lines


def step(monitor, kd, task, kd_levels=None):
    losses = dict(loss_cls=torch.tensor(task * 0.25), loss_bbox=[torch.tensor(task * 0.75)],
                  loss_kd_fpn=torch.tensor(kd), kd_ratio_fpn=torch.tensor(1e9),
                  kd_fpn_l0=torch.tensor(1e9))
    monitor.update(losses)


def test_defaults_and_overrides():
    assert (KDScaleMonitor.kd_check_iters, KDScaleMonitor.kd_dominance_ratio) == (50, 100.0)
    monitor = KDScaleMonitor(kd_check_iters=3, kd_dominance_ratio=20.0)
    assert (monitor.kd_check_iters, monitor.kd_dominance_ratio) == (3, 20.0)
    assert KDScaleMonitor().kd_check_iters == 50


def test_judges_the_mean_once_at_the_last_checked_step(logged):
    monitor = KDScaleMonitor(kd_check_iters=3)
    step(monitor, 400.0, 1.0)
    step(monitor, 200.0, 2.0)
    assert logged == [] and not monitor.done
    step(monitor, 300.0, 3.0)  # mean KD 300 over mean task 2: 150x; first step 400x
    assert monitor.done and monitor.steps == 3
    (info, reading), (warning, message) = logged
    assert reading == ('KD/task loss ratio over the first 3 steps: 150x on average (KD 300, '
                       'task 2), 400x at the first step; the warning threshold is 100x.')
    assert warning > info
    assert message.startswith('Over the first 3 steps the KD losses averaged 300, 150x the '
                              'task losses (2)')
    assert 'loss_weight about 0.067 times' in message
    step(monitor, 1e6, 1.0)  # later steps are not counted
    assert monitor.steps == 3 and len(logged) == 2


def test_no_warning_below_the_threshold_and_no_reading_without_task_loss(logged):
    monitor = KDScaleMonitor(kd_check_iters=2)
    step(monitor, 10.0, 1.0)
    step(monitor, 10.0, 1.0)
    assert [line for _, line in logged] == [
        'KD/task loss ratio over the first 2 steps: 10x on average (KD 10, task 1), 10x at the '
        'first step; the warning threshold is 100x.']
    logged.clear()
    silent = KDScaleMonitor(kd_check_iters=1)
    step(silent, 5.0, 0.0)
    assert logged == [] and silent.done
