from torch import Tensor

from rdimkd_mm.registry import MODELS
from .base_distill_loss import BaseDistillLoss, standardize_channels


@MODELS.register_module()
class PKDLoss(BaseDistillLoss):
    """PKD: MSE between per-channel standardised features, i.e. 1 - Pearson correlation.

    `PKD: General Distillation Framework for Object Detectors via Pearson Correlation
    Coefficient <https://arxiv.org/abs/2207.02039>`_ (Cao et al., NeurIPS 2022).

    For each level, with ``G_s`` the connected student feature and ``F_t`` the teacher's, both
    (N, C_t, H, W) (see :class:`BaseDistillLoss`)::

        x_hat = (x - mean_c(x)) / (std_c(x) + eps)         # per channel c, over N, H, W
        loss_l = loss_weight / (2 N C_t H W) * sum((G_s_hat - F_t_hat) ** 2)
               = loss_weight * (1 - mean_c r_c)             # up to eps

    where ``r_c`` is the Pearson correlation of channel c of the two features over the batch's
    positions: the loss ignores each channel's scale and offset on either side, so teacher
    channels or levels of large magnitude cannot dominate it, and the student need not match
    the teacher's magnitudes. It lies in [0, 2 * loss_weight]. The statistics run over the
    batch as well as the positions, as in mmrazor's ``PKDLoss``, the implementation released
    with the paper's configs, and with its ``eps``; the standard deviation here is the biased
    one (mmrazor's is unbiased, a factor sqrt(M / (M - 1)) apart for M = N H W values), so that
    the identity above holds up to ``eps``.

    Published default: ``loss_weight=10`` per FPN level for a RetinaNet student (RetinaNet-X101
    or FCOS-X101 -> RetinaNet-R50 in the released mmrazor configs; 6 for Faster R-CNN and for
    Mask R-CNN-Swin -> RetinaNet), with this same reduction (mean over all elements,
    halved, one term per level), so the value carries over unchanged. The released configs
    distil FPNs of equal width without a connector; for different widths this loss adds the
    1x1 conv connector (``connector='auto'``).

    Args: those of :class:`BaseDistillLoss`.
    """

    def level_loss(self, student: Tensor, teacher: Tensor, level: int) -> Tensor:
        """Half the mean squared difference of the standardised (N, C_t, H, W) features."""
        return 0.5 * (standardize_channels(student) - standardize_channels(teacher)).pow(2).mean()
