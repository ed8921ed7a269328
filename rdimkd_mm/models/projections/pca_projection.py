import torch
from mmengine import dist
from torch import Tensor

from rdimkd_mm.registry import MODELS
from ..task_modules import FeatureMoments
from .linear_projection import LinearProjection


@MODELS.register_module()
class PCAProjection(LinearProjection):
    """RdimKD-P: K = the top-k principal directions of the teacher's feature vectors.

    Every spatial position of the teacher feature is one C-dimensional sample. Before training,
    :class:`~rdimkd_mm.engine.hooks.FitProjectionsHook` streams the frozen teacher over training
    batches; this module accumulates the sum and the sum of outer products in float64, sums them
    over all ranks, and takes the eigenvectors of the covariance with the k largest eigenvalues.
    K then stays fixed. Each column's sign is fixed (largest-magnitude entry positive) so that
    the result is deterministic.

    Args:
        in_channels (int): Channels C of the teacher feature.
        k (int): Number of principal directions kept.
        max_samples_per_batch (int): Feature vectors drawn (without replacement, seeded) from
            each batch, to bound the cost on large maps; ``-1`` uses all. Default: 65536.
    """

    requires_fit = True

    def __init__(self, in_channels: int, k: int, max_samples_per_batch: int = 65536) -> None:
        super().__init__(in_channels, k)
        self.max_samples_per_batch = max_samples_per_batch
        #: Eigenvalues of the kept directions, descending; (k,). Saved for diagnostics.
        self.register_buffer('eigenvalues', torch.zeros(k))
        #: Share of the total variance the kept directions explain.
        self.register_buffer('explained_variance_ratio', torch.zeros(()))
        self._stats = None

    def fit_begin(self) -> None:
        self._stats = FeatureMoments(self.in_channels, self.max_samples_per_batch)

    def fit_step(self, teacher_feat: Tensor) -> None:
        if self._stats is None:
            raise RuntimeError('PCAProjection.fit_step called before fit_begin.')
        self._stats.add(teacher_feat)

    @torch.no_grad()
    def fit_end(self) -> None:
        if self._stats is None:
            raise RuntimeError('PCAProjection.fit_end called before fit_begin.')
        stats, self._stats = self._stats, None
        mean, covariance = stats.mean_and_covariance('PCAProjection')
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)  # ascending
        top = eigenvectors[:, -self.k:].flip(1)
        signs = torch.sign(top.gather(0, top.abs().argmax(0, keepdim=True)))
        top = top * signs
        kept = eigenvalues[-self.k:].flip(0)
        self.weight.copy_(top.float())
        self.mean.copy_(mean.float())
        self.eigenvalues.copy_(kept.float())
        self.explained_variance_ratio.fill_(
            float(kept.clamp(min=0).sum() / eigenvalues.clamp(min=0).sum().clamp(min=1e-12)))
        # All ranks reduced identical statistics; broadcasting rank 0's result also removes any
        # platform-dependent difference of the eigensolver.
        for buffer in (self.weight, self.mean, self.eigenvalues, self.explained_variance_ratio):
            dist.broadcast(buffer, src=0)
        self.fitted.fill_(True)

    def extra_repr(self) -> str:
        return f'{super().extra_repr()}, fitted={self.is_fitted}'
