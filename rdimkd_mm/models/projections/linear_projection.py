import torch
import torch.nn.functional as F
from torch import Tensor

from .base_projection import BaseProjection


class LinearProjection(BaseProjection):
    """A fixed linear map ``z = K^T (x - mu)`` with ``K`` of shape (C, k) and ``mu`` of shape (C,).

    ``K`` and ``mu`` are persistent buffers (saved in checkpoints, never trained). Subclasses
    fill them; the centring cancels in the RdimKD loss and only matters for visualisation.
    """

    def __init__(self, in_channels: int, k: int) -> None:
        super().__init__(in_channels, k)
        self.register_buffer('weight', torch.zeros(in_channels, k))
        self.register_buffer('mean', torch.zeros(in_channels))

    def forward(self, x: Tensor) -> Tensor:
        """Project (N, C, H, W) -> (N, k, H, W)."""
        if x.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__} expects {self.in_channels} channels, got a '
                             f'feature of shape {tuple(x.shape)}.')
        weight = self.weight.t().to(x.dtype)
        bias = -(weight @ self.mean.to(x.dtype))
        return F.conv2d(x, weight[:, :, None, None], bias)
