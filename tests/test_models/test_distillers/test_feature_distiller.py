"""FeatureDistiller on small mmdet pairs: freezing, gradients, early exit, errors."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper

from helpers.distillers import (RETINA_STUDENT, RETINA_TEACHER, build_distiller, faster_rcnn_cfg,
                                fcos_cfg, fpn_point, model_cfg, raw_batch, total, train_losses)
from helpers.models import save_random_model
from helpers.paths import REPO_ROOT

pytestmark = pytest.mark.usefixtures('mmdet_scope')


@pytest.fixture
def retina_distiller(retina_checkpoint):
    torch.manual_seed(0)
    return build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER), retina_checkpoint)


def test_loss_has_task_and_kd_terms(retina_distiller):
    losses = train_losses(retina_distiller)
    assert {'loss_cls', 'loss_bbox', 'loss_kd_fpn'} <= set(losses)
    assert [f'kd_fpn_l{i}' for i in range(5)] == [k for k in losses if k.startswith('kd_fpn_l')]
    per_level = sum(losses[f'kd_fpn_l{i}'] for i in range(5))
    torch.testing.assert_close(per_level, losses['loss_kd_fpn'].detach())
    assert losses['loss_kd_fpn'] > 0


def test_channels_and_levels_come_from_the_probe(retina_distiller):
    loss = retina_distiller.distill_losses['fpn']
    assert (loss.student_channels, loss.teacher_channels, loss.num_levels) == (64, 128, 5)
    assert all(isinstance(c, torch.nn.Conv2d) for c in loss.connectors)  # 64 != 128


def test_gradients_reach_student_and_connector_only(retina_distiller):
    losses = train_losses(retina_distiller)
    losses['loss_kd_fpn'].backward()
    student = retina_distiller.student
    assert student.backbone.conv1.weight.grad is not None
    assert student.neck.fpn_convs[0].conv.weight.grad is not None
    assert student.bbox_head.retina_cls.weight.grad is None  # the KD loss stops at the neck
    connector = retina_distiller.distill_losses['fpn'].connectors[0]
    assert connector.weight.grad is not None and connector.weight.grad.abs().sum() > 0
    assert all(not p.requires_grad and p.grad is None
               for p in retina_distiller.teacher.parameters())


def test_teacher_frozen_out_of_optimizer_and_checkpoint(retina_distiller):
    distiller = retina_distiller.train()
    teacher = distiller.teacher
    assert not teacher.training and not any(m.training for m in teacher.modules())
    assert distiller.student.training
    teacher_ids = {id(p) for p in teacher.parameters()}
    assert not teacher_ids & {id(p) for p in distiller.parameters()}
    optim = build_optim_wrapper(distiller, dict(optimizer=dict(type='SGD', lr=0.01)))
    optimised = {id(p) for group in optim.optimizer.param_groups for p in group['params']}
    assert not teacher_ids & optimised
    assert {id(p) for p in distiller.student.parameters()} <= optimised
    keys = distiller.state_dict().keys()
    assert not [k for k in keys if k.startswith('teacher')]
    assert len(keys) == (len(distiller.student.state_dict()) +
                         len(distiller.distill_losses.state_dict()))


def test_teacher_weights_do_not_change_in_training(retina_distiller, retina_checkpoint):
    optim = build_optim_wrapper(retina_distiller, dict(optimizer=dict(type='SGD', lr=0.1)))
    for seed in range(2):
        optim.update_params(total(train_losses(retina_distiller, raw_batch(seed=seed))))
    saved = torch.load(retina_checkpoint)['state_dict']
    for key, value in retina_distiller.teacher.state_dict().items():
        assert torch.equal(value, saved[key]), key


def test_teacher_exits_after_the_deepest_distilled_module(retina_distiller):
    calls = []
    head = retina_distiller.teacher.bbox_head.retina_cls
    head.register_forward_hook(lambda *args: calls.append(1))
    train_losses(retina_distiller)
    assert calls == []
    retina_distiller.teacher_early_exit = False
    train_losses(retina_distiller)
    assert calls == [1] * 5  # once per FPN level


def test_predict_uses_the_student(retina_distiller):
    retina_distiller.eval()
    data = retina_distiller.data_preprocessor(raw_batch(), False)
    with torch.no_grad():
        ours = retina_distiller(**data, mode='predict')
        plain = retina_distiller.student(**data, mode='predict')
    torch.testing.assert_close(ours[0].pred_instances.scores, plain[0].pred_instances.scores)


@pytest.mark.parametrize('pair', ['fcos', 'faster_rcnn'])
def test_one_training_step_for_other_detectors(pair, tmp_path):
    make = dict(fcos=fcos_cfg, faster_rcnn=faster_rcnn_cfg)[pair]
    student, teacher = make(18, 16, 64), make(18, 32, 96)  # different FPN channels
    checkpoint = save_random_model(teacher, tmp_path / 'teacher.pth')
    distiller = build_distiller(student, teacher, checkpoint, distill=[
        fpn_point(k=16),
        dict(name='c5', student='backbone[3]', teacher='backbone[3]',
             loss=dict(type='rdimkd_mm.RdimKDLoss',
                       projection=dict(type='rdimkd_mm.RandomProjection', k=32))),
    ])
    optim = build_optim_wrapper(distiller, dict(optimizer=dict(type='SGD', lr=0.01)))
    before = distiller.student.backbone.conv1.weight.clone()
    losses = train_losses(distiller)
    assert losses['loss_kd_fpn'] > 0 and losses['loss_kd_c5'] > 0
    assert distiller.distill_losses['c5'].student_channels == 128
    assert distiller.distill_losses['c5'].teacher_channels == 256
    optim.update_params(total(losses))
    assert not torch.equal(before, distiller.student.backbone.conv1.weight)


# ----------------------------------------------------------------------------- clear errors
def test_unknown_feature_name_suggests_close_names(retina_checkpoint):
    with pytest.raises(KeyError, match=r"no module 'nek'.*neck"):
        build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER), retina_checkpoint,
                        distill=[dict(student='nek', teacher='neck', loss=fpn_point()['loss'])])


def test_missing_teacher_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match='train the teacher first'):
        build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER),
                        str(tmp_path / 'nope.pth'))


def test_mismatching_teacher_checkpoint(tmp_path):
    wrong = save_random_model(model_cfg(RETINA_STUDENT), tmp_path / 'student_as_teacher.pth')
    with pytest.raises(RuntimeError, match='does not match'):
        build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER), wrong)


def test_distiller_checkpoint_as_teacher_is_refused(retina_distiller, tmp_path):
    path = tmp_path / 'distiller.pth'
    torch.save(dict(state_dict=retina_distiller.state_dict()), path)
    with pytest.raises(RuntimeError, match='export_student'):
        build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_STUDENT), str(path))


def test_student_that_is_not_a_detector_is_refused(retina_checkpoint):
    with pytest.raises(TypeError, match=r"The student is a ResNet, not a detector or segmentor: "
                       r".*student=_base_.model of the student config"):
        build_distiller(dict(type='mmdet.ResNet', depth=18), model_cfg(RETINA_TEACHER),
                        retina_checkpoint)


@pytest.mark.parametrize('loss, message', [
    (dict(projection=dict(type='rdimkd_mm.RandomProjektion', k=8)),
     "distill point 'fpn': loss.projection type 'rdimkd_mm.RandomProjektion' is not "
     "registered; did you mean 'rdimkd_mm.RandomProjection'? Choose one of "
     'rdimkd_mm.AutoencoderProjection, rdimkd_mm.IdentityProjection, rdimkd_mm.PCAProjection, '
     'rdimkd_mm.RandomProjection.'),
    (dict(projection=dict(type='rdimkd_mm.RandomProjection', k=8), loss_wieght=2.0),
     "distill point 'fpn': loss (RdimKDLoss) has no option 'loss_wieght' (did you mean "
     "'loss_weight'?). Its options are projection, connector, align, normalize, reduction, "
     'loss_weight.'),
    (dict(projection=dict(type='rdimkd_mm.PCAProjection', k=8, seed=1)),
     "distill point 'fpn': loss.projection (PCAProjection) has no option 'seed'. Its options "
     'are k, max_samples_per_batch.'),
    (dict(projection=dict(type='rdimkd_mm.RandomProjection')),
     "distill point 'fpn': loss.projection (RandomProjection) needs 'k'. Its options are k, "
     'seed.'),
], ids=['projection type', 'loss option', 'projection option', 'missing option'])
def test_loss_config_errors_name_the_point_and_the_options(loss, message):
    """Checked before anything is built: no model, no teacher checkpoint needed."""
    point = dict(name='fpn', student='neck', teacher='neck',
                 loss=dict(type='rdimkd_mm.RdimKDLoss', **loss))
    with pytest.raises(ValueError) as error:
        build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER), '/nonexistent.pth',
                        distill=[point])
    assert str(error.value) == message


def test_level_count_mismatch(retina_checkpoint):
    point = dict(student='neck', teacher='neck[0]', loss=fpn_point()['loss'])
    with pytest.raises(ValueError, match=r'5 feature map\(s\) but the teacher 1'):
        build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER), retina_checkpoint,
                        distill=[point])


def test_student_and_teacher_from_different_libraries(retina_checkpoint):
    seg_teacher = dict(model_cfg(REPO_ROOT / 'configs/_base_/models/pspnet_r18-w16-d8.py'),
                       _scope_='mmseg')
    with pytest.raises(ValueError, match='distil within one library'):
        build_distiller(model_cfg(RETINA_STUDENT), seg_teacher, retina_checkpoint)


def test_duplicate_point_names(retina_checkpoint):
    with pytest.raises(ValueError, match='distinct'):
        build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER), retina_checkpoint,
                        distill=[fpn_point(), fpn_point()])


def test_warns_once_when_kd_dominates_the_task_loss(retina_checkpoint, monkeypatch):
    from rdimkd_mm.models.distillers import KDScaleMonitor, kd_scale_monitor
    messages, readings = [], []

    def print_log(msg, **kwargs):
        (messages if 'KD losses' in msg else readings).append(msg)

    monkeypatch.setattr(kd_scale_monitor, 'print_log', print_log)
    distiller = build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER),
                                retina_checkpoint, distill=[fpn_point(loss_weight=1e6)])
    monitor = distiller.kd_scale_monitor
    assert monitor.kd_check_iters == 50 and monitor.kd_dominance_ratio == 100
    monitor.kd_check_iters = 2  # judged on the mean of the first two steps
    train_losses(distiller)
    assert messages == []
    train_losses(distiller)
    train_losses(distiller)
    assert len(messages) == 1 and 'Over the first 2 steps' in messages[0]
    assert 'loss_weight' in messages[0]
    messages.clear()
    # The measured default (standardised, weight 10 per level) is no false alarm.
    default = build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER),
                              retina_checkpoint, distill=[fpn_point(loss_weight=10.0)])
    default.kd_scale_monitor.kd_check_iters = 2
    train_losses(default)
    train_losses(default)
    assert messages == [] and default.kd_scale_monitor.steps == 2  # checked
    assert len(readings) == 2  # one reading per judged run: the two distillers'

    # A head whose first task loss is far below its training scale (RTMDet's: 504x at the
    # first step on the zoo pair, 9x by iteration 50 in the benchmark) is judged on the mean,
    # not on the first step.
    def steps(*ratios):
        monitor = KDScaleMonitor(kd_check_iters=len(ratios))
        for ratio in ratios + (1e6,):  # steps after the check are not counted
            monitor.update(dict(loss_cls=torch.tensor(1.0),
                                loss_kd_fpn=torch.tensor(float(ratio))))
        assert monitor.steps == len(ratios)

    readings.clear()
    steps(300, 8, 8, 8, 8)  # KD 332 over task 5: 66x
    assert messages == []
    assert readings == ['KD/task loss ratio over the first 5 steps: 66.4x on average (KD 66.4, '
                        'task 1), 300x at the first step; the warning threshold is 100x.']
    steps(300, 300, 300, 300, 300)
    assert len(messages) == 1 and '300x the task losses (1)' in messages[0]
    assert 'about 0.033 times' in messages[0]


def test_stride_mismatch_is_refused_with_matching_slices(tmp_path):
    """Faster R-CNN's FPN gives P2-P6, RetinaNet's P3-P7: 'neck' <-> 'neck' pairs each level
    with one of twice its stride; the error proposes the slices of equal stride, which build."""
    teacher = faster_rcnn_cfg(18, 32, 64)
    checkpoint = save_random_model(teacher, tmp_path / 'teacher.pth')
    with pytest.raises(ValueError) as error:
        build_distiller(model_cfg(RETINA_STUDENT), teacher, checkpoint)
    message = str(error.value)
    assert 'strides differ' in message and '8 vs 4' in message
    assert "student='neck[0:4]', teacher='neck[1:5]'" in message
    distiller = build_distiller(model_cfg(RETINA_STUDENT), teacher, checkpoint, distill=[
        dict(name='fpn', student='neck[0:4]', teacher='neck[1:5]', loss=fpn_point()['loss'])])
    assert torch.isfinite(train_losses(distiller)['loss_kd_fpn'])


def test_stride_mismatch_is_allowed_with_interpolate(tmp_path):
    teacher = faster_rcnn_cfg(18, 32, 64)
    checkpoint = save_random_model(teacher, tmp_path / 'teacher.pth')
    distiller = build_distiller(model_cfg(RETINA_STUDENT), teacher, checkpoint,
                                distill=[fpn_point(align='interpolate')])
    assert torch.isfinite(train_losses(distiller)['loss_kd_fpn'])


def test_token_features_are_refused_at_build():
    from rdimkd_mm.models.distillers.point_check import PointCheck
    from rdimkd_mm.models.task_modules import Feature
    tokens = [Feature(shape=(1360, 256), stride=None)]
    check = PointCheck(dict(name='enc', student='encoder', teacher='encoder', loss={}), tokens,
                       tokens)
    with pytest.raises(ValueError, match=r'shape \(N, 1360, 256\), not a feature map'):
        check.check_maps_and_levels()


def test_hooks_reach_the_student_through_the_distiller(retina_distiller):
    """mmdet hooks address runner.model.bbox_head (e.g. YOLOXModeSwitchHook)."""
    assert retina_distiller.bbox_head is retina_distiller.student.bbox_head
    retina_distiller.bbox_head.use_l1 = True
    assert retina_distiller.student.bbox_head.use_l1 is True
    assert retina_distiller.with_neck
    with pytest.raises(AttributeError, match='no_such_attribute'):
        retina_distiller.no_such_attribute


def test_ema_copy_shares_the_teacher(retina_distiller):
    from mmengine.model import ExponentialMovingAverage
    ema = ExponentialMovingAverage(retina_distiller)
    assert ema.module.teacher is retina_distiller.teacher
    assert ema.module.student is not retina_distiller.student
    ours = list(retina_distiller.parameters())
    copies = list(ema.module.parameters())
    assert len(copies) == len(ours)
    assert all(a is not b and torch.equal(a, b) for a, b in zip(copies, ours))
    ema.update_parameters(retina_distiller)  # the averaged copy trains alongside
    losses = train_losses(ema.module)
    assert torch.isfinite(losses['loss_kd_fpn'])


def test_syncbn_teacher_is_reverted(tmp_path):
    """The Runner reverts SyncBN on a single process but cannot see the hidden teacher."""
    teacher = model_cfg(RETINA_TEACHER)
    teacher['backbone']['norm_cfg'] = dict(type='SyncBN', requires_grad=True)
    checkpoint = save_random_model(model_cfg(RETINA_TEACHER), tmp_path / 'teacher.pth')
    distiller = build_distiller(model_cfg(RETINA_STUDENT), teacher, checkpoint)
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in distiller.teacher.modules())
    assert torch.isfinite(train_losses(distiller)['loss_kd_fpn'])
