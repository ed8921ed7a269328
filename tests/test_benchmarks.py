"""The benchmark's plan, summaries and reports (benchmarks/); the benchmark itself is not run."""
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks import report  # noqa: E402
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


@pytest.mark.parametrize('argv, message', [
    (['--sweep-seeds', '0'], '--sweep-seeds 0: the full det schedule has 5 seed(s); give 1 to 5 '
     '(--no-sweep skips the sweep)'),
    (['--quick', '--sweep-seeds', '2'], 'the quick det schedule has 1 seed(s); give 1 to 1'),
    (['--seeds', '2', '--sweep-seeds', '3'], 'the full det schedule has 2 seed(s); give 1 to 2'),
    (['--seeds', '0'], '--seeds 0: give at least 1'),
    (['--tasks', 'det-rtmdet', '--parts', 'cost'], 'the det-rtmdet task has no rdimkd-p, '
     'rdimkd-a, fitnet-l2 arm; give --parts quality for det-rtmdet'),
])
def test_seed_counts_out_of_range_are_refused_before_any_work(argv, message, tmp_path):
    import subprocess
    result = subprocess.run(
        [sys.executable, 'benchmarks/run.py', '--tasks', 'det', '--parts', 'quality',
         '--results-dir', str(tmp_path), '--work-root', str(tmp_path / 'work'), *argv],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and message in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing trained, nothing written


def test_more_seeds_keep_the_first_seeds_runs(tmp_path):
    """--seeds 10: the main arms on seeds 0-9, seeds 0-4 in the work dirs of the full run."""
    from argparse import Namespace

    from benchmarks.run import schedule_of
    spec = TASKS['seg']
    schedule = schedule_of('seg', 'full', Namespace(seeds=10))
    assert schedule.seeds == tuple(range(10))
    assert schedule_of('seg', 'full', Namespace(seeds=None)) == spec.schedules['full']
    main = [r for r in plan_runs(spec, schedule, tmp_path) if r.group == 'main']
    assert len(main) == 10 * len(spec.arms)
    five = [r for r in plan_runs(spec, spec.schedules['full'], tmp_path) if r.group == 'main']
    assert {r.work_dir for r in five} == {r.work_dir for r in main if r.seed < 5}


@pytest.mark.parametrize('task', sorted(TASKS))
def test_arm_configs(task):
    """The default arm (RdimKD-R for detection, RdimKD-A for segmentation) is the shipped default
    untouched, its hooks included; the other RdimKD arms change only the projection (P and A
    add the fit hook); full L2 is the identity projection on the teacher-normalised loss at
    weight 1; each peer arm is its own loss at its published weight, without the fit hook."""
    spec = TASKS[task]
    losses, points = {}, {}
    for arm in spec.arms[1:]:
        cfg = Config.fromfile(str(REPO_ROOT / spec.config(arm)))
        assert cfg.model.type == 'rdimkd_mm.FeatureDistiller'
        assert (REPO_ROOT / cfg.model.teacher).is_file()
        (point, ) = cfg.model.distill
        losses[arm], points[arm] = point.loss, (point.student, point.teacher)
        assert point.loss.loss_weight == spec.peers.get(
            arm, 1.0 if arm == 'fitnet-l2' else spec.default_weight)
        assert point.loss.get('normalize') == {'fitnet-l2': 'teacher'}.get(
            arm, None if arm in spec.peers else 'standardize')
        assert (cfg.get('custom_hooks', []) == []) == (arm not in spec.fit_hook_arms)
    peers = {arm: losses.pop(arm).type for arm in spec.peers}
    assert peers == {'det': {'pkd': 'rdimkd_mm.PKDLoss'},
                     'seg': {'cwd': 'rdimkd_mm.CWDLoss'}}.get(task, {})
    if 'pkd' in peers:  # PKD on RdimKD's FPN levels
        assert points['pkd'] == points['rdimkd-r']
    if 'cwd' in peers:  # CWD on the logits, its published point
        assert points['cwd'] == ('decode_head.conv_seg', 'decode_head.conv_seg')
    projections = {arm: loss.projection.type.split('.')[-1] for arm, loss in losses.items()}
    expected = {'rdimkd-r': 'RandomProjection', 'rdimkd-p': 'PCAProjection',
                'rdimkd-a': 'AutoencoderProjection', 'fitnet-l2': 'IdentityProjection'}
    assert projections == {arm: expected[arm] for arm in spec.kd_arms}
    assert {loss.projection.get('k') for arm, loss in losses.items()
            if arm != 'fitnet-l2'} == {0.25}
    default = Config.fromfile(str(REPO_ROOT / spec.default_config))
    shipped = default.fpn_distill if spec.kind == 'det' else default.seg_distill
    distill = Config.fromfile(str(REPO_ROOT / spec.config(spec.default_arm)))
    assert distill.model.distill == shipped
    assert distill.get('custom_hooks', []) == default.get('seg_distill_hooks', [])
    student = Config.fromfile(str(REPO_ROOT / spec.config('baseline')))
    assert distill.model.student == student.model
    assert distill.train_dataloader == student.train_dataloader


def _rows():
    rows = [dict(task='det', arm='teacher', group='teacher', label='teacher', seed=0,
                 metric=10.0, command='c')]
    for seed, (base, kd, l2) in enumerate([(4.0, 6.0, 5.0), (5.0, 6.5, 4.0), (6.0, 5.5, 4.5)]):
        for arm, value in (('baseline', base), ('rdimkd-r', kd), ('fitnet-l2', l2)):
            ratio = None if arm == 'baseline' else 10.0 + seed  # KD/task at the first log
            rows.append(dict(task='det', arm=arm, group='main', label=arm, seed=seed,
                             metric=value, kd_ratio=ratio, kd_ratio_iter=50, command='c'))
    for seed, value in enumerate((5.5, 4.5)):  # a sweep run on the first two seeds
        rows.append(dict(task='det', arm='rdimkd-r', group='sweep', label='RdimKD-R k=8',
                         seed=seed, metric=value, kd_ratio=2.0 * (seed + 1), kd_ratio_iter=50,
                         command='c'))
    return rows


def test_summarise_quality():
    summary = report.summarise_quality(_rows(), 'det')
    assert summary['teacher'] == 10.0 and summary['baseline_mean'] == pytest.approx(5.0)
    arms = {a['arm']: a for a in summary['arms']}
    assert list(arms) == ['baseline', 'rdimkd-r', 'fitnet-l2']  # in the task's arm order
    kd = arms['rdimkd-r']
    assert kd['mean'] == pytest.approx(6.0) and kd['std'] == pytest.approx(0.5)
    assert kd['delta'] == pytest.approx(1.0) and kd['gap_closed'] == pytest.approx(0.2)
    assert kd['wins'] == '2/3'
    assert arms['fitnet-l2']['wins'] == '1/3'  # seed 0: 5.0 > 4.0
    assert arms['fitnet-l2']['gap_closed'] == pytest.approx(-0.1)
    # The sweep: first the default (RdimKD-R's main arm) on the sweep's seeds, then each label,
    # both against the baseline of the same seeds (4.0, 5.0).
    centre, k8 = summary['sweep']
    assert centre['label'] == 'RdimKD-R weight x1 (the default)' and centre['seeds'] == [0, 1]
    assert centre['values'] == [6.0, 6.5] and centre['delta'] == pytest.approx(1.75)
    assert k8['label'] == 'RdimKD-R k=8' and k8['values'] == [5.5, 4.5]
    assert k8['mean'] == pytest.approx(5.0) and k8['std'] == pytest.approx(0.7071, rel=1e-3)
    assert k8['delta'] == pytest.approx(0.5) and k8['wins'] == '1/2'
    assert k8['paired']['mean'] == pytest.approx(0.5) and k8['paired']['seeds'] == 2
    assert k8['vs_centre']['mean'] == pytest.approx(-1.25) and 'vs_centre' not in centre
    # KD/task at the first log, over the sweep's seeds (the centre: seeds 0 and 1 of the main arm)
    assert centre['kd_ratio'] == pytest.approx(10.5) and k8['kd_ratio'] == pytest.approx(3.0)
    assert summary['kd_ratio_iter'] == 50
    # Paired per-seed differences with 95 % t-intervals (t(0.975, 2) = 4.303): RdimKD-R vs
    # baseline: 2, 1.5, -0.5; vs full L2: 1, 2.5, 1. Full L2 is compared with the baseline only.
    vs_base, vs_l2 = kd['paired']['baseline'], kd['paired']['fitnet-l2']
    assert vs_base['mean'] == pytest.approx(1.0) and vs_base['seeds'] == 3
    assert vs_base['high'] - 1.0 == pytest.approx(4.3027 * 1.3229 / 3**0.5, rel=1e-3)
    assert vs_l2['mean'] == pytest.approx(1.5)
    assert vs_l2['low'] == pytest.approx(1.5 - 4.3027 * 0.8660 / 3**0.5, rel=1e-3)
    assert list(arms['fitnet-l2']['paired']) == ['baseline']
    assert report.paired_difference({0: 1.0}, {0: 0.5, 1: 2.0}) is None  # one shared seed


def test_quality_report_files(tmp_path):
    summary = report.summarise_quality(_rows(), 'det')
    text = report.quality_markdown(summary)
    assert '| student + RdimKD-R | 6.00 ± 0.50 | 6.00, 6.50, 5.50 | +1.00 | 2/3 | 20% |' in text
    assert 'Sweep, each run on the seeds it lists, against the baseline and the main' in text
    # t(0.975, 1) = 12.706, std of the differences (1.5, -0.5) = 1.414: half-width 12.71
    # vs the default (6.0, 6.5): -0.5, -2.0, std 1.061, half-width 12.71 * 1.061 / sqrt(2) = 9.53
    assert ('| RdimKD-R k=8 | 5.00 ± 0.71 | 5.50, 4.50 | +0.50 [-12.21, +13.21] | 1/2 | '
            '-1.25 [-10.78, +8.28] | 3x |') in text
    assert 'at the first logged iteration (50)' in text
    assert '| model | vs student (baseline) | vs full L2 (FitNet) |' in text
    assert '| student + RdimKD-R | +1.00 [-2.29, +4.29] | +1.50 [-0.65, +3.65] |' in text
    assert 'KD/task at step 1' not in text  # rows from before the distiller logged it
    report.plot_quality([summary], tmp_path / 'quality.png')
    assert (tmp_path / 'quality.png').read_bytes()[:4] == b'\x89PNG'
    # Runs that logged their first step's ratio: one more column, the mean over the seeds.
    rows = [dict(r, kd_ratio_step1=None if r.get('kd_ratio') is None else 100.0 * (r['seed'] + 1))
            for r in _rows()]
    summary = report.summarise_quality(rows, 'det')
    assert [s['kd_ratio_step1'] for s in summary['sweep']] == [150.0, 150.0]
    text = report.quality_markdown(summary)
    assert 'and at the first training step, as the distiller logs it' in text
    assert '| -1.25 [-10.78, +8.28] | 3x | 150x |' in text


def test_quality_report_of_a_task_with_the_default_only(tmp_path):
    """The second detector family (det-rtmdet) runs the baseline and RdimKD-R only: its report
    compares R with the baseline alone and names no P/A arms."""
    rows = [dict(r, task='det-rtmdet') for r in _rows() if r['arm'] != 'fitnet-l2']
    summary = report.summarise_quality(rows, 'det-rtmdet')
    assert [a['arm'] for a in summary['arms']] == ['baseline', 'rdimkd-r']
    assert list(summary['arms'][1]['paired']) == ['baseline']
    text = report.quality_markdown(summary)
    assert 'P and A' not in text and 'RdimKD-R: RandomProjection k=0.25' in text
    assert '| model | vs student (baseline) |\n' in text
    report.plot_quality([summary], tmp_path / 'quality.png')
    assert (tmp_path / 'quality.png').read_bytes()[:4] == b'\x89PNG'


def test_reuse_line_counts_runs_of_an_earlier_invocation():
    rows = [dict(arm='teacher', reused=True, train_seconds=1200.0),
            dict(arm='baseline', reused=False, train_seconds=60.0),
            dict(arm='rdimkd-r', reused=True, train_seconds=120.0)]
    assert report._reuse_line(rows) == (
        '2 of the 3 runs (1 teachers) were reused from an earlier invocation, which the wall '
        'time above does not count; the runs took 23 min of training in all (each with its '
        'share of the cores).\n\n')
    assert report._reuse_line(rows[1:2]) == 'The 1 runs took 1 min of training in all.\n\n'


def test_cost_report_files(tmp_path):
    cost = dict(task='det', device='cpu', batch_size=8, input_shape=[3, 128, 128],
                times_ms={'student alone': 60.0, 'KD RdimKD-R': 100.0},
                ratios={'KD RdimKD-R step / student step': 1.7},
                fit_seconds={'RdimKD-P': 0.5}, fit_batches=20,
                memory={'student alone': dict(peak_mb=500.0, growth_mb=30.0)},
                memory_kind='peak RSS')
    data = dict(command='python benchmarks/run.py', date='2026-01-01', threads=2, tasks=[cost],
                machine=dict(cpu='CPU', cpu_count=2, torch='2', system='Linux'))
    report.write_cost_report(data, tmp_path / 'cost_cpu.md')
    text = (tmp_path / 'cost_cpu.md').read_text()
    assert '| student alone | 60.0 | 500 | 30 |' in text and '| KD RdimKD-R | 100.0 |  |  |' in text
    assert '| KD RdimKD-R step / student step | 1.70 |' in text and 'RdimKD-P 0.50 s' in text
    assert (tmp_path / 'cost_cpu.png').read_bytes()[:4] == b'\x89PNG'


def _interval_cell(diff) -> str:
    return '' if not diff else (f'{diff["mean"]:+.2f} [{diff["low"]:+.2f}, '
                                f'{diff["high"]:+.2f}]')


def test_readme_quotes_the_committed_results():
    """The README's benchmark tables are the committed JSON results, rounded."""
    import json
    readme = '\n'.join(p.read_text() for p in sorted((REPO_ROOT / 'docs/benchmarks').glob('*.md')))
    results = REPO_ROOT / 'benchmarks' / 'results'
    quality = json.loads((results / 'quality.json').read_text())
    summaries = {s['task']: s for s in quality['summaries']}
    det, seg = summaries['det'], summaries['seg']
    assert (f'| teacher (1 run) | {det["teacher"]:.2f} | | {seg["teacher"]:.2f} | |'
            in readme)
    titles = {'baseline': 'student alone', 'rdimkd-r': '+ RdimKD-R', 'rdimkd-p': '+ RdimKD-P',
              'rdimkd-a': '+ RdimKD-A', 'fitnet-l2': '+ full L2 (FitNet)',
              'pkd': '+ PKD (det) / + CWD (seg)'}
    assert [a['arm'] for a in det['arms']] == list(titles)
    assert [a['arm'] for a in seg['arms']] == [*list(titles)[:-1], 'cwd']
    for d, s in zip(det['arms'], seg['arms']):
        cells = [f'{d["mean"]:.2f} ± {d["std"]:.2f}',
                 '' if d.get('gap_closed') is None else f'{d["gap_closed"] * 100:.0f}%',
                 f'{s["mean"]:.2f} ± {s["std"]:.2f}',
                 '' if s.get('gap_closed') is None else f'{s["gap_closed"] * 100:.0f}%']
        row = f'| {titles[d["arm"]]} | ' + ' | '.join(cells) + ' |'
        assert row.replace('|  |', '| |') in readme, row
        if d['arm'].startswith('rdimkd'):  # paired differences: baseline, full L2, peer
            cells = [_interval_cell(summary['paired'][ref]) for summary, refs in (
                (d, ('baseline', 'fitnet-l2', 'pkd')), (s, ('baseline', 'fitnet-l2', 'cwd')))
                for ref in refs]
            row = f'| {titles[d["arm"]]} | ' + ' | '.join(cells) + ' |'
            assert row in readme, row
            # and against each task's default (the variant's choice)
            cells = [_interval_cell(d['paired'].get('rdimkd-r')),
                     _interval_cell(s['paired'].get('rdimkd-a'))]
            row = f'| {titles[d["arm"]]} | ' + ' | '.join(cells) + ' |'
            assert row in readme, row
    for summary in (det, seg):
        for run in summary['sweep']:  # one seed: the difference, more: with its interval
            delta = _interval_cell(run['paired']) or f'{run["delta"]:+.2f}'
            ratio = '' if run.get('kd_ratio') is None else f'{run["kd_ratio"]:.3g}x'
            row = (f'| {run["label"]} | {run["mean"]:.2f} ± {run["std"]:.2f} | {delta} | '
                   f'{run["wins"]} | {_interval_cell(run.get("vs_centre"))} | {ratio} |')
            assert row in readme, row
    # The SGD probe's means over its seeds, in percent.
    probe = [json.loads(line) for line in
             (results / 'sgd_probe.jsonl').read_text().splitlines()]
    means = {arm: 100 * sum(r['bbox_mAP'] for r in probe if r['arm'] == arm)
             / sum(r['arm'] == arm for r in probe) for arm in ('baseline', 'default', 'x4', 'x16')}
    assert (f'gave {means["baseline"]:.2f} mAP alone,\n  {means["default"]:.2f} with the default'
            in readme)
    assert f'{means["x4"]:.2f} at x4 and {means["x16"]:.2f} at x16' in readme
    assert (f'({means["x16"] - means["baseline"]:.2f} of '
            f'{means["default"] - means["baseline"]:.2f} mAP)') in readme
    labels = {
        'KD RdimKD-R step / student step': 'KD step (RdimKD-R) / student step',
        'KD RdimKD-R step / (student step + teacher feature forward)':
        'KD step / (student step + teacher forward to the features)',
        'KD step, full teacher / early exit':
        "KD step with the teacher's full forward / with early exit",
        'teacher forward, full / to the distilled features':
        'teacher forward, full / up to the distilled features',
        'RdimKD-R loss alone / KD RdimKD-R step':
        'RdimKD loss alone (connector + projection + L2, fwd + bwd) / KD step',
        'full L2 loss alone / RdimKD-R loss alone': 'full-L2 loss alone / RdimKD loss alone',
        'KD peer step / KD RdimKD-R step': 'KD step with PKD (det) / CWD (seg) / with RdimKD-R',
        'peer loss alone / RdimKD-R loss alone':
        'PKD (det) / CWD (seg) loss alone / RdimKD loss alone',
    }
    for device in ('cpu', 'gpu'):
        cost = {t['task']: t['ratios'] for t in
                json.loads((results / f'cost_{device}.json').read_text())['tasks']}
        # Files measured before the peers' rows were added lack them; every row a file has is
        # quoted.
        assert set(cost['det']) <= set(labels)
        for key in cost['det']:
            row = f'| {labels[key]} | {cost["det"][key]:.2f} | {cost["seg"][key]:.2f} |'
            assert row in readme, (device, row)


def test_readme_quotes_the_ten_seed_segmentation_run():
    """The README's 10-seed segmentation table is ``results/seg_10_seeds/quality.json``'s."""
    import json
    readme = (REPO_ROOT / 'docs/benchmarks/synthetic.md').read_text()
    data = json.loads((REPO_ROOT / 'benchmarks/results/seg_10_seeds/quality.json').read_text())
    assert '--seeds 10' in data['command'] and data['schedules']['seg']['seeds'] == list(range(10))
    (seg, ) = data['summaries']
    for arm in seg['arms']:
        assert arm['seeds'] == list(range(10)), arm['arm']
        paired = arm.get('paired', {})
        cells = [f'{arm["mean"]:.2f} ± {arm["std"]:.2f}', _interval_cell(paired.get('baseline')),
                 arm.get('wins', ''), _interval_cell(paired.get('rdimkd-a')),
                 _interval_cell(paired.get('cwd'))]
        row = f'| {arm["title"]} | ' + ' | '.join(cells) + ' |'
        assert row in readme, row


@pytest.mark.parametrize('task,results', [('det-rtmdet', 'det_rtmdet'),
                                          ('det-yolox', 'det_yolox'),
                                          ('det-frcnn', 'det_frcnn')])
def test_readme_quotes_the_other_detector_families(task, results):
    """The README's RTMDet, YOLOX and Faster R-CNN tables are
    ``results/<family>/quality.json``'s: the baseline, then the default and its sweep, every run
    on seeds 0-4 (with the first step's KD/task ratio where the runs logged it)."""
    import json
    readme = (REPO_ROOT / 'docs/benchmarks/synthetic.md').read_text()
    data = json.loads((REPO_ROOT / f'benchmarks/results/{results}/quality.json').read_text())
    assert f'--tasks {task} ' in data['command'] and '--sweep-seeds 5' in data['command']
    (det, ) = data['summaries']
    baseline = det['arms'][0]
    assert baseline['arm'] == 'baseline' and baseline['seeds'] == list(range(5))
    assert (f'| student (baseline) | {baseline["mean"]:.2f} ± {baseline["std"]:.2f} |'
            in readme)
    assert det['sweep'][0]['label'] == 'RdimKD-R weight x1 (the default)'
    for run in det['sweep']:
        assert run['seeds'] == list(range(5)), run['label']
        row = (f'| {run["label"]} | {run["mean"]:.2f} ± {run["std"]:.2f} | '
               f'{_interval_cell(run["paired"])} | {run["wins"]} | '
               f'{_interval_cell(run.get("vs_centre"))} | {run["kd_ratio"]:.3g}x |')
        if run.get('kd_ratio_step1') is not None:
            row += f' {run["kd_ratio_step1"]:.3g}x |'
        assert row in readme, row


def test_readme_quotes_the_committed_demo_results():
    """The README's demo tables are ``results/demo/<task>_results.json`` (written by
    tools/distill_demo.py), rounded: teacher, student alone, student + the default (RdimKD-R
    for detection, RdimKD-A for segmentation)."""
    import json
    import re
    readme = (REPO_ROOT / 'docs/get_started/demo.md').read_text()
    for task, digits, model, method in (('det', 1, 'RetinaNet', 'R'), ('seg', 2, 'PSPNet', 'A')):
        rows = json.loads((REPO_ROOT / 'results' / 'demo' / f'{task}_results.json').read_text())
        assert [r['model'] for r in rows['rows']] == [
            'teacher', 'student (baseline)', f'student + RdimKD-{method}']
        teacher, alone, distilled = (f'{r["metric"]:.{digits}f}' for r in rows['rows'])
        for pattern in (rf'^\| teacher: {model} .* \| {teacher} \|$',
                        rf'^\| student alone: {model} .* \| {alone} \|$',
                        rf'^\| student \+ RdimKD-{method} \(the shipped default\) \| '
                        rf'{distilled} \|$'):
            assert len(re.findall(pattern, readme, re.M)) == 1, (task, pattern)


def test_readme_quotes_the_loss_scale_at_the_shipped_defaults():
    """The README's "Loss scale" rows at the shipped defaults, at the first step and over the
    first 50, are ``loss_scale.json``'s."""
    import json
    readme = (REPO_ROOT / 'docs/benchmarks/loss_scale_study.md').read_text().splitlines()
    rows = json.loads((REPO_ROOT / 'benchmarks/results/loss_scale.json').read_text())['rows']

    def number(value: float) -> str:
        return f'{value:.2f}' if value < 10 else f'{value:.0f}'

    for label, scope, key in (
            ('at the shipped defaults: all eight pairs', 'mm', 'at_default'),
            ('the same, the five detection pairs', 'mmdet', 'at_default'),
            ('the same, the three segmentation pairs', 'mmseg', 'at_default'),
            ('over the first 50 steps, with each student', 'mmdet', 'start'),
            ('over the first 50 steps: the three segmentation pairs', 'mmseg', 'start')):
        values = [r['start']['mean'] if key == 'start' else r[key]
                  for r in rows if r['teacher'].startswith(scope)]
        line = next(line for line in readme if line.startswith('|') and label in line)
        low, high, band = line.split('|')[2:5]
        assert low.split()[0] == number(min(values)), line
        assert high.split()[0] == number(max(values)), line
        assert band.strip() == number(max(values) / min(values)) + 'x', line


def test_round_robin_timing_rotates_and_pairs_ratios():
    import time

    from benchmarks.cost import _median_ratio, _time_round_robin
    calls = []

    def sleeper(name, seconds):
        def step():
            calls.append(name)
            time.sleep(seconds)
        return step

    steps = {'a': sleeper('a', 0.002), 'b': sleeper('b', 0.006), 'c': sleeper('c', 0.0)}
    times = _time_round_robin(steps, 'cpu', rounds=3, iters=2, warmup=1, progress=lambda m: None)
    assert calls[:3] == ['a', 'b', 'c']  # warm-up
    timed = calls[3:]
    assert [timed[i] for i in (0, 6, 12)] == ['a', 'b', 'c']  # each round starts one later
    assert all(len(v) == 3 for v in times.values())
    assert 1.8 < _median_ratio(times, 'b', 'a') < 4.0


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


def test_readme_quotes_rdimkd_a_segmentation_sweep():
    """The README's RdimKD-A sweep rows are ``seg_a_sweep/quality.json``'s (a changed digit
    fails)."""
    import json
    readme = (REPO_ROOT / 'docs/benchmarks/synthetic.md').read_text()
    data = json.loads((REPO_ROOT / 'benchmarks/results/seg_a_sweep/quality.json').read_text())
    sweep = [s for s in data['summaries'][0]['sweep'] if s['arm'] == 'rdimkd-a']
    assert [s['label'] for s in sweep] == ['RdimKD-A weight x1 (the default)'] + [
        f'RdimKD-A weight x{f:g}' for f in (0.25, 0.5, 2, 4)]

    def interval(d):
        return f'{d["mean"]:+.2f} [{d["low"]:+.2f}, {d["high"]:+.2f}]'

    for s in sweep:
        factor = s['label'].split(' x')[1].split()[0]
        name = 'RdimKD-A weight 2.5 (x1)' if factor == '1' else f'RdimKD-A x{factor}'
        centre = f' {interval(s["vs_centre"])}' if 'vs_centre' in s else ' '
        row = (f'| {name} | {s["mean"]:.2f} ± {s["std"]:.2f} | {interval(s["paired"])} | '
               f'{s["wins"]} |{centre} |')
        assert row in readme, row
