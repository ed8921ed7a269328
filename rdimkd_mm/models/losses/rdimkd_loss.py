from typing import List, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rdimkd_mm.registry import MODELS

Features = Union[Tensor, Sequence[Tensor]]


@MODELS.register_module()
class RdimKDLoss(nn.Module):
    """RdimKD: L2 between teacher and student features projected onto one k-dim subspace.

    `RdimKD: Generic Distillation Paradigm by Dimensionality Reduction
    <https://arxiv.org/abs/2312.08700>`_.

    For each level l (one distilled feature map; an FPN gives several)::

        G_s = connector_l(F_s)               # (N, C_s, h, w) -> (N, C_t, h, w), 1x1 conv
        G_s = resize(G_s, (H, W))            # only if the strides differ (align='interpolate')
        loss_l = loss_weight * reduce(|| K_l^T F_t - K_l^T G_s ||^2)

    where ``K_l`` (C_t, k) is the level's projection (random, PCA or autoencoder encoder). The
    teacher side carries no gradient; gradients reach the student and the connector only. The
    total is the sum over levels.

    Args:
        student_channels (int): C_s of the student feature.
        teacher_channels (int): C_t of the teacher feature.
        projection (dict): Config of the projection, e.g.
            ``dict(type='rdimkd_mm.RandomProjection', k=64)``; ``in_channels`` is filled in.
            Each level gets its own instance (random projections get ``seed + level``).
        num_levels (int): Number of feature maps distilled at this point. Default: 1.
        connector (str): ``'conv'`` (1x1 conv C_s -> C_t with bias), ``'identity'`` (requires
            C_s == C_t) or ``'auto'`` (identity if the channels match, conv otherwise).
            Default: ``'auto'``.
        align (str): What to do when the student's spatial size differs from the teacher's:
            ``'interpolate'`` resizes the connected student feature bilinearly to the teacher's
            size; ``'error'`` raises. Default: ``'interpolate'``.
        reduction (str): ``'sum'``: sum over the k projected channels, mean over N, H, W (the
            squared L2 distance per position, so the scale grows with k); ``'mean'``: mean over
            all elements (scale independent of k). Default: ``'sum'``.
        loss_weight (float): Weight of the loss. Default: 1.0.
    """

    def __init__(self,
                 student_channels: int,
                 teacher_channels: int,
                 projection: dict,
                 num_levels: int = 1,
                 connector: str = 'auto',
                 align: str = 'interpolate',
                 reduction: str = 'sum',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if connector not in ('conv', 'identity', 'auto'):
            raise ValueError(f"connector must be 'conv', 'identity' or 'auto', got {connector!r}")
        if connector == 'identity' and student_channels != teacher_channels:
            raise ValueError(
                f"connector='identity' needs equal channels, but the student has "
                f'{student_channels} and the teacher {teacher_channels}; use '
                f"connector='conv'.")
        if align not in ('interpolate', 'error'):
            raise ValueError(f"align must be 'interpolate' or 'error', got {align!r}")
        if reduction not in ('sum', 'mean'):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
        self.student_channels = student_channels
        self.teacher_channels = teacher_channels
        self.num_levels = num_levels
        self.align = align
        self.reduction = reduction
        self.loss_weight = loss_weight

        use_conv = connector == 'conv' or (connector == 'auto'
                                           and student_channels != teacher_channels)
        self.connectors = nn.ModuleList(
            nn.Conv2d(student_channels, teacher_channels, 1) if use_conv else nn.Identity()
            for _ in range(num_levels))
        self.projections = nn.ModuleList(
            MODELS.build(self._level_projection_cfg(projection, level))
            for level in range(num_levels))

    def _level_projection_cfg(self, projection: dict, level: int) -> dict:
        cfg = dict(projection)
        cfg['in_channels'] = self.teacher_channels
        cfg.setdefault('_scope_', 'rdimkd_mm')  # 'RandomProjection' or 'rdimkd_mm.Random...'
        kind = cfg.get('type', '')
        kind = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
        if 'seed' in cfg or kind.endswith('RandomProjection'):
            cfg['seed'] = cfg.get('seed', 0) + level
        return cfg

    def _as_levels(self, feats: Features, side: str) -> List[Tensor]:
        levels = [feats] if isinstance(feats, Tensor) else list(feats)
        if len(levels) != self.num_levels:
            raise ValueError(f'RdimKDLoss was built for {self.num_levels} level(s), but the '
                             f'{side} gave {len(levels)} feature map(s).')
        channels = self.student_channels if side == 'student' else self.teacher_channels
        for level, feat in enumerate(levels):
            if feat.dim() != 4 or feat.shape[1] != channels:
                raise ValueError(f'RdimKDLoss expects {side} level {level} of shape (N, '
                                 f'{channels}, H, W), got {tuple(feat.shape)}.')
        return levels

    def connect(self, student_feat: Tensor, level: int, size: torch.Size) -> Tensor:
        """Connector and spatial alignment: (N, C_s, h, w) -> (N, C_t, H, W)."""
        feat = self.connectors[level](student_feat)
        if feat.shape[-2:] != size:
            if self.align == 'error':
                raise ValueError(
                    f'Student level {level} has spatial size {tuple(feat.shape[-2:])} but the '
                    f"teacher's is {tuple(size)}; distil features of the same stride or set "
                    "align='interpolate'.")
            feat = F.interpolate(feat, size=size, mode='bilinear', align_corners=False)
        return feat

    def level_losses(self, student_feats: Features, teacher_feats: Features) -> List[Tensor]:
        """Weighted loss of each level.

        Args:
            student_feats (Tensor | Sequence[Tensor]): (N, C_s, h_l, w_l) per level.
            teacher_feats (Tensor | Sequence[Tensor]): (N, C_t, H_l, W_l) per level.

        Returns:
            list[Tensor]: ``num_levels`` scalars.
        """
        students = self._as_levels(student_feats, 'student')
        teachers = self._as_levels(teacher_feats, 'teacher')
        losses = []
        for level, (student, teacher) in enumerate(zip(students, teachers)):
            if student.shape[0] != teacher.shape[0]:
                raise ValueError(f'Batch sizes differ at level {level}: student '
                                 f'{student.shape[0]}, teacher {teacher.shape[0]}.')
            projection = self.projections[level]
            if not projection.is_fitted:
                raise RuntimeError(
                    f'{type(projection).__name__} of level {level} is not fitted: add '
                    "dict(type='rdimkd_mm.FitProjectionsHook') to custom_hooks or give the "
                    "distiller a `projections_file` written by tools/fit_projections.py.")
            z_t = projection(teacher.detach()).float()
            z_s = projection(self.connect(student, level, teacher.shape[-2:])).float()
            squared = (z_s - z_t).pow(2)
            loss = squared.sum(1).mean() if self.reduction == 'sum' else squared.mean()
            losses.append(self.loss_weight * loss)
        return losses

    def forward(self, student_feats: Features, teacher_feats: Features) -> Tensor:
        """Sum of :meth:`level_losses`; a scalar."""
        return sum(self.level_losses(student_feats, teacher_feats))

    def extra_repr(self) -> str:
        return (f'student_channels={self.student_channels}, '
                f'teacher_channels={self.teacher_channels}, num_levels={self.num_levels}, '
                f'reduction={self.reduction!r}, loss_weight={self.loss_weight}')
