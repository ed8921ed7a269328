"""The pair inspector on a query-based detector, whose head needs a real batch's data samples:
its backbone and neck are probed alone, with a note, and the usual neck points proposed."""
from mmengine.registry import init_default_scope

from rdimkd_mm.inspection import Side, propose_points

SPARSE_R50 = 'mmdet::sparse_rcnn/sparse-rcnn_r50_fpn_1x_coco.py'


def test_sparse_rcnn_is_inspected_through_its_backbone_and_neck():
    init_default_scope('mmdet')
    side = Side(SPARSE_R50, (64, 64))
    assert "its head could not be probed with a zero image and no annotations" in side.note
    assert [f.stride for f in side.levels('neck')] == [4, 8, 16, 32]
    assert not any(name.startswith('roi_head') for name in side.records)
    assert propose_points(side, side) == [dict(name='fpn', teacher='neck[0:3]',
                                               student='neck[0:3]')]
