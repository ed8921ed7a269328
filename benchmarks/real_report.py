"""Gather a real-data suite's finished runs into JSON, markdown and a plot.

Per pair: the teacher (measured, next to its zoo number), the student baseline (the zoo
metafile's number, labelled so, or the retrained one per seed) and every arm's mean over its
seeds with its difference to the baseline; with a retrained baseline also the paired per-seed
difference and its 95 % t-interval.
"""
import json
import os
import os.path as osp
import statistics
import time
from typing import Dict, Optional, Tuple

from mmengine.config import Config

from rdimkd_mm.zoo import find_entry
from .report import paired_difference
from .suites import ARM_TITLES, REPO_ROOT, Suite, student_zoo_config


def zoo_numbers(suite: Suite, config: str) -> Tuple[dict, dict]:
    """The teacher's and the student's zoo entries of a distillation config, as
    ``dict(name, metric, weights, config)``."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    out = []
    for spec in (cfg.model.teacher, student_zoo_config(config)):
        entry = find_entry(spec)
        out.append(dict(name=entry.name, config=spec, weights=entry.weights,
                        metric=entry.metrics.get(suite.zoo_metric)))
    return out[0], out[1]


def _result(step) -> Optional[dict]:
    path = osp.join(REPO_ROOT, step.work_dir, 'result.json')
    if not osp.isfile(path):
        return None
    result = json.load(open(path))
    return result if result.get('command') == step.shell else None


def gather(suite: Suite, steps, command: str, retrained: bool) -> dict:
    """The report's data: per pair its teacher, baseline and arms (see the module doc)."""
    pairs = []
    for pair in dict.fromkeys(s.pair for s in steps):
        teacher_zoo, student_zoo = zoo_numbers(suite, pair.default_config)
        values: Dict[str, Dict[int, float]] = {}
        for step in (s for s in steps if s.pair == pair):
            result = _result(step)
            if result is not None:
                values.setdefault(step.arm, {})[step.seed or 0] = result['metric']
        baseline = values.get('baseline', {})
        reference = statistics.mean(baseline.values()) if baseline else student_zoo['metric']
        arms = []
        for arm, config in pair.arms:
            seeds = values.get(arm, {})
            mean = statistics.mean(seeds.values()) if seeds else None
            arms.append(dict(
                arm=arm, title=ARM_TITLES[arm], config=config, default=arm == pair.default_arm,
                seeds=seeds, mean=mean,
                std=statistics.stdev(seeds.values()) if len(seeds) > 1 else None,
                delta=None if mean is None or reference is None else mean - reference,
                paired=paired_difference(seeds, baseline) if retrained else None))
        pairs.append(dict(
            pair=pair.name, teacher=dict(zoo=teacher_zoo, measured=values.get('teacher', {})
                                         .get(0)),
            baseline=dict(zoo=student_zoo, retrained=baseline or None,
                          source='retrained' if baseline else 'zoo metafile'),
            reference=reference, arms=arms))
    return dict(suite=suite.name, dataset=suite.dataset, metric=suite.metric_name,
                command=command, date=time.strftime('%Y-%m-%d'), pairs=pairs)


def _fmt(value: Optional[float], signed: bool = False) -> str:
    if value is None:
        return 'not measured'
    return f'{value:+.2f}' if signed else f'{value:.2f}'


def markdown(data: dict) -> str:
    """The report as markdown: one table per pair."""
    metric = data['metric']
    lines = [f'# {data["dataset"]} suite', '', f'Made by `{data["command"]}` on {data["date"]}.',
             '']
    for p in data['pairs']:
        base = p['baseline']
        lines += [f'## {p["pair"]}', '',
                  f'| model | seeds | {metric} | Δ vs baseline | paired Δ (95 % t-interval) |',
                  '|---|---|---|---|---|',
                  f'| teacher ({p["teacher"]["zoo"]["name"]}) | 1 | '
                  f'{_fmt(p["teacher"]["measured"])} (zoo {_fmt(p["teacher"]["zoo"]["metric"])})'
                  ' | | |']
        if base['retrained']:
            seeds = base['retrained']
            lines.append(f'| student baseline (retrained) | {len(seeds)} | '
                         f'{_fmt(p["reference"])} (zoo {_fmt(base["zoo"]["metric"])}) | | |')
        else:
            lines.append(f'| student baseline ({base["zoo"]["name"]}, zoo metafile) | - | '
                         f'{_fmt(p["reference"])} | | |')
        for arm in p['arms']:
            spread = f' ± {arm["std"]:.2f}' if arm['std'] is not None else ''
            paired = arm['paired']
            interval = (f'{paired["mean"]:+.2f} [{paired["low"]:+.2f}, {paired["high"]:+.2f}]'
                        if paired else '')
            lines.append(f'| {arm["title"]}{" (default)" if arm["default"] else ""} | '
                         f'{len(arm["seeds"])} | {_fmt(arm["mean"])}{spread} | '
                         f'{_fmt(arm["delta"], signed=True) if arm["mean"] is not None else ""}'
                         f' | {interval} |')
        lines.append('')
    return '\n'.join(lines)


def plot(data: dict, path: str) -> None:
    """Bars of every pair's teacher, baseline and arms."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(data['pairs']), squeeze=False,
                             figsize=(4 * len(data['pairs']), 3.5))
    for ax, p in zip(axes[0], data['pairs']):
        labels = ['teacher', 'baseline'] + [a['arm'] for a in p['arms']]
        values = [p['teacher']['measured'], p['reference']] + [a['mean'] for a in p['arms']]
        ax.bar(labels, [v or 0 for v in values], color=['grey', 'silver'] + ['C0'] * len(p['arms']))
        ax.set_title(p['pair'], fontsize=9)
        ax.set_ylabel(data['metric'])
        ax.tick_params(axis='x', labelrotation=45, labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(data: dict, results: str) -> Tuple[str, str, str]:
    """Write ``<suite>.json``, ``.md`` and ``.png`` into ``results``; returns their paths."""
    os.makedirs(results, exist_ok=True)
    stem = osp.join(results, data['suite'])
    json.dump(data, open(stem + '.json', 'w'), indent=2)
    open(stem + '.md', 'w').write(markdown(data))
    plot(data, stem + '.png')
    return stem + '.json', stem + '.md', stem + '.png'
