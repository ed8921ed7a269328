"""The segmentation recipe study's report: its arms against the benchmark's committed runs.

    python benchmarks/run.py --tasks seg-recipe --parts quality --no-sweep \\
        --arms rdimkd-a-logits cwd-bottleneck      # train the study's arms (seeds 0-4)
    python benchmarks/studies/seg_recipe/report.py  # pair them; write results/quality.*

The study's arms are trained by the benchmark's runner (task ``seg-recipe``, which shares the
``seg`` task's teacher and work dirs). The reference arms (teacher, baseline, the default
RdimKD-A and CWD) are the per-seed results committed in ``benchmarks/results/quality.json``:
the same commands reproduce them bit for bit (the study's README shows the check), so they are
not trained again. Every study arm is paired, seed by seed, with the baseline, the default and
CWD, as the benchmark's report does (95 % t-intervals).
"""
import argparse
import json
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import report  # noqa: E402
from benchmarks.quality import collect, plan_runs  # noqa: E402
from benchmarks.run import machine  # noqa: E402
from benchmarks.tasks import STUDIES  # noqa: E402

TASK = 'seg-recipe'
REFERENCE_ARMS = ('teacher', 'baseline', 'rdimkd-a', 'cwd')
COMMITTED = REPO_ROOT / 'benchmarks/results/quality.json'
RESULTS = REPO_ROOT / 'benchmarks/studies/seg_recipe/results'


def finished_runs(work_root: Path, arms) -> list:
    """The study's planned main runs (and teacher) of ``arms``, seeds 0-4, finished in
    ``work_root`` with the planned command (not, say, a ``--quick`` run's), with their
    results."""
    task = STUDIES[TASK]
    runs = []
    for run in plan_runs(task, task.schedules['full'], work_root):
        path = run.work_dir / 'result.json'
        if run.group == 'sweep' or run.arm not in arms or not path.is_file():
            continue
        result = json.loads(path.read_text())
        if _without_teacher(result['command']) == _without_teacher(run.command(None)):
            run.result, run.reused = result, True
            runs.append(run)
    return runs


def _without_teacher(command: list) -> list:
    """The command without its teacher checkpoint (an absolute path, per checkout)."""
    return [c for c in command if not c.startswith('model.teacher_checkpoint=')]


def study_rows(work_root: Path) -> list:
    """Rows of the study arms' finished runs in ``work_root``."""
    arms = [arm for arm in STUDIES[TASK].arms if arm not in REFERENCE_ARMS]
    return collect(finished_runs(work_root, arms))


def committed_rows(path: Path = COMMITTED) -> list:
    """The reference arms' committed rows (task ``seg``), as rows of the study's task."""
    rows = json.loads(path.read_text())['runs']
    return [dict(r, task=TASK, source=str(path.relative_to(REPO_ROOT))) for r in rows
            if r['task'] == 'seg' and r['arm'] in REFERENCE_ARMS and r['group'] != 'sweep']


def reproduction(work_root: Path, committed: list) -> list:
    """Reference runs trained again in ``work_root`` (the check that the commands reproduce
    the committed values): arm, seed, committed and reproduced metric."""
    stored = {(r['arm'], r['seed']): r['metric'] for r in committed}
    return [dict(arm=r.arm, seed=r.seed, committed=stored.get((r.arm, r.seed)),
                 reproduced=r.result['metric'])
            for r in finished_runs(work_root, REFERENCE_ARMS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-root', default='benchmarks/work')
    parser.add_argument('--results-dir', default=str(RESULTS.relative_to(REPO_ROOT)))
    args = parser.parse_args()
    work_root, results = REPO_ROOT / args.work_root, REPO_ROOT / args.results_dir
    results.mkdir(parents=True, exist_ok=True)
    committed = committed_rows()
    rows = committed + study_rows(work_root)
    summary = report.summarise_quality(rows, TASK)
    data = dict(command='python ' + ' '.join(['benchmarks/studies/seg_recipe/report.py',
                                              *sys.argv[1:]]),
                date=time.strftime('%Y-%m-%d'), machine=machine(),
                schedule=vars(STUDIES[TASK].schedules['full']),
                reproduction=reproduction(work_root, committed), summaries=[summary], runs=rows)
    (results / 'quality.json').write_text(json.dumps(data, indent=2))
    checks = ''.join(f'- {c["arm"]} seed {c["seed"]}: committed {c["committed"]!r}, '
                     f'trained again {c["reproduced"]!r}\n' for c in data['reproduction'])
    header = (f'Written by `{data["command"]}` on {data["date"]} from the study arms\' runs '
              f'({report.machine_line(data["machine"])}) and the reference arms\' committed '
              'runs (teacher, baseline, RdimKD-A, CWD: `benchmarks/results/quality.json`). '
              'Every number comes from `quality.json` next to this file, which holds the '
              'command of every run.\n\n'
              + (f'The reference commands, run again, reproduced:\n\n{checks}\n' if checks
                 else ''))
    report.plot_quality([summary], results / 'quality.png')
    (results / 'quality.md').write_text(
        header + report.quality_markdown(summary) + '\n![quality](quality.png)\n')
    print((results / 'quality.md').read_text())


if __name__ == '__main__':
    main()
