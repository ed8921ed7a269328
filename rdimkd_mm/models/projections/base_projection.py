from abc import ABCMeta, abstractmethod

import torch
from torch import Tensor, nn


class BaseProjection(nn.Module, metaclass=ABCMeta):
    """Maps a C-channel feature map onto a k-dimensional subspace, per position.

    ``forward``: (N, C, H, W) -> (N, k, H, W). The same module projects the teacher feature and
    the (connected) student feature, so both land in the same subspace.

    Projections whose matrix is learnt from the teacher (PCA, autoencoder) set
    ``requires_fit = True`` and implement the streaming protocol ``fit_begin`` ->
    ``fit_step(teacher_feat)`` * n -> ``fit_end``, driven by
    :class:`~rdimkd_mm.engine.hooks.FitProjectionsHook` before training. Their state lives in
    persistent buffers, so it is saved in checkpoints and restored on resume.

    Args:
        in_channels (int): Channels C of the (teacher) feature map.
        k (int): Dimension of the subspace, ``0 < k <= in_channels``.
    """

    requires_fit: bool = False

    def __init__(self, in_channels: int, k: int) -> None:
        super().__init__()
        if not 0 < k <= in_channels:
            change = 'raise' if k <= 0 else 'lower'
            raise ValueError(f'{type(self).__name__}: k must satisfy 0 < k <= in_channels, got '
                             f'k={k} for in_channels={in_channels}; {change} `k` in the '
                             'projection config.')
        self.in_channels = in_channels
        self.k = k
        # Persistent, so that a resumed run knows the projection was fitted already.
        self.register_buffer('fitted', torch.tensor(not self.requires_fit))

    @property
    def is_fitted(self) -> bool:
        return bool(self.fitted)

    @abstractmethod
    def forward(self, x: Tensor) -> Tensor:
        """Project (N, C, H, W) -> (N, k, H, W)."""

    def fit_begin(self) -> None:
        """Start fitting (reset statistics)."""

    def fit_step(self, teacher_feat: Tensor) -> None:
        """Consume one batch of teacher features of shape (N, C, H, W)."""

    def fit_end(self) -> None:
        """Finish fitting: reduce over ranks and freeze the result."""

    def extra_repr(self) -> str:
        return f'in_channels={self.in_channels}, k={self.k}'
