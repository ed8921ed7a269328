"""A segmentation config that inherits the base's head point (``decode_head.bottleneck``, the
head feature of PSPNet and DeepLabV3) for a head whose last feature is another module
(DeepLabV3+'s ``sep_bottleneck``, stride 4) stops at build time naming the right address,
instead of distilling the stride-8 bottleneck."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from rdimkd_mm.models import FeatureDistiller
from rdimkd_mm.utils import build_model
from helpers.paths import REPO_ROOT

DLV3P_R50 = 'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py'
DLV3P_R18 = 'mmseg::deeplabv3plus/deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py'


def test_the_bases_head_point_on_deeplabv3plus_names_sep_bottleneck(tmp_path):
    init_default_scope('mmseg')
    base = Config.fromfile(str(REPO_ROOT / 'configs/_base_/distill/rdimkd-a_seg.py'))
    point = base.seg_distill[0].to_dict()
    assert point['check_head_feature'] is True
    assert [p.get('check_head_feature') for p in base.seg_distill] == [True, None]  # backbone
    teacher, _ = build_model(DLV3P_R50)
    torch.save(dict(state_dict=teacher.state_dict()), tmp_path / 'teacher.pth')
    with pytest.raises(ValueError, match=r"the point is meant for the decode head's last feature "
                       r"\(check_head_feature=True, .*\), but the student's is "
                       r"'decode_head.sep_bottleneck', not 'decode_head.bottleneck'. Set "
                       r"student='decode_head.sep_bottleneck' in the point"):
        FeatureDistiller(DLV3P_R18, DLV3P_R50, str(tmp_path / 'teacher.pth'), [point],
                         probe_size=(64, 64))
    point.update(student='decode_head.sep_bottleneck', teacher='decode_head.sep_bottleneck')
    distiller = FeatureDistiller(DLV3P_R18, DLV3P_R50, str(tmp_path / 'teacher.pth'), [point],
                                 probe_size=(64, 64))
    assert distiller.distill_losses['head'].level_channels == [(128, 512)]
