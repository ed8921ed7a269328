import copy
import logging
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel, revert_sync_batchnorm
from mmengine.utils import ProgressBar
from torch import Tensor, nn

from rdimkd_mm.registry import MODELS
from rdimkd_mm.utils.checkpoint import (checkpoint_file, load_checkpoint_strict,
                                        read_state_dict, state_dict_mismatch)
from rdimkd_mm.utils.model_config import ModelSpec, build_model, load_model_config
from .feature_probe import dummy_batch, features_of
from .feature_taps import FeatureTaps
from .input_adapter import TeacherInputAdapter
from .loss_config import check_loss_config
from .point_check import PointCheck

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
    which fill ``student_channels``, ``teacher_channels`` and ``num_levels`` of each loss.

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
            ``'neck[0]'``); ``name`` defaults to the teacher address.
        projections_file (str, optional): File written by ``tools/fit_projections.py`` with
            already fitted projections (PCA/autoencoder); loaded strictly. Default: None.
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
                 projections_file: Optional[str] = None,
                 teacher_early_exit: bool = True,
                 probe_size: Tuple[int, int] = (256, 256),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if not distill:
            raise ValueError('`distill` is empty: name at least one feature to distil.')
        student_cfg, self.scope = load_model_config(student)
        _check_top_level_preprocessor(data_preprocessor, student_cfg.get('data_preprocessor'))
        points = self._parse_points(distill)  # checks the loss configs before any build
        student_model, _ = build_model(dict(student_cfg, _scope_=self.scope))
        _check_whole_model(student_model, 'student')
        super().__init__(data_preprocessor=student_model.data_preprocessor, init_cfg=init_cfg)
        self.student = student_model

        teacher_model, teacher_scope = build_model(teacher)
        _check_whole_model(teacher_model, 'teacher')
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
        student_feats, teacher_feats = self._probe(probe_size)
        self.distill_losses = nn.ModuleDict()
        for point in self.points:
            s_feats, t_feats = student_feats[point['student']], teacher_feats[point['teacher']]
            check = PointCheck(point, s_feats, t_feats)
            check.check_maps_and_levels()
            check.check_strides(self.student, self.teacher, self.scope, probe_size)
            loss_cfg = dict(point['loss'])
            loss_cfg.setdefault('_scope_', 'rdimkd_mm')  # 'RdimKDLoss' or 'rdimkd_mm.RdimKDLoss'
            loss_cfg.setdefault('student_channels', s_feats[0].shape[0])
            loss_cfg.setdefault('teacher_channels', t_feats[0].shape[0])
            loss_cfg.setdefault('num_levels', len(t_feats))
            self.distill_losses[point['name']] = MODELS.build(loss_cfg)
        if projections_file is not None:
            self.load_projections(projections_file)
        self._scale_checked = False

    # ------------------------------------------------------------------ construction helpers
    @staticmethod
    def _parse_points(distill: Sequence[dict]) -> List[dict]:
        points, names = [], set()
        for i, point in enumerate(distill):
            missing = {'student', 'teacher', 'loss'} - set(point)
            if missing:
                raise KeyError(f'distill[{i}] lacks {sorted(missing)}; each point needs '
                               '`student`, `teacher` (feature addresses) and `loss`.')
            name = point.get('name', point['teacher'])
            name = ''.join(c if c.isalnum() else '_' for c in name).strip('_')
            if name in names:
                raise ValueError(f'Two distillation points are named {name!r}; give them '
                                 'distinct `name`s.')
            names.add(name)
            check_loss_config(point['loss'], name)
            points.append(dict(point, name=name))
        return points

    @torch.no_grad()
    def _probe(self, size: Tuple[int, int]) -> Tuple[dict, dict]:
        """One eval-mode forward of each model: features per address, calls per module."""
        features = []
        for model, taps in ((self.student, self.student_taps), (self.teacher, self.teacher_taps)):
            was_training = model.training
            model.eval()
            with taps.recording():
                model(*dummy_batch(self.scope, size), mode='tensor')
            taps.expected_calls = taps.count_calls()
            features.append({address: features_of(feats, size)
                             for address, feats in taps.collect().items()})
            model.train(was_training)
        return features[0], features[1]

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
            projected[point['name']] = [
                loss.project_level(level, student, teacher) for level, (student, teacher) in
                enumerate(zip(student_feats[point['student']], teacher_feats[point['teacher']]))
            ]
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
        task = sum(_detached_sum(v) for k, v in losses.items() if 'loss' in k)
        for point in self.points:
            name = point['name']
            levels = self.distill_losses[name].level_losses(student_feats[point['student']],
                                                            teacher_feats[point['teacher']])
            total = sum(levels)
            if not torch.isfinite(total):
                raise FloatingPointError(
                    f'KD loss of point {name!r} is {total.item()}: lower its loss_weight or the '
                    'learning rate, enable gradient clipping (optim_wrapper.clip_grad), and '
                    'check that the teacher checkpoint matches the teacher config.')
            losses[f'loss_kd_{name}'] = total
            losses[f'kd_ratio_{name}'] = total.detach() / task.clamp(min=1e-12)
            if len(levels) > 1:
                for i, level in enumerate(levels):
                    losses[f'kd_{name}_l{i}'] = level.detach()
        if not self._scale_checked:
            self._scale_checked = True
            self._warn_if_kd_dominates(losses)
        return losses

    @staticmethod
    def _warn_if_kd_dominates(losses: Dict[str, Tensor]) -> None:
        """Warn once when the KD losses start far above the task losses."""
        kd = float(sum(_detached_sum(v) for k, v in losses.items() if k.startswith('loss_kd_')))
        task = float(sum(_detached_sum(v) for k, v in losses.items()
                         if 'loss' in k and not k.startswith('loss_kd_')))
        if task > 0 and kd > 10 * task:
            print_log(
                f'The KD losses start at {kd:.4g}, {kd / task:.0f}x the task losses '
                f'({task:.4g}); the student may learn little of its task. Consider a '
                f'loss_weight about {task / kd:.2g} times the current one (the kd_ratio_* '
                'values in the log follow this ratio).', logger='current',
                level=logging.WARNING)

    # ---------------------------------------------------------------- fitted projections
    def losses_to_fit(self) -> Dict[str, nn.Module]:
        """The losses (by point name) whose projections or scales still need the fit."""
        return {
            point['name']: self.distill_losses[point['name']]
            for point in self.points
            if not getattr(self.distill_losses[point['name']], 'is_fitted', True)
        }

    def fit_projections(self, batches: Iterable[dict], num_batches: int,
                        progress: bool = True) -> None:
        """Fit the projections (PCA/autoencoder) and the loss scales on teacher features.

        Args:
            batches (Iterable[dict]): Training batches as the dataloader yields them (before
                the data preprocessor).
            num_batches (int): Batches to stream (per rank).
            progress (bool): Show a progress bar. Default: True.
        """
        to_fit = self.losses_to_fit()
        if not to_fit:
            return
        points = [p for p in self.points if p['name'] in to_fit]
        for loss in to_fit.values():
            loss.fit_begin()
        bar = ProgressBar(num_batches) if progress else None
        seen = 0
        for data in batches:
            if seen == num_batches:
                break
            batch = self.data_preprocessor(data, True)
            feats = self.teacher_features(batch['inputs'], batch['data_samples'])
            for point in points:
                for level, feat in enumerate(feats[point['teacher']]):
                    to_fit[point['name']].fit_step(level, feat)
            seen += 1
            if bar is not None:
                bar.update()
        if seen < num_batches:
            print_log(f'fit_projections: the dataloader gave only {seen} of {num_batches} '
                      'batches.', logger='current')
        for name, loss in to_fit.items():
            loss.fit_end()
            for line in getattr(loss, 'fit_summary', lambda: [])():
                print_log(f'Fitted point {name!r}, {line}', logger='current')

    def fitted_state_dict(self) -> Dict[str, Tensor]:
        """What the fit sets (projections and loss scales), keyed as in ``distill_losses``."""
        return {
            key: value
            for key, value in self.distill_losses.state_dict().items()
            if '.projections.' in key or key.endswith(('.scales', '.scales_fitted'))
        }

    def load_projections(self, path: str) -> None:
        """Load projections saved by ``tools/fit_projections.py`` (strict)."""
        state = read_state_dict(path, what='projections')
        mismatch = state_dict_mismatch(self.fitted_state_dict(), state)
        if mismatch:
            raise ValueError(f'Projections file {path!r} does not match this distiller '
                             f'({mismatch}); refit it with tools/fit_projections.py for this '
                             'config.')
        self.distill_losses.load_state_dict(state, strict=False)


def _detached_sum(loss) -> Tensor:
    """A logged loss (a tensor or a list of per-level tensors) as one detached scalar."""
    loss = sum(loss) if isinstance(loss, (list, tuple)) else loss
    return loss.detach() if isinstance(loss, Tensor) else torch.tensor(float(loss))


def _check_whole_model(model: nn.Module, role: str) -> None:
    """The student and the teacher must be whole detectors/segmentors, not a backbone alone."""
    if not isinstance(model, BaseModel):
        raise TypeError(
            f'The {role} is a {type(model).__name__}, not a detector or segmentor: the '
            'distiller needs a whole model (an mmengine BaseModel with a data_preprocessor, '
            f'loss and predict), e.g. {role}=_base_.model of the {role} config, or a config '
            "file. To distil only a backbone, give its whole model and name 'backbone' as the "
            "points' feature address.")


def _check_top_level_preprocessor(given: Optional[dict], student: Optional[dict]) -> None:
    """mmengine's Runner passes a config's top-level ``data_preprocessor`` to the model (mmseg
    configs have one); accept it only when it is the student's own, up to the ``_scope_``
    bookkeeping key mmengine adds to one copy and not the other."""
    if given is None:
        return
    given, student = _without_scope(given), _without_scope(student or {})
    if given != student:
        keys = sorted(k for k in set(given) | set(student) if given.get(k) != student.get(k))
        raise ValueError(
            'The top-level data_preprocessor differs from the student\'s model.data_preprocessor '
            f'in {keys}; the distiller normalises with the student\'s (and the teacher\'s) own. '
            'Set both to the same values (e.g. --cfg-options data_preprocessor.size=... '
            'model.student.data_preprocessor.size=...), or remove the top-level one.')


def _without_scope(value):
    if isinstance(value, dict):
        return {k: _without_scope(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return [_without_scope(v) for v in value]
    return value
