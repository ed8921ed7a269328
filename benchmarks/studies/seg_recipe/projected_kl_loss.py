"""The segmentation recipe study's "how" arm: RdimKD's projection with CWD's loss."""
import torch.nn.functional as F
from torch import Tensor

from rdimkd_mm.models.losses import RdimKDLoss
from rdimkd_mm.models.losses.base_distill_loss import BaseDistillLoss, standardize_channels
from rdimkd_mm.registry import MODELS


@MODELS.register_module()
class ProjectedKLLoss(RdimKDLoss):
    """RdimKD's subspace, compared as CWD compares channels: a spatial-softmax KL per channel.

    Both features are projected as in :class:`RdimKDLoss` (``K^T F_t``, ``K^T G_s``, (N, k, H,
    W)); with ``normalize='standardize'`` each projected channel is first standardised over
    N, H, W (so that ``tau`` does not depend on the features' scale). Then each of the k
    channels of each sample becomes a distribution over its H x W positions::

        p_t[n, j] = softmax(z_t[n, j] / tau),   p_s[n, j] = softmax(z_s[n, j] / tau)
        loss = loss_weight * tau^2 / (N k) * sum_{n, j} KL(p_t[n, j] || p_s[n, j])

    Args:
        tau (float): Temperature of the softmax, > 0. Default: 1.0.
        **kwargs: As :class:`RdimKDLoss` (``normalize``: 'standardize' or None).
    """

    def __init__(self, *args, tau: float = 1.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not tau > 0:
            raise ValueError(f'ProjectedKLLoss: tau (the softmax temperature) must be > 0, '
                             f'got {tau}.')
        if self.normalize == 'teacher':
            raise ValueError("ProjectedKLLoss: normalize='teacher' scales an L2 distance; give "
                             "'standardize' or None.")
        self.tau = tau

    # The base class's loop: connector, alignment, then level_loss per level.
    level_losses = BaseDistillLoss.level_losses

    def level_loss(self, student: Tensor, teacher: Tensor, level: int) -> Tensor:
        """tau^2 times the mean over (N, k) of the projected channels' KL divergences."""
        z_t, z_s = self.project_level(level, student, teacher)
        if self.normalize == 'standardize':
            z_s, z_t = standardize_channels(z_s), standardize_channels(z_t)
        n, k = z_t.shape[:2]
        log_p_s = F.log_softmax(z_s.flatten(2) / self.tau, dim=2)
        log_p_t = F.log_softmax(z_t.flatten(2) / self.tau, dim=2)
        kl = F.kl_div(log_p_s, log_p_t, reduction='sum', log_target=True)
        return self.tau**2 * kl / (n * k)

    def extra_repr(self) -> str:
        return f'{super().extra_repr()}, tau={self.tau}'
