"""Inspect a teacher-student pair, propose distillation points and write the config.

    python tools/inspect_pair.py TEACHER STUDENT [--size H W] [--all] [--write-config PATH]
        [--teacher-checkpoint PATH]

TEACHER and STUDENT are mmdet/mmseg model configs: local paths or ``mmdet::``/``mmseg::``
names. Both models are built from config only (no weights, nothing downloaded) and run once
(eval mode, a zero image of --size). The tool prints the usual distillation points of both
side by side, with channels, spatial size and stride:

- detectors: every output level of the neck (FPN, PAFPN, DETR's channel mapper);
- segmentors: the decode head's feature before the classifier (found from the input of
  ``decode_head.conv_seg``, whatever the head calls that module) and the backbone outputs;

then proposes the measured default mapping of equal strides (strides are input size / feature
size): the first three common neck levels of a detector, the head feature of a segmentor. With
``--write-config``, writes a distillation config that ``tools/train.py`` runs as it is: the
student config as ``_base_`` (its data, schedule and evaluator), the measured default's loss at
the proposed points (RdimKD-R for a detector; RdimKD-A for a segmentor, with the hook that fits
its autoencoder before training), and the student's pretrained initialisation switched off (no
internet needed; the written lines say how to turn it back on). ``--all`` lists every module of
both models.
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import nn

import rdimkd_mm  # noqa: F401
from rdimkd_mm.models.distillers.feature_probe import (Feature, dummy_batch, equal_stride_slices,
                                                       format_stride, probe_modules, same_stride,
                                                       single_call)
from rdimkd_mm.utils import build_model, pretrained_inits, resolve_config_path

Levels = List[Feature]
# The measured defaults (README, "Loss scale"): their base config, the variable of their
# distillation points (whose loss the written config copies) and that of the hooks they need
# (None: nothing to fit before training).
DEFAULTS = {
    'mmdet': ('configs/_base_/distill/rdimkd-r_fpn.py', 'fpn_distill', None),
    'mmseg': ('configs/_base_/distill/rdimkd-a_seg-head.py', 'seg_distill', 'seg_distill_hooks'),
}
METHODS = {'RandomProjection': 'RdimKD-R', 'PCAProjection': 'RdimKD-P',
           'AutoencoderProjection': 'RdimKD-A'}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Inspect a teacher-student pair')
    parser.add_argument('teacher', help='teacher model config (path or mmdet::/mmseg:: name)')
    parser.add_argument('student', help='student model config (path or mmdet::/mmseg:: name)')
    parser.add_argument('--size', type=int, nargs=2, default=[256, 256], metavar=('H', 'W'),
                        help='probe image size')
    parser.add_argument('--all', action='store_true', help='list every module of both models')
    parser.add_argument('--depth', type=int, default=3,
                        help='with --all: deepest module level listed (dots in the name + 1)')
    parser.add_argument('--write-config', metavar='PATH',
                        help='write a distillation config with the proposed points')
    parser.add_argument('--teacher-checkpoint', metavar='PATH',
                        help='trained teacher weights named in the written config (default: '
                        'checkpoints/<teacher config name>.pth)')
    return parser.parse_args()


class Side:
    """One model of the pair: its config, the built model and its probed features."""

    def __init__(self, spec: str, size: Tuple[int, int]) -> None:
        self.spec = spec
        self.cfg = Config.fromfile(resolve_config_path(spec))
        if 'model' not in self.cfg:
            raise KeyError(f'Config {spec!r} has no `model`.')
        if 'rdimkd_mm' in str(self.cfg.model.get('type', '')):
            raise ValueError(f'{spec!r} is a distillation config; give the plain teacher and '
                             'student model configs.')
        with DefaultScope.overwrite_default_scope(self.cfg.get('default_scope')):
            self.model, self.scope = build_model(spec)
        self.records = probe_modules(self.model, self.scope, size)
        self.head_feature = (head_feature_module(self.model, self.scope, size)
                             if self.scope == 'mmseg' else None)

    def levels(self, module: str) -> Levels:
        """The outputs of ``module`` when it ran once; empty otherwise."""
        return single_call(self.records, module)


@torch.no_grad()
def head_feature_module(model: nn.Module, scope: str, size: Tuple[int, int]) -> Optional[str]:
    """The decode-head submodule whose output the classifier (``conv_seg``) reads."""
    modules = dict(model.named_modules())
    if 'decode_head.conv_seg' not in modules:
        return None
    inputs, outputs = set(), []

    def record_input(module, args):
        inputs.add(args[0].data_ptr())

    def record_output(name):
        return lambda module, args, output: outputs.append((name, output)) if isinstance(
            output, torch.Tensor) else None

    skip = ('decode_head.conv_seg', 'decode_head.dropout')
    handles = [modules[n].register_forward_pre_hook(record_input) for n in skip if n in modules]
    handles += [
        module.register_forward_hook(record_output(name)) for name, module in modules.items()
        if name.startswith('decode_head.') and name not in skip
    ]
    model.eval()
    try:
        model(*dummy_batch(scope, size), mode='tensor')
    finally:
        for handle in handles:
            handle.remove()
    found = [name for name, out in outputs if out.data_ptr() in inputs]
    return min(found, key=lambda n: n.count('.')) if found else None


def propose_points(teacher: Side, student: Side) -> List[dict]:
    """Distillation points of equal stride: neck levels, or head feature and last stage."""
    points = []
    if teacher.scope == 'mmdet':
        t_neck, s_neck = teacher.levels('neck'), student.levels('neck')
        if t_neck and s_neck and all(f.is_map for f in t_neck + s_neck):
            slices = equal_stride_slices(t_neck, s_neck)
            if slices:
                points.append(dict(name='fpn', teacher=_first_three(f'neck{slices[0]}', t_neck),
                                   student=_first_three(f'neck{slices[1]}', s_neck)))
        if points:
            return points
    else:
        t_head, s_head = teacher.head_feature, student.head_feature
        if t_head and s_head:
            point = dict(name='head', teacher=t_head, student=s_head)
            if not same_stride(teacher.levels(t_head)[0].stride, student.levels(s_head)[0].stride):
                point['align'] = 'interpolate'  # the heads' last features differ in stride
            points.append(point)
        return points  # the head feature only: the measured default (README, Loss scale)
    # Detectors without a neck: the last backbone stage and the student's of the same stride.
    t_backbone = [f for f in teacher.levels('backbone') if f.is_map]
    s_backbone = student.levels('backbone')
    if t_backbone and s_backbone:
        t_last = len(teacher.levels('backbone')) - 1
        match = [i for i, f in enumerate(s_backbone) if f.is_map
                 and same_stride(f.stride, teacher.levels('backbone')[t_last].stride)]
        if match:
            points.append(dict(name='backbone', teacher=f'backbone[{t_last}]',
                               student=f'backbone[{match[-1]}]'))
    return points


def _first_three(address: str, levels: Levels) -> str:
    """At most the first three levels of an equal-stride neck slice: the measured default
    (on the earlier synthetic benchmark all five FPN levels scored below the student alone;
    README "Loss scale")."""
    module, _, index = address.partition('[')
    if index and ':' not in index:
        return address  # one level
    start, stop = (0, len(levels)) if not index else map(int, index.rstrip(']').split(':'))
    return address if stop - start <= 3 else f'{module}[{start}:{start + 3}]'


def point_levels(side: Side, address: str) -> Levels:
    module, _, index = address.partition('[')
    levels = side.levels(module)
    if not index:
        return levels
    start, _, stop = index.rstrip(']').partition(':')
    return levels[int(start):int(stop)] if _ else [levels[int(start)]]


def describe(levels: Levels) -> str:
    if not levels:
        return '-'
    return '; '.join(f'{f.shape[0]}x{f.shape[1]}x{f.shape[2]} /{format_stride(f.stride)}'
                     if f.is_map else f'{f.shape} (tokens?)' for f in levels)


def print_candidates(teacher: Side, student: Side, size: Tuple[int, int]) -> None:
    rows: Dict[str, Tuple[str, str]] = {}
    for module in ('backbone', 'neck'):
        for name, side in (('teacher', teacher), ('student', student)):
            for i, feat in enumerate(side.levels(module)):
                key = f'{module}[{i}]'
                t, s = rows.get(key, ('-', '-'))
                rows[key] = (describe([feat]), s) if name == 'teacher' else (t, describe([feat]))
    for name, side in (('teacher', teacher), ('student', student)):
        if side.head_feature:
            key = f'{side.head_feature} (head feature)'
            feat = describe(side.levels(side.head_feature))
            t, s = rows.get(key, ('-', '-'))
            rows[key] = (feat, s) if name == 'teacher' else (t, feat)
    print(f'Candidate points: C x H x W /stride (probe image {size[0]}x{size[1]})')
    print(f'{"address":<44} {"teacher":<28} student')
    for key, (t, s) in rows.items():
        print(f'{key:<44} {t:<28} {s}')


def print_all(side: Side, title: str, depth: int) -> None:
    print(f'\nAll modules of the {title} ({type(side.model).__name__}, {side.spec}):')
    for name, calls in side.records.items():
        if name.count('.') < depth:
            shown = describe(calls[0])
            print(f'  {name:<50} x{len(calls):<3} {shown}')


def pretrained_lines(model_cfg: dict, path: str = "model['student']") -> List[str]:
    """Assignments that switch off every pretrained initialisation in a model config."""
    return [path + ''.join(f"['{key}']" for key in keys) + f' = None  # was {_plain(value)!r}'
            for keys, value in pretrained_inits(model_cfg).items()]


def _plain(value):
    """A config value without ConfigDict wrappers, to print it as config text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _config_text(value) -> str:
    """A config value as config text: dicts as ``dict(key=value, ...)``, as configs write them."""
    if isinstance(value, dict):
        return 'dict(' + ', '.join(f'{k}={_config_text(v)}' for k, v in value.items()) + ')'
    return repr(value)


def _default_config(scope: str) -> Config:
    path = DEFAULTS[scope][0]
    return Config.fromfile(osp.join(osp.dirname(osp.abspath(__file__)), '..', path))


def default_loss(scope: str) -> dict:
    """The loss of the measured default for ``scope`` ('mmdet' or 'mmseg'), from its base."""
    return _default_config(scope)[DEFAULTS[scope][1]][0].loss.to_dict()


def default_hooks(scope: str) -> List[dict]:
    """The hooks the measured default for ``scope`` needs (e.g. its projection fit)."""
    name = DEFAULTS[scope][2]
    return [] if name is None else [h.to_dict() for h in _default_config(scope)[name]]


def config_text(teacher: Side, student: Side, points: List[dict], out_path: str,
                checkpoint: str) -> str:
    out_dir = osp.dirname(osp.abspath(out_path))
    # Local paths relative to the written config, as _base_ is (mmengine's {{fileDirname}}).
    base = student.spec if '::' in student.spec else osp.relpath(student.spec, out_dir)
    teacher_spec = teacher.spec if '::' in teacher.spec else (
        '{{fileDirname}}/' + osp.relpath(teacher.spec, out_dir))
    loss = default_loss(student.scope)
    distill = []
    for point in points:
        args = [f'{key}={_config_text(value)},' for key, value in loss.items()]  # type, ...
        if point.get('align'):
            args.insert(2, "align='interpolate',  # strides differ: the student's map "
                        'is resized')
        args[-1] = args[-1][:-1] + ')),'
        distill.append(
            f"        dict(\n            name='{point['name']}',\n"
            f"            teacher='{point['teacher']}',  # {describe(point_levels(teacher, point['teacher']))}\n"  # noqa: E501
            f"            student='{point['student']}',  # {describe(point_levels(student, point['student']))}\n"  # noqa: E501
            '            loss=dict(\n' + '\n'.join(' ' * 16 + arg for arg in args))
    needed = default_hooks(student.scope)
    fit_hook = ', '.join(map(_config_text, needed)) or (
        "dict(type='rdimkd_mm.FitProjectionsHook', num_batches=20)")
    hooks = (f'_base_.custom_hooks + [{fit_hook}]' if student.cfg.get('custom_hooks') else
             f'[{fit_hook}]')
    method = METHODS.get(loss['projection']['type'].split('.')[-1], 'RdimKD')
    if needed:
        hook_text = ('# The measured default fits its projection before training (README, "Loss '
                     f'scale"):\ncustom_hooks = {hooks}\n')
    else:
        hook_text = ('# The measured default (README, "Loss scale"): nothing to fit before '
                     'training. For\n# RdimKD-P/-A (PCAProjection/AutoencoderProjection) or '
                     "normalize='teacher', fit\n"
                     f'# before training with:\n# custom_hooks = {hooks}\n')
    init = pretrained_lines(student.cfg.model.to_dict())
    init_text = ''
    if init:
        init_text = ('\n# The student starts from random weights, so nothing is downloaded. To '
                     'start it from\n# the pretrained weights its config names, delete these '
                     'lines:\n' + '\n'.join(init) + '\n')
    return (f'# {method}: distil {teacher.spec} into {student.spec}.\n'
            f'# Written by tools/inspect_pair.py; points matched by stride on a probe image.\n'
            f"_base_ = ['{base}']  # the student: data, schedule, evaluator\n\n"
            'model = dict(\n    _delete_=True,\n    type=\'rdimkd_mm.FeatureDistiller\',\n'
            '    student=_base_.model,\n'
            f"    teacher='{teacher_spec}',\n"
            f"    teacher_checkpoint='{checkpoint}',  # the trained teacher's weights\n"
            '    distill=[\n' + '\n'.join(distill) + '\n    ])\n' + hook_text + init_text)


def main() -> None:
    args = parse_args()
    size = tuple(args.size)
    teacher, student = Side(args.teacher, size), Side(args.student, size)
    if teacher.scope != student.scope:
        raise SystemExit(f'The teacher is a {teacher.scope} model and the student a '
                         f'{student.scope} model; distil within one library.')
    print_candidates(teacher, student, size)
    if args.all:
        print_all(teacher, 'teacher', args.depth)
        print_all(student, 'student', args.depth)
    points = propose_points(teacher, student)
    if not points:
        raise SystemExit('\nNo points of equal stride found among the usual candidates; '
                         'choose them from --all (or set align=\'interpolate\' in the loss).')
    print('\nProposed points (teacher -> student):')
    for point in points:
        note = ("  (strides differ: align='interpolate')" if point.get('align') else '')
        print(f"  {point['name']:<10} {point['teacher']:<28} -> {point['student']}{note}")
    if args.write_config:
        name = osp.splitext(osp.basename(args.teacher.split('::')[-1]))[0]
        checkpoint = args.teacher_checkpoint or f'checkpoints/{name}.pth'
        with open(args.write_config, 'w') as f:
            f.write(config_text(teacher, student, points, args.write_config, checkpoint))
        print(f'\nWrote {args.write_config}; train it with\n  python tools/train.py '
              f'{args.write_config}\n(with the teacher weights at {checkpoint}, or '
              f'--cfg-options model.teacher_checkpoint=PATH)')


if __name__ == '__main__':
    main()
