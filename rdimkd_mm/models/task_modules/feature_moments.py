"""Streaming first and second moments of feature vectors, summed over ranks."""
from typing import Optional

import torch
from mmengine import dist
from torch import Tensor


class FeatureMoments:
    """Accumulates count, sum and sum of outer products of C-dim feature vectors (float64).

    Every spatial position of an (N, C, H, W) map is one sample. ``max_samples_per_batch``
    positions are drawn per call (without replacement, seeded per rank) to bound the cost on
    large maps.

    Args:
        channels (int): C.
        max_samples_per_batch (int): Positions kept per :meth:`add`; ``-1`` keeps all.
        seed (int): Seed of the sampling (the rank is added).
    """

    def __init__(self, channels: int, max_samples_per_batch: int = 65536, seed: int = 0) -> None:
        self.channels = channels
        self.max_samples_per_batch = max_samples_per_batch
        self._generator = torch.Generator().manual_seed(seed + dist.get_rank())
        self.count: Optional[Tensor] = None
        self.total: Optional[Tensor] = None
        self.outer: Optional[Tensor] = None

    @torch.no_grad()
    def add(self, feat: Tensor) -> None:
        """Add the positions of one (N, C, H, W) feature map."""
        samples = feat.detach().permute(0, 2, 3, 1).reshape(-1, self.channels)
        if 0 < self.max_samples_per_batch < samples.shape[0]:
            index = torch.randperm(samples.shape[0], generator=self._generator)
            samples = samples[index[:self.max_samples_per_batch].to(samples.device)]
        samples = samples.double()
        if self.count is None:
            device = samples.device
            self.count = torch.zeros((), dtype=torch.float64, device=device)
            self.total = torch.zeros(self.channels, dtype=torch.float64, device=device)
            self.outer = torch.zeros(self.channels, self.channels, dtype=torch.float64,
                                     device=device)
        self.count += samples.shape[0]
        self.total += samples.sum(0)
        self.outer += samples.t() @ samples

    @torch.no_grad()
    def mean_and_covariance(self, what: str) -> tuple:
        """Sum the statistics over ranks; return the mean (C,) and covariance (C, C), float64.

        Args:
            what (str): What the statistics are of, for the error message.
        """
        if self.count is None:
            raise RuntimeError(f'{what}: no feature was seen; give the fit batches '
                               '(FitProjectionsHook num_batches).')
        sums = dict(count=self.count, total=self.total, outer=self.outer)
        dist.all_reduce_dict(sums, op='sum')  # in place
        count = self.count.item()
        if count < 2:
            raise RuntimeError(f'{what} saw fewer than 2 feature vectors; give the fit more '
                               'batches (FitProjectionsHook num_batches).')
        mean = self.total / count
        return mean, self.outer / count - torch.outer(mean, mean)
