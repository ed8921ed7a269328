"""FeatureDistiller on small mmseg pairs: PSPNet, DeepLabV3(+), different strides and widths."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData

import rdimkd_mm  # noqa: F401
from rdimkd_mm.engine.projection_fit import fit_projections
from rdimkd_mm.registry import MODELS
from rdimkd_mm.utils import build_model, resolve_config_path
from helpers.paths import REPO_ROOT

PSP_STUDENT = REPO_ROOT / 'configs/_base_/models/pspnet_r18-w16-d8.py'
SIZE = 64


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


def psp_student() -> dict:
    return Config.fromfile(str(PSP_STUDENT)).model.to_dict()


def small_segmentor(base: str, width: int, channels: int, output_stride: int = 8) -> dict:
    """A mmseg base model shrunk to ResNetV1c-18 of ``width`` with BN and no pretraining."""
    cfg = Config.fromfile(resolve_config_path(f'mmseg::_base_/models/{base}.py')).model.to_dict()
    cfg['pretrained'] = None
    norm = dict(type='BN', requires_grad=True)
    strides, dilations = ((1, 2, 1, 1), (1, 1, 2, 4)) if output_stride == 8 else \
        ((1, 2, 2, 1), (1, 1, 1, 2))
    cfg['backbone'].update(depth=18, base_channels=width, stem_channels=width, norm_cfg=norm,
                           strides=strides, dilations=dilations)
    stages = [width * 2**i for i in range(4)]
    cfg['decode_head'].update(in_channels=stages[3], channels=channels, norm_cfg=norm)
    if 'c1_in_channels' in cfg['decode_head']:  # DeepLabV3+: low-level features of stage 1
        cfg['decode_head'].update(c1_in_channels=stages[0], c1_channels=16)
    cfg['auxiliary_head'].update(in_channels=stages[2], channels=32, norm_cfg=norm)
    cfg['data_preprocessor']['size'] = (SIZE, SIZE)
    return cfg


def raw_batch(n: int = 2) -> dict:
    from mmseg.structures import SegDataSample
    generator = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(torch.randint(0, 256, (3, SIZE, SIZE), generator=generator,
                                    dtype=torch.uint8))
        sample = SegDataSample(metainfo=dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE)))
        labels = torch.randint(0, 19, (1, SIZE, SIZE), generator=generator)
        labels[:, :4] = 255  # ignored pixels
        sample.gt_sem_seg = PixelData(data=labels)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def distil(student: dict, teacher: dict, tmp_path: Path, distill: list):
    torch.manual_seed(0)
    teacher_model, _ = build_model(teacher)
    torch.save(dict(state_dict=teacher_model.state_dict()), tmp_path / 'teacher.pth')
    distiller = MODELS.build(dict(type='rdimkd_mm.FeatureDistiller', student=student,
                                  teacher=teacher, teacher_checkpoint=str(tmp_path / 'teacher.pth'),
                                  distill=distill, probe_size=(SIZE, SIZE)))
    fit_projections(distiller, [raw_batch()], num_batches=1, progress=False)  # the loss scales
    return distiller


def point(name: str, address: str, k: int) -> dict:
    return dict(name=name, student=address, teacher=address,
                loss=dict(type='rdimkd_mm.RdimKDLoss',
                          projection=dict(type='rdimkd_mm.RandomProjection', k=k)))


def training_step(distiller) -> dict:
    optim = build_optim_wrapper(distiller, dict(optimizer=dict(type='SGD', lr=0.01)))
    data = distiller.data_preprocessor(raw_batch(), True)
    losses = distiller(**data, mode='loss')
    before = distiller.student.backbone.stem[0].weight.clone()
    total = sum(v for k, v in losses.items() if 'loss' in k)
    optim.update_params(total)
    assert not torch.equal(before, distiller.student.backbone.stem[0].weight)
    return losses


@pytest.mark.parametrize('teacher_base', ['pspnet_r50-d8', 'deeplabv3_r50-d8',
                                          'deeplabv3plus_r50-d8'])
def test_one_training_step_with_different_channels(teacher_base, tmp_path):
    teacher = small_segmentor(teacher_base, width=32, channels=96)
    distiller = distil(psp_student(), teacher, tmp_path,
                       [point('head', 'decode_head.bottleneck', 16),
                        point('c5', 'backbone[3]', 32)])
    losses = training_step(distiller)
    assert {'decode.loss_ce', 'aux.loss_ce', 'loss_kd_head', 'loss_kd_c5'} <= set(losses)
    head = distiller.distill_losses['head']
    assert (head.student_channels, head.teacher_channels) == (64, 96)
    assert losses['loss_kd_head'] > 0 and losses['loss_kd_c5'] > 0


def test_deeplabv3_student_with_different_output_stride(tmp_path):
    """Student at output stride 8, teacher at 16: the student map is resized to the teacher's."""
    student = small_segmentor('deeplabv3_r50-d8', width=16, channels=32, output_stride=8)
    teacher = small_segmentor('deeplabv3_r50-d8', width=32, channels=64, output_stride=16)
    resized = point('head', 'decode_head.bottleneck', 16)
    resized['loss']['align'] = 'interpolate'
    distiller = distil(student, teacher, tmp_path, [resized])
    teacher_feat = distiller.teacher_features(
        distiller.data_preprocessor(raw_batch(), True)['inputs'])['decode_head.bottleneck'][0]
    assert teacher_feat.shape[-2:] == (SIZE // 16, SIZE // 16)
    losses = training_step(distiller)
    assert torch.isfinite(losses['loss_kd_head']) and losses['loss_kd_head'] > 0


def test_different_output_stride_is_refused_at_build(tmp_path):
    """Stride 16 vs 8 at the same address: a build-time error that proposes student modules
    at the teacher's stride, or resizing."""
    student = small_segmentor('pspnet_r50-d8', width=16, channels=32, output_stride=16)
    teacher = small_segmentor('pspnet_r50-d8', width=16, channels=32, output_stride=8)
    with pytest.raises(ValueError) as error:
        distil(student, teacher, tmp_path, [point('head', 'decode_head.bottleneck', 8)])
    message = str(error.value)
    assert 'strides differ' in message and '16 vs 8' in message
    assert "align='interpolate'" in message
    assert "Student modules at the teacher's stride 8: ['backbone[1]', 'backbone.layer2'" \
        in message


def test_predict_evaluates_the_student(tmp_path):
    distiller = distil(psp_student(), small_segmentor('pspnet_r50-d8', 32, 96), tmp_path,
                       [point('head', 'decode_head.bottleneck', 16)]).eval()
    data = distiller.data_preprocessor(raw_batch(), False)
    with torch.no_grad():
        ours = distiller(**data, mode='predict')
        plain = distiller.student(**data, mode='predict')
    assert torch.equal(ours[0].pred_sem_seg.data, plain[0].pred_sem_seg.data)


def test_top_level_preprocessor_from_the_runner(tmp_path):
    """mmengine's Runner passes the config's top-level data_preprocessor, which carries a
    `_scope_` key the student's copy lacks: accepted; a real difference is named."""
    student, teacher = psp_student(), small_segmentor('pspnet_r50-d8', 32, 96)
    torch.manual_seed(0)
    torch.save(dict(state_dict=build_model(teacher)[0].state_dict()), tmp_path / 'teacher.pth')
    top = dict(student['data_preprocessor'], _scope_='mmseg')

    def build(data_preprocessor):
        return MODELS.build(dict(
            type='rdimkd_mm.FeatureDistiller', student=student, teacher=teacher,
            teacher_checkpoint=str(tmp_path / 'teacher.pth'), probe_size=(SIZE, SIZE),
            distill=[point('head', 'decode_head.bottleneck', 16)],
            data_preprocessor=data_preprocessor))

    assert build(top).data_preprocessor is not None
    with pytest.raises(ValueError, match=r"differs .* in \['size'\]"):
        build(dict(top, size=(SIZE // 2, SIZE // 2)))
