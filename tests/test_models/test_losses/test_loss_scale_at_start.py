"""The standardised RdimKD loss (``normalize='standardize'``, the default) starts near 1 per
distilled level, whatever the pair: on 8 zoo pairs of mmdet and mmseg (random teachers with
the libraries' initialisation and batch-norm statistics of their own activations, as a trained
teacher has them), at the first training step, with the projection of the task's shipped
default (random for detection, the fitted autoencoder for segmentation)."""
import pytest

from helpers.loss_scale import PAIRS, first_ratios


def _name(config: str) -> str:
    return '_'.join(config.split('/')[-1].split('_')[:2])  # e.g. 'retinanet_r50'


@pytest.mark.parametrize('pair', PAIRS, ids=lambda p: f'{_name(p[0])}->{_name(p[1])}')
def test_standardised_rdimkd_loss_starts_near_one_per_level(pair, tmp_path):
    # The segmentation default's autoencoder fitted on 2 batches, not the hook's 20.
    ratios = first_ratios(pair, tmp_path, fit_batches=2)
    assert 0.8 < ratios['kd_per_level'] < 1.2, ratios
