"""The synthetic distillation demo: teacher, baseline student and RdimKD student, side by side.

    python tools/distill_demo.py [--task det] [--work-root work_dirs/demo]

1. generates the synthetic data set if it is missing (tools/make_synthetic_data.py);
2. trains the teacher, or reuses its checkpoint if the work dir already has it;
3. trains the student alone (baseline) and the student with RdimKD on the same schedule;
4. evaluates all three with tools/test.py (the config's own mmdet/mmseg evaluator);
5. prints a table and writes it, with the timings, to results/demo/<task>_results.{md,json};
6. writes the pictures to results/demo/: ``<task>_kd_features_<point>.png`` (the teacher's and
   the student's projected features at the end of the distillation, drawn by the config's
   ``ProjectedFeatureVisHook``), ``<task>_curves.png`` (tools/plot_logs.py on the distilled
   run) and ``<task>_predictions/*.png`` (tools/compare_predictions.py: ground truth, teacher,
   baseline and distilled student).

Every step is an ordinary tools/*.py command, printed before it runs, so each can be rerun by
hand.
"""
import argparse
import json
import os
import os.path as osp
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Tuple

from mmengine.runner import find_latest_checkpoint

REPO_ROOT = Path(__file__).resolve().parents[1]


class DemoTask(NamedTuple):
    """One demo: its synthetic data and the teacher, student and distillation configs."""
    data: str  # the kind tools/make_synthetic_data.py writes: 'det' or 'seg'
    data_root: str
    metric: str  # the key the evaluator logs
    metric_name: str
    percent: float  # the factor that turns the logged metric into percent
    digits: int  # the decimals the metric carries, in percent
    teacher: str
    student: str
    distill: str


TASKS = {
    'det': DemoTask('det', 'data/synthetic_coco', 'coco/bbox_mAP', 'bbox mAP (%)',
                    100, 1,  # CocoMetric logs a fraction (3 decimals): 0.061 -> 6.1 %
                    'configs/synthetic/retinanet_r50-w32_fpn128_synthetic-coco.py',
                    'configs/synthetic/retinanet_r18-w16_fpn64_synthetic-coco.py',
                    'configs/rdimkd/rdimkd-r_retinanet_r50-w32_r18-w16_synthetic-coco.py'),
    'seg': DemoTask('seg', 'data/synthetic_cityscapes', 'mIoU', 'mIoU (%)',
                    1, 2,  # IoUMetric logs percent (2 decimals)
                    'configs/synthetic/pspnet_r50-w32-d8_synthetic-cityscapes.py',
                    'configs/synthetic/pspnet_r18-w16-d8_synthetic-cityscapes.py',
                    'configs/rdimkd/rdimkd-a_pspnet_r50-w32_r18-w16_synthetic-cityscapes.py'),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Synthetic RdimKD distillation demo')
    parser.add_argument('--task', choices=sorted(TASKS), default='det')
    parser.add_argument('--work-root', default='work_dirs/demo')
    parser.add_argument('--results-dir', default='results/demo',
                        help='where the table (markdown + JSON) and the pictures are written')
    parser.add_argument('--seed', type=int, default=0, help='seed of every training run')
    parser.add_argument('--teacher-iters', type=int, help='override the teacher schedule')
    parser.add_argument('--student-iters', type=int,
                        help='override the (shared) schedule of both students')
    return parser.parse_args()


def run(cmd: List[str]) -> None:
    print(f'\n$ {" ".join(shlex.quote(c) for c in cmd)}', flush=True)
    subprocess.run([sys.executable, *cmd], cwd=REPO_ROOT, check=True)


def schedule_options(iters: int) -> List[str]:
    if iters is None:
        return []
    return [f'train_cfg.max_iters={iters}', f'default_hooks.checkpoint.interval={iters}']


def method_of(config: str) -> str:
    """The variant a distillation config's name starts with (``<variant>_...py``):
    ``'RdimKD-A'`` for ``rdimkd-a_pspnet_....py``."""
    variant = osp.basename(config).split('_')[0]
    return 'RdimKD-' + variant.split('-')[-1].upper()


def metric_of(result: Dict[str, float], key: str) -> float:
    """``result[key]``; 0 when the evaluator logged no metric at all (mmdet's CocoMetric returns
    nothing when no box passes the score threshold, after a very short schedule)."""
    if key in result:
        return result[key]
    if set(result) <= {'time', 'data_time'}:
        return 0.0
    raise KeyError(f'The evaluation logged no {key!r}; it logged {sorted(result)}.')


def data_options(task: DemoTask) -> List[str]:
    root = task.data_root
    options = [f'{loader}.dataset.data_root={root}/'
               for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    if task.data == 'det':
        ann = f'{root}/annotations/instances_val.json'
        options += [f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}']
    return options


def latest_checkpoint(work_dir: Path) -> Optional[Path]:
    path = find_latest_checkpoint(str(work_dir)) if work_dir.is_dir() else None
    return Path(path) if path else None


def train(config: str, work_dir: Path, options: List[str]) -> float:
    start = time.time()
    # No validation during training: the three models are evaluated below, the same way. The
    # demo owns its work dirs: a rerun deletes the previous one (its logs included).
    shutil.rmtree(work_dir, ignore_errors=True)
    run(['tools/train.py', config, '--work-dir', str(work_dir), '--cfg-options',
         'train_cfg.val_interval=1000000', *options])
    return time.time() - start


def evaluate(config: str, checkpoint: Path, work_dir: Path, options: List[str]) -> dict:
    run(['tools/test.py', config, str(checkpoint), '--work-dir', str(work_dir),
         '--cfg-options', *options])
    log = sorted(work_dir.glob('*/*.json'))[-1]
    return json.loads(log.read_text().strip().splitlines()[-1])


def draw_pictures(task: str, kd_dir: Path, results_dir: Path, models: List[str],
                  options: List[str]) -> None:
    """Write the demo's pictures to ``results_dir`` (see the module docstring).

    Args:
        task (str): ``'det'`` or ``'seg'``, the file name prefix.
        kd_dir (Path): Work dir of the distillation run (one run: it is deleted before).
        results_dir (Path): Where the pictures go.
        models (list[str]): ``--model LABEL CONFIG CHECKPOINT`` arguments of
            tools/compare_predictions.py.
        options (list[str]): ``--cfg-options`` of every model (the data).
    """
    last: Dict[str, Tuple[int, Path]] = {}  # point -> the hook's last picture
    for path in kd_dir.glob('*/vis_data/vis_image/kd_features_*.png'):
        point, step = path.stem[len('kd_features_'):].rsplit('_', 1)
        if int(step) > last.get(point, (-1, path))[0]:
            last[point] = (int(step), path)
    for point, (_, path) in sorted(last.items()):
        shutil.copyfile(path, results_dir / f'{task}_kd_features_{point}.png')
    run(['tools/plot_logs.py', str(kd_dir), '--out', str(results_dir / f'{task}_curves.png')])
    predictions = results_dir / f'{task}_predictions'
    shutil.rmtree(predictions, ignore_errors=True)
    run(['tools/compare_predictions.py', str(predictions), *models, '--num-images', '2',
         '--cfg-options', *options])


def main() -> None:
    args = parse_args()
    task = TASKS[args.task]
    work_root = REPO_ROOT / args.work_root / args.task
    demo_start = time.time()
    if not osp.isdir(REPO_ROOT / task.data_root):
        run(['tools/make_synthetic_data.py', task.data, task.data_root])
    data = data_options(task) + [f'randomness.seed={args.seed}']

    seconds: Dict[str, float] = {}
    teacher_dir = work_root / 'teacher'
    teacher_ckpt = latest_checkpoint(teacher_dir)
    if teacher_ckpt is None or not teacher_ckpt.is_file():
        seconds['teacher'] = train(task.teacher, teacher_dir,
                                   schedule_options(args.teacher_iters) + data)
        teacher_ckpt = latest_checkpoint(teacher_dir)
    else:
        print(f'Reusing the teacher {teacher_ckpt} (delete {teacher_dir} to retrain it)')

    student_schedule = schedule_options(args.student_iters)
    seconds['baseline'] = train(task.student, work_root / 'baseline', student_schedule + data)
    kd_options = [f'model.teacher_checkpoint={teacher_ckpt}', *student_schedule, *data]
    seconds['rdimkd'] = train(task.distill, work_root / 'rdimkd', kd_options)

    rows, models = [], []
    for name, config, work_dir, options in (
            ('teacher', task.teacher, teacher_dir, data),
            ('student (baseline)', task.student, work_root / 'baseline', data),
            (f'student + {method_of(task.distill)}', task.distill, work_root / 'rdimkd',
             kd_options)):
        checkpoint = latest_checkpoint(work_dir)
        result = evaluate(config, checkpoint, work_dir / 'eval', options)
        rows.append(dict(model=name, config=config, checkpoint=osp.relpath(checkpoint, REPO_ROOT),
                         metric=task.percent * metric_of(result, task.metric)))
        models += ['--model', name, config, str(checkpoint)]
    results_dir = REPO_ROOT / args.results_dir
    results_dir.mkdir(parents=True, exist_ok=True)
    draw_pictures(args.task, work_root / 'rdimkd', results_dir, models, data)
    total = time.time() - demo_start

    header = f'| model | {task.metric_name} | config |\n|---|---|---|\n'
    table = header + ''.join(
        f'| {r["model"]} | {r["metric"]:.{task.digits}f} | `{r["config"]}` |\n' for r in rows)
    timing = ', '.join(f'{k} {v / 60:.1f} min' for k, v in seconds.items())
    summary = (f'{table}\nTraining time: {timing}; whole demo {total / 60:.1f} min.\n')
    command = f'python tools/distill_demo.py --task {args.task}'
    print(f'\n{summary}')
    (results_dir / f'{args.task}_results.md').write_text(
        f'Written by `{command}` on {platform.node() or "this machine"} '
        f'({os.cpu_count()} CPU cores, {time.strftime("%Y-%m-%d")}).\n\n{summary}')
    (results_dir / f'{args.task}_results.json').write_text(
        json.dumps(dict(task=args.task, command=command, seed=args.seed, rows=rows,
                        train_seconds=seconds, total_seconds=total,
                        teacher_reused='teacher' not in seconds, cpu_count=os.cpu_count(),
                        date=time.strftime('%Y-%m-%d')), indent=2))


if __name__ == '__main__':
    main()
