"""A segmentor whose head has no classifier conv to find its feature by (Mask2Former's query
head): the inspector proposes the last backbone stages of equal stride."""
from types import SimpleNamespace

from rdimkd_mm.inspection import propose_points
from rdimkd_mm.inspection.side import Side
from rdimkd_mm.models.task_modules import Feature


def side(**modules):
    records = {name: [[Feature((c, 64 // s, 64 // s), float(s)) for c, s in levels]]
               for name, levels in modules.items()}
    fake = SimpleNamespace(scope='mmseg', head_feature=None, records=records)
    fake.levels = lambda module: Side.levels(fake, module)
    return fake


def test_without_a_head_feature_the_last_backbone_stages_of_equal_stride():
    teacher = side(backbone=[(96, 4), (192, 8), (384, 16), (768, 32)])  # Swin-T
    student = side(backbone=[(256, 4), (512, 8), (1024, 16), (2048, 32)])  # R50
    assert propose_points(teacher, student) == [
        dict(name='backbone', teacher='backbone[3]', student='backbone[3]')]
