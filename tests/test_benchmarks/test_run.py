"""benchmarks/run.py: the command line, refused before any work when its counts do not fit."""
import sys

import pytest

from helpers.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))
from benchmarks.quality import plan_runs  # noqa: E402
from benchmarks.tasks import TASKS  # noqa: E402


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
