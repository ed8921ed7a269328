import torch
import torch.nn.functional as F
from mmengine import dist
from torch import Tensor, nn

from rdimkd_mm.registry import MODELS
from .base_projection import BaseProjection


@MODELS.register_module()
class AutoencoderProjection(BaseProjection):
    """RdimKD-A: the encoder of an autoencoder trained to reconstruct the teacher's features.

    Encoder: a 1x1 conv C -> k (the projection). Decoder: a 1x1 conv k -> C, or, with
    ``hidden_channels > 0``, 1x1 conv k -> hidden, ReLU, 1x1 conv hidden -> C. (A linear
    autoencoder spans the PCA subspace, so the non-linear decoder is what sets RdimKD-A apart.)

    Pre-train, then freeze (the project's default reading of the paper): before training,
    :class:`~rdimkd_mm.engine.hooks.FitProjectionsHook` streams teacher features through
    ``fit_step``, which takes ``steps_per_batch`` Adam steps on the reconstruction MSE of up to
    ``samples_per_step`` random positions. Gradients are averaged over ranks and rank 0's
    result is broadcast at the end, so every rank holds the same encoder. Afterwards all weights
    are frozen (``requires_grad=False``), never touched by the student's optimizer, and saved in
    checkpoints. The encoder is not orthonormal: its scale sets the scale of the KD loss.

    Args:
        in_channels (int): Channels C of the teacher feature.
        k (int): Code size.
        hidden_channels (int): Width of the decoder's hidden layer; 0 for a linear decoder.
            Default: 0.
        lr (float): Adam learning rate of the fit. Default: 1e-3.
        steps_per_batch (int): Adam steps per streamed batch. Default: 20.
        samples_per_step (int): Feature vectors per Adam step. Default: 4096.
        seed (int): Seed of the weight initialisation and sampling. Default: 0.
    """

    requires_fit = True

    def __init__(self,
                 in_channels: int,
                 k: int,
                 hidden_channels: int = 0,
                 lr: float = 1e-3,
                 steps_per_batch: int = 20,
                 samples_per_step: int = 4096,
                 seed: int = 0) -> None:
        super().__init__(in_channels, k)
        if steps_per_batch < 1 or samples_per_step < 1:
            raise ValueError('steps_per_batch and samples_per_step must be >= 1.')
        self.hidden_channels = hidden_channels
        self.lr = lr
        self.steps_per_batch = steps_per_batch
        self.samples_per_step = samples_per_step
        self.seed = seed
        fork = torch.random.fork_rng(devices=[])
        with fork:
            torch.manual_seed(seed)
            self.encoder = nn.Linear(in_channels, k)
            if hidden_channels > 0:
                self.decoder = nn.Sequential(
                    nn.Linear(k, hidden_channels), nn.ReLU(inplace=True),
                    nn.Linear(hidden_channels, in_channels))
            else:
                self.decoder = nn.Linear(k, in_channels)
        self.requires_grad_(False)
        self.register_buffer('reconstruction_error', torch.zeros(()))
        self._optimizer = None

    def forward(self, x: Tensor) -> Tensor:
        """Encode (N, C, H, W) -> (N, k, H, W)."""
        if x.shape[1] != self.in_channels:
            raise ValueError(f'AutoencoderProjection expects {self.in_channels} channels, got a '
                             f'feature of shape {tuple(x.shape)}.')
        weight = self.encoder.weight.to(x.dtype)[:, :, None, None]
        return F.conv2d(x, weight, self.encoder.bias.to(x.dtype))

    def fit_begin(self) -> None:
        self.requires_grad_(True)
        self._optimizer = torch.optim.Adam(self.parameters(), lr=self.lr)
        self._generator = torch.Generator().manual_seed(self.seed + dist.get_rank())
        self._last_loss = torch.zeros(())

    def fit_step(self, teacher_feat: Tensor) -> None:
        if self._optimizer is None:
            raise RuntimeError('AutoencoderProjection.fit_step called before fit_begin.')
        samples = teacher_feat.detach().float().permute(0, 2, 3, 1).reshape(-1, self.in_channels)
        with torch.enable_grad():
            for _ in range(self.steps_per_batch):
                index = torch.randint(samples.shape[0], (self.samples_per_step, ),
                                      generator=self._generator).to(samples.device)
                batch = samples[index]
                loss = F.mse_loss(self.decoder(self.encoder(batch)), batch)
                self._optimizer.zero_grad()
                loss.backward()
                dist.all_reduce_params([p.grad for p in self.parameters()], op='mean')
                self._optimizer.step()
        self._last_loss = loss.detach()

    @torch.no_grad()
    def fit_end(self) -> None:
        if self._optimizer is None:
            raise RuntimeError('AutoencoderProjection.fit_end called before fit_begin.')
        self._optimizer = None
        self.requires_grad_(False)
        self.reconstruction_error.copy_(self._last_loss)
        for tensor in (*self.parameters(), self.reconstruction_error):
            dist.broadcast(tensor, src=0)
        self.fitted.fill_(True)

    def extra_repr(self) -> str:
        return (f'{super().extra_repr()}, hidden_channels={self.hidden_channels}, '
                f'fitted={self.is_fitted}')
