"""benchmarks/quality.py: the plan of runs, reading a finished run, and when a run is reused."""
import sys
from pathlib import Path

import pytest

from helpers.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))
from benchmarks.quality import plan_runs  # noqa: E402
from benchmarks.tasks import TASKS  # noqa: E402


@pytest.mark.parametrize('task', sorted(TASKS))
def test_plan_runs(task, tmp_path):
    spec = TASKS[task]
    schedule = spec.schedules['full']
    runs = plan_runs(spec, schedule, tmp_path)
    assert runs[0].arm == 'teacher' and not runs[0].needs_teacher
    main = [r for r in runs if r.group == 'main']
    assert spec.arms[:2] == ('baseline', 'rdimkd-r')
    assert len(main) == len(spec.arms) * len(schedule.seeds) >= 10
    assert {(r.arm, r.seed) for r in main} == {(a, s) for a in spec.arms for s in schedule.seeds}
    for run in main:
        assert f'randomness.seed={run.seed}' in run.options
        assert f'train_cfg.max_iters={schedule.student_iters}' in run.options
        assert run.needs_teacher == (run.arm != 'baseline')
        command = run.command(Path('teacher.pth'))
        assert ('model.teacher_checkpoint=teacher.pth' in command) == run.needs_teacher
        assert ('--no-teacher-eval' in command) == run.needs_teacher
        assert (f'custom_hooks.0.num_batches={schedule.fit_batches}' in run.options) == (
            run.arm in ('rdimkd-p', 'rdimkd-a', 'fitnet-l2'))
    sweep = [r for r in runs if r.group == 'sweep']
    assert len(sweep) == len(spec.sweep()) and all(r.seed == schedule.seeds[0] for r in sweep)
    peer_sweep = {'det': ['PKD weight=2.5', 'PKD weight=40'],
                  'seg': ['CWD weight=1.25', 'CWD weight=20']}.get(task, [])
    assert [r.label for r in sweep if r.arm in spec.peers] == peer_sweep
    weights = [r.options[-2] for r in sweep if r.arm == 'rdimkd-r' and 'x' in r.label]
    default = {'det': 10, 'seg': 2.5}[spec.kind]  # the measured defaults (README, "Loss scale")
    assert spec.default_weight == default
    assert spec.default_arm == {'det': 'rdimkd-r', 'seg': 'rdimkd-a'}[spec.kind]
    # A family without the wide sweep (Faster R-CNN, whose runs cost more) keeps to x1/4..x4.
    assert spec.wide_sweep == (task != 'det-frcnn')
    wide = (0.0625, 16) if spec.wide_sweep else ()
    assert weights == [f'model.distill.0.loss.loss_weight={default * f:g}'
                       for f in (0.25, 0.5, 2, 4, *wide)]
    ks = [(r.label, r.options[-2]) for r in sweep if r.label.startswith('RdimKD-R k=')]
    assert ks == [('RdimKD-R k=C_t/8', 'model.distill.0.loss.projection.k=0.125'),
                  ('RdimKD-R k=C_t/2', 'model.distill.0.loss.projection.k=0.5')][:len(wide)]
    # A variant's weight sweep (segmentation: RdimKD-A), x1/4 to x4 of its config's weight,
    # with its fit; its centre is its main arm.
    assert spec.weight_sweep_arms == {'seg': ('rdimkd-a', )}.get(task, ())
    for arm in spec.weight_sweep_arms:
        runs_of = [r for r in sweep if r.arm == arm]
        assert [r.label for r in runs_of] == [
            f'RdimKD-{arm[-1].upper()} weight x{f:g}' for f in (0.25, 0.5, 2, 4)]
        assert [r.options[-2] for r in runs_of] == [
            f'model.distill.0.loss.loss_weight={default * f:g}' for f in (0.25, 0.5, 2, 4)]
        assert all(f'custom_hooks.0.num_batches={schedule.fit_batches}' in r.options
                   for r in runs_of)
    labels = {arm: label for label, arm in spec.sweep_centres().items()}
    for arm in spec.seeded_sweep_arms:  # the centres, the default marked
        assert labels[arm] == f'RdimKD-{arm[-1].upper()} weight x1' + (
            ' (the default)' if arm == spec.default_arm else '')
    assert len({r.work_dir for r in runs}) == len(runs)
    # --sweep-seeds 5: RdimKD-R's sweep (and A's) on every seed, the peers' on the first; the first
    # seed's runs keep their work dirs (and so their cached results).
    more = [r for r in plan_runs(spec, schedule, tmp_path, sweep_seeds=5) if r.group == 'sweep']
    assert sorted((r.label, r.seed) for r in more) == sorted(
        (r.label, s) for r in sweep
        for s in (schedule.seeds if r.arm in spec.seeded_sweep_arms else schedule.seeds[:1]))
    assert {r.work_dir for r in more if r.seed == schedule.seeds[0]} == {r.work_dir for r in sweep}
    assert len({r.work_dir for r in more}) == len(more)
    for run in more:
        assert f'randomness.seed={run.seed}' in run.options


def test_read_metric_takes_the_final_validation(tmp_path):
    from benchmarks.quality import Run, _cached, _read_metric, first_kd_ratio
    task = TASKS['det']
    run = Run(task, 'baseline', 'main', 'baseline', 0, tmp_path, [])
    with pytest.raises(RuntimeError, match='has no scalars.json; see .*run.log'):
        _read_metric(run)
    logs = tmp_path / '20260101_000000' / 'vis_data'
    logs.mkdir(parents=True)
    (logs / 'scalars.json').write_text('{"loss": 1.0, "step": 500}\n')
    with pytest.raises(RuntimeError, match="No 'coco/bbox_mAP' in .*run.log"):
        _read_metric(run)  # training ended without its validation
    (logs / 'scalars.json').write_text(
        '{"coco/bbox_mAP": 0.010, "step": 250}\n{"loss": 1.0, "step": 500}\n'
        '{"coco/bbox_mAP": 0.015, "step": 500}\n')
    assert _read_metric(run) == pytest.approx(1.5)  # the last one, in percent
    (tmp_path / 'run.log').write_text(
        'Evaluating bbox...\nThe testing results of the whole dataset is empty.\n'
        'Evaluating bbox...\nAverage Precision (AP) @[ IoU=0.50:0.95 ...] = 0.015\n')
    assert _read_metric(run) == pytest.approx(1.5)  # only an earlier evaluation was empty
    with (tmp_path / 'run.log').open('a') as log:  # the final one found nothing: AP 0
        log.write('Evaluating bbox...\nThe testing results of the whole dataset is empty.\n')
    assert _read_metric(run) == 0.0
    (tmp_path / 'run.log').unlink()
    assert first_kd_ratio(run) == (None, None)  # nothing distilled
    (logs / 'scalars.json').write_text(
        '{"loss": 3.0, "kd_ratio_fpn": 12.0, "kd_ratio_head": 0.5, "iter": 50, "step": 50}\n'
        '{"loss": 2.0, "kd_ratio_fpn": 6.0, "kd_ratio_head": 0.5, "iter": 100, "step": 100}\n'
        '{"coco/bbox_mAP": 0.015, "step": 100}\n')
    assert first_kd_ratio(run) == (12.5, 50)  # every point's, at the first logged iteration
    (tmp_path / 'result.json').write_text('{"command": ["a"], "fingerprint": "f", '
                                          '"metric": 1.5}')
    assert _cached(run, ['a'], 'f')['metric'] == 1.5
    assert _cached(run, ['b'], 'f') is None  # another command: train again
    assert _cached(run, ['a'], 'g') is None  # same command, edited config: train again


def test_start_reading_parses_what_the_distiller_logs(tmp_path, monkeypatch):
    """quality.json's first-step and start-mean KD/task ratios come from the line the
    distiller logs (its own format, produced here by its check), not from a copy of it."""
    import torch

    from benchmarks.quality import Run, start_reading
    from rdimkd_mm.models.distillers import KDScaleMonitor, kd_scale_monitor
    lines = []
    monkeypatch.setattr(kd_scale_monitor, 'print_log', lambda msg, **kw: lines.append(msg))
    check = KDScaleMonitor(kd_check_iters=3)
    for kd, task in ((120.0, 0.1), (8.0, 1.0), (9.0, 1.1)):  # RTMDet-like: a tiny first task loss
        check.update(dict(loss_cls=torch.tensor(task), loss_kd_fpn=torch.tensor(kd)))
    run = Run(TASKS['det'], 'rdimkd-r', 'main', 'RdimKD-R', 0, tmp_path, [])
    assert start_reading(run)['kd_ratio_step1'] is None  # no log yet
    (tmp_path / 'run.log').write_text('Iter(train) [1/300]\n' + '\n'.join(lines) + '\n')
    assert start_reading(run) == dict(kd_ratio_step1=1200.0, kd_ratio_start_mean=62.3,
                                      kd_ratio_start_steps=3)


def test_fingerprint_sees_config_edits_and_the_teacher(tmp_path, monkeypatch):
    """A rerun must not reuse a run whose config file changed under the same command."""
    from benchmarks import quality, tasks
    from benchmarks.quality import Run, fingerprint
    config = tmp_path / 'det' / 'student.py'
    config.parent.mkdir(parents=True)
    config.write_text('model = dict(lr=0.001)\n')
    monkeypatch.setattr(tasks, 'CONFIG_DIR', str(tmp_path))  # absolute: REPO_ROOT / it = it
    run = Run(TASKS['det'], 'baseline', 'main', 'baseline', 0, tmp_path, [])
    before = fingerprint(run)
    assert fingerprint(run) == before
    config.write_text('model = dict(lr=0.002)\n')
    quality._resolved_config_text.cache_clear()  # a new invocation reads the file again
    assert fingerprint(run) != before
    assert fingerprint(run, 'teacher-a') != fingerprint(run, 'teacher-b')
