"""Build-time checks of a distillation point: maps, level counts and strides.

Each failed check raises an error that names the point and says what to change; a stride
mismatch proposes addresses of equal stride, found by probing the models' modules.
"""
from typing import List, Sequence, Tuple, Union

from torch import nn

from ..task_modules import (Feature, equal_stride_slices, format_stride, head_feature_module,
                            parse_address, probe_modules, same_stride, single_call)


class PointCheck:
    """Checks one point's probed features.

    Args:
        point (dict): The distillation point (``name``, ``student``, ``teacher``, ``loss``).
        student (Sequence[Feature]): The student's probed features at ``point['student']``.
        teacher (Sequence[Feature]): The teacher's probed features at ``point['teacher']``.
    """

    def __init__(self, point: dict, student: Sequence[Feature],
                 teacher: Sequence[Feature]) -> None:
        self.point, self.student, self.teacher = point, list(student), list(teacher)
        self.where = (f"distillation point {point['name']!r} (student {point['student']!r}, "
                      f"teacher {point['teacher']!r})")

    def check_maps_and_levels(self) -> None:
        """Every level a (C, H, W) map; as many levels on both sides (each level has its own
        connector and projection, so the levels' channels may differ)."""
        for side, feats in (('student', self.student), ('teacher', self.teacher)):
            for level, feat in enumerate(feats):
                if not feat.is_map:
                    raise ValueError(
                        f'{self.where}: {side} level {level} has shape (N, '
                        f'{", ".join(map(str, feat.shape))}), not a feature map (N, C, H, W). '
                        'Token sequences (N, L, C) of transformer layers are not distilled; '
                        'tap a module that outputs maps, e.g. the backbone stages or the neck '
                        '(list them with tools/inspect_pair.py).')
        if len(self.student) != len(self.teacher):
            raise ValueError(
                f'{self.where}: the student gives {len(self.student)} feature map(s) but the '
                f"teacher {len(self.teacher)}; select levels of equal stride, e.g. student="
                "'neck[0:3]', teacher='neck[0:3]' (tools/inspect_pair.py proposes them).")

    def check_head_feature(self, student_model: nn.Module, teacher_model: nn.Module,
                           scope: str, size: Tuple[int, int]) -> None:
        """With ``check_head_feature=True`` in the point (the segmentation base's points): each
        address must be its model's head feature, the module whose output the classifier
        reads (DeepLabV3+ calls it ``sep_bottleneck``, PSPNet ``bottleneck``)."""
        if not self.point.get('check_head_feature'):
            return
        for side, model in (('student', student_model), ('teacher', teacher_model)):
            module, _ = parse_address(self.point[side])
            found = head_feature_module(model, scope, size)
            if found == module:
                continue
            actual = (f'is {found!r}' if found else 'cannot be found (no decode_head.conv_seg '
                      'classifier)')
            raise ValueError(
                f"{self.where}: the point is meant for the decode head's last feature "
                '(check_head_feature=True, as in configs/_base_/distill/rdimkd-a_seg.py), '
                f"but the {side}'s {actual}, not {module!r}. "
                + (f"Set {side}='{found}' in the point (tools/inspect_pair.py writes it), "
                   if found else 'Name the feature to distil, ')
                + f'or remove check_head_feature to distil {module!r} as it is.')

    def check_strides(self, student_model: nn.Module, teacher_model: nn.Module, scope: str,
                      size: Tuple[int, int]) -> None:
        """Equal strides level by level, unless the loss resizes (``align='interpolate'``)."""
        if self.point['loss'].get('align') == 'interpolate':
            return
        strides = [(s.stride, t.stride) for s, t in zip(self.student, self.teacher)]
        if all(same_stride(s, t) for s, t in strides):
            return
        shown = ', '.join(f'{format_stride(s)} vs {format_stride(t)}' for s, t in strides)
        raise ValueError(
            f'{self.where}: the strides differ level by level (student vs teacher: {shown}). '
            f'{self._proposal(student_model, teacher_model, scope, size)} To resize the '
            "student's features to the teacher's instead, set align='interpolate' in the "
            "point's loss.")

    def _proposal(self, student_model: nn.Module, teacher_model: nn.Module, scope: str,
                  size: Tuple[int, int]) -> str:
        s_module, _ = parse_address(self.point['student'])
        t_module, _ = parse_address(self.point['teacher'])
        student_records = probe_modules(student_model, scope, size)
        if len(self.student) > 1:
            slices = equal_stride_slices(
                single_call(probe_modules(teacher_model, scope, size, [t_module]), t_module),
                single_call(student_records, s_module))
            if slices:
                return (f"Levels of equal stride: student='{s_module}{slices[1]}', "
                        f"teacher='{t_module}{slices[0]}'.")
        wanted = self.teacher[0].stride
        candidates = [
            f'{name}{"" if len(calls[0]) == 1 else f"[{i}]"}'
            for name, calls in student_records.items()
            if name.count('.') < 3 and len(calls) == 1
            for i, feat in enumerate(calls[0]) if feat.is_map and same_stride(feat.stride, wanted)
        ]
        if candidates:
            candidates = sorted(candidates, key=lambda name: name.count('.'))[:8]
            return (f'Student modules at the teacher\'s stride {format_stride(wanted)}: '
                    f'{candidates}.')
        return 'See tools/inspect_pair.py for the features of both models and their strides.'


def level_channels(feats: Sequence[Feature]) -> Union[int, List[int]]:
    """The channels of a point's levels: one int when they agree, else one per level."""
    channels = [f.shape[0] for f in feats]
    return channels[0] if len(set(channels)) == 1 else channels
