import torch

from rdimkd_mm.registry import MODELS
from .linear_projection import LinearProjection


@MODELS.register_module()
class RandomProjection(LinearProjection):
    """RdimKD-R: a random K (C, k) with orthonormal columns, fixed for the whole training.

    ``K`` is the Q factor of a seeded Gaussian (C, k) matrix, with the signs of R's diagonal
    folded in so that K is uniformly (Haar) distributed. It depends only on ``seed``, ``C`` and
    ``k``, so every rank (and every resumed run) builds the same K without communication.

    Args:
        in_channels (int): Channels C of the teacher feature.
        k (int): Subspace dimension.
        seed (int): Seed of the Gaussian draw. Default: 0.
    """

    def __init__(self, in_channels: int, k: int, seed: int = 0) -> None:
        super().__init__(in_channels, k)
        self.seed = seed
        generator = torch.Generator().manual_seed(seed)
        gaussian = torch.randn(in_channels, k, generator=generator, dtype=torch.float64)
        q, r = torch.linalg.qr(gaussian)
        q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
        self.weight.copy_(q.float())

    def extra_repr(self) -> str:
        return f'{super().extra_repr()}, seed={self.seed}'
