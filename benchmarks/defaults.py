"""Measure the defaults of the normalised RdimKD loss: loss weight, distilled levels and k.

    python benchmarks/defaults.py            # 3 seeds + single-seed sweeps (about 35 min)
    python benchmarks/defaults.py --quick    # smoke check of the same code

On the quality benchmark's tasks (same data, teachers, student schedule and baselines, see
``benchmarks/tasks.py``), RdimKD-R with ``normalize='teacher'``:
- the candidate default on every seed, beside the student baseline: detection distils every
  FPN level (P3-P7), segmentation the PSP head's bottleneck; k = C_t / 4; loss weight 1;
- a single-seed sweep of the weight (1/4, 1/2, 2 and 4 times), of k (C_t / 8 and C_t / 2) and,
  for detection, of the levels (P3-P5 only).
Every run is an ordinary ``tools/train.py`` run of ``benchmarks/configs/<task>/rdimkd-r.py``
with the options printed in the results. Writes ``benchmarks/results/defaults.{json,md}``.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.quality import QualityBenchmark, Run, collect, plan_runs  # noqa: E402
from benchmarks.run import machine, make_data  # noqa: E402
from benchmarks.tasks import TASKS, Task  # noqa: E402

LOSS = 'model.distill.0.loss'
DEFAULT_WEIGHT = 1.0
DEFAULT_K = 0.25  # of the teacher's channels
ALL_LEVELS = {'det': 'neck', 'seg': 'decode_head.bottleneck'}


def default_options(task: Task, weight: float = DEFAULT_WEIGHT, k: float = DEFAULT_K,
                    point: str = None) -> List[str]:
    point = point or ALL_LEVELS[task.name]
    return [f'model.distill.0.student={point}', f'model.distill.0.teacher={point}',
            f'{LOSS}.normalize=teacher', f'{LOSS}.loss_weight={weight:g}',
            f'{LOSS}.projection.k={k:g}']


def plan(task: Task, mode: str, work_root: Path) -> List[Run]:
    """The teacher and baselines of the quality benchmark (reused when present), the default
    on every seed and the sweeps."""
    schedule = task.schedules[mode]
    reused = [r for r in plan_runs(task, schedule, work_root) if r.arm in ('teacher', 'baseline')]
    template = next(r for r in plan_runs(task, schedule, work_root)
                    if r.arm == 'rdimkd-r' and r.group == 'main')
    common = [o for o in template.options if not o.startswith('randomness.seed')]
    root = work_root / task.name / 'defaults'

    def run(label: str, seed: int, options: List[str], name: str) -> Run:
        return Run(task, 'rdimkd-r', 'defaults', label, seed, root / f'{name}_seed{seed}',
                   common + options + [f'randomness.seed={seed}'])

    runs = [run('default', seed, default_options(task), 'default') for seed in schedule.seeds]
    seed = schedule.seeds[0]
    for factor in (0.25, 0.5, 2, 4):
        runs.append(run(f'weight x{factor:g}', seed,
                        default_options(task, weight=DEFAULT_WEIGHT * factor), f'w{factor:g}'))
    for k in (0.125, 0.5):
        runs.append(run(f'k = C_t x {k:g}', seed, default_options(task, k=k), f'k{k:g}'))
    if task.name == 'det':
        runs.append(run('P3-P5 only', seed, default_options(task, point='neck[0:3]'), 'p3p5'))
    return reused + runs


def summarise(rows: List[dict], task: Task) -> dict:
    """Means, stds and the checks the issue asks for, from the JSON rows of one task (metrics
    already in the task's reporting scale)."""
    rows = [r for r in rows if r['task'] == task.name]

    def values(label: str) -> Dict[int, float]:
        return {r['seed']: r['metric'] for r in rows if r['label'] == label}

    baseline = values('student (baseline)')
    default = values('default')
    common = sorted(set(baseline) & set(default))
    b_std = statistics.stdev(baseline.values()) if len(baseline) > 1 else 0.0
    d_std = statistics.stdev(default.values()) if len(default) > 1 else 0.0
    seed0 = min(default)
    sweep = {r['label']: r['metric'] for r in rows
             if r['group'] == 'defaults' and r['label'] != 'default'}
    weights = {label: value for label, value in sweep.items() if label.startswith('weight')}
    b_mean = statistics.mean(baseline.values())
    weights_measured = len(weights) == 4  # x1/4, x1/2, x2, x4 beside the default
    weights['weight x1'] = default[seed0]
    return dict(
        task=task.name, metric=task.metric_name,
        teacher=next(r['metric'] for r in rows if r['arm'] == 'teacher'),
        baseline=dict(mean=b_mean, std=b_std, seeds=baseline),
        default=dict(mean=statistics.mean(default.values()), std=d_std, seeds=default),
        # None: not measured (runs missing).
        default_beats_baseline_on_every_seed=(all(default[s] > baseline[s] for s in common)
                                              if len(common) == len(baseline) else None),
        sweep=sweep, sweep_seed=seed0,
        no_weight_below_baseline=(all(v > b_mean for v in weights.values())
                                  if weights_measured else None),
        default_within_one_std_of_best_weight=(
            max(weights.values()) - default[seed0] <= max(d_std, b_std)
            if weights_measured else None))


def verdict(value) -> str:
    return 'not measured (runs missing)' if value is None else ('yes' if value else 'no')


def markdown(data: dict) -> str:
    lines = [f'Written by `{data["command"]}` on {data["date"]} ({data["machine"]["cpu"]}, '
             f'{data["machine"]["cpu_count"]} cores). Every number comes from `defaults.json` '
             'next to this file.\n']
    if data.get('missing'):
        lines.append('**Partial:** these planned runs had not finished: '
                     + '; '.join(data['missing']) + '.\n')
    for s in data['summaries']:
        task = TASKS[s['task']]
        lines += [f'### {task.title}\n', f'{s["metric"]}, teacher {s["teacher"]:.2f}.\n',
                  '| run | seeds | ' + s['metric'] + ' |', '|---|---|---|',
                  f'| student alone | {len(s["baseline"]["seeds"])} | '
                  f'{s["baseline"]["mean"]:.2f} ± {s["baseline"]["std"]:.2f} |',
                  f'| + RdimKD-R, default (normalised, weight 1, k = C_t/4, '
                  f'{ALL_LEVELS[s["task"]]}) | {len(s["default"]["seeds"])} | '
                  f'{s["default"]["mean"]:.2f} ± {s["default"]["std"]:.2f} |']
        lines += [f'| + RdimKD-R, {label} | seed {s["sweep_seed"]} | {value:.2f} |'
                  for label, value in s['sweep'].items()]
        lines += ['', f'- default beats the baseline on every seed: '
                  f'{verdict(s["default_beats_baseline_on_every_seed"])} '
                  f'(per seed: default {fmt(s["default"]["seeds"])}, baseline '
                  f'{fmt(s["baseline"]["seeds"])})',
                  f'- no swept weight below the baseline mean: '
                  f'{verdict(s["no_weight_below_baseline"])}',
                  f'- default within one seed-std of the best weight: '
                  f'{verdict(s["default_within_one_std_of_best_weight"])}', '']
    return '\n'.join(lines)


def finished(runs: List[Run]) -> tuple:
    """The runs whose ``result.json`` matches their planned command, and the labels of the
    others (``--collect``)."""
    teachers = {}
    for run in runs:
        if run.arm == 'teacher' and (run.work_dir / 'result.json').is_file():
            teachers[run.task.name] = json.loads(
                (run.work_dir / 'result.json').read_text()).get('checkpoint')
    done, missing = [], []
    for run in runs:
        path = run.work_dir / 'result.json'
        result = json.loads(path.read_text()) if path.is_file() else None
        checkpoint = teachers.get(run.task.name)
        expected = run.command(Path(checkpoint) if checkpoint else None)
        if result is not None and result.get('command') == expected:
            run.result = result
            done.append(run)
        else:
            missing.append(f'{run.task.name} {run.label} seed {run.seed}')
    return done, missing


def fmt(values: Dict[int, float]) -> str:
    return ', '.join(f'{v:.2f}' for _, v in sorted(values.items(), key=lambda kv: int(kv[0])))


def main() -> None:
    parser = argparse.ArgumentParser(description='Measure the normalised loss defaults')
    parser.add_argument('--quick', action='store_true', help='smoke check, tiny schedules')
    parser.add_argument('--tasks', nargs='+', choices=sorted(TASKS), default=['det', 'seg'])
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--work-root', default='benchmarks/work')
    parser.add_argument('--collect', action='store_true',
                        help='train nothing: summarise the runs finished so far (an '
                        'interrupted study), listing the missing ones')
    args = parser.parse_args()
    mode = 'quick' if args.quick else 'full'
    results = REPO_ROOT / 'benchmarks' / 'results' / ('quick' if args.quick else '')
    if args.quick:  # keep the full run's finished runs
        args.work_root = f'{args.work_root}/quick'
    results.mkdir(parents=True, exist_ok=True)
    command = 'python benchmarks/defaults.py' + (' --quick' if args.quick else '')
    start = time.time()
    make_data(args.tasks)
    runs = [r for name in args.tasks for r in plan(TASKS[name], mode, REPO_ROOT / args.work_root)]
    order = {'teacher': 0, 'baseline': 1}
    runs.sort(key=lambda r: (order.get(r.arm, 2), r.seed))
    missing = []
    if args.collect:
        runs, missing = finished(runs)
        command += ' --collect'
    else:
        print(f'Defaults: {len(runs)} training runs, {args.jobs} at a time', flush=True)
        runs = QualityBenchmark(runs, args.jobs).run()
    rows = collect(runs)
    data = dict(command=command, mode=mode, date=time.strftime('%Y-%m-%d'), machine=machine(),
                wall_seconds=time.time() - start,
                summaries=[summarise(rows, TASKS[name]) for name in args.tasks], runs=rows,
                missing=missing)
    (results / 'defaults.json').write_text(json.dumps(data, indent=2))
    (results / 'defaults.md').write_text(markdown(data))
    print('\n' + markdown(data), flush=True)


if __name__ == '__main__':
    main()
