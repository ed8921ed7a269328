"""The segmentation recipe study: a task variant whose arms live in the study's folder, share
the seg task's teacher and work dirs, and are each paired with the baseline, the default and
CWD; its loss; its report on committed rows. Nothing is trained."""
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from benchmarks import report
from benchmarks.quality import plan_runs
from benchmarks.tasks import ALL_TASKS, STUDIES, TASKS
from helpers.paths import REPO_ROOT

STUDY = STUDIES['seg-recipe']


def test_study_task_is_a_variant_of_seg_sharing_its_runs(tmp_path):
    assert 'seg-recipe' in ALL_TASKS and 'seg-recipe' not in TASKS
    seg = TASKS['seg']
    schedule = seg.schedules['full']
    study = {(r.arm, r.seed): r for r in plan_runs(STUDY, schedule, tmp_path)
             if r.group != 'sweep'}
    # The teacher and the arms both have: the same command in the same work dir (reused).
    for run in plan_runs(seg, schedule, tmp_path):
        if (run.arm, run.seed) in study and run.group != 'sweep':
            other = study[run.arm, run.seed]
            assert other.work_dir == run.work_dir
            assert other.command(Path('t.pth')) == run.command(Path('t.pth'))
    for arm in STUDY.arms:
        path = STUDY.config(arm)
        assert (REPO_ROOT / path).is_file()
        in_study = arm not in ('baseline', *seg.arms)
        assert path.startswith(STUDY.config_dir) == in_study, arm
        if in_study:
            assert study[arm, 0].work_dir == tmp_path / 'seg' / f'{arm}_seed0'


@pytest.mark.parametrize('arm', [a for a in STUDY.kd_arms if a != 'rdimkd-a'])
def test_study_arm_configs(arm):
    """Each study arm keeps the benchmark's distiller, student and data; the ones that add to
    the default keep its point untouched; a fit hook where a projection is fitted."""
    cfg = Config.fromfile(str(REPO_ROOT / STUDY.config(arm)))
    default = Config.fromfile(str(REPO_ROOT / STUDY.default_config)).seg_distill[0]
    baseline = Config.fromfile(str(REPO_ROOT / STUDY.config('baseline')))
    assert cfg.model.type == 'rdimkd_mm.FeatureDistiller'
    assert cfg.model.student == baseline.model
    assert cfg.train_dataloader == baseline.train_dataloader
    points = {p.name: p for p in cfg.model.distill}
    if '+cwd' in arm or arm.endswith('layer4'):
        assert points['head'] == default
    if '+cwd' in arm:
        assert points['logits'].loss.type == 'rdimkd_mm.CWDLoss'
        assert points['logits'].student == 'decode_head.conv_seg'
    fits = any('projection' in p.loss and 'Autoencoder' in p.loss.projection.type
               for p in cfg.model.distill)
    assert fits == (arm in STUDY.fit_hook_arms)
    assert bool(cfg.get('custom_hooks')) == fits


def test_projected_kl_loss():
    from benchmarks.studies.seg_recipe.projected_kl_loss import ProjectedKLLoss
    loss = ProjectedKLLoss(8, 8, dict(type='rdimkd_mm.RandomProjection', k=4), tau=1.0,
                           loss_weight=2.0)
    teacher = torch.randn(2, 8, 5, 6)
    student = teacher.clone().requires_grad_()
    assert float(loss(student, teacher)) == pytest.approx(0.0, abs=1e-5)  # identity connector
    other = torch.randn(2, 8, 5, 6, requires_grad=True)
    value = loss(other, teacher)
    assert value > 0
    value.backward()
    assert other.grad.abs().sum() > 0
    # Standardised: blind to the features' scale.
    assert float(loss(other * 10, teacher)) == pytest.approx(float(value), rel=1e-4)
    with pytest.raises(ValueError, match='tau'):
        ProjectedKLLoss(8, 8, dict(type='rdimkd_mm.RandomProjection', k=4), tau=0)
    with pytest.raises(ValueError, match="normalize='teacher'"):
        ProjectedKLLoss(8, 8, dict(type='rdimkd_mm.RandomProjection', k=4), normalize='teacher')


def test_study_report_pairs_every_arm_with_baseline_default_and_cwd():
    rows = [dict(task='seg-recipe', arm='teacher', group='teacher', label='t', seed=0,
                 metric=45.0, command='c')]
    values = {'baseline': (20.0, 21.0, 19.0), 'rdimkd-a': (22.0, 23.5, 21.0),
              'cwd': (23.0, 24.0, 22.0), 'rdimkd-a+cwd5': (24.0, 25.0, 23.5),
              'cwd-bottleneck': (21.0, 22.0, 20.5)}
    for arm, metrics in values.items():
        rows += [dict(task='seg-recipe', arm=arm, group='main', label=arm, seed=s, metric=m,
                      command='c') for s, m in enumerate(metrics)]
    summary = report.summarise_quality(rows, 'seg-recipe')
    arms = {a['arm']: a for a in summary['arms']}
    assert list(arms) == ['baseline', 'rdimkd-a', 'cwd-bottleneck', 'rdimkd-a+cwd5', 'cwd']
    assert list(arms['cwd-bottleneck']['paired']) == ['baseline', 'rdimkd-a', 'cwd']
    assert arms['rdimkd-a+cwd5']['paired']['cwd']['mean'] == pytest.approx(1.1667, rel=1e-3)
    assert list(arms['cwd']['paired']) == ['baseline', 'rdimkd-a']
    text = report.quality_markdown(summary)
    assert '| model | vs student (baseline) | vs RdimKD-A | vs CWD |' in text
    assert ('RdimKD-A (head feature) + CWD (logits, weight 5): head (decode_head.bottleneck): '
            "AutoencoderProjection k=0.25, normalize='standardize', weight 2.5 + logits "
            '(decode_head.conv_seg): CWDLoss tau=1, weight 5') in text
    assert 'CWD at the bottleneck: head (decode_head.bottleneck): CWDLoss tau=1, weight 5' in text
    assert 'change only the projection' not in text


def test_a_study_and_its_task_in_one_invocation_are_refused(tmp_path):
    import subprocess
    result = subprocess.run(
        [sys.executable, 'benchmarks/run.py', '--tasks', 'seg', 'seg-recipe', '--parts',
         'quality', '--results-dir', str(tmp_path), '--work-root', str(tmp_path / 'work')],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert ('the study seg-recipe shares the work dirs of seg; run them in separate '
            'invocations') in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_study_report_takes_the_planned_runs_and_the_committed_references(tmp_path):
    """The study's report reads its arms' finished runs whose command is the planned one (not
    a --quick run's) and takes the references from the committed results."""
    import json

    from benchmarks.studies.seg_recipe import report as study
    runs = {(r.arm, r.seed): r for r in plan_runs(STUDY, STUDY.schedules['full'], tmp_path)
            if r.group == 'main'}
    for (arm, seed), command, metric in [
            (('rdimkd-a+cwd5', 0), runs['rdimkd-a+cwd5', 0].command(Path('/a/t.pth')), 25.5),
            (('cwd-bottleneck', 0), ['tools/train.py', 'other'], 1.0),
            (('baseline', 0), runs['baseline', 0].command(None), 23.19)]:
        work_dir = runs[arm, seed].work_dir
        (work_dir / '2026/vis_data').mkdir(parents=True)
        (work_dir / '2026/vis_data/scalars.json').write_text(json.dumps(dict(iter=50)) + '\n')
        (work_dir / 'result.json').write_text(json.dumps(dict(command=command, metric=metric)))
    rows = study.study_rows(tmp_path)
    assert [(r['arm'], r['seed'], r['metric']) for r in rows] == [('rdimkd-a+cwd5', 0, 25.5)]
    committed = study.committed_rows()
    assert {r['arm'] for r in committed} == set(study.REFERENCE_ARMS)
    assert all(r['task'] == 'seg-recipe' for r in committed)
    assert len([r for r in committed if r['arm'] == 'cwd']) == 5
    assert study.reproduction(tmp_path, committed) == [
        dict(arm='baseline', seed=0, committed=23.190000534057617, reproduced=23.19)]


def test_second_family_trains_its_own_teacher_and_no_sweep(tmp_path):
    """The second family (DeepLabV3+) has its own configs, teacher and work dirs, plans no
    sweep around an RdimKD-R arm it does not have, and every KD arm distils the family's head
    feature (``sep_bottleneck``) with the seg task's RdimKD-A loss."""
    family = STUDIES['seg-dlv3p']
    runs = plan_runs(family, family.schedules['full'], tmp_path)
    assert {r.group for r in runs} == {'teacher', 'main'}
    teacher = next(r for r in runs if r.group == 'teacher')
    assert teacher.work_dir == tmp_path / 'seg-dlv3p' / 'teacher'
    assert f'train_cfg.max_iters={family.schedules["full"].teacher_iters}' in teacher.command(None)
    default = Config.fromfile(str(REPO_ROOT / TASKS['seg'].default_config)).seg_distill[0]
    for arm in ('teacher', *family.arms):
        assert family.config(arm).startswith(family.config_dir), arm
    for arm in family.kd_arms:
        cfg = Config.fromfile(str(REPO_ROOT / family.config(arm)))
        head = {p.name: p for p in cfg.model.distill}
        if arm != 'cwd':
            assert head['head'].student == head['head'].teacher == 'decode_head.sep_bottleneck'
            assert head['head'].loss == default.loss
