"""The distiller: a frozen teacher distilled into a trainable student at named features."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModel, revert_sync_batchnorm
from torch import Tensor, nn

from rdimkd_mm.registry import MODELS
from rdimkd_mm.utils.checkpoint_reading import checkpoint_file
from rdimkd_mm.utils.model_config import ModelSpec, build_model, load_model_config
from rdimkd_mm.utils.state_dict_matching import load_checkpoint_strict
from ..task_modules import FeatureTaps, TeacherInputAdapter
from .kd_scale_monitor import KDScaleMonitor, task_loss
from .model_checks import check_top_level_preprocessor, check_whole_model, check_whole_model_config
from .point_check import PointCheck, level_channels
from .point_config import parse_points

ForwardResults = Union[Dict[str, Tensor], list, Tensor, Tuple[Tensor, ...]]


@MODELS.register_module()
class FeatureDistiller(BaseModel):
    """Distils a frozen teacher into a trainable student at named feature maps.

    One distiller for mmdet detectors and mmseg segmentors: the student and the teacher are
    ordinary models built from their own configs; the distiller only hooks their modules.

    Training (``loss``): the teacher runs under ``no_grad`` in eval mode, only as far as the
    deepest distilled module (no head, no loss, no post-processing); then the student runs its
    normal ``loss``; each distillation point adds one logged KD loss ``loss_kd_<name>`` (and,
    for multi-level points, the per-level terms ``kd_<name>_l<i>``, logged but not summed
    twice). ``predict``/``tensor`` and validation/testing use the student alone.

    The teacher is not a registered submodule: it is not in ``state_dict`` (so not in the
    training checkpoints), not in ``parameters()`` (so never in the optimizer), and not wrapped
    by DDP; it is moved with the distiller and stays in eval mode. Its weights are loaded
    strictly from ``teacher_checkpoint`` on the CPU.

    Both models see the same augmented batch. The student's data preprocessor produces it; if
    the teacher's preprocessor normalises differently (mean, std, channel order, pad divisor),
    the batch is re-normalised for the teacher (see :class:`TeacherInputAdapter`).

    At construction, one probe forward of each model (eval mode, no grad, zero image of
    ``probe_size``) checks every feature address, counts its levels and reads the channels,
    which fill ``student_channels``, ``teacher_channels`` (one int, or one per level when the
    levels differ, as in YOLOv3's neck) and ``num_levels`` of each loss.

    Args:
        student (str | dict): The student model dict (typically ``_base_.model`` of the student
            config this config inherits) or a config file.
        teacher (str | dict): The teacher: a config file (``'mmdet::...'``, ``'mmseg::...'``
            or a local path) or a model dict.
        teacher_checkpoint (str): Checkpoint of the trained teacher, or the work dir of its
            training run (its latest checkpoint, as ``last_checkpoint`` names it); loaded
            strictly.
        distill (Sequence[dict]): Distillation points, each
            ``dict(student='neck', teacher='neck', loss=dict(type='rdimkd_mm.RdimKDLoss',
            projection=dict(type='rdimkd_mm.RandomProjection', k=64)), name='fpn')``.
            ``student``/``teacher`` are feature addresses (module names, optionally indexed:
            ``'neck[0]'``); ``name`` defaults to the teacher address. ``loss`` is any
            registered distillation loss: ``RdimKDLoss``, ``PKDLoss`` or ``CWDLoss``.
        teacher_early_exit (bool): Stop the teacher's forward once every distilled feature is
            recorded. Default: True.
        probe_size (tuple[int, int]): (H, W) of the construction-time probe input.
            Default: (256, 256).
        data_preprocessor (dict, optional): Only accepted when equal to the student's (mmengine's
            Runner passes a config's top-level ``data_preprocessor`` to the model); each model
            normalises with its own. Default: None.
        init_cfg (dict, optional): Initialisation config of the distiller. Default: None.
    """

    def __init__(self,
                 student: ModelSpec,
                 teacher: ModelSpec,
                 teacher_checkpoint: str,
                 distill: Sequence[dict],
                 teacher_early_exit: bool = True,
                 probe_size: Tuple[int, int] = (256, 256),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if not distill:
            raise ValueError('`distill` is empty: name at least one feature to distil.')
        student_cfg, self.scope = load_model_config(student)
        check_top_level_preprocessor(data_preprocessor, student_cfg.get('data_preprocessor'))
        points = parse_points(distill)  # checks the loss configs before any build
        check_whole_model_config(student_cfg, self.scope, 'student')
        student_model, _ = build_model(dict(student_cfg, _scope_=self.scope))
        check_whole_model(student_model, 'student')
        super().__init__(data_preprocessor=student_model.data_preprocessor, init_cfg=init_cfg)
        self.student = student_model

        teacher_model, teacher_scope = build_model(teacher)
        check_whole_model(teacher_model, 'teacher')
        if teacher_scope != self.scope:
            raise ValueError(f'The student is a {self.scope} model but the teacher a '
                             f'{teacher_scope} model; distil within one library.')
        # The frozen teacher runs in eval mode, where SyncBN needs no process group; the
        # Runner's own revert does not reach it (it is hidden from the module tree).
        teacher_model = revert_sync_batchnorm(teacher_model)
        load_checkpoint_strict(teacher_model, checkpoint_file(teacher_checkpoint, 'teacher'),
                               what='teacher')
        teacher_model.requires_grad_(False)
        teacher_model.eval()
        # Plain attribute, not a submodule: out of state_dict, parameters() and DDP.
        object.__setattr__(self, 'teacher', teacher_model)
        self.teacher_early_exit = teacher_early_exit
        self.teacher_input = TeacherInputAdapter(self.student.data_preprocessor,
                                                 teacher_model.data_preprocessor)

        self.points = points
        self.student_taps = FeatureTaps(self.student, [p['student'] for p in self.points],
                                        'student')
        self.teacher_taps = FeatureTaps(self.teacher, [p['teacher'] for p in self.points],
                                        'teacher')
        student_feats = self.student_taps.calibrate(self.student, self.scope, probe_size)
        teacher_feats = self.teacher_taps.calibrate(self.teacher, self.scope, probe_size)
        self.distill_losses = nn.ModuleDict()
        for point in self.points:
            s_feats, t_feats = student_feats[point['student']], teacher_feats[point['teacher']]
            check = PointCheck(point, s_feats, t_feats)
            check.check_maps_and_levels()
            check.check_strides(self.student, self.teacher, self.scope, probe_size)
            check.check_head_feature(self.student, self.teacher, self.scope, probe_size)
            self.distill_losses[point['name']] = MODELS.build(
                point['loss'],
                default_args=dict(
                    _scope_='rdimkd_mm',  # 'RdimKDLoss' or 'rdimkd_mm.RdimKDLoss'
                    student_channels=level_channels(s_feats),
                    teacher_channels=level_channels(t_feats),
                    num_levels=len(t_feats)))
        self.kd_scale_monitor = KDScaleMonitor()

    # ----------------------------------------------------------------------- model plumbing
    def _apply(self, fn, *args, **kwargs):
        # Moves (to/cuda/cpu/half) apply to the hidden teacher as well.
        super()._apply(fn, *args, **kwargs)
        self.teacher._apply(fn, *args, **kwargs)
        return self

    def __getattr__(self, name: str):
        # Hooks of mmdet/mmseg/mmengine address the detector or segmentor through
        # runner.model (e.g. YOLOXModeSwitchHook sets `runner.model.bbox_head.use_l1`): the
        # distiller answers for the student's attributes.
        try:
            return super().__getattr__(name)
        except AttributeError:
            modules = self.__dict__.get('_modules', {})
            if 'student' not in modules or name.startswith('__'):
                raise
            return getattr(modules['student'], name)

    def __deepcopy__(self, memo: dict) -> 'FeatureDistiller':
        # Copies (e.g. EMAHook's averaged model) share the frozen teacher and its taps
        # instead of duplicating its weights; nothing ever changes them. The copied student
        # gets taps of its own.
        memo[id(self.teacher)] = self.teacher
        memo[id(self.teacher_taps)] = self.teacher_taps
        memo[id(self.student_taps)] = self.student_taps
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        new.student_taps = self.student_taps.copy_to(new.student)
        return new

    def train(self, mode: bool = True) -> 'FeatureDistiller':
        """Set the student's mode; the teacher always stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    # --------------------------------------------------------------------------- forward API
    def forward(self,
                inputs: Tensor,
                data_samples: Optional[list] = None,
                mode: str = 'tensor') -> ForwardResults:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.student(inputs, data_samples, mode='predict')
        if mode == 'tensor':
            return self.student(inputs, data_samples, mode='tensor')
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, predict and tensor mode')

    @torch.no_grad()
    def teacher_features(self, inputs: Tensor, data_samples: Optional[list] = None
                         ) -> Dict[str, List[Tensor]]:
        """Teacher features ``{address: [level (N, C_t, H, W)]}`` for a student-ready batch."""
        with self.teacher_taps.recording(stop_when_complete=self.teacher_early_exit):
            self.teacher(self.teacher_input(inputs), data_samples, mode='tensor')
        return self.teacher_taps.collect()

    @torch.no_grad()
    def projected_features(self, inputs: Tensor, data_samples: Optional[list] = None
                           ) -> Dict[str, List[Tuple[Tensor, Tensor]]]:
        """What the KD loss compares, for pictures: ``{point name: [(teacher, student)]}``.

        One ``(K^T F_t, K^T connector(F_s))`` pair per level, (N, k, H, W) each, from the
        student's ``tensor`` forward and the teacher's (in the models' current modes).

        Args:
            inputs (Tensor): (N, 3, H, W) batch from the (student's) data preprocessor.
            data_samples (list, optional): Its data samples.
        """
        teacher_feats = self.teacher_features(inputs, data_samples)
        with self.student_taps.recording():
            self.student(inputs, data_samples, mode='tensor')
        student_feats = self.student_taps.collect()
        projected = {}
        for point in self.points:
            loss = self.distill_losses[point['name']]
            pairs = loss.connected_levels(student_feats[point['student']],
                                          teacher_feats[point['teacher']])
            projected[point['name']] = [loss.project_level(level, connected, teacher)
                                        for level, (connected, teacher) in enumerate(pairs)]
        return projected

    def loss(self, inputs: Tensor, data_samples: Optional[list] = None) -> Dict[str, Tensor]:
        """Student task losses plus one KD loss per distillation point.

        Also logged (not summed into the total): ``kd_<name>_l<i>``, each level's term of a
        multi-level point, and ``kd_ratio_<name>``, the point's KD loss over the sum of the task
        losses, so the log (and TensorBoard) shows when distillation dominates or vanishes.
        """
        teacher_feats = self.teacher_features(inputs, data_samples)
        with self.student_taps.recording():
            losses = self.student.loss(inputs, data_samples)
        student_feats = self.student_taps.collect()
        task = task_loss(losses)
        for point in self.points:
            name = point['name']
            levels = self.distill_losses[name].level_losses(student_feats[point['student']],
                                                            teacher_feats[point['teacher']])
            total = sum(levels)
            losses[f'loss_kd_{name}'] = total
            losses[f'kd_ratio_{name}'] = total.detach() / task.clamp(min=1e-12)
            if len(levels) > 1:
                for i, level in enumerate(levels):
                    losses[f'kd_{name}_l{i}'] = level.detach()
        self.kd_scale_monitor.update(losses)
        return losses
