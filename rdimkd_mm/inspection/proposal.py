"""Propose distillation points of equal stride for a teacher-student pair."""
from typing import List, Optional, Tuple

from rdimkd_mm.models.task_modules import equal_stride_slices, format_stride, same_stride
from .side import Levels, Side

#: Neck levels the detection default distils at most (the first ones of equal stride).
MAX_NECK_LEVELS = 3


def propose_points(teacher: Side, student: Side) -> List[dict]:
    """Distillation points of equal stride: ``dict(name, teacher, student[, align])`` each.

    Detectors: the first :data:`MAX_NECK_LEVELS` of the longest run of neck levels whose strides
    agree level by level (named ``'fpn'`` for FPN-type necks, ``'neck'`` for others such as
    SSD's or YOLOv3's); without a usable neck, the teacher's last backbone stage and the
    student's stage of the same stride. Segmentors: the head feature of each side (with
    ``align='interpolate'`` when their strides differ) and, when they agree in stride, the
    backbones' last outputs (:func:`last_backbone_point`): the segmentation default; without a
    head feature (a query-based head), the last backbone stages of equal stride. Empty when
    nothing matches.
    """
    points = []
    if teacher.scope == 'mmdet':
        t_neck, s_neck = teacher.levels('neck'), student.levels('neck')
        if t_neck and s_neck and all(f.is_map for f in t_neck + s_neck):
            slices = equal_stride_slices(t_neck, s_neck)
            if slices:
                points.append(dict(name=neck_point_name(student),
                                   teacher=first_levels(f'neck{slices[0]}', t_neck),
                                   student=first_levels(f'neck{slices[1]}', s_neck)))
        if points:
            return points
    else:
        t_head, s_head = teacher.head_feature, student.head_feature
        if t_head and s_head:
            point = dict(name='head', teacher=t_head, student=s_head)
            if not same_stride(teacher.levels(t_head)[0].stride, student.levels(s_head)[0].stride):
                point['align'] = 'interpolate'  # the heads' last features differ in stride
            backbone, _ = last_backbone_point(teacher, student)
            return [point] + ([backbone] if backbone else [])  # the segmentation default
    # Detectors without a neck, segmentors without a head feature (Mask2Former's query head):
    # the last backbone stage and the student's of the same stride.
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


def neck_point_name(side: Side) -> str:
    """``'fpn'`` when the model's neck is an FPN (FPN, PAFPN, CSPNeXtPAFPN, ...), else
    ``'neck'`` (SSDNeck, YOLOV3Neck, ChannelMapper)."""
    neck = (side.cfg.get('model') or {}).get('neck') or {}
    necks = neck if isinstance(neck, list) else [neck]
    return 'fpn' if any('FPN' in str(n.get('type', '')).upper() for n in necks) else 'neck'


def first_levels(address: str, levels: Levels) -> str:
    """At most the first :data:`MAX_NECK_LEVELS` levels of an equal-stride neck slice: distilling
    every FPN level, down to the coarsest, trained worse students than the first few."""
    module, _, index = address.partition('[')
    if index and ':' not in index:
        return address  # one level
    start, stop = (0, len(levels)) if not index else map(int, index.rstrip(']').split(':'))
    if stop - start <= MAX_NECK_LEVELS:
        return address
    return f'{module}[{start}:{start + MAX_NECK_LEVELS}]'


def last_backbone_point(teacher: Side, student: Side) -> Tuple[Optional[dict], str]:
    """The segmentation default's second point, ``dict(name='backbone', teacher, student)``
    at each side's last backbone output, and ``''``; ``(None, why)`` when a side has no
    backbone output map or their strides differ (the point needs equal strides)."""
    t_levels, s_levels = teacher.levels('backbone'), student.levels('backbone')
    for name, levels in (('teacher', t_levels), ('student', s_levels)):
        if not levels or not levels[-1].is_map:
            return None, f'the {name} has no backbone output map that the probe recorded'
    t_last, s_last = t_levels[-1], s_levels[-1]
    t_address, s_address = f'backbone[{len(t_levels) - 1}]', f'backbone[{len(s_levels) - 1}]'
    if not same_stride(t_last.stride, s_last.stride):
        return None, (f"the backbones' last outputs differ in stride (teacher {t_address} "
                      f'/{format_stride(t_last.stride)}, student {s_address} '
                      f'/{format_stride(s_last.stride)}); that point needs equal strides')
    return dict(name='backbone', teacher=t_address, student=s_address), ''


def proposal_note(teacher: Side, student: Side, points: List[dict]) -> str:
    """Why ``points`` of a segmentor pair lack the default's backbone point; ``''`` when they
    have it or the pair is no segmentor with head features."""
    if teacher.scope != 'mmseg' or not points or points[0]['name'] != 'head' or any(
            p['name'] == 'backbone' for p in points):
        return ''
    _, why = last_backbone_point(teacher, student)
    return ("Only the head point: the segmentation default also distils the backbone's last "
            f'output, left out because {why}.')
