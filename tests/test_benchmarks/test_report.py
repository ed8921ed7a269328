"""benchmarks/report.py: the summaries and the markdown / plot files of the reports."""
import sys

import pytest

from helpers.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))
from benchmarks import report  # noqa: E402


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
