"""tools/inspect_pair.py and tools/inspect_features.py as a user runs them, on zoo configs."""
import re
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from rdimkd_mm.utils import build_model
from helpers.paths import REPO_ROOT
from helpers.tools import run_tool
from helpers.training import runner_options

FCOS_CAFFE = 'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py'
RETINA_R18 = 'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py'
FASTER_R50 = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
PSP_R18 = 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'
DLV3P_R50 = 'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py'
UPERNET_R18 = 'mmseg::upernet/upernet_r18_4xb2-80k_cityscapes-512x1024.py'


def random_checkpoint(config: str, path: Path) -> Path:
    init_default_scope(config.split('::')[0])
    torch.manual_seed(0)
    model, _ = build_model(config)
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def test_inspect_pair_writes_a_config_that_trains(det_root, tmp_path):
    """The issue's example: a caffe-style FCOS teacher, a pytorch-style RetinaNet student."""
    config = tmp_path / 'pair.py'
    output = run_tool('inspect_pair.py', FCOS_CAFFE, RETINA_R18, '--write-config', config)
    assert re.search(r'fpn\s+neck\[0:3\]\s+-> neck\[0:3\]', output), output  # P3-P5
    assert 'neck[4]' in output and '/128' in output  # P7 listed with its stride
    text = config.read_text()
    assert "model['student']['backbone']['init_cfg'] = None" in text
    cfg = Config.fromfile(str(config))
    assert cfg.model.student.backbone.init_cfg is None
    default = Config.fromfile(str(REPO_ROOT / 'configs/_base_/distill/rdimkd-r_fpn.py'))
    assert [p.loss for p in cfg.model.distill] == [default.fpn_distill[0].loss]

    teacher = random_checkpoint(FCOS_CAFFE, tmp_path / 'fcos.pth')
    output = run_tool('train.py', config, '--work-dir', tmp_path / 'work', '--cfg-options',
                      f'model.teacher_checkpoint={teacher}', *runner_options(cfg, det_root))
    losses = re.findall(r'loss_kd_fpn: (\S+)', output)
    assert losses and all(torch.isfinite(torch.tensor(float(v))) for v in losses), output[-3000:]


def test_inspect_pair_matches_strides_of_a_two_stage_teacher(tmp_path):
    """Faster R-CNN's FPN starts at P2, RetinaNet's at P3: the proposal shifts by one level
    (and keeps the first three levels of equal stride, as the measured default)."""
    output = run_tool('inspect_pair.py', FASTER_R50, RETINA_R18, '--size', '128', '128')
    assert re.search(r'fpn\s+neck\[1:4\]\s+-> neck\[0:3\]', output), output  # P3-P5


def test_inspect_pair_finds_each_heads_feature_before_the_classifier(seg_root, tmp_path):
    """DeepLabV3+ calls it sep_bottleneck (stride 4, after fusing stage 1), PSPNet bottleneck
    (stride 8): proposed with resizing, next to the backbones' last outputs (both stride 8),
    the segmentation default's two points with its loss at each and its fit hook; the written
    config trains through tools/train.py as written, both autoencoders fitted before the first
    step."""
    config = tmp_path / 'seg_pair.py'
    output = run_tool('inspect_pair.py', DLV3P_R50, PSP_R18, '--size', '128', '128',
                      '--write-config', config)
    assert re.search(r'head\s+decode_head\.sep_bottleneck\s+-> decode_head\.bottleneck\s+'
                     r"\(strides differ: align='interpolate'\)", output), output
    assert re.search(r'backbone\s+backbone\[3\]\s+-> backbone\[3\]\n', output), output
    assert 'Only the head point' not in output + config.read_text()
    cfg = Config.fromfile(str(config))
    assert cfg.model.student.pretrained is None
    assert [(p.name, p.teacher, p.student) for p in cfg.model.distill] == [
        ('head', 'decode_head.sep_bottleneck', 'decode_head.bottleneck'),
        ('backbone', 'backbone[3]', 'backbone[3]')]
    default = Config.fromfile(str(REPO_ROOT / 'configs/_base_/distill/rdimkd-a_seg.py'))
    assert [p.loss for p in cfg.model.distill] == [
        dict(default.seg_distill[0].loss, align='interpolate'), default.seg_distill[1].loss]
    assert cfg.custom_hooks == default.seg_distill_hooks

    teacher = random_checkpoint(DLV3P_R50, tmp_path / 'dlv3p.pth')
    output = run_tool('train.py', config, '--work-dir', tmp_path / 'work', '--cfg-options',
                      f'model.teacher_checkpoint={teacher}',
                      *runner_options(cfg, seg_root, epochs=2))  # 2 iterations
    assert "Fitting projections and loss scales of ['backbone', 'head']" in output, (
        output[-3000:])
    for name in ('head', 'backbone'):
        losses = re.findall(rf'loss_kd_{name}: (\S+)', output)
        assert len(losses) == 2 and all(
            torch.isfinite(torch.tensor(float(v))) for v in losses), output[-3000:]


def test_inspect_pair_writes_the_head_point_alone_when_backbone_strides_differ(tmp_path):
    """UPerNet's ResNet ends at stride 32, the dilated PSPNet's at 8: the backbone point of the
    segmentation default needs equal strides, so only the head point is written, and the
    output and the written config say why."""
    config = tmp_path / 'seg_pair.py'
    output = run_tool('inspect_pair.py', UPERNET_R18, PSP_R18, '--size', '128', '128',
                      '--write-config', config)
    why = ("Only the head point: the segmentation default also distils the backbone's last "
           "output, left out because the backbones' last outputs differ in stride (teacher "
           'backbone[3] /32, student backbone[3] /8); that point needs equal strides.')
    assert why in output, output
    text = config.read_text()
    assert why in ' '.join(line[2:] for line in text.splitlines() if line.startswith('# '))
    cfg = Config.fromfile(str(config))
    assert [(p.name, p.teacher, p.student) for p in cfg.model.distill] == [
        ('head', 'decode_head.fpn_bottleneck', 'decode_head.bottleneck')]


def test_inspect_features_resolves_zoo_names():
    output = run_tool('inspect_features.py', RETINA_R18, '--size', '128', '128')
    assert re.search(r'neck\s+1\s+tuple of 5: \(256, 16, 16\) stride 8', output), output
