"""The peer losses PKD and CWD together: their plumbing (connector, levels, autocast, config
checks) and a real run of each benchmark arm. Their formulas: test_pkd_loss.py and
test_cwd_loss.py."""
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
    for loss in (PKDLoss(student_channels=4, teacher_channels=4),
                 CWDLoss(student_channels=4, teacher_channels=4)):
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
    # The choices are every registered loss: a loss a config imports (custom_imports) joins them.
    with pytest.raises(ValueError, match="did you mean 'rdimkd_mm.PKDLoss'.*Choose one of "
                       r'rdimkd_mm.CWDLoss, rdimkd_mm.PKDLoss, (\S+, )*rdimkd_mm.RdimKDLoss'):
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
