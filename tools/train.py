"""Train a model (a plain mmdet/mmseg model or a rdimkd_mm distiller) from a config.

Same flags as mmdet's ``tools/train.py``, plus ``--overwrite``::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT] | --overwrite] [--amp]
        [--auto-scale-lr] [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
        [--no-teacher-eval]

Before the Runner is built, the checkpoint the run starts from is read safely: the ``--resume``
file, or without a path the newest readable checkpoint of the work dir, and ``load_from``. A
fresh run refuses a work dir that holds an earlier run's checkpoints unless ``--overwrite`` is
given; any run refuses a work dir another run is using (``<work_dir>/.train.lock``). A resumed
checkpoint and a distiller's ``load_from`` must match the model exactly (mmengine would load
them non-strictly); a plain model's ``load_from`` must fit at least half of it. Every step is
guarded (:func:`install_fault_guards`): a NaN or inf loss or gradient norm is never applied and
stops training naming the loss, no checkpoint of non-finite weights is written, and
checkpoints are written atomically. For a distillation config, the teacher is first evaluated
on the validation set (``rdimkd_mm.TeacherEvalHook``, logged as ``teacher/<metric>``) unless
``--no-teacher-eval``.
"""
import argparse
import contextlib
import os.path as osp
from typing import Any, Optional, Tuple

from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import rdimkd_mm  # noqa: F401  (registers modules, makes checkpoint loading safe)
from rdimkd_mm.engine.fault_guards import install_fault_guards
from rdimkd_mm.utils import (check_state_dict, finish_cpu_distributed, is_distill_config,
                             prepare_cpu_distributed, read_checkpoint, state_dict_mismatch,
                             state_dict_of)
from rdimkd_mm.utils.data_checks import check_data_files, named_data_errors
from rdimkd_mm.utils.tool_args import (add_cfg_options, add_launcher, load_config,
                                       parse_launched_args)
from rdimkd_mm.utils.weight_checks import check_load_from_fits
from rdimkd_mm.utils.work_dir import check_fresh_work_dir, latest_readable_checkpoint
from rdimkd_mm.utils.work_dir_lock import launch_rank, work_dir_lock


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a detector, segmentor or distiller')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate with the actual batch size')
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint; without a value, from the latest checkpoint '
        'in the work dir (the newest readable one if that cannot be read)')
    start.add_argument(
        '--overwrite', action='store_true',
        help='start a fresh run in a work dir that holds checkpoints of an earlier run, '
        'deleting them (iter_*.pth, epoch_*.pth, best_*.pth, last_checkpoint)')
    add_cfg_options(parser, help='override config settings, e.g. train_cfg.max_iters=100 '
                    'model.distill.0.loss.loss_weight=2')
    parser.add_argument('--no-teacher-eval', action='store_true',
                        help='distillation: do not evaluate the teacher on the validation set '
                        'before training (TeacherEvalHook)')
    add_launcher(parser)
    return parse_launched_args(parser)


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options, args.launcher)

    if is_distill_config(cfg) and not args.no_teacher_eval and not any(
            'TeacherEvalHook' in str(h.get('type')) for h in cfg.get('custom_hooks', [])):
        cfg.custom_hooks = [*cfg.get('custom_hooks', []), dict(type='rdimkd_mm.TeacherEvalHook')]

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print('AMP is already enabled in the config.')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise RuntimeError('--auto-scale-lr needs `auto_scale_lr = dict(enable=False, '
                               'base_batch_size=...)` in the config.')
        cfg.auto_scale_lr.enable = True
    install_fault_guards(cfg)
    check_data_files(cfg)

    # One run per work dir (rank 0 holds the lock for the launch).
    with work_dir_lock(cfg.work_dir) if launch_rank() == 0 else contextlib.nullcontext():
        start = resolve_start(cfg, args)
        cpu_group = prepare_cpu_distributed(cfg, args.launcher)  # gloo without GPUs
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
        if start is not None:
            model = runner.model.module if is_model_wrapper(runner.model) else runner.model
            check_start(model, *start, plain=not is_distill_config(cfg))
            del start  # the Runner loads the weights itself
        with named_data_errors(cfg):
            build_train_loop(runner, cfg)
            runner.train()
        finish_cpu_distributed(cpu_group)


def resolve_start(cfg: Config,
                  args: argparse.Namespace) -> Optional[Tuple[str, str, dict]]:
    """Decide what the run starts from and read that checkpoint now, for clear errors.

    Sets ``cfg.resume`` and ``cfg.load_from``. A resumed run continues the ``--resume`` file or
    :func:`latest_readable_checkpoint`; a fresh run goes through :func:`check_fresh_work_dir`.

    Returns:
        tuple | None: ``(path, role, state_dict)`` of the starting checkpoint (the resumed one
        or ``load_from``), for :func:`check_start` once the model is built; None for a run
        from the initial weights.
    """
    if args.overwrite:  # a fresh run, even if the config says resume=True
        cfg.resume = False
    resume = args.resume
    if resume is None and cfg.get('resume'):
        resume = cfg.get('load_from') or 'auto'
    checkpoint: Any = None
    if resume == 'auto':
        found = latest_readable_checkpoint(cfg.work_dir)
        if found is None:
            print(f'--resume: no checkpoint in {cfg.work_dir} yet, so this run starts '
                  + (f'from load_from={cfg.load_from}.' if cfg.get('load_from') else
                     'from the initial weights.'))
            cfg.resume = False
        else:
            cfg.resume = True
            cfg.load_from, checkpoint = found
    elif resume is not None:
        cfg.resume, cfg.load_from = True, resume
        checkpoint = read_checkpoint(resume, what='resume')
    if not cfg.get('resume'):
        check_fresh_work_dir(cfg.work_dir, args.overwrite)
    if not cfg.get('load_from'):
        return None
    what = 'resume' if cfg.get('resume') else 'load_from'
    if checkpoint is None:
        checkpoint = read_checkpoint(cfg.load_from, what=what)
    return cfg.load_from, what, state_dict_of(checkpoint, cfg.load_from, what)


def check_start(model, path: str, what: str, state: dict, plain: bool) -> None:
    """Check the starting checkpoint against the built model: exactly for a resumed run and a
    distiller's ``load_from``; a plain model's ``load_from`` must fit at least half of the
    model (mmengine loads what fits, e.g. all but a head with another ``num_classes``)."""
    mismatch = state_dict_mismatch(model.state_dict(), state)
    if plain and what == 'load_from' and mismatch and not any(
            k.startswith('student.') for k in state):
        check_load_from_fits(model, state, path, mismatch)
    else:
        check_state_dict(model, state, path, what)


def build_train_loop(runner: Runner, cfg: Config) -> None:
    """Build the training loop and its dataloader now (``runner.train()`` reuses them), with a
    clear error for an empty training set."""
    try:
        loop = runner.train_loop
    except ValueError as error:  # mmengine's BaseDataset serialises an empty list with numpy
        if 'need at least one array to concatenate' not in str(error):
            raise
        empty = True
    else:
        empty = loop is not None and len(loop.dataloader.dataset) == 0
    if empty:
        dataset = cfg.train_dataloader.dataset
        where = {k: dataset[k] for k in ('data_root', 'ann_file', 'data_prefix') if k in dataset}
        raise ValueError(
            f'The training set is empty: train_dataloader.dataset ({dataset.get("type")}, '
            f'{where}) yields no samples. Check data_root, ann_file and data_prefix (they must '
            'name existing, non-empty annotations and images); mmdet also drops images '
            'without boxes when filter_cfg.filter_empty_gt=True.')


if __name__ == '__main__':
    main()
