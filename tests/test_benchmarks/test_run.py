"""benchmarks/run.py: the command line, refused before any work when its counts do not fit."""
import sys

import pytest

from helpers.paths import REPO_ROOT
from helpers.tools import run_cases

sys.path.insert(0, str(REPO_ROOT))
from benchmarks.quality import plan_runs  # noqa: E402
from benchmarks.tasks import TASKS  # noqa: E402

REFUSED = [
    (['--sweep-seeds', '0'], '--sweep-seeds 0: the full det schedule has 5 seed(s); give 1 to 5 '
     '(--no-sweep skips the sweep)'),
    (['--quick', '--sweep-seeds', '2'], 'the quick det schedule has 1 seed(s); give 1 to 1'),
    (['--seeds', '2', '--sweep-seeds', '3'], 'the full det schedule has 2 seed(s); give 1 to 2'),
    (['--seeds', '0'], '--seeds 0: give at least 1'),
    (['--tasks', 'det-rtmdet', '--parts', 'cost'], 'the det-rtmdet task has no rdimkd-p, '
     'rdimkd-a, fitnet-l2 arm; give --parts quality for det-rtmdet'),
]


@pytest.fixture(scope='module')
def refusals(tmp_path_factory) -> dict:
    """Each command line of ``REFUSED``, run by benchmarks/run.py in one process (one start and
    one set of imports for all), each with its own empty results and work folders."""
    root = tmp_path_factory.mktemp('refused')
    cases = []
    for i, (argv, _) in enumerate(REFUSED):
        (root / str(i)).mkdir()
        cases.append(dict(name=str(i), tool='benchmarks/run.py', args=[
            '--tasks', 'det', '--parts', 'quality', '--results-dir', root / str(i),
            '--work-root', root / str(i) / 'work', *argv]))
    return dict(outcomes=run_cases(cases), root=root)


@pytest.mark.parametrize('case', range(len(REFUSED)), ids=[m for _, m in REFUSED])
def test_seed_counts_out_of_range_are_refused_before_any_work(case, refusals):
    outcome, message = refusals['outcomes'][str(case)], REFUSED[case][1]
    # SystemExit with a message: Python prints it on stderr and exits with status 1.
    assert (outcome['error'] or '').startswith('SystemExit: '), outcome
    assert message in outcome['error'], outcome
    assert list((refusals['root'] / str(case)).iterdir()) == []  # nothing trained or written


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
