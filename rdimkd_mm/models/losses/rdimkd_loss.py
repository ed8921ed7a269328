from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from rdimkd_mm.registry import MODELS
from ..projections import RandomProjection
from ..task_modules import FeatureMoments
from .base_distill_loss import BaseDistillLoss, Channels, standardize_channels


@MODELS.register_module()
class RdimKDLoss(BaseDistillLoss):
    """RdimKD: L2 between teacher and student features projected onto one k-dim subspace.

    `RdimKD: Generic Distillation Paradigm by Dimensionality Reduction
    <https://arxiv.org/abs/2312.08700>`_.

    For each level l (one distilled feature map; an FPN gives several)::

        G_s = connector_l(F_s)               # (N, C_s, h, w) -> (N, C_t, h, w), 1x1 conv
        G_s, F_t = align(G_s, F_t)           # same stride: crop to the common size;
                                             # align='interpolate': resize G_s to (H, W)
        d_l = reduce(|| K_l^T F_t - K_l^T G_s ||^2)
        loss_l = loss_weight * d_l / s_l     # normalize='teacher'
        s_l = reduce(|| K_l^T (F_t - E[F_t]) ||^2), measured once on the teacher
        loss_l = loss_weight * mean((z(K_l^T G_s) - z(K_l^T F_t))^2) / 2
                                             # normalize='standardize'

    where ``K_l`` (C_t, k) is the level's projection (random, PCA or autoencoder encoder). With
    ``normalize='teacher'``, ``s_l`` is the teacher's variance inside the subspace, streamed over
    training batches before training (with the projections, by ``FitProjectionsHook``), summed
    over ranks and stored as a persistent buffer. ``loss_l`` is then a *relative* error: 1 is
    what a student that outputs the teacher's mean feature gets, whatever the teacher's scale,
    the level, k or the reduction. It is a constant per-level weight, so the loss stays a plain
    L2 in the subspace. With ``normalize='standardize'``, ``z`` standardises each of the k
    projected channels over N, H, W (of each rank's batch, as PKD does on the full feature;
    nothing is synchronised or stored, so resume and any rank count need nothing more): the loss
    is ``1 - mean_j r_j``, with ``r_j`` the Pearson correlation of projected channel j of the
    two sides, in [0, 2] whatever the scales; it needs no fit. The teacher side carries no
    gradient; gradients reach the student and the connector only. The total is the sum over
    levels. Under autocast (mixed precision, ``--amp``) the projections and the squared error
    are computed in float32.

    Args:
        student_channels (int | Sequence[int]): C_s of the student feature, or one per level.
        teacher_channels (int | Sequence[int]): C_t of the teacher feature, or one per level
            (each level's projection reads its own C_t).
        projection (dict): Config of the projection, e.g.
            ``dict(type='rdimkd_mm.RandomProjection', k=0.25)``; ``in_channels`` is filled in.
            A float ``k`` in (0, 1) is a fraction of C_t (rounded, at least 1). Each level gets
            its own instance (random projections get ``seed + level``).
        num_levels (int): Number of feature maps distilled at this point. Default: 1.
        connector (str): ``'conv'``, ``'identity'`` or ``'auto'``; see
            :class:`BaseDistillLoss`. Default: ``'auto'``.
        align (str): ``'stride'`` or ``'interpolate'``; see :class:`BaseDistillLoss`.
            Default: ``'stride'``.
        normalize (str, optional): ``'teacher'``: divide each level by the teacher's projected
            variance ``s_l`` (needs the fit before training); ``'standardize'``: compare the
            standardised projected channels (``reduction`` does not apply); None: the raw
            distance. Default: ``'standardize'`` (measured best: docs, "Loss scale").
        reduction (str): ``'sum'``: sum over the k projected channels, mean over N, H, W (the
            squared L2 distance per position, so the raw scale grows with k); ``'mean'``: mean
            over all elements. Both give the same normalised loss. Default: ``'sum'``.
        loss_weight (float): Weight of the loss. Default: 1.0.
    """

    def __init__(self,
                 student_channels: Channels,
                 teacher_channels: Channels,
                 projection: dict,
                 num_levels: int = 1,
                 connector: str = 'auto',
                 align: str = 'stride',
                 normalize: Optional[str] = 'standardize',
                 reduction: str = 'sum',
                 loss_weight: float = 1.0) -> None:
        super().__init__(student_channels, teacher_channels, num_levels, connector, align,
                         loss_weight)
        if normalize not in ('teacher', 'standardize', None):
            raise ValueError("normalize must be 'teacher', 'standardize' or None, got "
                             f'{normalize!r}')
        if reduction not in ('sum', 'mean'):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
        self.normalize = normalize
        self.reduction = reduction
        self.projections = nn.ModuleList(
            MODELS.build(self._level_projection_cfg(projection, level),
                         default_args=dict(_scope_='rdimkd_mm'))  # 'RandomProjection' too
            for level in range(num_levels))
        # s_l per level, and whether they are measured (persistent: saved, restored on resume).
        self.register_buffer('scales', torch.ones(num_levels))
        self.register_buffer('scales_fitted', torch.tensor(normalize != 'teacher'))
        self._moments: Optional[List[FeatureMoments]] = None
        self._channel_variance: Dict[int, float] = {}  # measured by the last fit, for its log

    def _level_projection_cfg(self, projection: dict, level: int) -> dict:
        cfg = dict(projection)
        channels = self.level_channels[level][1]
        cfg['in_channels'] = channels
        k = cfg.get('k')
        if isinstance(k, float):
            if not 0 < k < 1:
                raise ValueError(f'A float projection k is a fraction of the teacher\'s '
                                 f'{channels} channels and must lie in (0, 1), '
                                 f'got {k}; give an int for a number of channels.')
            cfg['k'] = max(1, round(k * channels))
        kind = cfg.get('type', '')
        kind = MODELS.get(kind) if isinstance(kind, str) else kind
        if 'seed' in cfg or (isinstance(kind, type) and issubclass(kind, RandomProjection)):
            cfg['seed'] = cfg.get('seed', 0) + level
        return cfg

    # --------------------------------------------------------------------------- fitting
    @property
    def is_fitted(self) -> bool:
        """Whether the projections and the scales are ready for training."""
        return bool(self.scales_fitted) and all(p.is_fitted for p in self.projections)

    def fit_begin(self) -> None:
        """Start streaming teacher features (see ``FitProjectionsHook``)."""
        for projection in self.projections:
            if not projection.is_fitted:
                projection.fit_begin()
        if not self.scales_fitted:
            self._moments = [FeatureMoments(c_t, 16384, seed=level)
                             for level, (_, c_t) in enumerate(self.level_channels)]

    def fit_step(self, level: int, teacher_feat: Tensor) -> None:
        """Consume one batch of level ``level``'s teacher features, (N, C_t, H, W)."""
        if not self.projections[level].is_fitted:
            self.projections[level].fit_step(teacher_feat)
        if self._moments is not None:
            self._moments[level].add(teacher_feat)

    @torch.no_grad()
    def fit_end(self) -> None:
        """Fit the projections, then measure ``s_l`` = trace(W^T Cov W) of each level, where W
        is the projection's linear map (C_t, k) and Cov the teacher feature covariance."""
        for projection in self.projections:
            if not projection.is_fitted:
                projection.fit_end()
        if self._moments is None:
            return
        moments, self._moments = self._moments, None
        for level, (stats, projection) in enumerate(zip(moments, self.projections)):
            _, covariance = stats.mean_and_covariance(f'RdimKDLoss level {level}')
            weight = _linear_map(projection, self.level_channels[level][1]).double()  # (C_t, k)
            scale = float(((covariance @ weight) * weight).sum())
            if self.reduction == 'mean':
                scale /= weight.shape[1]
            if not scale > 0:
                raise RuntimeError(
                    f'The teacher feature of level {level} does not vary inside the projected '
                    'subspace (variance 0): it cannot be distilled there. Check the teacher '
                    'checkpoint, or distil another feature.')
            self.scales[level] = scale
            self._channel_variance[level] = float(covariance.diagonal().mean())
        self.scales_fitted.fill_(True)

    def fit_summary(self) -> List[str]:
        """One line per level on what the fit found, to judge k (docs, "Design choices")."""
        lines = []
        for level, projection in enumerate(self.projections):
            c_t = self.level_channels[level][1]
            parts = [f'k={projection.k} of {c_t}']
            explained = getattr(projection, 'explained_variance_ratio', None)
            if explained is not None:
                parts.append(f'PCA keeps {float(explained):.1%} of the teacher variance')
            error = getattr(projection, 'reconstruction_error', None)
            if error is not None:
                parts.append(f'autoencoder reconstruction MSE {float(error):.4g}')
            if self.normalize == 'teacher':
                parts.append(f'teacher variance in the subspace {float(self.scales[level]):.4g}')
                if isinstance(projection, RandomProjection) and level in self._channel_variance:
                    total = self._channel_variance[level] * c_t
                    parts.append(f'random K keeps {float(self.scales[level]) / total:.1%} of it')
            if level in self._channel_variance:
                parts.append('teacher variance per channel '
                             f'{self._channel_variance[level]:.4g}')
            lines.append(f'level {level}: ' + ', '.join(parts))
        return lines

    def project_level(self, level: int, connected: Tensor, teacher: Tensor
                      ) -> Tuple[Tensor, Tensor]:
        """Both features of one level in the subspace: ``(K^T F_t, K^T G_s)``.

        Args:
            level (int): The level.
            connected (Tensor): (N, C_t, H, W) connected, aligned student feature ``G_s`` (see
                :meth:`connected_levels`).
            teacher (Tensor): (N, C_t, H, W) teacher feature.

        Returns:
            tuple[Tensor, Tensor]: (teacher, student) projections, (N, k, H, W) each, float32;
            only the student's carries gradients.
        """
        projection = self.projections[level]
        if not (projection.is_fitted and self.scales_fitted):
            what = (f'{type(projection).__name__} of level {level}'
                    if not projection.is_fitted else "the teacher's scale (normalize="
                    "'teacher')")
            raise RuntimeError(
                f'RdimKDLoss: {what} is not fitted: add '
                "dict(type='rdimkd_mm.FitProjectionsHook') to custom_hooks or give the "
                "hook a `projections_file` written by tools/fit_projections.py.")
        # Under autocast (--amp) the projections (and so the squared error) run in float32:
        # the distance of two nearly equal projected features loses most of its bits in
        # float16/bfloat16. The connector still runs in the autocast dtype; the casts below
        # are differentiable, so gradients reach it and the student.
        with torch.autocast(device_type=connected.device.type, enabled=False):
            return projection(teacher.detach().float()), projection(connected.float())

    def level_loss(self, student: Tensor, teacher: Tensor, level: int) -> Tensor:
        """The unweighted loss of one level in the subspace, a scalar (the base class's
        template calls it in float32 outside autocast and applies ``loss_weight``).

        Args:
            student (Tensor): (N, C_t, H, W) connected, aligned student feature ``G_s``.
            teacher (Tensor): (N, C_t, H, W) teacher feature, detached.
            level (int): Index of the level.
        """
        z_t, z_s = self.project_level(level, student, teacher)
        if self.normalize == 'standardize':
            z_s, z_t = standardize_channels(z_s), standardize_channels(z_t)
            loss = 0.5 * (z_s - z_t).pow(2).mean()
        else:
            squared = (z_s - z_t).pow(2)
            loss = squared.sum(1).mean() if self.reduction == 'sum' else squared.mean()
        if self.normalize == 'teacher':
            loss = loss / self.scales[level]
        return loss

    def extra_repr(self) -> str:
        return (f'student_channels={self.student_channels}, '
                f'teacher_channels={self.teacher_channels}, num_levels={self.num_levels}, '
                f'align={self.align!r}, normalize={self.normalize!r}, '
                f'reduction={self.reduction!r}, '
                f'loss_weight={self.loss_weight}')


def _linear_map(projection: nn.Module, channels: int) -> Tensor:
    """The (C, k) matrix of an affine projection: its response to the unit vectors minus its
    response to zero (a bias cancels)."""
    basis = torch.eye(channels, device=projection.fitted.device)[:, :, None, None]
    return (projection(basis) - projection(torch.zeros_like(basis[:1])))[:, :, 0, 0]
