"""Evaluate a checkpoint with the config's evaluator (mmdet COCO mAP, mmseg mIoU, ...).

Same flags as mmdet's/mmseg's ``tools/test.py``::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE_OR_DIR] [--show]
        [--show-dir DIR] [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

With ``--teacher`` (distillation configs), the teacher is evaluated on the same data, with
its own model config and ``model.teacher_checkpoint`` (or CHECKPOINT): is it as good on the
user's data as expected? For a distillation config without it, its student is evaluated: the
config's model is replaced by the student (``rdimkd_mm.utils.student_config``), whose weights
are the checkpoint's ``student.*`` entries; the teacher is neither built nor needed. The
checkpoint is loaded strictly: a checkpoint of another model is an error, not a silently random
model.
"""
import argparse
import os.path as osp

from mmengine.config import Config, ConfigDict
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import rdimkd_mm  # noqa: F401  (registers modules, allow-lists checkpoint globals)
from rdimkd_mm.utils import (checkpoint_file, finish_cpu_distributed, is_distill_config,
                             load_checkpoint_strict, load_state_dict_strict,
                             prepare_cpu_distributed, read_state_dict, student_config,
                             student_weights, teacher_config)
from rdimkd_mm.utils.tool_args import (add_cfg_options, add_launcher, load_config,
                                       parse_launched_args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', nargs='?',
                        help='checkpoint file (with --teacher: default model.teacher_checkpoint)')
    parser.add_argument('--teacher', action='store_true',
                        help="distillation config: evaluate its teacher on the config's test "
                        'data instead of the student')
    parser.add_argument('--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument(
        '--out', help='detection: a .pkl file for the raw results; segmentation: a directory '
        'for the predicted label maps')
    parser.add_argument('--show', action='store_true', help='show the predictions')
    parser.add_argument('--show-dir', help='directory where painted images are saved')
    parser.add_argument('--wait-time', type=float, default=2, help='interval of --show (s)')
    add_cfg_options(parser)
    add_launcher(parser)
    return parse_launched_args(parser)


def enable_visualization(cfg: Config, args: argparse.Namespace) -> None:
    """Turn on the config's visualization hook for --show/--show-dir (mmdet/mmseg style)."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise RuntimeError('--show/--show-dir need a visualization hook in default_hooks, '
                           "e.g. visualization=dict(type='DetVisualizationHook').")
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        if cfg.get('default_scope') == 'mmseg':
            cfg.visualizer['save_dir'] = args.show_dir
        else:
            hook['test_out_dir'] = args.show_dir


def add_output(cfg: Config, out: str) -> None:
    """Save raw predictions the way the config's library does it."""
    if cfg.get('default_scope') == 'mmseg':
        cfg.test_evaluator['output_dir'] = out
        cfg.test_evaluator['keep_results'] = True
        return
    if not out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out must be a .pkl/.pickle file, got {out!r}.')
    dump = ConfigDict(type='DumpDetResults', out_file_path=out)
    if isinstance(cfg.test_evaluator, (list, tuple)):
        cfg.test_evaluator = [*cfg.test_evaluator, dump]
    else:
        cfg.test_evaluator = [cfg.test_evaluator, dump]


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options, args.launcher)
    if args.teacher:
        if not is_distill_config(cfg):
            raise ValueError(f'--teacher needs a distillation config; {args.config} is not one.')
        args.checkpoint = args.checkpoint or checkpoint_file(cfg.model.teacher_checkpoint,
                                                             'teacher')
    if args.checkpoint is None or not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'Checkpoint {args.checkpoint!r} not found.')
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = None  # loaded strictly below, not by mmengine's non-strict load
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.out:
        add_output(cfg, args.out)

    distilled = is_distill_config(cfg) and not args.teacher
    if is_distill_config(cfg):
        work_dir = cfg.work_dir
        cfg = teacher_config(cfg) if args.teacher else student_config(cfg)
        cfg.work_dir, cfg.launcher = work_dir, args.launcher

    cpu_group = prepare_cpu_distributed(cfg, args.launcher)  # gloo without GPUs
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if distilled:
        state = student_weights(read_state_dict(args.checkpoint, what='test'))
        if not state:
            raise RuntimeError(f'{args.checkpoint!r} holds no student.* weights: give a '
                               'checkpoint written by training this distillation config.')
        load_state_dict_strict(model, state, args.checkpoint, what='test')
    else:
        load_checkpoint_strict(model, args.checkpoint, what='test')
    runner.test()
    finish_cpu_distributed(cpu_group)


if __name__ == '__main__':
    main()
