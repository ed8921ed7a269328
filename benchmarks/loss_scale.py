"""Loss scale across pairs: the first KD/task loss ratio of 8 zoo pairs, raw and normalised.

    python benchmarks/loss_scale.py

Runs the measurement of ``tests/test_loss_scale.py`` (same pairs, random teachers with the
libraries' initialisation and batch-norm statistics of their own activations, first training
step at loss_weight 1, k = C_t / 4), with each pair's first task loss and connector kind, and
writes ``benchmarks/results/loss_scale.{json,md}``,
which the README's "Loss scale" table quotes. About a minute on 2 cores.
"""
import json
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / 'tests')]

from test_loss_scale import PAIRS, first_ratios  # noqa: E402


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for pair in PAIRS:
            rows.append(dict(teacher=pair[0], student=pair[1], **first_ratios(pair, Path(tmp))))
    band = {key: max(r[key] for r in rows) / min(r[key] for r in rows)
            for key in ('normalised', 'raw', 'task')}
    data = dict(command='python benchmarks/loss_scale.py', date=time.strftime('%Y-%m-%d'),
                rows=rows, band=band)
    results = REPO_ROOT / 'benchmarks' / 'results'
    (results / 'loss_scale.json').write_text(json.dumps(data, indent=2))
    lines = [f'Written by `{data["command"]}` on {data["date"]}; first KD / task loss at '
             'loss_weight 1, k = C_t / 4.\n',
             '| teacher -> student | KD/task normalised | KD/task raw | task loss | connector |',
             '|---|---|---|---|---|']
    lines += [f'| `{r["teacher"]}` -> `{r["student"]}` | {r["normalised"]:.3g} | '
              f'{r["raw"]:.4g} | {r["task"]:.3g} | {r["connector"]} |' for r in rows]
    lines += ['', f'Band (highest / lowest): KD/task normalised {band["normalised"]:.0f}x, '
              f'raw {band["raw"]:.0f}x; the first task loss alone spans {band["task"]:.0f}x.\n']
    (results / 'loss_scale.md').write_text('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
