"""What the benchmark runs: per task, its data, configs, arms, schedules and sweep.

Every arm is an ordinary config under ``benchmarks/configs/<task>/`` trained with
``tools/train.py``; the runner only adds ``--cfg-options`` (seed, schedule length, teacher
checkpoint, sweep values), which it prints and stores next to each result.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

CONFIG_DIR = 'benchmarks/configs'


@dataclass(frozen=True)
class Schedule:
    """Iterations of one benchmark mode (full or quick)."""
    teacher_iters: int
    student_iters: int
    seeds: Tuple[int, ...]
    fit_batches: int


@dataclass(frozen=True)
class Task:
    """One task of the benchmark (detection or segmentation)."""
    name: str  # 'det' or 'seg', also the kind of synthetic data
    title: str
    data_root: str
    data_size: Dict[str, object]
    metric_key: str  # key of the metric in mmengine's scalars.json
    metric_name: str
    metric_scale: float  # multiply the logged value to report it (mAP -> percent)
    distill_point: str  # the distilled feature, in words
    default_k: int
    default_weight: float
    teacher_channels: int
    # Arms whose config has FitProjectionsHook (RdimKD-R's returns at once: nothing to fit).
    fit_hook_arms: Tuple[str, ...] = ('rdimkd-r', 'rdimkd-p', 'rdimkd-a')
    schedules: Dict[str, Schedule] = field(default_factory=dict)
    # Arms of the peer methods users compare with (PKD, CWD): arm -> the published loss weight
    # its config uses, the centre of its weight sweep.
    peers: Dict[str, float] = field(default_factory=dict)

    @property
    def arms(self) -> Tuple[str, ...]:
        """The main arms, each trained with every seed: the baseline, RdimKD-R/-P/-A, full L2
        and the task's peers."""
        return ('baseline', 'rdimkd-r', 'rdimkd-p', 'rdimkd-a', 'fitnet-l2', *self.peers)

    def config(self, arm: str) -> str:
        """The config file of an arm ('teacher', 'baseline' = student alone, or a KD arm)."""
        name = 'student' if arm == 'baseline' else arm
        return f'{CONFIG_DIR}/{self.name}/{name}.py'

    def sweep(self) -> List[Tuple[str, str, List[str]]]:
        """Single-seed sweep runs: (label, arm, extra cfg-options).

        RdimKD-R with other reduced dimensions k and loss weights, the full-feature L2
        mimic at the weight that matches RdimKD-R's expected loss scale (for a random
        orthogonal K, E||K^T (s - t)||^2 = k / C_t * ||s - t||^2), and each peer at other
        loss weights, the same factors as RdimKD-R's.
        """
        loss = 'model.distill.0.loss'
        k, w = self.default_k, self.default_weight
        runs = [(f'RdimKD-R k={kk}', 'rdimkd-r', [f'{loss}.projection.k={kk}'])
                for kk in (k // 4, k * 2)]
        factors = (0.3, 3)
        runs += [(f'RdimKD-R weight={w * f:g}', 'rdimkd-r', [f'{loss}.loss_weight={w * f:g}'])
                 for f in factors]
        matched = w * k / self.teacher_channels
        runs.append((f'full L2 weight={matched:g} (matched)', 'fitnet-l2',
                     [f'{loss}.loss_weight={matched:g}']))
        runs += [(f'{arm.upper()} weight={pw * f:g}', arm, [f'{loss}.loss_weight={pw * f:g}'])
                 for arm, pw in self.peers.items() for f in factors]
        return runs

    def schedule_options(self, iters: int) -> List[str]:
        """--cfg-options that set an iteration schedule of length ``iters``."""
        options = [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
                   f'default_hooks.checkpoint.interval={iters}']
        if self.name == 'det':  # LinearLR warm-up, then MultiStepLR at 75% and 90%
            options += [f'param_scheduler.0.end={min(100, iters // 4)}',
                        f'param_scheduler.1.end={iters}',
                        f'param_scheduler.1.milestones=[{int(iters * .75)},{int(iters * .9)}]']
        else:  # PolyLR over the whole schedule
            options += [f'param_scheduler.0.end={iters}']
        return options


SCHEDULES = dict(
    full=Schedule(teacher_iters=1200, student_iters=500, seeds=(0, 1, 2), fit_batches=20),
    quick=Schedule(teacher_iters=60, student_iters=30, seeds=(0, ), fit_batches=2))

ARM_TITLES = {
    'teacher': 'teacher',
    'baseline': 'student (baseline)',
    'rdimkd-r': 'student + RdimKD-R',
    'rdimkd-p': 'student + RdimKD-P',
    'rdimkd-a': 'student + RdimKD-A',
    'fitnet-l2': 'student + full L2 (FitNet)',
    'pkd': 'student + PKD',
    'cwd': 'student + CWD',
}

TASKS: Dict[str, Task] = {
    'det': Task(
        name='det',
        title='Detection: RetinaNet R50 (half width) -> R18 (quarter width), synthetic COCO',
        data_root='data/bench/synthetic_coco_128',
        data_size=dict(num_train=400, num_val=200, image_size=(128, 128)),
        metric_key='coco/bbox_mAP',
        metric_name='bbox mAP (%)',
        metric_scale=100.0,
        distill_point='FPN P3-P5',
        default_k=32,
        default_weight=0.01,
        teacher_channels=128,
        schedules=SCHEDULES,
        peers={'pkd': 10.0}),
    'seg': Task(
        name='seg',
        title='Segmentation: PSPNet R50 (half width) -> R18 (quarter width), '
        'synthetic Cityscapes',
        data_root='data/bench/synthetic_cityscapes_128',
        data_size=dict(num_train=200, num_val=100, image_size=(128, 256)),
        metric_key='mIoU',
        metric_name='mIoU (%)',
        metric_scale=1.0,
        distill_point='PSP head bottleneck',
        default_k=32,
        default_weight=0.1,
        teacher_channels=128,
        schedules=SCHEDULES,
        peers={'cwd': 5.0}),
}
