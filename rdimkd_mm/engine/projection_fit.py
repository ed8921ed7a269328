"""Fitting a distiller's projections and loss scales before training, and their files.

Used by :class:`~rdimkd_mm.engine.FitProjectionsHook` (before training) and
``tools/fit_projections.py`` (offline, written to a file the hook then loads). A loss takes
part when it has ``is_fitted``/``fit_begin``/``fit_step``/``fit_end`` (``RdimKDLoss``: PCA or
autoencoder projections, and the teacher's projected variance of ``normalize='teacher'``).
"""
from typing import Dict, Iterable

from mmengine.logging import print_log
from mmengine.utils import ProgressBar
from torch import Tensor, nn

from rdimkd_mm.utils.checkpoint_reading import read_state_dict
from rdimkd_mm.utils.state_dict_matching import state_dict_mismatch


def losses_to_fit(distiller: nn.Module) -> Dict[str, nn.Module]:
    """The losses of ``distiller`` (by point name) whose projections or scales need the fit."""
    return {name: loss for name, loss in distiller.distill_losses.items()
            if not getattr(loss, 'is_fitted', True)}


def fit_projections(distiller: nn.Module, batches: Iterable[dict], num_batches: int,
                    progress: bool = True) -> None:
    """Stream teacher features of ``num_batches`` batches into the losses that need the fit.

    Args:
        distiller (FeatureDistiller): The distiller, in train mode (the data preprocessor
            augments as in training).
        batches (Iterable[dict]): Training batches as the dataloader yields them (before the
            data preprocessor).
        num_batches (int): Batches to stream (per rank; the losses reduce over ranks).
        progress (bool): Show a progress bar. Default: True.
    """
    to_fit = losses_to_fit(distiller)
    if not to_fit:
        return
    points = [p for p in distiller.points if p['name'] in to_fit]
    for loss in to_fit.values():
        loss.fit_begin()
    bar = ProgressBar(num_batches) if progress else None
    seen = 0
    for data in batches:
        if seen == num_batches:
            break
        batch = distiller.data_preprocessor(data, True)
        feats = distiller.teacher_features(batch['inputs'], batch['data_samples'])
        for point in points:
            for level, feat in enumerate(feats[point['teacher']]):
                to_fit[point['name']].fit_step(level, feat)
        seen += 1
        if bar is not None:
            bar.update()
    if seen < num_batches:
        print_log(f'fit_projections: the dataloader gave only {seen} of {num_batches} '
                  'batches.', logger='current')
    for name, loss in to_fit.items():
        loss.fit_end()
        for line in getattr(loss, 'fit_summary', lambda: [])():
            print_log(f'Fitted point {name!r}, {line}', logger='current')


def fitted_state_dict(distiller: nn.Module) -> Dict[str, Tensor]:
    """What the fit sets (projections and loss scales), keyed as in ``distill_losses``."""
    return {key: value for key, value in distiller.distill_losses.state_dict().items()
            if '.projections.' in key or key.endswith(('.scales', '.scales_fitted'))}


def load_projections(distiller: nn.Module, path: str) -> None:
    """Load what ``tools/fit_projections.py`` saved into ``distiller`` (strictly).

    Raises:
        ValueError: if the file was fitted for another distiller (points, levels, k, ...).
    """
    state = read_state_dict(path, what='projections')
    mismatch = state_dict_mismatch(fitted_state_dict(distiller), state)
    if mismatch:
        raise ValueError(f'Projections file {path!r} does not match this distiller '
                         f'({mismatch}); refit it with tools/fit_projections.py for this '
                         'config.')
    distiller.distill_losses.load_state_dict(state, strict=False)
