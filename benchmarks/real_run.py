"""The real-data suites of the benchmark: ``python benchmarks/run.py --suite coco|cityscapes``.

    python benchmarks/run.py --suite coco --dry-run --launcher slurm --partition gpu
    python benchmarks/run.py --suite coco --launcher pytorch --gpus 8 --seeds 3
    python benchmarks/run.py --suite cityscapes --pairs pspnet_r101-r18 --retrain-baseline

Per pair: the teacher evaluated once (``tools/test.py --teacher``), every arm (the RdimKD
default first, then the pair's other variants and its peer, PKD or CWD) trained with
``tools/train.py`` on every seed, the student baseline read from the zoo metafile (or, with
``--retrain-baseline``, trained on every seed for paired differences). Commands run one after
the other (each job uses ``--gpus`` GPUs); a run whose ``result.json`` records the same command
is reused, an interrupted one resumes from its last checkpoint. Writes
``<results>/<suite>.json``, ``.md`` and ``.png``.
"""
import argparse
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from mmengine.config import Config

from .quality import NO_DETECTIONS
from .suites import ARM_TITLES, REPO_ROOT, SUITES, Pair, Suite, student_zoo_config


@dataclass
class Step:
    """One job of the plan: a teacher evaluation or a training run."""
    pair: Pair
    arm: str  # 'teacher', 'baseline' or an arm of the pair
    seed: Optional[int]
    work_dir: str  # relative to the repository
    argv: List[str]  # what runs, from the repository root
    env: Dict[str, str] = field(default_factory=dict)

    @property
    def shell(self) -> str:
        """The command as one shell line, environment first."""
        env = [f'{k}={shlex.quote(v)}' for k, v in self.env.items()]
        return ' '.join(env + [shlex.quote(a) for a in self.argv])


def parse_args(argv: List[str], suite: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f'benchmarks/run.py --suite {suite}',
                                     description=__doc__.split('\n')[0])
    pairs = [p.name for p in SUITES[suite].pairs]
    parser.add_argument('--pairs', nargs='+', choices=pairs, default=pairs)
    parser.add_argument('--arms', nargs='+', help="only these arms of each pair (e.g. 'rdimkd-r "
                        "pkd'); default: all; the teacher is always evaluated")
    parser.add_argument('--seeds', type=int, default=1, help='train every arm on seeds 0..N-1')
    parser.add_argument('--retrain-baseline', action='store_true',
                        help='train the student alone on every seed (paired differences) in '
                        "place of the zoo metafile's number")
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    parser.add_argument('--gpus', type=int, default=SUITES[suite].gpus,
                        help='GPUs per job (pytorch, slurm); default: the number the configs '
                        f'are written for, {SUITES[suite].gpus}')
    parser.add_argument('--gpus-per-node', type=int, help='slurm: default min(--gpus, 8)')
    parser.add_argument('--partition', help='slurm partition (required with --launcher slurm)')
    parser.add_argument('--data-root', help=f'the dataset (default: the configs\', '
                        f'{SUITES[suite].data_root})')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate to the total batch size (fewer GPUs '
                        'than the config was written for)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='added to every command (e.g. a shorter schedule)')
    parser.add_argument('--dry-run', action='store_true', help='print the plan, run nothing')
    parser.add_argument('--work-root', default='benchmarks/work/real')
    parser.add_argument('--results-dir', default='benchmarks/results/real')
    parser.add_argument('--report-only', action='store_true',
                        help='gather the finished runs into the report, run nothing')
    args = parser.parse_args(argv)
    if args.launcher == 'slurm' and not args.partition:
        parser.error('--launcher slurm needs --partition (the Slurm partition to submit to)')
    if args.seeds < 1:
        parser.error(f'--seeds {args.seeds}: give at least 1')
    return args


def _config(path: str) -> Config:
    return Config.fromfile(osp.join(REPO_ROOT, path))


def _launch(args, script: str, config: str, work_dir: str, job: str, extra: List[str],
            checkpoint: Optional[str] = None) -> tuple:
    """(argv, env) of ``tools/<script>.py`` under the chosen launcher."""
    positional = [config] + ([checkpoint] if checkpoint else [])
    if args.launcher == 'none':
        return ['python', f'tools/{script}.py', *positional, '--work-dir', work_dir, *extra], {}
    if args.launcher == 'pytorch':
        return ['bash', f'tools/dist_{script}.sh', *positional, str(args.gpus), '--work-dir',
                work_dir, *extra], {}
    env = dict(GPUS=str(args.gpus), GPUS_PER_NODE=str(args.gpus_per_node or min(args.gpus, 8)))
    if script == 'train':
        return ['bash', 'tools/slurm_train.sh', args.partition, job, config, work_dir,
                *extra], env
    return ['bash', 'tools/slurm_test.sh', args.partition, job, *positional, '--work-dir',
            work_dir, *extra], env


def plan(suite: Suite, args) -> List[Step]:
    """Every job of the suite, in order: per pair the teacher, the baseline (if retrained),
    then each arm seed by seed."""
    data = suite.data_options(args.data_root)
    steps = []
    for pair in (suite.pair(name) for name in args.pairs):
        root = osp.join(args.work_root, suite.name, pair.name)
        teacher_ckpt = next((o.split('=', 1)[1] for o in args.cfg_options
                             if o.startswith('model.teacher_checkpoint=')),
                            _config(pair.default_config).model.teacher_checkpoint)
        work = osp.join(root, 'teacher')
        options = ['--cfg-options', *data, *args.cfg_options] if data or args.cfg_options else []
        argv, env = _launch(args, 'test', pair.default_config, work,
                            f'{suite.name}_{pair.name}_teacher', ['--teacher', *options],
                            teacher_ckpt)
        steps.append(Step(pair, 'teacher', None, work, argv, env))
        arms = [('baseline', None)] if args.retrain_baseline else []
        arms += [(a, c) for a, c in pair.arms if not args.arms or a in args.arms]
        for arm, config in arms:
            for seed in range(args.seeds):
                work = osp.join(root, f'{arm}_seed{seed}')
                flags = ['--auto-scale-lr'] if args.auto_scale_lr else []
                if config is None:  # the student alone, from its zoo config
                    from rdimkd_mm.utils import resolve_config_path
                    config = osp.relpath(resolve_config_path(
                        student_zoo_config(pair.default_config)), REPO_ROOT)
                else:
                    flags.append('--no-teacher-eval')  # evaluated once, above
                argv, env = _launch(args, 'train', config, work,
                                    f'{suite.name}_{pair.name}_{arm}_s{seed}',
                                    [*flags, '--cfg-options', f'randomness.seed={seed}', *data,
                                     *args.cfg_options])
                steps.append(Step(pair, arm, seed, work, argv, env))
    return steps


def _log_records(work_dir: str) -> List[dict]:
    """Every JSON record mmengine logged in the work dir's runs (training scalars and test
    metrics), oldest run first."""
    records = []
    for path in sorted(p for p in _glob(work_dir, '*/vis_data/scalars.json')):
        records += [json.loads(line) for line in open(path) if line.strip()]
    for path in sorted(_glob(work_dir, '*/*.json')):
        if osp.basename(path)[:-5] == osp.basename(osp.dirname(path)):  # <ts>/<ts>.json
            records += [json.loads(line) for line in open(path) if line.strip()]
    return records


def _glob(work_dir: str, pattern: str) -> List[str]:
    import glob
    return glob.glob(osp.join(REPO_ROOT, work_dir, pattern))


def read_metric(suite: Suite, step: Step) -> float:
    """The step's final metric, in the zoo's unit; 0 where mmdet's CocoMetric found no
    detection at all in the last evaluation (it then logs an error and no metric)."""
    log = osp.join(REPO_ROOT, step.work_dir, 'run.log')
    if suite.kind == 'det' and osp.isfile(log) and \
            NO_DETECTIONS in open(log).read().rpartition('Evaluating bbox')[2]:
        return 0.0
    for record in reversed(_log_records(step.work_dir)):
        if suite.metric_key in record:
            return float(record[suite.metric_key]) * suite.metric_scale
    raise RuntimeError(f'No {suite.metric_key!r} logged in {step.work_dir}; see '
                       f'{step.work_dir}/run.log')


def execute(suite: Suite, steps: List[Step]) -> None:
    """Run the steps one after the other, reusing those finished with the same command."""
    start = time.time()
    for i, step in enumerate(steps, 1):
        work = osp.join(REPO_ROOT, step.work_dir)
        result_file = osp.join(work, 'result.json')
        title = f'[{i}/{len(steps)}] {step.pair.name} {ARM_TITLES[step.arm]}' + (
            f' seed {step.seed}' if step.seed is not None else '')
        if osp.isfile(result_file):
            cached = json.load(open(result_file))
            if cached.get('command') == step.shell:
                print(f'{title}: {cached["metric"]:.2f} (reused)', flush=True)
                continue
        os.makedirs(work, exist_ok=True)
        argv = list(step.argv)
        if argv[0] == 'python':
            argv[0] = sys.executable
        if osp.isfile(osp.join(work, 'last_checkpoint')) and step.arm != 'teacher':
            argv.append('--resume')  # an interrupted run continues; nothing is lost
        env = dict(os.environ, PYTHON=sys.executable, **step.env)
        began = time.time()
        with open(osp.join(work, 'run.log'), 'a') as log:
            log.write(f'$ {step.shell}\n')
            log.flush()
            code = subprocess.call(argv, cwd=REPO_ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        if code != 0:
            tail = ''.join(open(osp.join(work, 'run.log')).readlines()[-30:])
            raise SystemExit(f'{title} failed (exit {code}); last lines of '
                             f'{step.work_dir}/run.log:\n{tail}')
        result = dict(command=step.shell, metric=read_metric(suite, step),
                      seconds=time.time() - began)
        json.dump(result, open(result_file, 'w'), indent=2)
        print(f'{title}: {result["metric"]:.2f} ({result["seconds"]:.0f} s; '
              f'{(time.time() - start) / 60:.1f} min elapsed)', flush=True)


def main(argv: List[str], suite_name: str) -> None:
    from .real_report import gather, write_report
    args = parse_args(argv, suite_name)
    suite = SUITES[suite_name]
    steps = plan(suite, args)
    if args.dry_run:
        print(f'# {suite.name}: {len(steps)} jobs ({args.launcher} launcher'
              + ('' if args.launcher == 'none' else f', {args.gpus} GPUs each') + ')')
        for step in steps:
            print(step.shell)
        return
    if not args.report_only:
        execute(suite, steps)
    command = 'python benchmarks/run.py --suite ' + suite.name + ''.join(
        ' ' + shlex.quote(a) for a in argv)
    data = gather(suite, steps, command, args.retrain_baseline)
    paths = write_report(data, osp.join(REPO_ROOT, args.results_dir))
    print(open(paths[1]).read(), flush=True)
