"""Gathering a real-data suite with a retrained baseline (``--retrain-baseline``): the paired
per-seed differences and their 95 % t-intervals in the JSON and the markdown, through
``benchmarks/run.py --report-only`` over finished runs (their ``result.json``)."""
import json
import subprocess
import sys

import pytest
from scipy import stats

from benchmarks.real_run import parse_args, plan
from benchmarks.suites import SUITES
from helpers.paths import REPO_ROOT

METRICS = {('teacher', None): 79.0, ('baseline', 0): 70.0, ('baseline', 1): 71.0,
           ('rdimkd-a', 0): 71.0, ('rdimkd-a', 1): 72.5}  # CWD left unfinished


def test_retrained_baseline_gives_paired_intervals(tmp_path):
    argv = ['--pairs', 'pspnet_r101-r18', '--retrain-baseline', '--seeds', '2',
            '--work-root', str(tmp_path / 'work'), '--results-dir', str(tmp_path / 'results')]
    for step in plan(SUITES['cityscapes'], parse_args(argv, 'cityscapes')):
        if (step.arm, step.seed) in METRICS:  # what execute() writes after a finished job
            (tmp_path / step.work_dir).mkdir(parents=True)
            (tmp_path / step.work_dir / 'result.json').write_text(json.dumps(dict(
                command=step.shell, metric=METRICS[step.arm, step.seed])))
    result = subprocess.run([sys.executable, 'benchmarks/run.py', '--suite', 'cityscapes',
                             *argv, '--report-only'], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    pair, = json.loads((tmp_path / 'results' / 'cityscapes.json').read_text())['pairs']
    assert pair['baseline']['source'] == 'retrained' and pair['reference'] == 70.5
    assert pair['teacher']['measured'] == 79.0
    arms = {a['arm']: a for a in pair['arms']}
    default = arms['rdimkd-a']
    assert default['mean'] == 71.75 and default['delta'] == pytest.approx(1.25)
    half = stats.t.ppf(0.975, 1) * (0.5 / 2 ** 0.5) / 2 ** 0.5  # differences 1.0, 1.5
    assert default['paired']['mean'] == pytest.approx(1.25)
    assert default['paired']['low'] == pytest.approx(1.25 - half)
    assert default['paired']['high'] == pytest.approx(1.25 + half)
    assert arms['cwd']['mean'] is None and arms['cwd']['paired'] is None
    row = next(line for line in (tmp_path / 'results' / 'cityscapes.md').read_text()
               .splitlines() if 'RdimKD-A (default)' in line)
    assert f'| +1.25 [{1.25 - half:+.2f}, {1.25 + half:+.2f}] |' in row
