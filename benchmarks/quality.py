"""Quality benchmark: train every arm with ``tools/train.py`` and collect its final metric.

Runs are independent processes scheduled on ``jobs`` slots (each with ``cpu_count // jobs``
threads); a KD run starts once its task's teacher is trained. A run whose ``result.json``
matches its command and its fingerprint (resolved config, and the teacher's for a KD run) is
not repeated, so an interrupted benchmark continues where it stopped.
"""
import functools
import hashlib
import inspect
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config
from mmengine.runner import Runner, find_latest_checkpoint

from rdimkd_mm.utils.student_config import names_rdimkd
from .tasks import ARM_TITLES, Schedule, Task

REPO_ROOT = Path(__file__).resolve().parents[1]
# Config keys that something reads by name: the Runner's arguments, imports, the runner type.
_READ_KEYS = {*inspect.signature(Runner.__init__).parameters, 'custom_imports', 'runner_type'}


@dataclass
class Run:
    """One training run and, once done, its result."""
    task: Task
    arm: str  # 'teacher', 'baseline' or a KD arm
    group: str  # 'teacher', 'main' or 'sweep'
    label: str
    seed: int
    work_dir: Path
    options: List[str]
    result: Optional[dict] = None
    process: Optional[subprocess.Popen] = field(default=None, repr=False)
    started: float = 0.0
    reused: bool = False  # finished by an earlier invocation

    @property
    def needs_teacher(self) -> bool:
        return self.arm not in ('teacher', 'baseline')

    def command(self, teacher_checkpoint: Optional[Path]) -> List[str]:
        options = list(self.options)
        # The teacher's metric comes from its own run: KD runs skip re-evaluating it.
        flags = []
        if self.needs_teacher:
            options.insert(0, f'model.teacher_checkpoint={teacher_checkpoint}')
            flags.append('--no-teacher-eval')
        return ['tools/train.py', self.task.config(self.arm), '--work-dir',
                os.path.relpath(self.work_dir, REPO_ROOT), *flags, '--cfg-options', *options]


def plan_runs(task: Task, schedule: Schedule, work_root: Path,
              sweep_seeds: int = 1) -> List[Run]:
    """Teacher, then every main arm for every seed, then the sweep: RdimKD-R's runs (and those
    of the task's ``weight_sweep_arms``) on the first ``sweep_seeds`` seeds, the peers' on the
    first seed."""
    root = work_root / task.work_name
    base = [f'default_hooks.logger.interval={max(1, min(50, schedule.student_iters // 5))}']
    runs = [Run(task, 'teacher', 'teacher', ARM_TITLES['teacher'], schedule.seeds[0],
                root / 'teacher',
                base + task.schedule_options(schedule.teacher_iters, validations=2)
                + [f'randomness.seed={schedule.seeds[0]}'])]
    student = task.schedule_options(schedule.student_iters)

    def fit(arm: str) -> List[str]:
        return ([f'custom_hooks.0.num_batches={schedule.fit_batches}']
                if arm in task.fit_hook_arms else [])

    for seed in schedule.seeds:
        for arm in task.arms:
            runs.append(Run(task, arm, 'main', ARM_TITLES[arm], seed,
                            root / f'{arm}_seed{seed}',
                            base + student + fit(arm) + [f'randomness.seed={seed}']))
    for seed in schedule.seeds[:sweep_seeds]:
        for i, (label, arm, extra) in enumerate(task.sweep()):
            if arm not in task.seeded_sweep_arms and seed != schedule.seeds[0]:
                continue
            # The first seed's work dirs keep the name they had when the sweep had one seed.
            name = f'sweep{i}_{arm}' + ('' if seed == schedule.seeds[0] else f'_seed{seed}')
            runs.append(Run(task, arm, 'sweep', label, seed, root / name,
                            base + student + fit(arm) + extra + [f'randomness.seed={seed}']))
    return runs


def _scalars(run: Run) -> List[dict]:
    """The run's records in mmengine's ``vis_data/scalars.json``, in logged order."""
    logs = sorted(run.work_dir.glob('*/vis_data/scalars.json'))
    if not logs:
        raise RuntimeError(f'{run.work_dir} has no scalars.json; see {run.work_dir}/run.log')
    return [json.loads(line) for line in logs[-1].read_text().strip().splitlines()]


def _log_text(run: Run) -> str:
    """What the run's training process printed (its ``run.log``); '' before it ran."""
    log = run.work_dir / 'run.log'
    return log.read_text() if log.exists() else ''


#: What mmdet's CocoMetric logs, returning no metric at all, when the model detected nothing.
NO_DETECTIONS = 'The testing results of the whole dataset is empty'


def _read_metric(run: Run) -> float:
    """The run's final validation metric, from mmengine's ``vis_data/scalars.json``; 0 where
    the final COCO evaluation found no detection at all (a detector early in training whose
    scores are all below its ``score_thr``), whose every AP is 0 and for which CocoMetric logs
    an error and no metric."""
    records = _scalars(run)
    if NO_DETECTIONS in _log_text(run).rpartition('Evaluating bbox')[2]:
        return 0.0
    for record in reversed(records):
        if run.task.metric_key in record:
            return float(record[run.task.metric_key]) * run.task.metric_scale
    raise RuntimeError(f'No {run.task.metric_key!r} in the scalars of {run.work_dir}; see '
                       f'{run.work_dir}/run.log')


def first_kd_ratio(run: Run) -> Tuple[Optional[float], Optional[int]]:
    """The KD/task loss ratio at the first logged training iteration, and that iteration:
    the sum of the distiller's ``kd_ratio_<point>`` (every point's KD loss over the task loss),
    as the log and TensorBoard show it. (None, None) for a run without distillation."""
    for record in _scalars(run):
        ratios = [v for k, v in record.items() if k.startswith('kd_ratio_')]
        if ratios:
            return sum(ratios), record.get('iter')
    return None, None


#: The distiller's start-of-training reading in the run's log (KDScaleMonitor).
START_READING = re.compile(r'KD/task loss ratio over the first (\d+) steps: (\S+)x on average '
                           r'\(KD \S+, task \S+\), (\S+)x at the first step')


def start_reading(run: Run) -> Dict[str, Optional[float]]:
    """The distiller's KD/task loss ratio at the first training step and its mean over the
    first ``kd_check_iters`` steps, from the reading it logs; None where the log has none (no
    distillation, or a run older than that line)."""
    match = START_READING.search(_log_text(run))
    if match is None:
        return dict(kd_ratio_step1=None, kd_ratio_start_mean=None, kd_ratio_start_steps=None)
    return dict(kd_ratio_step1=float(match[3]), kd_ratio_start_mean=float(match[2]),
                kd_ratio_start_steps=int(match[1]))


@functools.lru_cache(maxsize=None)
def _resolved_config_text(path: str) -> str:
    """The resolved config (bases included), read once per invocation for all its seeds,
    without the helper variables of distillation bases (e.g. ``fpn_distill``): the run reads
    them only through ``model``, which holds their resolved values."""
    with warnings.catch_warnings():  # the libraries' import-time deprecation warnings
        warnings.simplefilter('ignore')
        cfg = Config.fromfile(path)
    for key in [k for k in cfg if k not in _READ_KEYS and names_rdimkd(cfg[k])]:
        cfg.pop(key)
    return cfg.pretty_text


def fingerprint(run: Run, teacher: str = '') -> str:
    """A digest of what the run trains: its resolved config (bases included) and, for a KD
    run, its teacher's fingerprint. The command alone would not see an edited config."""
    text = _resolved_config_text(str(REPO_ROOT / run.task.config(run.arm)))
    return hashlib.sha256((text + teacher).encode()).hexdigest()[:16]


def _cached(run: Run, command: List[str], digest: str) -> Optional[dict]:
    path = run.work_dir / 'result.json'
    if not path.is_file():
        return None
    result = json.loads(path.read_text())
    same = result.get('command') == command and result.get('fingerprint') == digest
    return result if same else None


class QualityBenchmark:
    """Runs the planned runs on ``jobs`` parallel slots and prints progress."""

    def __init__(self, runs: List[Run], jobs: int) -> None:
        self.runs = runs
        self.jobs = max(1, jobs)
        self.threads = max(1, (os.cpu_count() or 1) // self.jobs)
        self.teachers: Dict[str, Optional[Path]] = {}
        self.teacher_fingerprints: Dict[str, str] = {}
        self.start = time.time()

    def _ready(self, run: Run) -> bool:
        return not run.needs_teacher or self.teachers.get(run.task.name) is not None

    def _launch(self, run: Run) -> None:
        command = run.command(self.teachers.get(run.task.name))
        digest = fingerprint(run, self.teacher_fingerprints.get(run.task.name, '')
                             if run.needs_teacher else '')
        if run.arm == 'teacher':
            self.teacher_fingerprints[run.task.name] = digest
        cached = _cached(run, command, digest)
        if cached is not None:
            run.result, run.reused = cached, True
            if run.arm == 'teacher':
                self.teachers[run.task.name] = Path(cached['checkpoint'])
            self._report(run, 'reused')
            return
        run.work_dir.mkdir(parents=True, exist_ok=True)
        for old in run.work_dir.glob('2*'):  # logs of an interrupted attempt
            if old.is_dir():
                shutil.rmtree(old)
        # The repo first on the path: a config may import from it (a study's loss).
        path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get('PYTHONPATH')) if p)
        env = dict(os.environ, OMP_NUM_THREADS=str(self.threads),
                   MKL_NUM_THREADS=str(self.threads), PYTHONWARNINGS='ignore', PYTHONPATH=path)
        # The benchmark owns its work dirs: a rerun (an interrupted attempt, another command)
        # replaces the earlier checkpoints. Not part of `command`, which keys the cache.
        argv = [*command, '--overwrite']
        with open(run.work_dir / 'run.log', 'w') as log:  # the child keeps its own handle
            log.write('$ python ' + ' '.join(shlex.quote(c) for c in argv) + '\n')
            log.flush()
            run.started = time.time()
            run.process = subprocess.Popen([sys.executable, *argv], cwd=REPO_ROOT,
                                           env=env, stdout=log, stderr=subprocess.STDOUT)
        run.result = dict(command=command, fingerprint=digest)
        print(f'  start  {run.task.name} {run.label} seed {run.seed}  '
              f'(log: {os.path.relpath(run.work_dir / "run.log", REPO_ROOT)})', flush=True)

    def _finish(self, run: Run) -> None:
        code = run.process.wait()
        run.process = None
        if code != 0:
            log = run.work_dir / 'run.log'
            tail = '\n'.join(log.read_text().splitlines()[-30:])
            raise RuntimeError(f'{run.task.name} {run.label} seed {run.seed} failed '
                               f'(exit {code}); last lines of {log}:\n{tail}')
        run.result.update(metric=_read_metric(run), train_seconds=time.time() - run.started,
                          threads=self.threads)
        if run.arm == 'teacher':
            run.result['checkpoint'] = find_latest_checkpoint(str(run.work_dir))
            self.teachers[run.task.name] = Path(run.result['checkpoint'])
        (run.work_dir / 'result.json').write_text(json.dumps(run.result, indent=2))
        self._report(run, f'{run.result["train_seconds"]:.0f} s')

    def _report(self, run: Run, how: str) -> None:
        done = sum(r.result is not None and r.process is None for r in self.runs)
        elapsed = (time.time() - self.start) / 60
        print(f'[{done}/{len(self.runs)}] {run.task.name} {run.label} seed {run.seed}: '
              f'{run.task.metric_name} {run.result["metric"]:.2f} ({how}); '
              f'{elapsed:.1f} min elapsed', flush=True)

    def run(self) -> List[Run]:
        pending = list(self.runs)
        active: List[Run] = []
        try:
            while pending or active:
                for run in [r for r in active if r.process.poll() is not None]:
                    active.remove(run)
                    self._finish(run)
                while len(active) < self.jobs:
                    ready = next((r for r in pending if self._ready(r)), None)
                    if ready is None:
                        break
                    pending.remove(ready)
                    self._launch(ready)
                    if ready.process is not None:
                        active.append(ready)
                if active:
                    time.sleep(1.0)
                elif pending:
                    raise RuntimeError('Runs wait for a teacher that is not planned: '
                                       f'{[r.label for r in pending]}')
        finally:  # a failed run or Ctrl-C stops the runs still going
            for run in active:
                if run.process is not None and run.process.poll() is None:
                    run.process.terminate()
                    run.process.wait()
        return self.runs


def collect(runs: List[Run]) -> List[dict]:
    """JSON rows of every finished run."""
    rows = []
    for r in runs:
        kd_ratio, kd_ratio_iter = first_kd_ratio(r) if r.needs_teacher else (None, None)
        rows.append(dict(
            task=r.task.name, arm=r.arm, group=r.group, label=r.label, seed=r.seed,
            metric=r.result['metric'], kd_ratio=kd_ratio, kd_ratio_iter=kd_ratio_iter,
            **start_reading(r),
            train_seconds=r.result.get('train_seconds'), reused=r.reused,
            command='python ' + ' '.join(shlex.quote(c) for c in r.result['command'])))
    return rows
