"""Loss scale across pairs: the first KD/task loss ratio of 8 zoo pairs, with each loss form.

    python benchmarks/studies/loss_scale/loss_scale.py

Builds 8 zoo pairs (random teachers with the libraries' initialisation and batch-norm
statistics of their own activations, as a trained teacher has them; no pretrained weights),
takes the first training step at loss_weight 1, k = C_t / 4, with the projection of its task's
shipped default (RdimKD-R for detection; RdimKD-A for segmentation, its autoencoder fitted as
the default's hook fits it), with the standardised, teacher-normalised and raw loss, and the
ratio at that default (the standardised loss of its levels, at its weight:
``configs/_base_/distill/``), and writes ``results/loss_scale.{json,md}`` next to this script.
Then trains each pair at its task's shipped default for the steps the distiller's
start-of-training check averages, with the student config's own optimizer and warm-up
(``start_ratios``). The pairs and their steps are the test suite's:
``tests/helpers/loss_scale.py``. About 5 minutes on 2 cores.
"""
import argparse
import functools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

REPO_ROOT = Path(__file__).resolve().parents[3]
RESULTS = Path(__file__).resolve().parent / 'results'
for path in (REPO_ROOT, REPO_ROOT / 'tests'):  # the pairs and their steps: tests/helpers
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from benchmarks.tasks import TASKS  # noqa: E402
from rdimkd_mm.models.distillers import KDScaleMonitor  # noqa: E402
from helpers import loss_scale  # noqa: E402
from helpers.loss_scale import LEVELS, PAIRS, start_ratios  # noqa: E402

# Per library: the benchmark task whose shipped default its pairs are measured at.
TASK_OF = {'mmdet': 'det', 'mmseg': 'seg'}


@functools.lru_cache(maxsize=None)
def default_weight(scope: str) -> float:
    """The loss weight of the shipped default for ``scope`` ('mmdet' or 'mmseg')."""
    return TASKS[TASK_OF[scope]].default_weight


def first_ratios(pair: tuple, tmp_path: Path, fit_batches: Optional[int] = None) -> dict:
    """The first-step ratios of ``tests/helpers/loss_scale.py``'s ``first_ratios`` and
    ``at_default``: KD / task at the shipped default of the pair's task (the standardised loss
    of the levels it distils, e.g. P3-P5, at its weight), from the same step."""
    row = loss_scale.first_ratios(pair, tmp_path, fit_batches)
    scope = pair[0].split('::')[0]
    per_level = row.pop('per_level')
    row['at_default'] = default_weight(scope) * sum(per_level[:LEVELS[scope]]) / row['task']
    return row


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split('\n\n')[0]).parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for pair in PAIRS:
            rows.append(dict(teacher=pair[0], student=pair[1], **first_ratios(pair, Path(tmp)),
                             start=start_ratios(pair, Path(tmp))))
    band = {key: max(r[key] for r in rows) / min(r[key] for r in rows)
            for key in ('standardised', 'teacher_normalised', 'raw', 'task', 'kd_per_level',
                        'at_default')}
    for scope in TASK_OF:  # each task at its own default, at the first step and over the start
        of_scope = [r for r in rows if r['teacher'].startswith(scope)]
        for key, values in (('at_default', [r['at_default'] for r in of_scope]),
                            ('start_mean', [r['start']['mean'] for r in of_scope])):
            band[f'{key}_{scope}'] = max(values) / min(values)
    data = dict(command='python benchmarks/studies/loss_scale/loss_scale.py',
                date=time.strftime('%Y-%m-%d'), rows=rows, band=band)
    (RESULTS / 'loss_scale.json').write_text(json.dumps(data, indent=2))
    lines = [f'Written by `{data["command"]}` on {data["date"]}; first KD / task loss at '
             'loss_weight 1, k = C_t / 4, with each `normalize`.\n',
             "| teacher -> student | 'standardize' | 'teacher' | None (raw) | task loss "
             "| 'standardize' KD loss per level | at the task's shipped default | connector |",
             '|---|---|---|---|---|---|---|---|']
    lines += [f'| `{r["teacher"]}` -> `{r["student"]}` | {r["standardised"]:.3g} | '
              f'{r["teacher_normalised"]:.3g} | {r["raw"]:.4g} | {r["task"]:.3g} | '
              f'{r["kd_per_level"]:.3f} | {r["at_default"]:.3g} | {r["connector"]} |'
              for r in rows]
    weights = {scope: default_weight(scope) for scope in TASK_OF}
    lines += ['', f'Band (highest / lowest): standardised {band["standardised"]:.0f}x, '
              f'teacher-normalised {band["teacher_normalised"]:.0f}x, raw {band["raw"]:.0f}x; '
              f'the first task loss alone spans {band["task"]:.0f}x, the standardised KD loss '
              f'per level {band["kd_per_level"]:.2f}x. At the shipped defaults (detection: '
              f'the first three levels at weight {weights["mmdet"]:g}; segmentation: the head '
              f'feature at weight {weights["mmseg"]:g}) {band["at_default"]:.0f}x in all, '
              f'{band["at_default_mmdet"]:.0f}x among the detection pairs and '
              f'{band["at_default_mmseg"]:.2f}x among the segmentation pairs.\n']
    steps = rows[0]['start']['steps']
    lines += [f'The first {steps} training steps at the shipped default, with the student '
              "config's own optimizer, gradient clipping and parameter schedulers (its warm-up), "
              'a new random batch each step: KD / task loss at the first step and over the '
              f'{steps} steps (mean KD over mean task loss: what the start-of-training check '
              f'judges; it warns above {KDScaleMonitor.kd_dominance_ratio:g}x).\n',
              f'| teacher -> student | at step 1 | over {steps} steps | task loss at step 1 '
              f'| mean task loss | learning rate at step {steps} / base |',
              '|---|---|---|---|---|---|']
    lines += [f'| `{r["teacher"]}` -> `{r["student"]}` | {r["start"]["step1"]:.3g} | '
              f'{r["start"]["mean"]:.3g} | {r["start"]["task_step1"]:.3g} | '
              f'{r["start"]["task_mean"]:.3g} | {r["start"]["lr_factor"]:.2g} |' for r in rows]
    warned = sum(r['start']['mean'] > KDScaleMonitor.kd_dominance_ratio for r in rows)
    lines += ['', f'Band over the {steps} steps: {band["start_mean_mmdet"]:.0f}x among the '
              f'detection pairs, {band["start_mean_mmseg"]:.2f}x among the segmentation pairs; '
              f'the start-of-training warning fires on {warned} of {len(rows)} pairs.\n']
    (RESULTS / 'loss_scale.md').write_text('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
