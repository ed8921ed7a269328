"""Which first-step KD/task loss ratios train well, per family: could any weight rule meet a
10x band?

#11 asks that, at the default weight, the first KD/task loss ratio of diverse pairs lie within
10x, and that in the benchmark the default beat the student alone on every seed and sit within
one seed-std of the best weight. Whatever rule sets the weight (a constant on the standardised
loss, a factor from the first task loss, anything per pair), at the first step it only chooses
where on each family's weight sweep the student trains. This reads the committed sweeps of the
benchmark's five families (RetinaNet, RTMDet, YOLOX, Faster R-CNN, PSPNet), puts each swept
weight at its first-step ratio, marks the weights that meet the quality criteria, and finds
the narrowest band that holds one such weight of every family::

    python benchmarks/studies/loss_scale/first_step_band.py

The first step's losses come before any update, so there the KD loss is proportional to the
weight and the task loss does not depend on it: a run at ``f`` times the default weight starts
at ``f`` times the default's ratio for the same seed. Runs whose log holds the distiller's
first-step reading are read as measured. The older RetinaNet and RTMDet runs did not log it;
for those families the first ``KDScaleMonitor.kd_check_iters`` steps of the default arm are
rerun per seed (the benchmark's command, trained teacher included, stopped at the distiller's
reading, into ``benchmarks/work/first_steps/``)::

    python benchmarks/run.py --tasks det det-rtmdet --parts quality --arms teacher  # if needed

``--first-steps-from benchmarks/studies/loss_scale/results/first_step_band.json`` takes them
from the committed output instead (e.g. to add rows of ``weight_probe.sh`` without retraining
those teachers).

Writes ``benchmarks/studies/loss_scale/results/first_step_band.{json,md}``.
"""
import argparse
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

if __package__ in (None, ''):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from benchmarks.quality import REPO_ROOT, plan_runs, start_reading  # noqa: E402
from benchmarks.tasks import TASKS, method_name  # noqa: E402
from rdimkd_mm.models.distillers import KDScaleMonitor  # noqa: E402

#: The benchmark's committed results, which this study reads.
BENCHMARK_RESULTS = REPO_ROOT / 'benchmarks/results'
#: This study's results: the probe's rows it reads and the report it writes.
RESULTS = Path(__file__).resolve().parent / 'results'
#: Each family's committed quality results (its default arm's sweep on seeds 0-4).
FAMILIES = {'det': BENCHMARK_RESULTS, 'det-rtmdet': BENCHMARK_RESULTS / 'det_rtmdet',
            'det-yolox': BENCHMARK_RESULTS / 'det_yolox',
            'det-frcnn': BENCHMARK_RESULTS / 'det_frcnn', 'seg': BENCHMARK_RESULTS / 'seg_a_sweep'}
#: Weights beyond the sweep, from ``weight_probe.sh`` (same teacher, seeds, schedule).
PROBE = RESULTS / 'weight_probe.jsonl'
BAND = 10.0  # the band #11 asks for


def weight_runs(family: str, rows: List[dict], probe: Sequence[dict] = ()) -> Dict[float, dict]:
    """The family's default arm at every weight it was trained with: factor of the default's
    weight -> {seed: (metric, first-step ratio or None)}; the baseline under factor 0."""
    task = TASKS[family]
    arm, pattern = task.default_arm, re.compile(r' weight x([0-9.e+-]+)')
    runs: Dict[float, dict] = {}
    for row in rows:
        match = pattern.search(row['label'])
        if row['task'] != family:
            continue
        if row['arm'] == 'baseline' and row['group'] == 'main':
            factor = 0.0
        elif row['arm'] == arm and row['group'] == 'main':
            factor = 1.0
        elif row['arm'] == arm and row['group'] == 'sweep' and match \
                and row['label'].startswith(method_name(arm)):
            factor = float(match[1])
        else:
            continue
        runs.setdefault(factor, {})[row['seed']] = (row['metric'], row.get('kd_ratio_step1'))
    for row in probe:
        factor = row['loss_weight'] / task.default_weight
        if row['task'] == family and factor != 1.0:  # x1 is the probe's reproducibility check
            runs.setdefault(factor, {})[row['seed']] = (100 * row['bbox_mAP'],
                                                        row['kd_ratio_step1'])
    return runs


def rerun_first_steps(family: str, jobs: int = 2) -> Dict[int, float]:
    """The default arm's first-step ratio per seed, from its first ``kd_check_iters`` steps
    rerun with the benchmark's command (no validation, no checkpoint)."""
    task = TASKS[family]
    teacher = REPO_ROOT / 'benchmarks/work' / family / 'teacher/result.json'
    if not teacher.is_file():
        raise SystemExit(f'No trained {family} teacher: run python benchmarks/run.py --tasks '
                         f'{family} --parts quality --arms teacher first')
    checkpoint = json.loads(teacher.read_text())['checkpoint']
    root = REPO_ROOT / 'benchmarks/work/first_steps' / family
    runs = [r for r in plan_runs(task, task.schedules['full'], root)
            if r.group == 'main' and r.arm == task.default_arm]
    stop = [f'train_cfg.max_iters={KDScaleMonitor.kd_check_iters}',
            'train_cfg.val_begin=1000000', 'default_hooks.checkpoint.save_last=False']

    def first_step(run) -> float:
        run.options = [o for o in run.options if not o.startswith('train_cfg.max_iters=')] + stop
        run.work_dir.mkdir(parents=True, exist_ok=True)
        with open(run.work_dir / 'run.log', 'w') as log:
            subprocess.run([sys.executable, *run.command(Path(checkpoint))], cwd=REPO_ROOT,
                           stdout=log, stderr=subprocess.STDOUT, check=True,
                           env={**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'})
        ratio = start_reading(run)['kd_ratio_step1']
        if ratio is None:
            raise RuntimeError(f'No first-step reading in {run.work_dir}/run.log')
        return ratio

    with ThreadPoolExecutor(jobs) as pool:
        return dict(zip((r.seed for r in runs), pool.map(first_step, runs)))


def summarise(runs: Dict[float, dict], first_steps: Dict[int, float]) -> List[dict]:
    """One entry per weight factor: the seeds' metrics, first-step ratios (read, else ``factor``
    times the default's for that seed), wins over the baseline, and whether it meets #11's
    quality criteria: it beats the baseline on every seed, and its mean lies within one
    seed-std (its own) of the best weight's mean. Weights trained on fewer seeds than the
    baseline are left out."""
    baseline = {seed: metric for seed, (metric, _) in runs[0.0].items()}
    entries = []
    for factor in sorted(f for f in runs if f > 0 and set(runs[f]) >= set(baseline)):
        seeds = sorted(runs[factor])
        values = [runs[factor][s][0] for s in seeds]
        ratios = [runs[factor][s][1] if runs[factor][s][1] is not None
                  else factor * first_steps[s] for s in seeds]
        entries.append(dict(
            factor=factor, seeds=seeds, values=values, mean=statistics.mean(values),
            std=statistics.stdev(values), wins=sum(v > baseline[s] for s, v in zip(seeds, values)),
            ratio_step1=statistics.mean(ratios),
            ratio_read=all(runs[factor][s][1] is not None for s in seeds)))
    best = max(e['mean'] for e in entries)
    for e in entries:
        e['beats_baseline'] = e['wins'] == len(e['seeds'])
        e['good'] = e['beats_baseline'] and best - e['mean'] <= e['std']
    return entries


def narrowest_band(families: Dict[str, List[dict]], key: str) -> Optional[dict]:
    """The narrowest max/min first-step ratio over one weight per family among those with
    ``key`` true, and the weights that reach it; None if a family has none."""
    choices = [[e for e in entries if e[key]] for entries in families.values()]
    if not all(choices):
        return None
    best = min(itertools.product(*choices),
               key=lambda pick: max(e['ratio_step1'] for e in pick)
               / min(e['ratio_step1'] for e in pick))
    ratios = [e['ratio_step1'] for e in best]
    return dict(band=max(ratios) / min(ratios),
                weights={name: e['factor'] for name, e in zip(families, best)})


def linearity(runs: Dict[float, dict]) -> Optional[float]:
    """Largest relative gap between a read first-step ratio and ``factor`` times the default's
    for the same seed, over the runs that logged both: the check of the rule above."""
    gaps = [abs(r / (f * runs[1.0][s][1]) - 1) for f, seeds in runs.items() if f not in (0, 1)
            for s, (_, r) in seeds.items()
            if r is not None and runs[1.0].get(s, (0, None))[1] is not None]
    return max(gaps) if gaps else None


def analyse(quality: Dict[str, List[dict]], probe: Sequence[dict],
            first_steps: Dict[str, Dict[int, float]]) -> dict:
    """Everything the report shows, from the runs' rows per family, the probe's rows and the
    default arm's first-step ratio per family and seed."""
    families, checks = {}, {}
    for family, rows in quality.items():
        runs = weight_runs(family, rows, probe)
        families[family] = summarise(runs, first_steps[family])
        checks[family] = linearity(runs)
    detection = {k: v for k, v in families.items() if TASKS[k].kind == 'det'}
    defaults = [next(e['ratio_step1'] for e in entries if e['factor'] == 1)
                for entries in families.values()]
    return dict(
        families=families, linearity=checks, first_steps=first_steps,
        narrowest={scope: {key: narrowest_band(fams, key)
                           for key in ('good', 'beats_baseline')}
                   for scope, fams in (('all', families), ('detection', detection))},
        at_default=max(defaults) / min(defaults))


def _ratio(value: float) -> str:
    return f'{value:.3g}' if value < 100 else f'{value:.0f}'


def markdown(result: dict, command: str) -> str:
    """The report: per family its weights' first-step ratios and quality, then the bands."""
    lines = [f'Written by `{command}` on {result["date"]} from the committed quality results '
             f'({", ".join(str(p.relative_to(REPO_ROOT)) for p in FAMILIES.values())}) and '
             f'`{PROBE.relative_to(REPO_ROOT)}`.', '',
             'Each swept weight of each family\'s default at its KD/task loss ratio at the first '
             'training step (mean over the seeds). *good*: beats the student alone on every '
             'seed and lies within one seed-std (its own) of the best weight\'s mean, what #11 '
             'asks of a default. A ratio marked * is `factor` times the default\'s first-step '
             'ratio for the same seed (runs that did not log it; the rule holds to within '
             + ', '.join(f'{TASKS[k].name} {100 * v:.1f} %' for k, v in result['linearity'].items()
                         if v is not None) + ' where both were logged).', '']
    for family, entries in result['families'].items():
        lines += [f'**{TASKS[family].title}** ({method_name(TASKS[family].default_arm)}, '
                  f'default weight {TASKS[family].default_weight:g})', '',
                  '| weight | KD/task at step 1 | metric, mean ± std | beats the baseline '
                  '| good |', '|---|---|---|---|---|']
        for e in entries:
            lines.append(f'| x{e["factor"]:g}{" (the default)" if e["factor"] == 1 else ""} '
                         f'| {_ratio(e["ratio_step1"])}x{"" if e["ratio_read"] else "*"} '
                         f'| {e["mean"]:.2f} ± {e["std"]:.2f} | {e["wins"]}/{len(e["seeds"])} '
                         f'| {"yes" if e["good"] else ""} |')
        lines.append('')
    lines += ['Narrowest first-step band that holds one weight of every family (highest / '
              f'lowest ratio; #11 asks for {BAND:g}x). The defaults themselves span '
              f'{_ratio(result["at_default"])}x.', '',
              '| families | weights that are good | weights that beat the baseline on every '
              'seed |', '|---|---|---|']
    for scope, bands in result['narrowest'].items():
        cells = []
        for key in ('good', 'beats_baseline'):
            band = bands[key]
            cells.append('none' if band is None else f'{_ratio(band["band"])}x (' + ', '.join(
                f'{TASKS[k].name} x{f:g}' for k, f in band['weights'].items()) + ')')
        lines.append(f'| {scope} | {cells[0]} | {cells[1]} |')
    return '\n'.join(lines) + '\n'


def read_runs() -> Tuple[Dict[str, List[dict]], List[dict]]:
    """The committed quality runs per family and the probe's rows."""
    quality = {family: json.loads((path / 'quality.json').read_text())['runs']
               for family, path in FAMILIES.items()}
    probe = [json.loads(line) for line in PROBE.read_text().splitlines()] \
        if PROBE.is_file() else []
    return quality, probe


def read_first_steps(path: Path) -> Dict[str, Dict[int, float]]:
    """The default arms' first-step ratios per family and seed stored in an earlier output."""
    return {family: {int(seed): ratio for seed, ratio in seeds.items()}
            for family, seeds in json.loads(path.read_text())['first_steps'].items()}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--first-steps-from', metavar='JSON', type=Path,
        help='take the first-step ratios of the default arms whose runs did not log them from '
        'this earlier output (e.g. the committed '
        'benchmarks/studies/loss_scale/results/first_step_band.json) instead of '
        'rerunning their first steps, which needs those families\' trained teachers')
    args = parser.parse_args()
    if args.first_steps_from is not None and not args.first_steps_from.is_file():
        parser.error(f'--first-steps-from {args.first_steps_from}: no such file; give an earlier '
                     'output of this script, e.g. '
                     'benchmarks/studies/loss_scale/results/first_step_band.json')
    return args


def main() -> None:
    args = parse_args()
    stored = {} if args.first_steps_from is None else read_first_steps(args.first_steps_from)
    quality, probe = read_runs()
    first_steps = {}
    for family, rows in quality.items():
        arm = TASKS[family].default_arm
        read = {r['seed']: r.get('kd_ratio_step1') for r in rows if r['task'] == family
                and r['arm'] == arm and r['group'] == 'main'}
        if None not in read.values():
            first_steps[family] = read
        elif family in stored:
            if set(stored[family]) != set(read):
                raise SystemExit(f'{args.first_steps_from} has the {family} first steps of seeds '
                                 f'{sorted(stored[family])}, the runs seeds {sorted(read)}; '
                                 'rerun without --first-steps-from')
            first_steps[family] = stored[family]
        else:
            first_steps[family] = rerun_first_steps(family)
    result = analyse(quality, probe, first_steps)
    result['date'] = time.strftime('%Y-%m-%d')
    command = 'python benchmarks/studies/loss_scale/first_step_band.py'
    (RESULTS / 'first_step_band.json').write_text(json.dumps(result, indent=2))
    (RESULTS / 'first_step_band.md').write_text(markdown(result, command))
    print((RESULTS / 'first_step_band.md').read_text())


if __name__ == '__main__':
    main()
