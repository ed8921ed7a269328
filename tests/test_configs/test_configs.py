"""Every shipped config parses, and every distillation config distils with the measured default.
Each distillation config also trains through tools/train.py:
tests/test_tools/test_runner_pairs.py."""
from pathlib import Path

import pytest
from mmengine.config import Config

import rdimkd_mm  # noqa: F401
from helpers.paths import REPO_ROOT

ALL_CONFIGS = sorted(p for p in (REPO_ROOT / 'configs').rglob('*.py') if '_base_' not in p.parts)
DISTILL_CONFIGS = [p for p in ALL_CONFIGS if 'rdimkd' in p.parts]
#: Configs on the segmentation default's head-only form (rdimkd-a_seg-head.py): the synthetic
#: demo, whose committed results (results/demo/) were measured with it.
HEAD_ONLY = {'rdimkd-a_pspnet_r50-w32_r18-w16_synthetic-cityscapes.py'}


def relative(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


@pytest.mark.parametrize('path', ALL_CONFIGS, ids=relative)
def test_config_parses_and_names_a_model(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope in ('mmdet', 'mmseg')
    assert 'type' in cfg.model
    for key in ('train_dataloader', 'val_evaluator', 'optim_wrapper', 'train_cfg'):
        assert key in cfg, key


@pytest.mark.parametrize('path', DISTILL_CONFIGS, ids=relative)
def test_distill_config_uses_the_measured_default(path):
    """Every shipped distillation config (COCO, Cityscapes, the demos) distils with the default
    of ``configs/_base_/distill/`` that the benchmark measured (the synthetic demo: the
    segmentation default's head-only form): the same points, the
    standardised loss at its weight (10 per level for detection, 2.5 for segmentation),
    k = C_t / 4, RdimKD-R for detection and RdimKD-A for segmentation. Configs of another
    variant change only the projection's type (their k, 64 = 256 / 4, is written as an
    integer). Every config whose projection is fitted has the fit hook."""
    cfg = Config.fromfile(str(path))
    detection = cfg.default_scope == 'mmdet'
    base_name = 'rdimkd-r_fpn.py' if detection else 'rdimkd-a_seg.py'
    if path.name in HEAD_ONLY:
        base_name = 'rdimkd-a_seg-head.py'
    base = Config.fromfile(str(REPO_ROOT / 'configs/_base_/distill' / base_name))
    default = base.fpn_distill if detection else base.seg_distill
    assert len(cfg.model.distill) == len(default)
    for point, shipped in zip(cfg.model.distill, default):
        point, shipped = point.to_dict(), shipped.to_dict()
        projection = point['loss'].pop('projection')
        expected = shipped['loss'].pop('projection')
        assert point == shipped, relative(path)
        if path.name.startswith(base_name[:len('rdimkd-r')]):
            assert projection == expected, relative(path)
        else:
            assert projection['k'] in (expected['k'], 64), relative(path)
        if 'RandomProjection' not in projection['type']:
            assert any('FitProjectionsHook' in hook['type']
                       for hook in cfg.get('custom_hooks', [])), relative(path)
