"""The peer losses PKD and CWD: their formulas on small hand-made examples, their plumbing
(connector, levels, autocast, config checks) and a real run of each benchmark arm."""
import json
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import nn

from rdimkd_mm.models.distillers.point_config import check_loss_config
from rdimkd_mm.models.losses import CWDLoss, PKDLoss
from rdimkd_mm.utils import build_model
from helpers.paths import REPO_ROOT
from helpers.tools import det_data_options, run_cases, seg_data_options

PKD_ARM = 'benchmarks/configs/det/pkd.py'
CWD_ARM = 'benchmarks/configs/seg/cwd.py'


def _pkd(channels=4, **kwargs):
    return PKDLoss(student_channels=channels, teacher_channels=channels, **kwargs)


def _cwd(channels=4, **kwargs):
    return CWDLoss(student_channels=channels, teacher_channels=channels, **kwargs)


def _pearson(a, b):
    """Mean over channels of the Pearson correlation over (N, H, W), with torch.corrcoef."""
    a, b = a.transpose(0, 1).flatten(1), b.transpose(0, 1).flatten(1)
    return torch.stack([torch.corrcoef(torch.stack([x, y]))[0, 1] for x, y in zip(a, b)]).mean()


# ------------------------------------------------------------------------------------- PKD
def test_pkd_hand_computed_example():
    """s = (1, 2, 3), t = (1, 3, 2): centred (-1, 0, 1) and (-1, 1, 0), r = 1/2, loss = 1 - r."""
    student = torch.tensor([1., 2., 3.]).view(1, 1, 1, 3)
    teacher = torch.tensor([1., 3., 2.]).view(1, 1, 1, 3)
    torch.testing.assert_close(_pkd(1)(student, teacher), torch.tensor(0.5), rtol=1e-5, atol=0)
    torch.testing.assert_close(_pkd(1)(student, -teacher), torch.tensor(1.5), rtol=1e-5, atol=0)


def test_pkd_is_one_minus_the_mean_channel_pearson_correlation():
    torch.manual_seed(0)
    student = torch.randn(3, 5, 4, 6)
    teacher = 0.7 * student + torch.randn(3, 5, 4, 6)
    value = _pkd(5, loss_weight=2.0)(student, teacher)
    assert 0.2 < value.item() < 1.8
    torch.testing.assert_close(value, 2.0 * (1 - _pearson(student, teacher)), rtol=1e-4, atol=0)
    torch.testing.assert_close(_pkd(5)(teacher, teacher), torch.tensor(0.0), rtol=0, atol=1e-6)


def test_pkd_ignores_per_channel_scale_and_offset_on_either_side():
    torch.manual_seed(0)
    student, teacher = torch.randn(2, 4, 5, 5), torch.randn(2, 4, 5, 5)
    scale = torch.tensor([0.1, 1.0, 30.0, 500.0]).view(1, 4, 1, 1)
    offset = torch.tensor([-100.0, 0.0, 3.0, 1e3]).view(1, 4, 1, 1)
    loss = _pkd()
    value = loss(student, teacher)
    torch.testing.assert_close(loss(scale * student + offset, teacher), value, rtol=1e-4, atol=0)
    torch.testing.assert_close(loss(student, scale * teacher - offset), value, rtol=1e-4, atol=0)
    # Not any rescaling: flipping one channel's sign changes its correlation's sign.
    flip = torch.tensor([-1.0, 1.0, 1.0, 1.0]).view(1, 4, 1, 1)
    assert abs(loss(flip * student, teacher).item() - value.item()) > 1e-3


# ------------------------------------------------------------------------------------- CWD
def test_cwd_hand_computed_example():
    """Teacher logits (0, 0) -> p = (1/2, 1/2); student (0, ln 3) -> q = (1/4, 3/4);
    KL(p || q) = 1/2 ln 2 + 1/2 ln(2/3) = 1/2 ln(4/3). A second, equal channel adds 0 and
    halves the channel mean."""
    teacher = torch.tensor([0.0, 0.0]).view(1, 1, 1, 2)
    student = torch.tensor([0.0, math.log(3)]).view(1, 1, 1, 2)
    expected = 0.5 * math.log(4 / 3)
    torch.testing.assert_close(_cwd(1)(student, teacher), torch.tensor(expected), rtol=1e-5,
                               atol=0)
    same = torch.tensor([1.0, -2.0]).view(1, 1, 1, 2)
    two = _cwd(2)(torch.cat([student, same], 1), torch.cat([teacher, same], 1))
    torch.testing.assert_close(two, torch.tensor(expected / 2), rtol=1e-5, atol=0)


def test_cwd_zero_when_equal_up_to_a_constant_per_channel_and_positive_otherwise():
    torch.manual_seed(0)
    teacher = torch.randn(2, 3, 4, 4)
    shift = torch.randn(2, 3, 1, 1)
    loss = _cwd(3, tau=2.0)
    assert loss(teacher.clone(), teacher).abs().item() < 1e-6
    assert loss(teacher + shift, teacher).abs().item() < 1e-6
    assert loss(torch.randn(2, 3, 4, 4), teacher).item() > 0.1


def test_cwd_temperature_enters_as_tau_squared_times_the_softened_kl():
    """loss(tau) on (s, t) = tau^2 * loss(1) on (s / tau, t / tau)."""
    torch.manual_seed(0)
    student, teacher = 3 * torch.randn(2, 4, 3, 5), 3 * torch.randn(2, 4, 3, 5)
    soft = _cwd(tau=4.0)(student, teacher)
    torch.testing.assert_close(soft, 16 * _cwd()(student / 4, teacher / 4), rtol=1e-5, atol=0)
    assert abs(soft.item() - _cwd()(student, teacher).item()) > 0.1


def test_cwd_rejects_a_non_positive_temperature():
    with pytest.raises(ValueError, match='tau'):
        _cwd(tau=0.0)


# ---------------------------------------------------------------------------------- shared
@pytest.mark.parametrize('loss_type', [PKDLoss, CWDLoss])
def test_gradients_reach_student_and_connector_only(loss_type):
    torch.manual_seed(0)
    loss = loss_type(student_channels=8, teacher_channels=16)
    assert isinstance(loss.connectors[0], nn.Conv2d)
    student = torch.randn(2, 8, 4, 4, requires_grad=True)
    teacher = torch.randn(2, 16, 4, 4, requires_grad=True)
    loss(student, teacher).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    conv = loss.connectors[0]
    assert conv.weight.grad.abs().sum() > 0
    assert teacher.grad is None


@pytest.mark.parametrize('loss_type', [PKDLoss, CWDLoss])
def test_multi_level_loss_sums_one_weighted_term_per_level(loss_type):
    torch.manual_seed(0)
    sizes = [(8, 8), (4, 4), (2, 2)]
    loss = loss_type(student_channels=8, teacher_channels=16, num_levels=3, loss_weight=3.0)
    students = [torch.randn(2, 8, *s) for s in sizes]
    teachers = [torch.randn(2, 16, *s) for s in sizes]
    levels = loss.level_losses(students, teachers)
    assert len(levels) == 3 and len({round(v.item(), 6) for v in levels}) == 3
    torch.testing.assert_close(loss(students, teachers), sum(levels), rtol=1e-6, atol=0)
    for level, (student, teacher) in enumerate(zip(students, teachers)):
        single = loss_type(student_channels=16, teacher_channels=16)
        connected = loss.connectors[level](student)
        torch.testing.assert_close(levels[level], 3.0 * single(connected, teacher), rtol=1e-5,
                                   atol=0)
    with pytest.raises(ValueError, match=f'{loss_type.__name__} was built for 3 level'):
        loss(students[:2], teachers[:2])


@pytest.mark.parametrize('loss_type', [PKDLoss, CWDLoss])
def test_autocast_computes_the_loss_in_float32(loss_type):
    """Under autocast (``--amp``) the connector runs in bfloat16, the loss in float32: the
    standardisation or softmax of features with a large common offset and fine detail would
    lose the detail in bfloat16's 8 bits of mantissa."""
    torch.manual_seed(0)
    student = 50 + torch.randn(2, 4, 6, 6)
    teacher = student + 0.3 * torch.randn(2, 4, 6, 6)
    loss = loss_type(student_channels=4, teacher_channels=4, connector='conv')
    with torch.autocast('cpu', dtype=torch.bfloat16):
        connected = loss.connectors[0](student)
        value = loss(student, teacher)
    assert connected.dtype == torch.bfloat16 and value.dtype == torch.float32
    plain = loss_type(student_channels=4, teacher_channels=4)
    torch.testing.assert_close(value, plain(connected.float(), teacher), rtol=1e-5, atol=0)


def test_stride_align_crops_a_padding_remainder():
    torch.manual_seed(0)
    student, teacher = torch.randn(2, 4, 6, 7), torch.randn(2, 4, 8, 8)
    for loss in (_pkd(), _cwd()):
        torch.testing.assert_close(loss(student, teacher),
                                   loss(student[..., :6, :7], teacher[..., :6, :7]), rtol=0,
                                   atol=0)


def test_loss_config_checks_cover_the_peers():
    check_loss_config(dict(type='rdimkd_mm.PKDLoss', loss_weight=10.0), 'fpn')
    check_loss_config(dict(type='CWDLoss', tau=4.0), 'logits')
    with pytest.raises(ValueError) as error:
        check_loss_config(dict(type='rdimkd_mm.CWDLoss', temperature=4.0), 'logits')
    assert str(error.value) == (
        "distill point 'logits': loss (CWDLoss) has no option 'temperature'. Its options are "
        'tau, connector, align, loss_weight.')
    with pytest.raises(ValueError, match=r"\(PKDLoss\) has no option 'projection'"):
        check_loss_config(dict(type='rdimkd_mm.PKDLoss', projection=dict(k=8)), 'fpn')
    with pytest.raises(ValueError, match="did you mean 'rdimkd_mm.PKDLoss'.*Choose one of "
                       'rdimkd_mm.CWDLoss, rdimkd_mm.PKDLoss, rdimkd_mm.RdimKDLoss'):
        check_loss_config(dict(type='rdimkd_mm.PDKLoss'), 'fpn')
    with pytest.raises(ValueError, match="loss type 'rdimkd_mm.RandomProjection' is not a "
                       'BaseDistillLoss; choose one of rdimkd_mm.CWDLoss'):
        check_loss_config(dict(type='rdimkd_mm.RandomProjection', k=8), 'fpn')


# ------------------------------------------------------------------------ real training runs
def _random_teacher(arm: str, scope: str, path):
    """The arm's teacher with its initial weights, saved as a checkpoint (no training)."""
    with DefaultScope.overwrite_default_scope(scope):
        teacher, _ = build_model(Config.fromfile(str(REPO_ROOT / arm)).model.teacher)
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


def _kd_losses(work_dir, name: str) -> list:
    """The logged ``loss_kd_<name>`` values of a run."""
    lines = next(work_dir.glob('*/vis_data/scalars.json')).read_text().splitlines()
    return [record[f'loss_kd_{name}'] for record in map(json.loads, lines)
            if f'loss_kd_{name}' in record]


def test_benchmark_peer_arms_train_through_tools_train(det_root, seg_root, tmp_path):
    """benchmarks/configs/det/pkd.py and seg/cwd.py train with tools/train.py (2 iterations
    and a validation each): the peer loss is logged, per level and as a ratio to the task."""
    det_teacher = _random_teacher(PKD_ARM, 'mmdet', tmp_path / 'det_teacher.pth')
    seg_teacher = _random_teacher(CWD_ARM, 'mmseg', tmp_path / 'seg_teacher.pth')
    schedule = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2',
                'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1']
    runs = {
        'pkd': [PKD_ARM, f'model.teacher_checkpoint={det_teacher}', *det_data_options(det_root)],
        'cwd': [CWD_ARM, f'model.teacher_checkpoint={seg_teacher}', *seg_data_options(seg_root)],
    }
    outcomes = run_cases([
        dict(name=arm, tool='tools/train.py',
             args=[config, '--work-dir', tmp_path / arm, '--cfg-options', *schedule, *options])
        for arm, (config, *options) in runs.items()
    ])
    for arm, point, extra in (('pkd', 'fpn', 'kd_fpn_l2'), ('cwd', 'logits', 'decode.loss_ce')):
        outcome = outcomes[arm]
        assert outcome['error'] is None, outcome['output'][-6000:]
        for key in (f'loss_kd_{point}', f'kd_ratio_{point}', extra):
            assert key in outcome['output'], key
        values = _kd_losses(tmp_path / arm, point)
        assert len(values) == 2 and all(math.isfinite(v) and v > 0 for v in values)
        assert (tmp_path / arm / 'iter_2.pth').is_file()
    assert 'coco/bbox_mAP' in outcomes['pkd']['output']
    assert 'mIoU' in outcomes['cwd']['output']
