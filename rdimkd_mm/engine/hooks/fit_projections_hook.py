import copy
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log

from rdimkd_mm.registry import HOOKS
from rdimkd_mm.utils import preserved_random_states
from ..projection_fit import fit_projections, load_projections, losses_to_fit
from .distiller_of import distiller_of


@HOOKS.register_module()
class FitProjectionsHook(Hook):
    """Fits the distiller's projections and loss scales before the first training iteration.

    Streams ``num_batches`` batches of a fresh copy of the training dataloader (per rank)
    through the frozen teacher and feeds the features at every distillation point to the
    losses that need them: PCA/autoencoder projections, and the teacher's projected variance
    by which ``RdimKDLoss(normalize='teacher')`` divides. Statistics and autoencoder gradients
    are reduced over ranks, so all ranks end with the same state. The Python, NumPy and torch
    random states are restored afterwards, so training draws the same augmentations and
    samples as it would without the fit (a resumed run, which skips the fit, continues exactly).

    Does nothing when everything is fitted already (a resumed checkpoint holds the fitted
    state). With ``projections_file``, a file written by ``tools/fit_projections.py`` for this
    config is loaded (strictly) instead of fitting, also on resume (the values are those the
    checkpoint holds: fitted state never trains).

    Args:
        num_batches (int): Training batches to stream. Default: 50.
        projections_file (str, optional): Already fitted projections and scales. Default: None.
    """

    priority = 'VERY_LOW'

    def __init__(self, num_batches: int = 50, projections_file: Optional[str] = None) -> None:
        if num_batches < 1:
            raise ValueError(f'num_batches must be >= 1, got {num_batches}')
        self.num_batches = num_batches
        self.projections_file = projections_file

    def before_train(self, runner) -> None:
        model = distiller_of(runner, 'FitProjectionsHook')
        if self.projections_file is not None:  # the same values on resume: they never train
            load_projections(model, self.projections_file)
            print_log(f'Projections and loss scales loaded from {self.projections_file}',
                      logger='current')
            return
        to_fit = losses_to_fit(model)
        if not to_fit:
            return
        print_log(f'Fitting projections and loss scales of {sorted(to_fit)} on '
                  f'{self.num_batches} batches of teacher features', logger='current')
        with preserved_random_states():
            # A separate dataloader: iterating runner.train_dataloader a second time would
            # share (and, once the fit stops, close) its sampler's generator (InfiniteSampler).
            loader = runner.build_dataloader(copy.deepcopy(runner.cfg.train_dataloader),
                                             seed=runner.seed)
            fit_projections(model, loader, self.num_batches, progress=runner.rank == 0)
        print_log('Projections and loss scales fitted', logger='current')
