"""Zoo pairs with random teachers for the loss-scale checks at the start of training
(tests/test_models/test_losses/test_loss_scale_at_start.py,
tests/test_models/test_distillers/test_kd_scale_check_at_start.py): the first training step and
the first steps under the student config's own optimizer and warm-up, at each task's shipped
default. ``benchmarks/studies/loss_scale/loss_scale.py`` measures its table with these."""
import math
import re
from pathlib import Path
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS, init_default_scope
from mmengine.runner import set_random_seed

import rdimkd_mm  # noqa: F401
from rdimkd_mm.engine.projection_fit import fit_projections
from rdimkd_mm.inspection import default_hooks, default_loss
from rdimkd_mm.models.distillers import FeatureDistiller, KDScaleMonitor
from rdimkd_mm.registry import HOOKS, MODELS
from rdimkd_mm.utils import build_model, pretrained_inits, resolve_config_path
from synthetic.batches import SIZE, fake_batch

# Per library: how many of a pair's levels its shipped default distils (detection: the first
# three, P3-P5).
LEVELS = {'mmdet': 3, 'mmseg': 1}
# Training images of the datasets the zoo configs train on (COCO train2017 after mmdet's
# filter_empty_gt, Cityscapes train): an epoch's length for the epoch-based warm-ups.
TRAIN_IMAGES = {'mmdet': 117266, 'mmseg': 2975}

# (teacher, student, teacher point, student point, align); the student's pretrained init is
# not used (build_model does not initialise weights).
PAIRS = [
    ('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
     'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py', 'neck', 'neck', 'stride'),
    ('mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
     'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py', 'neck', 'neck', 'stride'),
    ('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
     'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py', 'neck[1:5]', 'neck[0:4]', 'stride'),
    ('mmdet::yolox/yolox_s_8xb8-300e_coco.py', 'mmdet::yolox/yolox_tiny_8xb8-300e_coco.py',
     'neck', 'neck', 'stride'),
    ('mmdet::rtmdet/rtmdet_s_8xb32-300e_coco.py', 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py',
     'neck', 'neck', 'stride'),
    ('mmseg::pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
     'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py', 'decode_head.bottleneck',
     'decode_head.bottleneck', 'stride'),
    ('mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py',
     'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
     'decode_head.sep_bottleneck', 'decode_head.bottleneck', 'interpolate'),
    ('mmseg::segformer/segformer_mit-b1_8xb1-160k_cityscapes-1024x1024.py',
     'mmseg::segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py',
     'decode_head.fusion_conv', 'decode_head.fusion_conv', 'stride'),
]


def model_config(config: str) -> dict:
    cfg = Config.fromfile(resolve_config_path(config))
    return dict(cfg.model.to_dict(), _scope_=cfg.default_scope)


def first_levels(point: str, n: int) -> str:
    """The first ``n`` levels of a multi-level point: ``'neck'`` -> ``'neck[0:3]'``,
    ``'neck[1:5]'`` -> ``'neck[1:4]'`` (n = 3)."""
    name, _, index = point.partition('[')
    start = int(index.split(':')[0] or 0) if index else 0
    return f'{name}[{start}:{start + n}]'


def without_pretrained(cfg: dict) -> dict:
    """No pretrained weights (no internet): every pretrained initialisation off."""
    for keys in pretrained_inits(cfg):
        parent = cfg
        for key in keys[:-1]:
            parent = parent[key]
        parent[keys[-1]] = None
    return cfg


@torch.no_grad()
def calibrate_norm_statistics(model, scope: str, batches: int = 4) -> None:
    """Set the batch-norm running statistics of a random model from its own activations, as
    any trained teacher has them (random weights with the initial statistics mean 0, var 1
    give features whose scale says nothing about a trained teacher's)."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    for seed in range(batches):
        data = model.data_preprocessor(fake_batch(scope, n=2, seed=seed), False)
        model(**data, mode='tensor')
    model.eval()


def fit_default(distiller: FeatureDistiller, scope: str,
                num_batches: Optional[int] = None) -> None:
    """Fit what the distiller's losses need before training on ``num_batches`` random batches;
    by default as many as the shipped default's FitProjectionsHook streams (one where the
    default fits nothing: a teacher-normalised loss still needs the teacher's scale)."""
    if num_batches is None:
        hooks = [h for h in default_hooks(scope) if 'FitProjectionsHook' in h['type']]
        num_batches = HOOKS.build(hooks[0]).num_batches if hooks else 1
    fit_projections(distiller, [fake_batch(scope, n=2, seed=i) for i in range(num_batches)],
                    num_batches=num_batches, progress=False)


def build_distiller(pair: tuple, tmp_path: Path, distill: list) -> FeatureDistiller:
    """The pair's distiller at ``distill``, in training mode: a random teacher (seed 0) with
    the library's initialisation and calibrated batch-norm statistics, saved to ``tmp_path``,
    and the student's zoo model without pretrained weights, initialised as the Runner does."""
    teacher, student = pair[:2]
    scope = teacher.split('::')[0]
    init_default_scope(scope)
    torch.manual_seed(0)
    teacher_model, _ = build_model(without_pretrained(model_config(teacher)))
    teacher_model.init_weights()  # mmdet/mmseg initialisation, as training starts from
    calibrate_norm_statistics(teacher_model, scope)
    torch.save(dict(state_dict=teacher_model.state_dict()), tmp_path / 'teacher.pth')
    student_cfg = without_pretrained(model_config(student))
    if scope == 'mmseg':
        student_cfg['data_preprocessor']['size'] = (SIZE, SIZE)
    distiller = MODELS.build(dict(
        type='rdimkd_mm.FeatureDistiller', student=student_cfg,
        teacher=teacher, teacher_checkpoint=str(tmp_path / 'teacher.pth'),
        probe_size=(SIZE, SIZE), distill=distill))
    distiller.init_weights()  # what the Runner does: e.g. the detection heads' prior biases
    distiller.train()
    return distiller


def first_ratios(pair: tuple, tmp_path: Path, fit_batches: Optional[int] = None) -> dict:
    """The first training step at loss_weight 1, with the projection of the shipped default of
    the pair's task (fitted by :func:`fit_default`, on ``fit_batches`` batches if given): KD
    loss / task loss with each ``normalize`` (``standardised``, ``teacher_normalised``,
    ``raw`` = None), the standardised KD loss per level, the task loss, whether the connector
    is a 1x1 conv (C_s != C_t) or the identity, and ``per_level``: the standardised KD loss of
    each level."""
    teacher, student, t_point, s_point, align = pair
    scope = teacher.split('::')[0]
    distiller = build_distiller(pair, tmp_path, [dict(
        name='kd', student=s_point, teacher=t_point,
        loss=dict(type='rdimkd_mm.RdimKDLoss', align=align, normalize='teacher',
                  projection=default_loss(scope)['projection']))])
    MessageHub.get_current_instance().update_info('iter', 0)  # YOLOX's batch resize reads it
    fit_default(distiller, scope, fit_batches)
    data = distiller.data_preprocessor(fake_batch(scope, n=2), False)
    loss = distiller.distill_losses['kd']
    steps = {}
    for normalize in ('teacher', 'standardize'):  # the same step, one loss form each
        loss.normalize = normalize
        torch.manual_seed(0)  # the same drop paths
        steps[normalize] = distiller(**data, mode='loss')
    by_teacher = steps['teacher']
    task = by_teacher['loss_kd_kd'].item() / float(by_teacher['kd_ratio_kd'])
    # The raw loss (normalize=None) is each level's teacher-normalised term times its scale.
    levels = ([by_teacher[f'kd_kd_l{i}'] for i in range(loss.num_levels)]
              if loss.num_levels > 1 else [by_teacher['loss_kd_kd'].detach()])
    raw = float(sum(level * scale for level, scale in zip(levels, loss.scales)))
    standardised = float(steps['standardize']['kd_ratio_kd'])
    per_level = ([float(steps['standardize'][f'kd_kd_l{i}']) for i in range(loss.num_levels)]
                 if loss.num_levels > 1 else [float(steps['standardize']['loss_kd_kd'])])
    return dict(standardised=standardised, kd_per_level=standardised * task / loss.num_levels,
                teacher_normalised=float(by_teacher['kd_ratio_kd']), raw=raw / task, task=task,
                per_level=per_level,
                connector='identity' if isinstance(loss.connectors[0], torch.nn.Identity)
                else '1x1 conv')


def default_distill(pair: tuple) -> list:
    """The shipped default of the pair's task (its loss as ``tools/inspect_pair.py`` writes it)
    at the pair's points: their first three levels for a detector (P3-P5), the head feature
    for a segmentor."""
    teacher, _, t_point, s_point, align = pair
    scope = teacher.split('::')[0]
    if scope == 'mmdet':
        t_point, s_point = (first_levels(p, LEVELS[scope]) for p in (t_point, s_point))
    return [dict(name='kd', student=s_point, teacher=t_point,
                 loss=dict(default_loss(scope), align=align))]


def start_ratios(pair: tuple, tmp_path: Path,
                 steps: int = KDScaleMonitor.kd_check_iters) -> dict:
    """The first ``steps`` training steps at the shipped default (:func:`default_distill`),
    with the student config's own optimizer, gradient clipping and parameter schedulers
    (its warm-up; an epoch-based one at an epoch of the zoo dataset at the config's batch
    size), a new random batch each step, as ``train_step`` runs them under the Runner.

    Returns:
        dict: ``step1``, KD / task loss at the first step; ``mean``, the mean KD loss over the
        mean task loss of the steps, the reading on which the distiller's start-of-training
        check warns (``KDScaleMonitor.kd_check_iters`` steps); ``task_step1`` and
        ``task_mean``; ``lr_factor``, the learning rate at the last step over the base one.
    """
    student = pair[1]
    scope = student.split('::')[0]
    distiller = build_distiller(pair, tmp_path, default_distill(pair))
    fit_default(distiller, scope)
    cfg = Config.fromfile(resolve_config_path(student))
    optim_wrapper = build_optim_wrapper(distiller, cfg.optim_wrapper)
    gpus = re.search(r'(\d+)xb\d+', student)  # e.g. 8xb32; mmdet's 1x/2x schedules: 8 GPUs
    batch = (int(gpus.group(1)) if gpus else 8) * cfg.train_dataloader.batch_size
    schedulers = [PARAM_SCHEDULERS.build(s, default_args=dict(
        optimizer=optim_wrapper, epoch_length=math.ceil(TRAIN_IMAGES[scope] / batch)))
        for s in cfg.param_scheduler]
    message_hub = MessageHub.get_current_instance()
    set_random_seed(0)  # as the Runner seeds: YOLOX's batch resize draws with Python's random
    kd, task = [], []
    for step in range(steps):
        message_hub.update_info('iter', step)  # YOLOX's batch resize reads it
        log_vars = distiller.train_step(fake_batch(scope, n=2, seed=step), optim_wrapper)
        kd.append(sum(float(v) for k, v in log_vars.items() if k.startswith('loss_kd_')))
        task.append(float(log_vars['loss']) - kd[-1])
        for scheduler in schedulers:  # what ParamSchedulerHook does after an iteration
            if not scheduler.by_epoch:
                scheduler.step()
    group = optim_wrapper.param_groups[0]
    return dict(step1=kd[0] / task[0], mean=sum(kd) / sum(task), task_step1=task[0],
                task_mean=sum(task) / steps, lr_factor=group['lr'] / group['initial_lr'],
                steps=steps)
