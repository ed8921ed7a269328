from torch import Tensor

from rdimkd_mm.registry import MODELS
from .base_projection import BaseProjection


@MODELS.register_module()
class IdentityProjection(BaseProjection):
    """No reduction (k = C): RdimKD degenerates into the naive full-feature L2 mimic (FitNet).

    The baseline RdimKD is compared with; it keeps the same connector and loss.

    Args:
        in_channels (int): Channels C of the teacher feature.
        k (int, optional): Must equal ``in_channels`` if given.
    """

    def __init__(self, in_channels: int, k: int = None) -> None:
        if k is not None and k != in_channels:
            raise ValueError(f'IdentityProjection keeps all {in_channels} channels; drop `k` '
                             f'(got k={k}) or use another projection.')
        super().__init__(in_channels, in_channels)

    def forward(self, x: Tensor) -> Tensor:
        """Identity: (N, C, H, W) -> (N, C, H, W)."""
        return x
