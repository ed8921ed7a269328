"""Summaries, markdown tables and plots of the benchmark's JSON results."""
import inspect
import math
import statistics
from pathlib import Path
from typing import Dict, List, Optional

import matplotlib
import scipy.stats

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from rdimkd_mm.models.losses import RdimKDLoss  # noqa: E402
from .tasks import ALL_TASKS, ARM_TITLES, method_name  # noqa: E402

_DEFAULT_NORMALIZE = inspect.signature(RdimKDLoss).parameters['normalize'].default

PEER_REFERENCE = 'fitnet-l2'  # RdimKD arms are also compared with full L2 and the peers


def paired_difference(values: Dict[int, float], reference: Dict[int, float],
                      level: float = 0.95) -> Optional[dict]:
    """Mean of the per-seed differences ``values[s] - reference[s]`` over the seeds both have,
    with its Student-t confidence interval (None for fewer than 2 shared seeds)."""
    seeds = sorted(set(values) & set(reference))
    if len(seeds) < 2:
        return None
    diffs = [values[s] - reference[s] for s in seeds]
    mean = statistics.mean(diffs)
    half = (scipy.stats.t.ppf(0.5 + level / 2, len(diffs) - 1) * statistics.stdev(diffs)
            / math.sqrt(len(diffs)))
    return dict(mean=mean, low=mean - half, high=mean + half, seeds=len(diffs))


def summarise_quality(rows: List[dict], task: str) -> dict:
    """Mean, spread and gap closed of every main arm of ``task``, and paired differences.

    The gap closed is ``(arm - baseline) / (teacher - baseline)`` of the seed means; ``wins``
    counts the seeds where the arm beats the baseline trained with the same seed. ``paired``
    holds, per reference arm (the baseline for every arm; the task's default, full L2 and the
    peers for the RdimKD arms), the mean per-seed difference with its 95 % t-interval.
    """
    rows = [r for r in rows if r['task'] == task]
    teacher = [r['metric'] for r in rows if r['arm'] == 'teacher']
    main = [r for r in rows if r['group'] == 'main']
    baseline = {r['seed']: r['metric'] for r in main if r['arm'] == 'baseline'}
    base_mean = statistics.mean(baseline.values()) if baseline else None
    teacher_metric = teacher[0] if teacher else None
    per_arm = {arm: {r['seed']: r['metric'] for r in main if r['arm'] == arm}
               for arm in ALL_TASKS[task].arms}
    arms = []
    for arm in ALL_TASKS[task].arms:
        values = per_arm[arm]
        if not values:
            continue
        mean = statistics.mean(values.values())
        std = statistics.stdev(values.values()) if len(values) > 1 else 0.0
        entry = dict(arm=arm, title=ARM_TITLES[arm], seeds=sorted(values),
                     values=[values[s] for s in sorted(values)], mean=mean, std=std)
        if arm != 'baseline' and base_mean is not None:
            entry['delta'] = mean - base_mean
            paired = [values[s] > baseline[s] for s in values if s in baseline]
            entry['wins'] = f'{sum(paired)}/{len(paired)}'
            gap = (teacher_metric - base_mean) if teacher_metric is not None else 0.0
            entry['gap_closed'] = entry['delta'] / gap if gap > 0 else None
            spec = ALL_TASKS[task]
            references = ['baseline'] + (
                list(spec.references) if spec.references else
                [spec.default_arm, PEER_REFERENCE, *spec.peers] if arm.startswith('rdimkd')
                else [])
            references = [ref for ref in references if ref != arm]
            entry['paired'] = {ref: paired_difference(values, per_arm[ref])
                               for ref in references if per_arm.get(ref)}
        arms.append(entry)
    first_logged = {r.get('kd_ratio_iter') for r in rows if r.get('kd_ratio') is not None}
    return dict(task=task, teacher=teacher_metric, baseline_mean=base_mean, arms=arms,
                sweep=summarise_sweep(rows, baseline, _sweep_centres(task, per_arm)),
                kd_ratio_iter=first_logged.pop() if len(first_logged) == 1 else None)


def _sweep_centres(task: str, per_arm: Dict[str, Dict[int, float]]) -> Dict[str, tuple]:
    """The main arms the sweep varies, under their sweep label: label -> (arm, seed -> value)."""
    return {label: (arm, per_arm.get(arm, {}))
            for label, arm in ALL_TASKS[task].sweep_centres().items()}


def summarise_sweep(rows: List[dict], baseline: Dict[int, float],
                    centres: Dict[str, tuple]) -> List[dict]:
    """The sweep runs of one task, one entry per label (in run order), each compared with the
    baseline trained with the same seeds. The entries start with ``centres`` (label -> (arm,
    seed -> value)): the main arms the sweep varies (the shipped default, the peers at their
    published weights), on the sweep's seeds.

    Each entry: its seeds and per-seed values, their mean and sample std (0 for one seed), the
    mean per-seed difference to the baseline (``delta``), its 95 % t-interval (``paired``, None
    for one seed), ``wins`` (seeds where it beats the same-seed baseline) and, for a run that
    varies a centre, the paired difference to that centre (``vs_centre``: is the default, or
    the published weight, near the best?), ``kd_ratio``, the mean over its seeds of the
    KD/task loss ratio at the first logged iteration, and ``kd_ratio_step1``, that at the first
    step (each None where the rows lack it).
    """
    groups: Dict[str, Dict[int, float]] = {}
    runs: Dict[str, Dict[int, dict]] = {}  # label -> seed -> its row (for its KD/task ratios)
    arms: Dict[str, str] = {}
    for r in rows:
        if r['group'] == 'sweep':
            groups.setdefault(r['label'], {})[r['seed']] = r['metric']
            runs.setdefault(r['label'], {})[r['seed']] = r
            arms[r['label']] = r['arm']
    if not groups:
        return []
    seeds = sorted({s for values in groups.values() for s in values})
    first = {}
    for label, (arm, values) in centres.items():
        if any(s in values for s in seeds):
            first[label], arms[label] = {s: values[s] for s in seeds if s in values}, arm
            runs[label] = {r['seed']: r for r in rows
                           if r['group'] == 'main' and r['arm'] == arm and r['seed'] in seeds}
    groups = {**first, **groups}
    centre_of = {arm: first[label] for label, (arm, _) in centres.items() if label in first}
    entries = []
    for label, values in groups.items():
        shared = sorted(s for s in values if s in baseline)
        entry = dict(label=label, arm=arms[label], seeds=sorted(values),
                     values=[values[s] for s in sorted(values)],
                     mean=statistics.mean(values.values()),
                     std=statistics.stdev(values.values()) if len(values) > 1 else 0.0)
        if shared:
            entry['delta'] = statistics.mean(values[s] - baseline[s] for s in shared)
            entry['wins'] = f'{sum(values[s] > baseline[s] for s in shared)}/{len(shared)}'
            entry['paired'] = paired_difference(values, baseline)
        if label not in first and arms[label] in centre_of:
            entry['vs_centre'] = paired_difference(values, centre_of[arms[label]])
        for key in ('kd_ratio', 'kd_ratio_step1'):
            measured = [r[key] for r in runs.get(label, {}).values() if r.get(key) is not None]
            entry[key] = statistics.mean(measured) if measured else None
        entries.append(entry)
    return entries


def _fmt(value: Optional[float], spec: str = '.2f', signed: bool = False) -> str:
    if value is None:
        return 'n/a'
    return format(value, ('+' if signed else '') + spec)


def _interval(diff: Optional[dict]) -> str:
    """'+1.23 [+0.40, +2.06]', or '' without a paired difference."""
    if not diff:
        return ''
    return f'{diff["mean"]:+.2f} [{diff["low"]:+.2f}, {diff["high"]:+.2f}]'


def _describe(task, arm: str) -> str:
    """'RandomProjection k=0.25, normalize='standardize', weight 10', from the arm's config; an
    arm with several points or another loss: 'head: ... + logits: CWDLoss tau=1, weight 5'."""
    points = task.distill_points(arm)
    if len(points) == 1 and 'projection' in points[0]['loss']:
        return _describe_loss(points[0]['loss'])
    return ' + '.join(f'{p["name"]} ({p["student"]}): {_describe_loss(p["loss"])}'
                      for p in points)


def _describe_loss(loss: dict) -> str:
    if 'projection' not in loss:
        options = ''.join(f' {key}={value:g}' for key, value in loss.items()
                          if key not in ('type', 'loss_weight') and isinstance(value, float))
        return f'{loss["type"].split(".")[-1]}{options}, weight {loss["loss_weight"]:g}'
    projection = loss['projection']
    k = f' k={projection["k"]:g}' if 'k' in projection else ''
    return (f'{projection["type"].split(".")[-1]}{k}, '
            f'normalize={loss.get("normalize", _DEFAULT_NORMALIZE)!r}, '
            f'weight {loss["loss_weight"]:g}')


def quality_markdown(summary: dict) -> str:
    task = ALL_TASKS[summary['task']]
    others = [method_name(arm)[-1] for arm in task.kd_arms  # a study's arms change more
              if arm.startswith('rdimkd-') and arm != task.default_arm and not task.config_dir]
    # A study family's own default arm sets its model's addresses in the inherited base.
    own_default = task.config_dir and task.config(task.default_arm).startswith(task.config_dir)
    untouched = 'at this family\'s head feature' if own_default else 'untouched'
    trained = {arm['arm'] for arm in summary['arms']}
    lines = [f'### {task.title}', '',
             f'Distilled feature: {task.distill_point}. {method_name(task.default_arm)}: '
             f'`{task.default_config}` {untouched}'
             + (f'; {" and ".join(others)} change only the projection' if others else '')
             + '. Losses: '
             + '; '.join(f'{method_name(arm)}: {_describe(task, arm)}'
                         for arm in task.arms[1:] if arm not in task.peers and arm in trained)
             + '.',
             '', f'| model | {task.metric_name}, mean ± std | per seed | Δ vs baseline | '
             'beats baseline (same seed) | teacher-student gap closed |',
             '|---|---|---|---|---|---|',
             f'| teacher | {_fmt(summary["teacher"])} | 1 run | | | |']
    for arm in summary['arms']:
        per_seed = ', '.join(f'{v:.2f}' for v in arm['values'])
        gap = arm.get('gap_closed')
        lines.append(
            f'| {arm["title"]} | {arm["mean"]:.2f} ± {arm["std"]:.2f} | {per_seed} | '
            f'{_fmt(arm.get("delta"), signed=True) if "delta" in arm else ""} | '
            f'{arm.get("wins", "")} | {"" if gap is None else f"{gap * 100:.0f}%"} |')
    paired = [a for a in summary['arms'] if a.get('paired')]
    if paired:
        order = ['baseline', task.default_arm, PEER_REFERENCE, *task.peers]
        refs = sorted({ref for a in paired for ref in a['paired']}, key=order.index)
        names = [method_name(r) for r in refs]
        lines += ['', 'Paired per-seed difference (mean, 95 % t-interval over the seeds):', '',
                  '| model | ' + ' | '.join(f'vs {name}' for name in names) + ' |',
                  '|---|' + '---|' * len(refs)]
        for arm in paired:
            cells = [_interval(arm['paired'].get(ref)) for ref in refs]
            lines.append(f'| {arm["title"]} | ' + ' | '.join(cells) + ' |')
    if summary['sweep']:
        # Runs older than the distiller's start-of-training line have no first-step ratio.
        step1 = any(s.get('kd_ratio_step1') is not None for s in summary['sweep'])
        lines += ['', 'Sweep, each run on the seeds it lists, against the baseline and the '
                  'main arm it varies trained with the same seeds. KD/task: the KD loss over '
                  f'the task loss at the first logged iteration ({summary.get("kd_ratio_iter")})'
                  ', mean over the seeds, as `kd_ratio_*` in the log'
                  + (', and at the first training step, as the distiller logs it' if step1
                     else '') + ':', '',
                  f'| run | {task.metric_name}, mean ± std | per seed | Δ vs baseline '
                  '(95 % t-interval) | beats baseline (same seed) | Δ vs its main arm (x1 / '
                  'published weight) | KD/task |' + (' KD/task at step 1 |' if step1 else ''),
                  '|---|---|---|---|---|---|---|' + ('---|' if step1 else '')]
        for s in summary['sweep']:
            delta = f'{s["delta"]:+.2f}' if 'delta' in s else ''
            if s.get('paired'):
                delta = _interval(s['paired'])
            ratios = [s.get('kd_ratio')] + ([s.get('kd_ratio_step1')] if step1 else [])
            lines.append(f'| {s["label"]} | {s["mean"]:.2f} ± {s["std"]:.2f} | '
                         f'{", ".join(f"{v:.2f}" for v in s["values"])} | {delta} | '
                         f'{s.get("wins", "")} | {_interval(s.get("vs_centre"))} | '
                         + ' | '.join('' if r is None else f'{r:.3g}x' for r in ratios) + ' |')
    return '\n'.join(lines) + '\n'


def plot_quality(summaries: List[dict], path: Path) -> None:
    """One panel per task: per-arm mean ± std (bars) with every seed as a dot, the teacher
    as a dashed line. The y axis does not start at zero, so no bars."""
    fig, axes = plt.subplots(1, len(summaries), figsize=(6.5 * len(summaries), 4.2),
                             squeeze=False)
    for ax, summary in zip(axes[0], summaries):
        task = ALL_TASKS[summary['task']]
        arms = summary['arms']
        for i, arm in enumerate(arms):
            color = ('0.4' if arm['arm'] == 'baseline' else
                     'tab:orange' if arm['arm'] == 'fitnet-l2' else
                     'tab:purple' if arm['arm'] in task.peers else 'tab:blue')
            ax.errorbar(i, arm['mean'], yerr=arm['std'], fmt='s', color=color, capsize=6,
                        markersize=8)
            ax.scatter([i + 0.12] * len(arm['values']), arm['values'], color=color, s=14,
                       alpha=0.6)
        if arms and arms[0]['arm'] == 'baseline':
            ax.axhline(arms[0]['mean'], color='0.4', linewidth=0.8, linestyle=':',
                       label='baseline mean')
        if summary['teacher'] is not None:
            ax.axhline(summary['teacher'], color='tab:green', linestyle='--', label='teacher')
        ax.legend(loc='center right')
        ax.set_xticks(range(len(arms)))
        ax.set_xticklabels([a['title'].replace('student + ', '+ ') for a in arms],
                           rotation=20, ha='right')
        ax.set_xlim(-0.5, len(arms) - 0.3)
        ax.set_ylabel(task.metric_name)
        ax.grid(axis='y', alpha=0.3)
        ax.set_title(task.title.split(':')[0] + f' ({task.distill_point}), '
                     f'{len(arms[0]["values"]) if arms else 0} seeds')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def cost_markdown(cost: dict) -> str:
    lines = [f'### {cost["task"]}: batch of {cost["batch_size"]} images '
             f'{cost["input_shape"][1]}x{cost["input_shape"][2]} on {cost["device"]}', '',
             '| step | time per iteration (ms, median) | peak memory (MB) | memory growth '
             'during the step (MB) |', '|---|---|---|---|']
    memory: Dict[str, dict] = cost.get('memory', {})
    for name, ms in cost['times_ms'].items():
        mem = memory.get(name, {})
        peak, growth = mem.get('peak_mb'), mem.get('growth_mb')
        lines.append(f'| {name} | {ms:.1f} | {"" if peak is None else f"{peak:.0f}"} | '
                     f'{"" if growth is None else f"{growth:.0f}"} |')
    if memory:
        lines += ['', f'Memory: {cost["memory_kind"]}.']
    lines += ['', '| ratio (median of per-round ratios) | value |', '|---|---|']
    lines += [f'| {name} | {value:.2f} |' for name, value in cost['ratios'].items()]
    if cost['fit_seconds']:
        fits = ', '.join(f'{k} {v:.2f} s' for k, v in cost['fit_seconds'].items())
        lines += ['', f'One-time projection fit before training ({cost["fit_batches"]} '
                  f'batches): {fits}. The other arms fit nothing.']
    return '\n'.join(lines) + '\n'


def machine_line(machine: dict) -> str:
    """'CPU model (N cores[, GPU]), torch X, system' from ``run.machine()``."""
    gpu = f', {machine["gpu"]}' if machine.get('gpu') else ''
    return (f'{machine["cpu"]} ({machine["cpu_count"]} cores{gpu}), torch {machine["torch"]}, '
            f'{machine["system"]}')


def _reuse_line(rows: List[dict]) -> str:
    """How much of the result an earlier invocation trained, and the runs' total time."""
    reused = [r for r in rows if r.get('reused')]
    total = sum(r.get('train_seconds') or 0.0 for r in rows) / 60
    if not reused:
        return f'The {len(rows)} runs took {total:.0f} min of training in all.\n\n'
    teachers = [r for r in reused if r['arm'] == 'teacher']
    return (f'{len(reused)} of the {len(rows)} runs ({len(teachers)} teachers) were reused '
            'from an earlier invocation, which the wall time above does not count; the runs '
            f'took {total:.0f} min of training in all (each with its share of the cores).\n\n')


def write_quality_report(data: dict, results: Path) -> None:
    """``quality.md`` and ``quality.png`` in ``results`` from the quality JSON."""
    plot_quality(data['summaries'], results / 'quality.png')
    schedules = ''.join(
        f'- {name}: teacher {s["teacher_iters"]} iterations, students {s["student_iters"]} '
        f'iterations, seeds {list(s["seeds"])}\n' for name, s in data['schedules'].items())
    header = (f'Written by `{data["command"]}` on {data["date"]}, {machine_line(data["machine"])}'
              f', in {data["wall_seconds"] / 60:.0f} min. Every number comes from '
              '`quality.json` next to this file, which also holds the exact command of every '
              f'run.\n\n{_reuse_line(data["runs"])}{schedules}')
    body = '\n'.join(quality_markdown(s) for s in data['summaries'])
    (results / 'quality.md').write_text(f'{header}\n{body}\n![quality](quality.png)\n')


def write_cost_report(data: dict, path: Path) -> None:
    """The cost markdown at ``path`` from the cost JSON."""
    header = (f'Written by `{data["command"]}` on {data["date"]}, {machine_line(data["machine"])}'
              f', {data["threads"]} threads. Every number comes from `{path.stem}.json` next '
              'to this file.\n\n')
    header += ''.join(f'Note: {note}\n\n' for note in data.get('notes', []))
    plot_cost(data['tasks'], path.with_suffix('.png'))
    path.write_text(header + '\n'.join(cost_markdown(c) for c in data['tasks'])
                    + f'\n![cost]({path.stem}.png)\n')


def plot_cost(costs: List[dict], path: Path) -> None:
    """One panel per task: median time per iteration of every timed step."""
    fig, axes = plt.subplots(1, len(costs), figsize=(7 * len(costs), 4), squeeze=False)
    for ax, cost in zip(axes[0], costs):
        names = list(cost['times_ms'])[::-1]
        colors = ['tab:green' if n.startswith('student') else
                  ('0.6' if 'alone' in n or n.startswith('teacher') else 'tab:blue')
                  for n in names]
        ax.barh(names, [cost['times_ms'][n] for n in names], color=colors)
        ax.set_xlabel(f'ms per iteration (median, {cost["device"]})')
        ax.set_title(f'{cost["task"]}: batch {cost["batch_size"]}, '
                     f'{cost["input_shape"][1]}x{cost["input_shape"][2]}')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
