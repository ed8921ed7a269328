from typing import List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Features = Union[Tensor, Sequence[Tensor]]
Channels = Union[int, Sequence[int]]


class BaseDistillLoss(nn.Module):
    """What every distillation loss of a point shares: levels, connector and size alignment.

    A distillation point gives one feature map per level (an FPN gives several). For each level,
    :meth:`connected_levels` checks the shapes, maps the student feature (N, C_s, h, w) to the
    teacher's C_t channels with the level's connector (a 1x1 conv when the channels differ, as
    in FitNets, PKD and CWD) and brings both features to one spatial size (``align``).

    :class:`~rdimkd_mm.models.FeatureDistiller` fills in ``student_channels``,
    ``teacher_channels`` and ``num_levels`` from its probe and calls :meth:`level_losses`, one
    weighted scalar per level; their sum is the point's KD loss. Subclasses implement
    :meth:`level_loss`, the unweighted loss of one level: the template calls it in float32
    outside autocast (mixed precision, ``--amp``), where a distance of two nearly equal features,
    a standardisation or a softmax over positions loses most of its bits in float16/bfloat16.
    The connector still runs in the autocast dtype; the casts are differentiable, so gradients
    reach it and the student. The teacher side carries no gradient.

    Args:
        student_channels (int | Sequence[int]): C_s of the student feature, or one per level
            (a coarse-to-fine neck such as YOLOv3's has other channels at each level).
        teacher_channels (int | Sequence[int]): C_t of the teacher feature, or one per level.
        num_levels (int): Number of feature maps distilled at this point. Default: 1.
        connector (str): ``'conv'`` (1x1 conv C_s -> C_t with bias), ``'identity'`` (requires
            C_s == C_t) or ``'auto'`` (identity if the channels match, conv otherwise), per
            level. Default: ``'auto'``.
        align (str): ``'stride'``: the features must have the same stride (the distiller
            checks this at build time); sizes that differ only by padding (e.g. another size
            divisor) are cropped to the common top-left part, where both inputs hold the
            image. ``'interpolate'``: the features may have different strides; the connected
            student feature is resized bilinearly to the teacher's size. Default: ``'stride'``.
        loss_weight (float): Weight of the loss. Default: 1.0.
    """

    def __init__(self,
                 student_channels: Channels,
                 teacher_channels: Channels,
                 num_levels: int = 1,
                 connector: str = 'auto',
                 align: str = 'stride',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if connector not in ('conv', 'identity', 'auto'):
            raise ValueError(f"connector must be 'conv', 'identity' or 'auto', got {connector!r}")
        #: (C_s, C_t) of each level.
        self.level_channels = list(zip(per_level(student_channels, num_levels, 'student'),
                                       per_level(teacher_channels, num_levels, 'teacher')))
        if connector == 'identity' and any(s != t for s, t in self.level_channels):
            raise ValueError(
                f"connector='identity' needs equal channels, but the student has "
                f'{student_channels} and the teacher {teacher_channels}; use '
                f"connector='conv'.")
        if align not in ('stride', 'interpolate'):
            raise ValueError(f"align must be 'stride' or 'interpolate', got {align!r}")
        self.student_channels = student_channels
        self.teacher_channels = teacher_channels
        self.num_levels = num_levels
        self.align = align
        self.loss_weight = loss_weight
        self.connectors = nn.ModuleList(
            nn.Conv2d(c_s, c_t, 1) if connector == 'conv' or (connector == 'auto' and c_s != c_t)
            else nn.Identity() for c_s, c_t in self.level_channels)

    def _as_levels(self, feats: Features, side: str) -> List[Tensor]:
        levels = [feats] if isinstance(feats, Tensor) else list(feats)
        name = type(self).__name__
        if len(levels) != self.num_levels:
            raise ValueError(f'{name} was built for {self.num_levels} level(s), but the '
                             f'{side} gave {len(levels)} feature map(s).')
        for level, feat in enumerate(levels):
            channels = self.level_channels[level][0 if side == 'student' else 1]
            if feat.dim() != 4 or feat.shape[1] != channels:
                raise ValueError(f'{name} expects {side} level {level} of shape (N, '
                                 f'{channels}, H, W), got {tuple(feat.shape)}.')
        return levels

    def align_sizes(self, student: Tensor, teacher: Tensor, level: int) -> Tuple[Tensor, Tensor]:
        """Bring (N, C_t, h, w) and (N, C_t, H, W) to one spatial size (see ``align``)."""
        if student.shape[-2:] == teacher.shape[-2:]:
            return student, teacher
        if self.align == 'interpolate':
            return F.interpolate(student, size=teacher.shape[-2:], mode='bilinear',
                                 align_corners=False), teacher
        (h, w), (th, tw) = student.shape[-2:], teacher.shape[-2:]
        if not (0.5 < h / th < 2 and 0.5 < w / tw < 2):
            raise ValueError(
                f'Level {level}: the student feature is {h}x{w} but the teacher\'s {th}x{tw}, '
                'so their strides differ; distil features of the same stride (see '
                "tools/inspect_pair.py) or set the loss's align='interpolate'.")
        h, w = min(h, th), min(w, tw)
        return student[..., :h, :w], teacher[..., :h, :w]

    def connected_levels(self, student_feats: Features,
                         teacher_feats: Features) -> List[Tuple[Tensor, Tensor]]:
        """Per level, the connected student and the teacher feature, both (N, C_t, H, W).

        Args:
            student_feats (Tensor | Sequence[Tensor]): (N, C_s, h_l, w_l) per level.
            teacher_feats (Tensor | Sequence[Tensor]): (N, C_t, H_l, W_l) per level.
        """
        students = self._as_levels(student_feats, 'student')
        teachers = self._as_levels(teacher_feats, 'teacher')
        pairs = []
        for level, (student, teacher) in enumerate(zip(students, teachers)):
            if student.shape[0] != teacher.shape[0]:
                raise ValueError(f'Batch sizes differ at level {level}: student '
                                 f'{student.shape[0]}, teacher {teacher.shape[0]}.')
            pairs.append(self.align_sizes(self.connectors[level](student), teacher, level))
        return pairs

    def level_loss(self, student: Tensor, teacher: Tensor, level: int) -> Tensor:
        """The unweighted loss of one level, a scalar.

        Args:
            student (Tensor): The connected, aligned student feature, (N, C_t, H, W), float32.
            teacher (Tensor): The teacher feature, (N, C_t, H, W), float32, detached.
            level (int): Index of the level.
        """
        raise NotImplementedError(f'{type(self).__name__} does not implement level_loss.')

    def level_losses(self, student_feats: Features, teacher_feats: Features) -> List[Tensor]:
        """Weighted loss of each level: ``num_levels`` scalars (see :meth:`connected_levels`
        for the inputs)."""
        losses = []
        for level, (student, teacher) in enumerate(
                self.connected_levels(student_feats, teacher_feats)):
            with torch.autocast(device_type=student.device.type, enabled=False):
                loss = self.level_loss(student.float(), teacher.detach().float(), level)
            losses.append(self.loss_weight * loss)
        return losses

    def forward(self, student_feats: Features, teacher_feats: Features) -> Tensor:
        """Sum of :meth:`level_losses`; a scalar."""
        return sum(self.level_losses(student_feats, teacher_feats))

    def extra_repr(self) -> str:
        return (f'student_channels={self.student_channels}, '
                f'teacher_channels={self.teacher_channels}, num_levels={self.num_levels}, '
                f'align={self.align!r}, loss_weight={self.loss_weight}')


def per_level(channels: Channels, num_levels: int, side: str) -> List[int]:
    """``channels`` (one int for all levels, or one per level) as a list of ``num_levels``."""
    if isinstance(channels, int):
        return [channels] * num_levels
    channels = list(channels)
    if len(channels) != num_levels:
        raise ValueError(f'{side}_channels {channels} gives {len(channels)} channel count(s) '
                         f'for {num_levels} level(s); give one int or one per level.')
    return channels


def standardize_channels(feat: Tensor, eps: float = 1e-6) -> Tensor:
    """Every channel of an (N, C, H, W) map at mean 0 and variance 1 over N, H, W.

    The standard deviation is the biased one, so that ``mean((a - b) ** 2) / 2`` of two
    standardised maps is ``1 - mean_c r_c``, their channels' mean Pearson correlation (up to
    ``eps``, which makes a constant channel 0 instead of NaN).
    """
    std, mean = torch.std_mean(feat, dim=(0, 2, 3), correction=0, keepdim=True)
    return (feat - mean) / (std + eps)
