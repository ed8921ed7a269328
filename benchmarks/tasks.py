"""What the benchmark runs: per task, its data, configs, arms, schedules and sweep.

Every arm is an ordinary config under ``benchmarks/configs/<task>/`` trained with
``tools/train.py``; the runner only adds ``--cfg-options`` (seed, schedule length, teacher
checkpoint, sweep values), which it prints and stores next to each result.
"""
import dataclasses
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

from mmengine.config import Config

CONFIG_DIR = 'benchmarks/configs'
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Schedule:
    """Iterations of one benchmark mode (full or quick)."""
    teacher_iters: int
    student_iters: int
    seeds: Tuple[int, ...]
    fit_batches: int


@dataclass(frozen=True)
class Task:
    """One task of the benchmark: a teacher-student pair on one kind of synthetic data."""
    name: str  # names its configs (benchmarks/configs/<name>/) and work dirs
    kind: str  # 'det' or 'seg': the synthetic data and the schedule's shape
    title: str
    data_root: str
    data_size: Dict[str, object]
    metric_key: str  # key of the metric in mmengine's scalars.json
    metric_name: str
    metric_scale: float  # multiply the logged value to report it (mAP -> percent)
    distill_point: str  # the distilled feature, in words
    # The shipped default that the ``default_arm`` inherits untouched (the other RdimKD arms
    # and full L2 change only the projection).
    default_config: str
    # The arm of the shipped default: RdimKD-R for detection, RdimKD-A for segmentation.
    default_arm: str = 'rdimkd-r'
    # Arms whose config has FitProjectionsHook (P and A fit K; full L2 measures the teacher's
    # variance for its teacher normalisation).
    fit_hook_arms: Tuple[str, ...] = ('rdimkd-p', 'rdimkd-a', 'fitnet-l2')
    # The KD arms of the method itself, each trained with every seed.
    kd_arms: Tuple[str, ...] = ('rdimkd-r', 'rdimkd-p', 'rdimkd-a', 'fitnet-l2')
    schedules: Dict[str, Schedule] = field(default_factory=dict)
    # Arms of the peer methods users compare with (PKD, CWD): arm -> the published loss weight
    # its config uses, the centre of its weight sweep.
    peers: Dict[str, float] = field(default_factory=dict)
    # KD arms besides RdimKD-R whose loss weight the sweep also varies (x1/4 to x4) on every
    # sweep seed: is another variant as robust to its weight as R?
    weight_sweep_arms: Tuple[str, ...] = ()
    # Whether the sweep also runs RdimKD-R at x1/16 and x16 and at k = C_t / 8 and C_t / 2; a
    # family whose runs cost more keeps to x1/4..x4 of the weight (benchmarks/README.md).
    wide_sweep: bool = True
    # A study's variant of the task ``work_of`` (``STUDIES``): its arm configs are looked up in
    # ``config_dir`` first, then in that task's folder, and its runs share that task's work dirs,
    # so the teacher and the arms both have are trained once.
    work_of: str = ''
    config_dir: str = ''
    # The arms every KD arm is compared with besides the baseline; empty: the RdimKD arms with
    # the default, full L2 and the peers.
    references: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.default_arm not in self.seeded_sweep_arms:
            raise ValueError(f'Task {self.name!r}: its default arm {self.default_arm!r} has no '
                             'weight sweep; add it to weight_sweep_arms.')

    @property
    def arms(self) -> Tuple[str, ...]:
        """The main arms, each trained with every seed: the baseline, the KD arms (RdimKD-R/-P/-A
        and full L2 unless the task names fewer) and the task's peers."""
        return ('baseline', *self.kd_arms, *self.peers)

    def config(self, arm: str) -> str:
        """The config file of an arm ('teacher', 'baseline' = student alone, or a KD arm)."""
        name = 'student' if arm == 'baseline' else arm
        own = f'{self.config_dir}/{name}.py'
        if self.config_dir and (REPO_ROOT / own).is_file():
            return own
        return f'{CONFIG_DIR}/{self.work_name}/{name}.py'

    @property
    def work_name(self) -> str:
        """The folder of its runs under the work root (and of its configs, for a task's own)."""
        return self.work_of or self.name

    def distill_points(self, arm: str) -> List[dict]:
        """The distillation points of a KD arm's config, as dicts."""
        with warnings.catch_warnings():  # the libraries' import-time deprecation warnings
            warnings.simplefilter('ignore')
            cfg = Config.fromfile(self.config(arm))
        return [point.to_dict() for point in cfg.model.distill]

    def loss(self, arm: str) -> dict:
        """The loss dict of a KD arm's (single) distillation point, from its config."""
        return self.distill_points(arm)[0]['loss']

    @property
    def default_weight(self) -> float:
        """The loss weight of the shipped default (the centre of its arm's weight sweep)."""
        return float(self.loss(self.default_arm)['loss_weight'])

    def sweep(self) -> List[Tuple[str, str, List[str]]]:
        """The sweep's runs: (label, arm, extra cfg-options).

        RdimKD-R's loss weight at 1/4, 1/2, 2 and 4 times its config's (is it near the best,
        and is no weight worse than no distillation?); each peer at 1/4 and 4 times its
        published weight; for detection, RdimKD-R on all five FPN levels; with ``wide_sweep``,
        RdimKD-R at 1/16 and 16 times (the first KD/task loss ratio of the zoo pairs at the
        default spans about this range, since their task losses do: README, "Loss scale") and
        its k at half and twice its config's fraction of C_t (k = C_t / 8 and C_t / 2); each
        of ``weight_sweep_arms`` at 1/4 to 4 times its config's weight.
        """
        if 'rdimkd-r' not in self.arms and not self.work_of:
            return []  # a study family without RdimKD-R: no sweep around it
        loss = 'model.distill.0.loss'
        default = self.loss('rdimkd-r')  # the config is read once
        weight, k = float(default['loss_weight']), float(default['projection']['k'])

        def weighted(factors, arm='rdimkd-r', weight=weight):
            return [(_weight_label(arm, f), arm, [f'{loss}.loss_weight={weight * f:g}'])
                    for f in factors]

        runs = weighted((0.25, 0.5, 2, 4))
        runs += [(_weight_label(arm, published * f), arm,
                  [f'{loss}.loss_weight={published * f:g}'])
                 for arm, published in self.peers.items() for f in (0.25, 4)]
        if self.name == 'det':
            runs.append(('RdimKD-R all FPN levels (P3-P7)', 'rdimkd-r',
                         ['model.distill.0.student=neck', 'model.distill.0.teacher=neck']))
        # Appended in the order they were added, so that the earlier runs keep their work dirs
        # (sweep<i>_<arm>) and results: x1/16 and x16, then k at half and twice the default's.
        if self.wide_sweep:
            runs += weighted((0.0625, 16))
            runs += [(f'RdimKD-R k=C_t/{round(1 / (k * f))}', 'rdimkd-r',
                      [f'{loss}.projection.k={k * f:g}']) for f in (0.5, 2)]
        for arm in self.weight_sweep_arms:
            runs += weighted((0.25, 0.5, 2, 4), arm, float(self.loss(arm)['loss_weight']))
        return runs

    @property
    def seeded_sweep_arms(self) -> Tuple[str, ...]:
        """The arms whose sweep runs on every sweep seed (``--sweep-seeds``); the peers' runs
        stay on the first seed."""
        return ('rdimkd-r', *self.weight_sweep_arms)

    def sweep_centres(self) -> Dict[str, str]:
        """The main arms the sweep varies, labelled as in the sweep's table: label -> arm (the
        RdimKD arms at their configs' weights, the shipped default's marked, each peer at its
        published weight)."""
        centres = {_weight_label(arm, 1) + (' (the default)' if arm == self.default_arm else ''):
                   arm for arm in self.seeded_sweep_arms}
        centres.update({_weight_label(arm, published) + ' (published)': arm
                        for arm, published in self.peers.items()})
        return centres

    def schedule_options(self, iters: int, validations: int = 1) -> List[str]:
        """--cfg-options that set an iteration schedule of length ``iters``, validated
        ``validations`` times (evenly spaced, the last at the end)."""
        options = [f'train_cfg.max_iters={iters}',
                   f'train_cfg.val_interval={iters // validations}',
                   f'default_hooks.checkpoint.interval={iters}']
        if self.kind == 'det':  # LinearLR warm-up, then MultiStepLR at 75% and 90%
            options += [f'param_scheduler.0.end={min(100, iters // 4)}',
                        f'param_scheduler.1.end={iters}',
                        f'param_scheduler.1.milestones=[{int(iters * .75)},{int(iters * .9)}]']
        else:  # PolyLR over the whole schedule
            options += [f'param_scheduler.0.end={iters}']
        return options


def _weight_label(arm: str, weight: float) -> str:
    """A weight run's label: an RdimKD arm's as a factor of its config's weight ('RdimKD-R
    weight x0.25'), a peer's as its weight ('PKD weight=2.5')."""
    if arm.startswith('rdimkd-'):
        return f'{method_name(arm)} weight x{weight:g}'
    return f'{arm.upper()} weight={weight:g}'


QUICK = Schedule(teacher_iters=60, student_iters=30, seeds=(0, ), fit_batches=2)
SEEDS = (0, 1, 2, 3, 4)
# The teachers train once (reused by every KD run and by reruns), so they train far longer than
# the students; the lengths are the calibrated ones of
# benchmarks/studies/calibration/calibration_notes.md.
DET_SCHEDULES = dict(
    full=Schedule(teacher_iters=3000, student_iters=300, seeds=SEEDS, fit_batches=20),
    quick=QUICK)
SEG_SCHEDULES = dict(
    full=Schedule(teacher_iters=2400, student_iters=300, seeds=SEEDS, fit_batches=20),
    quick=QUICK)

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


def method_name(arm: str) -> str:
    """The arm's title without 'student + ': 'RdimKD-R', 'full L2 (FitNet)', ..."""
    return ARM_TITLES[arm].replace('student + ', '')


# What both detection pairs share: the data (easier than the demo set so that a from-scratch
# RetinaNet learns it on 2 CPU cores, studies/calibration/calibration_notes.md: no 8-16 px
# shapes, solid colours, fewer shapes / distractors), the metric, the shipped default and the
# schedules.
DETECTION = dict(
    kind='det',
    data_root='data/bench/synthetic_coco_128_solid',
    data_size=dict(num_train=1000, num_val=200, image_size=(128, 128), max_objects=6,
                   small_prob=0.0, max_distractors=3, patterns=False),
    metric_key='coco/bbox_mAP',
    metric_name='bbox mAP (%)',
    metric_scale=100.0,
    default_config='configs/_base_/distill/rdimkd-r_fpn.py',
    schedules=DET_SCHEDULES)

TASKS: Dict[str, Task] = {
    'det': Task(
        name='det',
        title='Detection: RetinaNet R18 (half width) -> R18 (quarter width), synthetic COCO',
        distill_point='FPN P3-P5',
        peers={'pkd': 10.0},
        **DETECTION),
    # A second detector family on the same data, to check that the detection default transfers:
    # RTMDet's task loss (quality focal + GIoU) starts on another scale than RetinaNet's (README,
    # "Loss scale"). Only the default and its sweep, against the baseline.
    'det-rtmdet': Task(
        name='det-rtmdet',
        title='Detection: RTMDet-S -> RTMDet-tiny, synthetic COCO',
        distill_point='PAFPN P3-P5 (all its levels)',
        kd_arms=('rdimkd-r', ),
        **DETECTION),
    # A third family, at the other end: YOLOX's task loss (objectness BCE summed over every
    # prior, per positive) starts high, so the default's first KD/task ratio is the zoo's lowest.
    'det-yolox': Task(
        name='det-yolox',
        title='Detection: YOLOX-S -> YOLOX-tiny, synthetic COCO',
        distill_point='PAFPN P3-P5 (all its levels)',
        kd_arms=('rdimkd-r', ),
        **DETECTION),
    # A fourth family, the two-stage one: Faster R-CNN, whose FPN starts at P2, so the default's
    # first three neck levels are P2-P4 (strides 4-16), and whose task loss adds the RPN's to the
    # RoI head's.
    'det-frcnn': Task(
        name='det-frcnn',
        title='Detection: Faster R-CNN R18 (half width) -> R18 (quarter width), synthetic COCO',
        distill_point='FPN P2-P4',
        kd_arms=('rdimkd-r', ),
        # Its runs take about twice a RetinaNet run's time on CPU (the RoI head, P2).
        wide_sweep=False,
        **DETECTION),
    'seg': Task(
        name='seg',
        kind='seg',
        title='Segmentation: PSPNet R18 (half width) -> R18 (quarter width), '
        'synthetic Cityscapes',
        data_root='data/bench/synthetic_cityscapes_128',
        data_size=dict(num_train=200, num_val=100, image_size=(128, 256)),
        metric_key='mIoU',
        metric_name='mIoU (%)',
        metric_scale=1.0,
        distill_point='PSP head bottleneck',
        default_config='configs/_base_/distill/rdimkd-a_seg-head.py',
        # A beat the baseline on every seed of ten where R, at the same point and weight, did
        # on nine (benchmarks/results/seg_10_seeds), and on every weight of its sweep
        # (seg_a_sweep), 2.5 the best.
        default_arm='rdimkd-a',
        schedules=SEG_SCHEDULES,
        peers={'cwd': 5.0},
        # The default's weight sweep, next to R's.
        weight_sweep_arms=('rdimkd-a', )),
}

# Studies: variants of a task whose extra arms live in a study's folder and are reported there
# (``--tasks <study> --results-dir <its folder>``), not in the benchmark's table. They share
# the task's teacher and work dirs.
STUDY_TITLES = {
    'rdimkd-a-logits': 'student + RdimKD-A at the logits (k=10)',
    'cwd-bottleneck': 'student + CWD at the bottleneck',
    'rdimkd-a+cwd5': 'student + RdimKD-A (head feature) + CWD (logits, weight 5)',
    'rdimkd-a+cwd1': 'student + RdimKD-A (head feature) + CWD (logits, weight 1.25)',
    'rdimkd-a-kl': 'student + RdimKD-A, spatial-softmax KL in the subspace',
    'rdimkd-a-layer4': 'student + RdimKD-A at the head feature and backbone layer4',
    'rdimkd-a-layer4-only': 'student + RdimKD-A at backbone layer4 alone',
}
ARM_TITLES.update(STUDY_TITLES)

STUDIES: Dict[str, Task] = {
    # Segmentation: where (bottleneck feature or logits) and how (L2 of standardised
    # projections or per-channel spatial-softmax KL) each method distils, and the two together
    # (benchmarks/studies/seg_recipe/README.md).
    'seg-recipe': dataclasses.replace(
        TASKS['seg'],
        name='seg-recipe',
        title='Segmentation recipe study: PSPNet R18 (half width) -> R18 (quarter width), '
        'synthetic Cityscapes',
        distill_point='per arm',
        work_of='seg',
        config_dir='benchmarks/studies/seg_recipe/configs',
        kd_arms=('rdimkd-a', *STUDY_TITLES),
        fit_hook_arms=('rdimkd-a', 'rdimkd-a-logits', 'rdimkd-a+cwd5', 'rdimkd-a+cwd1',
                       'rdimkd-a-kl', 'rdimkd-a-layer4', 'rdimkd-a-layer4-only'),
        references=('rdimkd-a', 'cwd')),
    # The same study's second segmentor family: DeepLabV3+ on the same data, its own teacher
    # (half the benchmark teacher's iterations, to fit the study's time), the same student
    # schedule and seeds; the baseline, today's default, CWD and the recipe's two best arms.
    'seg-dlv3p': dataclasses.replace(
        TASKS['seg'],
        name='seg-dlv3p',
        title='Segmentation recipe study, second family: DeepLabV3+ R18 (half width) -> R18 '
        '(quarter width), synthetic Cityscapes',
        distill_point='per arm',
        config_dir='benchmarks/studies/seg_recipe/configs/deeplabv3plus',
        schedules=dict(SEG_SCHEDULES, full=dataclasses.replace(SEG_SCHEDULES['full'],
                                                               teacher_iters=1200)),
        kd_arms=('rdimkd-a', 'rdimkd-a-layer4', 'rdimkd-a+cwd1'),
        fit_hook_arms=('rdimkd-a', 'rdimkd-a-layer4', 'rdimkd-a+cwd1'),
        references=('rdimkd-a', 'cwd')),
}
# Every task the runner can run: the benchmark's and the studies'.
ALL_TASKS: Dict[str, Task] = {**TASKS, **STUDIES}
