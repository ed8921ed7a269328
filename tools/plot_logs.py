"""Plot the training curves of a work dir: task losses, KD losses and ratios, val metrics.

    python tools/plot_logs.py WORK_DIR [--out curves.png] [--metrics coco/bbox_mAP mIoU]

Reads every ``WORK_DIR/<timestamp>/vis_data/scalars.json`` (what mmengine's LocalVisBackend
writes; a resumed run adds a timestamp folder, and the files are read in order) and draws,
against the training iteration:
- the task losses (every logged ``loss*`` that is not a KD loss) and their total;
- each KD loss ``loss_kd_<point>`` and, for multi-level points, its levels ``kd_<point>_l<i>``;
- the KD/task ratio of each point (``kd_ratio_<point>``; 1 means KD and task losses are equal);
- the validation metrics (``--metrics``; by default every ``coco/bbox_mAP``, ``mIoU`` or
  ``aAcc``-like key found).
Works for iteration- and epoch-based logs, plain mmdet/mmseg runs included (without KD panels).
"""
import argparse
import json
from pathlib import Path
from typing import Dict, List, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

Series = Dict[str, Tuple[List[float], List[float]]]
DEFAULT_METRICS = ('coco/bbox_mAP', 'coco/segm_mAP', 'mIoU', 'aAcc', 'mAcc')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Plot the curves of a training work dir')
    parser.add_argument('work_dir', help='work dir of tools/train.py')
    parser.add_argument('--out', help='PNG to write (default: WORK_DIR/curves.png)')
    parser.add_argument('--metrics', nargs='+', help='validation metric keys to plot')
    return parser.parse_args()


def read_scalars(work_dir: Path) -> Tuple[Series, Series]:
    """``(train, val)``: ``{key: (iterations, values)}`` from the work dir's scalars.json."""
    files = sorted(work_dir.glob('*/vis_data/scalars.json'))
    if not files:
        raise FileNotFoundError(f'No */vis_data/scalars.json under {work_dir}: give the work dir '
                                'of a tools/train.py run (mmengine writes it with the default '
                                'LocalVisBackend).')
    train: Series = {}
    val: Series = {}
    last_iter = 0
    for path in files:
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            if 'iter' in record or 'lr' in record:  # a training log line
                last_iter = record.get('iter', record.get('step', last_iter))
                target, x = train, last_iter
            else:  # validation: plotted at the last training iteration seen
                target, x = val, last_iter
            for key, value in record.items():
                if key in ('iter', 'step', 'epoch') or not isinstance(value, (int, float)):
                    continue
                xs, ys = target.setdefault(key, ([], []))
                xs.append(x)
                ys.append(value)
    return train, val


def panels(train: Series, val: Series, metrics) -> List[Tuple[str, Series, bool]]:
    """(title, series, log scale) of each panel that has data."""
    kd = {k: v for k, v in train.items() if k.startswith('loss_kd_')
          or (k.startswith('kd_') and not k.startswith('kd_ratio_'))}
    ratio = {k: v for k, v in train.items() if k.startswith('kd_ratio_')}
    # The logged total 'loss' includes the KD losses: shown with the task losses only without KD.
    task = {k: v for k, v in train.items()
            if 'loss' in k and k not in kd and (k != 'loss' or not kd)}
    wanted = metrics or [k for k in val if any(k.endswith(m) or k == m for m in DEFAULT_METRICS)]
    shown = {k: val[k] for k in wanted if k in val}
    result = [('task losses', task, False),
              ('KD losses (loss_kd_*) and levels (kd_*_l*)', kd, True),
              ('KD / task loss ratio (kd_ratio_*)', ratio, True),
              ('validation', shown, False)]
    return [p for p in result if p[1]]


def plot(train: Series, val: Series, out: Path, metrics=None) -> None:
    selected = panels(train, val, metrics)
    if not selected:
        raise ValueError('The logs hold no losses or metrics to plot.')
    fig, axes = plt.subplots(1, len(selected), figsize=(5 * len(selected), 3.8), squeeze=False)
    for ax, (title, series, log) in zip(axes[0], selected):
        for key, (xs, ys) in sorted(series.items()):
            style = dict(marker='o') if len(xs) < 5 else {}
            ax.plot(xs, ys, label=key, linewidth=1.2, **style)
        if log and all(y > 0 for _, ys in series.values() for y in ys):
            ax.set_yscale('log')
        ax.set_title(title, fontsize=10)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    work_dir = Path(args.work_dir)
    train, val = read_scalars(work_dir)
    out = Path(args.out) if args.out else work_dir / 'curves.png'
    plot(train, val, out, args.metrics)
    print(f'Wrote {out}')


if __name__ == '__main__':
    main()
