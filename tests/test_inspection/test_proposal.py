"""Point proposal and config text of the pair inspector, on probed features given directly."""
from types import SimpleNamespace

from rdimkd_mm.inspection import (config_text, describe_levels, first_levels, propose_points,
                                  value_text)
from rdimkd_mm.inspection.side import Side
from rdimkd_mm.models.task_modules import Feature, equal_stride_slices


def side(scope, head_feature=None, neck_type='FPN', **modules):
    """A probed model: ``modules`` maps a module name to its levels' (C, stride) pairs (or
    ``(C, H, W, stride)`` tuples); ``neck_type`` is the type of its config's neck."""
    records = {name: [[Feature(tuple(level[:-1]), float(level[-1])) if len(level) == 4 else
                       Feature((level[0], 64 // level[1], 64 // level[1]), float(level[1]))
                       for level in levels]]
               for name, levels in modules.items()}
    fake = SimpleNamespace(scope=scope, head_feature=head_feature, records=records, spec='x.py',
                           cfg=dict(model=dict(neck=dict(type=neck_type))), model=None,
                           size=(64, 64))
    fake.levels = lambda module: Side.levels(fake, module)
    fake.point_levels = lambda address: Side.point_levels(fake, address)
    return fake


def test_detectors_get_the_first_three_neck_levels_of_equal_stride():
    teacher = side('mmdet', neck=[(256, s) for s in (4, 8, 16, 32, 64)])  # P2-P6
    student = side('mmdet', neck=[(64, s) for s in (8, 16, 32, 64, 128)])  # P3-P7
    assert propose_points(teacher, student) == [
        dict(name='fpn', teacher='neck[1:4]', student='neck[0:3]')]
    assert first_levels('neck', teacher.levels('neck')) == 'neck[0:3]'
    assert first_levels('neck[2]', teacher.levels('neck')) == 'neck[2]'
    assert first_levels('neck[1:3]', teacher.levels('neck')) == 'neck[1:3]'


def test_ssd_gets_the_longest_run_of_equal_stride_levels():
    """SSD300 -> SSDLite at 320 px (the shapes tools/inspect_pair.py measures): the necks' strides
    agree at 16, 32, 64 and 106.7 (both 3x3 maps: SSD300's fifth level, SSDLite's fourth), and
    again only at the last 1x1 maps, which both images shrank to one pixel. The proposal is the
    first three of the run, not the backbone stages around it."""
    teacher = side('mmdet', neck_type='SSDNeck', backbone=[(512, 40, 40, 8), (1024, 20, 20, 16)],
                   neck=[(512, 40, 40, 8), (1024, 20, 20, 16), (512, 10, 10, 32),
                         (256, 5, 5, 64), (256, 3, 3, 320 / 3), (256, 1, 1, 320)])
    student = side('mmdet', neck_type='SSDNeck', backbone=[(96, 20, 20, 16), (1280, 10, 10, 32)],
                   neck=[(96, 20, 20, 16), (1280, 10, 10, 32), (512, 5, 5, 64),
                         (256, 3, 3, 320 / 3), (256, 2, 2, 160), (128, 1, 1, 320)])
    assert propose_points(teacher, student) == [
        dict(name='neck', teacher='neck[1:4]', student='neck[0:3]')]
    assert equal_stride_slices(teacher.levels('neck'), student.levels('neck')) == (
        '[1:5]', '[0:4]')


def test_without_a_neck_the_last_backbone_stage_of_equal_stride():
    teacher = side('mmdet', backbone=[(64, 8), (128, 16), (256, 32)])
    student = side('mmdet', backbone=[(16, 4), (32, 8), (64, 16), (128, 32)])
    assert propose_points(teacher, student) == [
        dict(name='backbone', teacher='backbone[2]', student='backbone[3]')]


def test_segmentors_get_the_head_feature_aligned_when_strides_differ():
    teacher = side('mmseg', 'decode_head.bottleneck', **{'decode_head.bottleneck': [(512, 8)]})
    student = side('mmseg', 'decode_head.fuse', **{'decode_head.fuse': [(128, 4)]})
    assert propose_points(teacher, student) == [
        dict(name='head', teacher='decode_head.bottleneck', student='decode_head.fuse',
             align='interpolate')]
    assert describe_levels(teacher.point_levels('decode_head.bottleneck')) == '512x8x8 /8'
    assert describe_levels([]) == '-'


def test_config_text_writes_the_default_loss_at_the_points(tmp_path):
    teacher = side('mmdet', neck=[(256, s) for s in (8, 16, 32)])
    student = side('mmdet', neck=[(64, s) for s in (8, 16, 32)])
    student.cfg = SimpleNamespace(get=lambda key: None,
                                  model=SimpleNamespace(to_dict=lambda: dict(type='X')))
    points = propose_points(teacher, student)
    text = config_text(teacher, student, points, str(tmp_path / 'out.py'), 'ckpt.pth')
    namespace = {}
    assert text.startswith('# RdimKD-R: distil x.py into x.py.')
    assert "teacher='neck',  # 256x8x8 /8; 256x4x4 /16; 256x2x2 /32" in text
    assert "teacher_checkpoint='ckpt.pth'" in text and 'custom_hooks' in text
    assert '    probe_size=(64, 64),' in text  # the inspected size, for the build probe
    exec(text.replace('_base_.model', 'None'), namespace)  # valid Python config text
    assert namespace['model']['distill'][0]['loss']['type'] == 'rdimkd_mm.RdimKDLoss'
    assert value_text(dict(a=1, b=dict(c='x'))) == "dict(a=1, b=dict(c='x'))"
