"""Cost benchmark: time per training iteration and peak memory, student alone vs with KD.

Every arm is built from the benchmark's own configs and trained on the same real batch of the
task's train dataloader, with ``model.train_step`` (data preprocessor, forward, backward and
an AdamW step), so the numbers are those of ``tools/train.py`` minus data loading. Arms are
timed round-robin (the order rotates every round) and each ratio is taken within a round, then
the median over rounds, so slow drifts of a shared machine cancel out. The teacher's weights
are random (cost does not depend on them). Peak memory is measured with only that arm built:
on a GPU ``torch.cuda.max_memory_allocated`` after the timing's models are freed; on a CPU the
peak resident set size of a fresh process. Both train 1 + 3 steps and measure the last 3.
"""
import argparse
import copy
import gc
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import rdimkd_mm  # noqa: E402,F401
from benchmarks.tasks import TASKS, Task, method_name  # noqa: E402
from rdimkd_mm.engine.projection_fit import fit_projections, losses_to_fit  # noqa: E402
from rdimkd_mm.registry import MODELS  # noqa: E402
from rdimkd_mm.utils import build_model  # noqa: E402

# Training-step arms: (name, config arm, teacher_early_exit), then the task's peers (PKD, CWD).
STEP_ARMS = [
    ('student alone', 'baseline', None),
    ('KD RdimKD-R', 'rdimkd-r', True),
    ('KD RdimKD-R, full teacher forward', 'rdimkd-r', False),
    ('KD RdimKD-P', 'rdimkd-p', True),
    ('KD RdimKD-A', 'rdimkd-a', True),
    ('KD full L2 (FitNet)', 'fitnet-l2', True),
]
# The distillation loss alone, forward and backward: (name, config arm), then the peers'.
LOSS_ARMS = [('RdimKD-R loss alone (connector + projection + L2)', 'rdimkd-r'),
             ('full L2 loss alone (connector + L2)', 'fitnet-l2')]


def step_arms(task: Task) -> List[Tuple[str, str, Optional[bool]]]:
    return STEP_ARMS + [(f'KD {arm.upper()}', arm, True) for arm in task.peers]


def loss_arms(task: Task) -> List[Tuple[str, str]]:
    return LOSS_ARMS + [(f'{arm.upper()} loss alone (connector + loss)', arm)
                        for arm in task.peers]


def memory_arms(task: Task) -> List[str]:
    """Arms whose peak memory is measured, each built alone: the steps, then the losses."""
    return [arm[0] for arm in step_arms(task)] + [arm[0] for arm in loss_arms(task)]


PYTORCH_FOCAL_LOSS_NOTE = (
    "mmdet's FocalLoss ran as its pure-PyTorch implementation (one-hot targets and "
    '`py_sigmoid_focal_loss`, the path it takes on a CPU) instead of mmcv\'s compiled CUDA '
    '`sigmoid_focal_loss`, because mmcv was built without CUDA ops on this machine. This '
    'makes the detection student step slower than with mmcv\'s CUDA op, for every arm alike; '
    'the ratios hold within that setting. Segmentation (PSPNet) needs no mmcv op.')


def use_pytorch_focal_loss() -> str:
    """Make mmdet's ``FocalLoss`` use its pure-PyTorch code for CUDA tensors as well.

    mmdet 3.x calls mmcv's compiled ``sigmoid_focal_loss`` for CUDA tensors, which fails with
    an mmcv built with CPU ops only (``MMCV_WITH_OPS=1 FORCE_CUDA=0``). This replaces that call
    by what ``FocalLoss`` does on a CPU: one-hot targets (background column dropped) and
    ``py_sigmoid_focal_loss``, the same loss. Returns the note for the results.
    """
    import torch.nn.functional as F
    from mmdet.models.losses import focal_loss

    def sigmoid_focal_loss(pred, target, weight=None, gamma=2.0, alpha=0.25,
                           reduction='mean', avg_factor=None):
        num_classes = pred.size(1)
        target = F.one_hot(target, num_classes=num_classes + 1)[:, :num_classes]
        return focal_loss.py_sigmoid_focal_loss(pred, target, weight, gamma=gamma, alpha=alpha,
                                                reduction=reduction, avg_factor=avg_factor)

    focal_loss.sigmoid_focal_loss = sigmoid_focal_loss
    return PYTORCH_FOCAL_LOSS_NOTE


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


class CostArms:
    """Builds the arms of one task on ``device`` and gives a callable step for each."""

    def __init__(self, task: Task, device: str, work_dir: Path, fit_batches: int) -> None:
        self.task, self.device, self.fit_batches = task, device, fit_batches
        cfg = Config.fromfile(str(REPO_ROOT / task.config('baseline')))
        self.scope = cfg.default_scope
        self.loader_cfg = copy.deepcopy(cfg.train_dataloader)
        self.loader_cfg.update(num_workers=0, persistent_workers=False)
        self.batch = next(iter(self._loader()))
        self.teacher_checkpoint = work_dir / f'{task.name}_random_teacher.pth'
        if not self.teacher_checkpoint.is_file():
            torch.manual_seed(0)
            teacher, _ = build_model(str(REPO_ROOT / task.config('teacher')))
            work_dir.mkdir(parents=True, exist_ok=True)
            torch.save(dict(state_dict=teacher.state_dict()), self.teacher_checkpoint)
        self.fit_seconds: Dict[str, float] = {}

    def _loader(self):
        """A fresh train dataloader: a second iterator over one InfiniteSampler yields nothing
        once the first is closed."""
        with DefaultScope.overwrite_default_scope(self.scope):
            return Runner.build_dataloader(copy.deepcopy(self.loader_cfg), seed=0)

    def build(self, config_arm: str, early_exit: Optional[bool]) -> torch.nn.Module:
        """The student (config_arm 'baseline') or a distiller, on the device, fitted."""
        cfg = Config.fromfile(str(REPO_ROOT / self.task.config(config_arm)))
        if early_exit is not None:
            cfg.model.teacher_checkpoint = str(self.teacher_checkpoint)
            cfg.model.teacher_early_exit = early_exit
        torch.manual_seed(0)
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)  # init_weights logs every parameter without a runner
        try:
            with DefaultScope.overwrite_default_scope(self.scope):
                model = MODELS.build(cfg.model)
                model.init_weights()
        finally:
            logger.setLevel(level)
        with DefaultScope.overwrite_default_scope(self.scope):
            model.to(self.device).train()
            if early_exit is not None and losses_to_fit(model):
                _sync(self.device)
                start = time.perf_counter()
                fit_projections(model, self._loader(), self.fit_batches, progress=False)
                _sync(self.device)
                self.fit_seconds[config_arm] = time.perf_counter() - start
        return model

    def train_step(self, model: torch.nn.Module) -> Callable[[], None]:
        optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-5))

        def step() -> None:
            model.train_step(self.batch, optim)

        return step

    def teacher_forward(self, distiller: torch.nn.Module, early_exit: bool) -> Callable[[], None]:
        batch = distiller.data_preprocessor(self.batch, True)

        def forward() -> None:
            default, distiller.teacher_early_exit = distiller.teacher_early_exit, early_exit
            distiller.teacher_features(batch['inputs'], batch['data_samples'])
            distiller.teacher_early_exit = default

        return forward

    def loss_only(self, distiller: torch.nn.Module) -> Callable[[], None]:
        """Connector + projection + L2 (forward and backward) on features of the real shapes."""
        batch = distiller.data_preprocessor(self.batch, True)
        point = distiller.points[0]
        teacher = distiller.teacher_features(batch['inputs'], batch['data_samples'])
        with torch.no_grad(), distiller.student_taps.recording():
            distiller.student.loss(batch['inputs'], batch['data_samples'])
        student = [f.detach().requires_grad_() for f in
                   distiller.student_taps.collect()[point['student']]]
        loss = distiller.distill_losses[point['name']]

        def step() -> None:
            sum(loss.level_losses(student, teacher[point['teacher']])).backward()

        return step


def _time_round_robin(steps: Dict[str, Callable[[], None]], device: str, rounds: int,
                      iters: int, warmup: int, progress: Callable[[str], None]
                      ) -> Dict[str, List[float]]:
    for fn in steps.values():
        for _ in range(warmup):
            fn()
    times: Dict[str, List[float]] = {name: [] for name in steps}
    names = list(steps)
    for r in range(rounds):
        # Rotate the order every round, so that no arm always runs right after the same one.
        for name in names[r % len(names):] + names[:r % len(names)]:
            fn = steps[name]
            _sync(device)
            start = time.perf_counter()
            for _ in range(iters):
                fn()
            _sync(device)
            times[name].append((time.perf_counter() - start) / iters)
        progress(f'round {r + 1}/{rounds}')
    return times


def _median_ratio(times: Dict[str, List[float]], num: str, den: str) -> float:
    return statistics.median(a / b for a, b in zip(times[num], times[den]))


def measure_task(task: Task, device: str, work_dir: Path, rounds: int, iters: int,
                 warmup: int, fit_batches: int) -> dict:
    """Times (and on a GPU, memory) of every arm of one task."""
    def progress(msg: str) -> None:
        print(f'  cost {task.name}: {msg}', flush=True)

    arms = CostArms(task, device, work_dir, fit_batches)
    steps, models = {}, {}
    for name, config_arm, early_exit in step_arms(task):
        progress(f'building {name}')
        models[name] = arms.build(config_arm, early_exit)
        steps[name] = arms.train_step(models[name])
    student, kd_r = 'student alone', 'KD RdimKD-R'
    teacher_fwd = 'teacher forward to the distilled features'
    steps[teacher_fwd] = arms.teacher_forward(models[kd_r], True)
    steps['teacher full forward'] = arms.teacher_forward(models[kd_r], False)
    early_exit_models = {arm: models[name] for name, arm, early_exit in step_arms(task)
                         if early_exit}
    for name, config_arm in loss_arms(task):
        steps[name] = arms.loss_only(early_exit_models[config_arm])
    (loss_r, _), (loss_l2, _) = LOSS_ARMS
    times = _time_round_robin(steps, device, rounds, iters, warmup, progress)

    kd_vs_parts = statistics.median(
        k / (s + t) for k, s, t in zip(times[kd_r], times[student], times[teacher_fwd]))
    result = dict(
        task=task.name,
        times_ms={name: statistics.median(v) * 1e3 for name, v in times.items()},
        times_ms_all={name: [x * 1e3 for x in v] for name, v in times.items()},
        ratios={
            'KD RdimKD-R step / student step': _median_ratio(times, kd_r, student),
            'KD RdimKD-R step / (student step + teacher feature forward)': kd_vs_parts,
            'KD step, full teacher / early exit': _median_ratio(
                times, 'KD RdimKD-R, full teacher forward', kd_r),
            'teacher forward, full / to the distilled features': _median_ratio(
                times, 'teacher full forward', teacher_fwd),
            'RdimKD-R loss alone / KD RdimKD-R step': _median_ratio(times, loss_r, kd_r),
            'full L2 loss alone / RdimKD-R loss alone': _median_ratio(times, loss_l2, loss_r),
        },
        fit_seconds={method_name(arm): s for arm, s in arms.fit_seconds.items()},
        fit_batches=fit_batches,
        batch_size=len(arms.batch['inputs']),
        input_shape=list(arms.batch['inputs'][0].shape),
        rounds=rounds, iters_per_round=iters, warmup=warmup)
    for (step, _, _), (loss, _) in zip(step_arms(task)[len(STEP_ARMS):],
                                       loss_arms(task)[len(LOSS_ARMS):]):
        result['ratios'].update({  # one key for PKD (det) and CWD (seg): one README row
            'KD peer step / KD RdimKD-R step': _median_ratio(times, step, kd_r),
            'peer loss alone / RdimKD-R loss alone': _median_ratio(times, loss, loss_r)})
    if device.startswith('cuda'):
        # Free the timing's models first: each arm's memory is measured with it alone.
        del steps, models, early_exit_models
        gc.collect()
        torch.cuda.empty_cache()
        result['memory'] = {}
        for index, name in enumerate(memory_arms(task)):
            result['memory'][name] = _cuda_memory(_memory_step(arms, index))
            gc.collect()
            torch.cuda.empty_cache()
            progress(f'peak memory of {name}: {result["memory"][name]["peak_mb"]:.0f} MB')
        result['memory_kind'] = CUDA_MEMORY_KIND
    return result


CUDA_MEMORY_KIND = ('torch.cuda.max_memory_allocated with only that arm on the GPU (built '
                    'alone after the timed models were freed), over 3 steps after 1; growth = '
                    'that peak minus the memory allocated before them')


def _cuda_memory(step: Callable[[], None]) -> dict:
    step()  # first step: lazy allocations (optimizer state) as in training
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated() / 2**20
    torch.cuda.reset_peak_memory_stats()
    for _ in range(3):
        step()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() / 2**20
    return dict(peak_mb=peak, growth_mb=peak - before)


def _memory_step(arms: CostArms, index: int) -> Callable[[], None]:
    """The step of ``memory_arms(task)[index]``, with only that arm built."""
    steps = step_arms(arms.task)
    if index < len(steps):
        _, config_arm, early_exit = steps[index]
        return arms.train_step(arms.build(config_arm, early_exit))
    return arms.loss_only(arms.build(loss_arms(arms.task)[index - len(steps)][1], True))


def _proc_status_mb(key: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process, in MB."""
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith(key + ':'):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f'/proc/self/status has no {key}; CPU memory needs Linux.')


def _reset_peak_rss() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0); getrusage's maxrss cannot be reset and
    even inherits the parent's peak across fork."""
    Path('/proc/self/clear_refs').write_text('5')


CPU_MEMORY_KIND = ('peak resident set size (RSS, Linux VmHWM) of a fresh process that builds '
                   'only that arm and runs 1 + 3 steps, over the last 3; growth = that peak '
                   'minus the RSS before them')


def cpu_peak_memory(task: Task, work_dir: Path, fit_batches: int, jobs: int) -> dict:
    """Peak RSS of a fresh process per arm (``jobs`` at a time) and its growth in the steps."""
    results: Dict[str, dict] = {}
    pending = list(enumerate(memory_arms(task)))
    active = []
    while pending or active:
        while pending and len(active) < jobs:
            i, name = pending.pop(0)
            cmd = [sys.executable, '-m', 'benchmarks.cost', '--memory-arm', task.name, str(i),
                   '--work-dir', str(work_dir), '--fit-batches', str(fit_batches)]
            # glibc returns freed blocks to the OS at once, so RSS follows live memory.
            env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1',
                       MALLOC_MMAP_THRESHOLD_='131072', MALLOC_TRIM_THRESHOLD_='131072')
            active.append((name, subprocess.Popen(cmd, cwd=REPO_ROOT, env=env,
                                                  stdout=subprocess.PIPE,
                                                  stderr=subprocess.PIPE, text=True)))
        name, proc = active.pop(0)
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f'Memory run of {task.name} {name!r} failed:\n{err[-3000:]}')
        results[name] = json.loads(out.strip().splitlines()[-1])
        print(f'  cost {task.name}: peak memory of {name}: '
              f'{results[name]["peak_mb"]:.0f} MB', flush=True)
    return results


def _memory_arm(task_name: str, index: int, work_dir: Path, fit_batches: int) -> None:
    task = TASKS[task_name]
    arms = CostArms(task, 'cpu', work_dir, fit_batches)
    step = _memory_step(arms, index)
    step()  # first step: lazy allocations (optimizer state, kernels) as in training
    before = _proc_status_mb('VmRSS')
    _reset_peak_rss()
    for _ in range(3):
        step()
    peak = _proc_status_mb('VmHWM')
    print(json.dumps(dict(peak_mb=peak, growth_mb=peak - before)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--memory-arm', nargs=2, metavar=('TASK', 'INDEX'), required=True,
                        help='(internal) measure the peak RSS of one arm and print JSON')
    parser.add_argument('--work-dir', type=Path, required=True)
    parser.add_argument('--fit-batches', type=int, default=2)
    args = parser.parse_args()
    _memory_arm(args.memory_arm[0], int(args.memory_arm[1]), args.work_dir, args.fit_batches)


if __name__ == '__main__':
    main()
