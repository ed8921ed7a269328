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
size): a detector's first three levels of the longest run of neck levels whose strides agree level
by level; a segmentor's head feature and, when the two backbones' last outputs have equal
strides, those (otherwise the tool says why it left them out, in its output and the written
config). With ``--write-config``, writes a distillation config that ``tools/train.py`` runs as
it is: the student config as ``_base_`` (its data, schedule and evaluator), the measured
default's loss at the proposed points (RdimKD-R for a detector; RdimKD-A for a segmentor, with
the hook that fits its autoencoders before training), and the student's pretrained
initialisation switched off (no internet needed; the written lines say how to turn it back on).
``--all`` lists every module of both models.
"""
import argparse
import os.path as osp
from typing import Dict, Tuple

import rdimkd_mm  # noqa: F401
from rdimkd_mm.inspection import Side, config_text, describe_levels, proposal_note, propose_points


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


def print_candidates(teacher: Side, student: Side, size: Tuple[int, int]) -> None:
    """The usual points of both models side by side: backbone and neck levels, head feature."""
    rows: Dict[str, Tuple[str, str]] = {}

    def add(key: str, side: str, text: str) -> None:
        t, s = rows.get(key, ('-', '-'))
        rows[key] = (text, s) if side == 'teacher' else (t, text)

    for module in ('backbone', 'neck'):
        for name, side in (('teacher', teacher), ('student', student)):
            for i, feat in enumerate(side.levels(module)):
                add(f'{module}[{i}]', name, describe_levels([feat]))
    for name, side in (('teacher', teacher), ('student', student)):
        if side.head_feature:
            add(f'{side.head_feature} (head feature)', name,
                describe_levels(side.levels(side.head_feature)))
    print(f'Candidate points: C x H x W /stride (probe image {size[0]}x{size[1]})')
    print(f'{"address":<44} {"teacher":<28} student')
    for key, (t, s) in rows.items():
        print(f'{key:<44} {t:<28} {s}')


def print_all(side: Side, title: str, depth: int) -> None:
    """Every module of ``side`` down to ``depth`` with its call count and first outputs."""
    print(f'\nAll modules of the {title} ({type(side.model).__name__}, {side.spec}):')
    for name, calls in side.records.items():
        if name.count('.') < depth:
            shown = describe_levels(calls[0])
            print(f'  {name:<50} x{len(calls):<3} {shown}')


def main() -> None:
    args = parse_args()
    size = tuple(args.size)
    try:
        teacher, student = Side(args.teacher, size), Side(args.student, size)
    except ValueError as error:  # a distillation config, an image too small for the model
        raise SystemExit(str(error)) from error
    if teacher.scope != student.scope:
        raise SystemExit(f'The teacher is a {teacher.scope} model and the student a '
                         f'{student.scope} model; distil within one library.')
    for side in (teacher, student):
        if side.note:
            print(f'Note: {side.note}')
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
    left_out = proposal_note(teacher, student, points)
    if left_out:
        print(left_out)
    if args.write_config:
        name = osp.splitext(osp.basename(args.teacher.split('::')[-1]))[0]
        checkpoint = args.teacher_checkpoint or f'checkpoints/{name}.pth'
        with open(args.write_config, 'w') as f:
            f.write(config_text(teacher, student, points, args.write_config, checkpoint,
                                left_out))
        print(f'\nWrote {args.write_config}; train it with\n  python tools/train.py '
              f'{args.write_config}\n(with the teacher weights at {checkpoint}, or '
              f'--cfg-options model.teacher_checkpoint=PATH)')


if __name__ == '__main__':
    main()
