"""Benchmark: does RdimKD pay off on the synthetic COCO/Cityscapes sets, and what does it cost?

    python benchmarks/run.py            # full run: 5 seeds + sweep, quality + cost
    python benchmarks/run.py --quick    # smoke check: 1 seed, tiny schedules
    python benchmarks/run.py --arms teacher  # only train (or reuse) the teachers
    python benchmarks/run.py --sweep-seeds 5  # RdimKD-R's (and A's) sweep on every seed
    python benchmarks/run.py --suite coco --dry-run  # the real COCO suite's plan (real_run.py)

Quality: teacher, student baseline, student + RdimKD-R/-P/-A, the full-feature L2 mimic and
the peer method (PKD for detection, CWD for segmentation), each trained with tools/train.py on
the same data and schedule, plus a sweep of the loss weights (and, for detection, RdimKD-R on
all five FPN levels; for segmentation, RdimKD-A's weight too) on the first seed;
--sweep-seeds runs RdimKD-R's (and A's) part on more seeds.
Cost: time per iteration and peak memory of each training step.
Writes JSON, markdown and a plot to benchmarks/results/ (quick mode: benchmarks/results/quick/).
Each run's log is under benchmarks/work/; a rerun reuses finished runs.
"""
import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from benchmarks import report  # noqa: E402
from benchmarks.suites import SUITES  # noqa: E402
from benchmarks.tasks import ALL_TASKS, Schedule  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='RdimKD quality and cost benchmark')
    parser.add_argument('--suite', choices=['synthetic', *SUITES], default='synthetic',
                        help='synthetic (this benchmark) or a real-data suite over the shipped '
                        'COCO/Cityscapes configs: see python benchmarks/run.py --suite coco '
                        '--help')
    parser.add_argument('--quick', action='store_true',
                        help='smoke check: one seed and tiny schedules')
    parser.add_argument('--tasks', nargs='+', choices=sorted(ALL_TASKS), default=['det', 'seg'])
    parser.add_argument('--parts', nargs='+', choices=['quality', 'cost'],
                        default=['quality', 'cost'])
    parser.add_argument('--arms', nargs='+',
                        help="only these arms (e.g. 'teacher' to train the teachers first); "
                        'default: all')
    parser.add_argument('--no-sweep', action='store_true',
                        help='quality: only the main arms (every seed), not the sweep')
    parser.add_argument('--sweep-seeds', type=int, default=1,
                        help="quality: run RdimKD-R's (and A's) sweep on this many of the "
                        "seeds (the peers' stays on the first; default: the first only)")
    parser.add_argument('--seeds', type=int,
                        help='quality: train on seeds 0..N-1 instead of the schedule\'s (full: '
                        '5); finished runs of the first seeds are reused. Use a --results-dir '
                        'of its own, to keep the committed results')
    parser.add_argument('--jobs', type=int, default=2,
                        help='training runs at a time, each with cpu_count // jobs threads')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='device of the cost benchmark')
    parser.add_argument('--pytorch-focal-loss', action='store_true',
                        help="cost part: run mmdet's FocalLoss in PyTorch on a GPU, for an mmcv "
                        'built without CUDA ops (noted in the results)')
    parser.add_argument('--work-root', default='benchmarks/work')
    parser.add_argument('--results-dir', help='default: benchmarks/results[/quick]')
    parser.add_argument('--report-only', action='store_true',
                        help='only re-render the markdown and plots from the JSON results')
    return parser.parse_args()


def machine() -> dict:
    cpu = platform.processor()
    try:
        cpu = next(line.split(':', 1)[1].strip()
                   for line in Path('/proc/cpuinfo').read_text().splitlines()
                   if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    info = dict(cpu=cpu, cpu_count=os.cpu_count(), torch=torch.__version__,
                python=platform.python_version(), system=platform.platform())
    if torch.cuda.is_available():
        info['gpu'] = torch.cuda.get_device_name(0)
    return info


def make_data(task_names) -> None:
    from synthetic import generate_cityscapes_segmentation, generate_coco_detection
    for name in task_names:
        task = ALL_TASKS[name]
        root = REPO_ROOT / task.data_root
        if (root / 'done').is_file():
            continue
        print(f'Generating {task.data_root} ({task.data_size})', flush=True)
        generate = generate_coco_detection if task.kind == 'det' else \
            generate_cityscapes_segmentation
        generate(str(root), seed=0, progress=False, **task.data_size)
        (root / 'done').write_text(json.dumps(task.data_size, default=list))


def cost_arms_missing(task) -> list:
    """The KD arms the cost part builds (``benchmarks/cost.py``) that ``task`` has no config
    for."""
    from benchmarks.cost import STEP_ARMS
    return [arm for _, arm, early_exit in STEP_ARMS
            if early_exit is not None and arm not in task.kd_arms]


def schedule_of(name: str, mode: str, args) -> Schedule:
    """The task's schedule for ``mode``, on seeds 0..``args.seeds``-1 when given."""
    schedule = ALL_TASKS[name].schedules[mode]
    if args.seeds is None:
        return schedule
    return dataclasses.replace(schedule, seeds=tuple(range(args.seeds)))


def run_quality(args, mode: str, results: Path, command: str) -> None:
    from benchmarks.quality import QualityBenchmark, collect, plan_runs
    start = time.time()
    runs = []
    for name in args.tasks:
        runs += plan_runs(ALL_TASKS[name], schedule_of(name, mode, args),
                          REPO_ROOT / args.work_root, args.sweep_seeds)
    if args.arms:
        runs = [r for r in runs if r.arm in args.arms or r.arm == 'teacher']
    if args.no_sweep:
        runs = [r for r in runs if r.group != 'sweep']
    # Teachers first, then baselines (no teacher needed), then KD arms seed by seed, sweeps.
    order = {'teacher': 0, 'baseline': 1, 'main': 2, 'sweep': 3}
    runs.sort(key=lambda r: (order['baseline' if r.arm == 'baseline' else r.group], r.seed))
    print(f'Quality: {len(runs)} training runs, {args.jobs} at a time', flush=True)
    rows = collect(QualityBenchmark(runs, args.jobs).run())
    if args.arms:  # a partial run: the finished runs are kept for the full one, no report
        print(f'Finished {len(rows)} runs of the arms {args.arms}; run without --arms for the '
              'report (finished runs are reused)', flush=True)
        return
    summaries = [report.summarise_quality(rows, name) for name in args.tasks]
    data = dict(command=command, mode=mode, date=time.strftime('%Y-%m-%d'), machine=machine(),
                wall_seconds=time.time() - start,
                schedules={name: vars(schedule_of(name, mode, args)) for name in args.tasks},
                summaries=summaries, runs=rows)
    (results / 'quality.json').write_text(json.dumps(data, indent=2))
    report.write_quality_report(data, results)
    print('\n' + (results / 'quality.md').read_text(), flush=True)


def run_cost(args, mode: str, results: Path, command: str) -> None:
    from benchmarks.cost import (CPU_MEMORY_KIND, cpu_peak_memory, measure_task,
                                 use_pytorch_focal_loss)
    quick = mode == 'quick'
    notes = [use_pytorch_focal_loss()] if args.pytorch_focal_loss else []
    work_dir = REPO_ROOT / args.work_root / 'cost'
    costs = []
    for name in args.tasks:
        torch.set_num_threads(os.cpu_count() or 1)
        cost = measure_task(ALL_TASKS[name], args.device, work_dir, rounds=2 if quick else 10,
                            iters=1 if quick else 3, warmup=1 if quick else 5,
                            fit_batches=ALL_TASKS[name].schedules[mode].fit_batches)
        if not args.device.startswith('cuda'):
            cost['memory'] = cpu_peak_memory(ALL_TASKS[name], work_dir, cost['fit_batches'],
                                             args.jobs)
            cost['memory_kind'] = CPU_MEMORY_KIND
        cost['device'] = args.device
        costs.append(cost)
    device = 'gpu' if args.device.startswith('cuda') else 'cpu'
    data = dict(command=command, mode=mode, date=time.strftime('%Y-%m-%d'), machine=machine(),
                threads=torch.get_num_threads(), tasks=costs)
    if notes:
        data['notes'] = notes
    (results / f'cost_{device}.json').write_text(json.dumps(data, indent=2))
    report.write_cost_report(data, results / f'cost_{device}.md')
    print('\n' + (results / f'cost_{device}.md').read_text(), flush=True)


def rewrite_reports(results: Path) -> None:
    """Re-render the markdown and plots from the JSON files in ``results``; the quality
    summaries are recomputed from the runs' rows (and written back), so a change of the
    summary code reaches the report without retraining."""
    path = results / 'quality.json'
    if path.is_file():
        data = json.loads(path.read_text())
        data['summaries'] = [report.summarise_quality(data['runs'], s['task'])
                             for s in data['summaries']]
        path.write_text(json.dumps(data, indent=2))
        report.write_quality_report(data, results)
    for path in sorted(results.glob('cost_*.json')):
        report.write_cost_report(json.loads(path.read_text()), path.with_suffix('.md'))
    print(f'Rewrote the reports in {results}')


def main() -> None:
    suite = argparse.ArgumentParser(add_help=False)
    suite.add_argument('--suite', choices=['synthetic', *SUITES], default='synthetic')
    chosen, rest = suite.parse_known_args()
    if chosen.suite != 'synthetic':
        from benchmarks.real_run import main as run_suite
        run_suite(rest, chosen.suite)
        return
    args = parse_args()
    mode = 'quick' if args.quick else 'full'
    results = REPO_ROOT / (args.results_dir or
                           ('benchmarks/results/quick' if args.quick else 'benchmarks/results'))
    results.mkdir(parents=True, exist_ok=True)
    if args.quick:  # keep the full run's finished runs
        args.work_root = f'{args.work_root}/quick'
    if args.report_only:
        rewrite_reports(results)
        return
    if args.seeds is not None and args.seeds < 1:
        raise SystemExit(f'--seeds {args.seeds}: give at least 1')
    for name in args.tasks:  # before any data or training
        base = ALL_TASKS[name].work_of
        if base in args.tasks:
            raise SystemExit(f'--tasks {name} {base}: the study {name} shares the work dirs of '
                             f'{base}; run them in separate invocations')
        missing = cost_arms_missing(ALL_TASKS[name]) if 'cost' in args.parts else []
        if missing:
            raise SystemExit(f'--parts cost times every RdimKD variant, but the {name} task has '
                             f'no {", ".join(missing)} arm; give --parts quality for {name}')
        seeds = len(schedule_of(name, mode, args).seeds)
        if not 1 <= args.sweep_seeds <= seeds:
            raise SystemExit(f'--sweep-seeds {args.sweep_seeds}: the {mode} {name} schedule has '
                             f'{seeds} seed(s); give 1 to {seeds} (--no-sweep skips the sweep)')
    command = 'python ' + ' '.join(['benchmarks/run.py', *sys.argv[1:]])
    start = time.time()
    make_data(args.tasks)
    if 'quality' in args.parts:
        run_quality(args, mode, results, command)
    if 'cost' in args.parts and not args.arms:
        run_cost(args, mode, results, command)
    shown = results.relative_to(REPO_ROOT) if results.is_relative_to(REPO_ROOT) else results
    print(f'Benchmark done in {(time.time() - start) / 60:.1f} min; results in {shown}/',
          flush=True)


if __name__ == '__main__':
    main()
