import torch.nn.functional as F
from torch import Tensor

from rdimkd_mm.registry import MODELS
from .base_distill_loss import BaseDistillLoss


@MODELS.register_module()
class CWDLoss(BaseDistillLoss):
    """CWD: KL divergence between the teacher's and the student's per-channel spatial softmax.

    `Channel-wise Knowledge Distillation for Dense Prediction
    <https://arxiv.org/abs/2011.13256>`_ (Shu et al., ICCV 2021).

    Each channel of a feature map becomes a distribution over its H x W positions. For each
    level, with ``G_s`` the connected student feature and ``F_t`` the teacher's, both
    (N, C_t, H, W) (see :class:`BaseDistillLoss`)::

        p_t[n, c] = softmax(F_t[n, c] / tau)                 # over the H * W positions
        p_s[n, c] = softmax(G_s[n, c] / tau)
        loss_l = loss_weight * tau^2 / (N C_t) * sum_{n, c} KL(p_t[n, c] || p_s[n, c])

    KL(p || q) = sum_i p_i (log p_i - log q_i): the student is pulled hardest at the positions
    where the teacher's channel peaks. ``tau^2`` keeps the gradient's scale about independent of
    the temperature, as in Hinton et al.'s distillation. The loss is 0 when the two features
    differ only by a constant per (sample, channel), to which the softmax is blind.

    Published default: the logits (the segmentation head's classifier output,
    ``decode_head.conv_seg``) with ``tau=1`` and ``loss_weight=5`` for PSPNet R101 -> R18 on
    Cityscapes (10 on ADE20K) in the authors' released configs (the code the paper links,
    pppppM/mmsegmentation-distiller, and mmrazor's ``cwd_logits_pspnet`` Cityscapes config,
    75.54 mIoU), with this same reduction (sum over positions, mean over N and C). For feature
    maps of different widths the authors' code, like this loss (``connector='auto'``), first
    maps the student to the teacher's channels with a 1x1 conv.

    Args:
        tau (float): Temperature of the softmax, > 0. Default: 1.0.
        **kwargs: ``student_channels``, ``teacher_channels``, ``num_levels``, ``connector``,
            ``align`` and ``loss_weight``, as in :class:`BaseDistillLoss`.
    """

    def __init__(self, *args, tau: float = 1.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not tau > 0:
            raise ValueError(f'CWDLoss: tau (the softmax temperature) must be > 0, got {tau}.')
        self.tau = tau

    def level_loss(self, student: Tensor, teacher: Tensor, level: int) -> Tensor:
        """tau^2 times the mean over (N, C_t) of the channels' KL divergences."""
        n, c = teacher.shape[:2]
        log_p_s = F.log_softmax(student.flatten(2) / self.tau, dim=2)
        log_p_t = F.log_softmax(teacher.flatten(2) / self.tau, dim=2)
        kl = F.kl_div(log_p_s, log_p_t, reduction='sum', log_target=True)
        return self.tau**2 * kl / (n * c)

    def extra_repr(self) -> str:
        return f'{super().extra_repr()}, tau={self.tau}'
