"""AutoencoderProjection: a (linear or not) autoencoder fitted on teacher features."""
import pytest
import torch
import torch.nn.functional as F

import rdimkd_mm  # noqa: F401  (registers the projections)
from rdimkd_mm.models.projections import AutoencoderProjection
from helpers.projections import fit, gaussian_maps, position_vectors, subspace_overlap

# The fits take many tiny steps; intra-op threads only add overhead there.
pytestmark = pytest.mark.usefixtures('one_torch_thread')


AE_EIGENVALUES = [9., 6.] + [0.3] * 6
AE_MEAN = [1.0, -2.0, 0.5, 3.0, 0.0, -1.0, 2.0, -0.5]
AE_KWARGS = dict(lr=5e-2, steps_per_batch=150, samples_per_step=256)


@pytest.fixture(scope='module')
def ae_data():
    return gaussian_maps(AE_EIGENVALUES, AE_MEAN, num_batches=2, seed=1)


def _reconstruction_mse(projection, batches):
    vectors = position_vectors(batches).float()
    with torch.no_grad():
        return F.mse_loss(projection.decoder(projection.encoder(vectors)), vectors).item()


@pytest.fixture(scope='module')
def fitted_linear_ae(ae_data):
    _, batches = ae_data
    projection = AutoencoderProjection(8, 2, hidden_channels=0, seed=0, **AE_KWARGS)
    before = _reconstruction_mse(projection, batches)
    fit(projection, batches)
    return projection, before


def test_autoencoder_is_frozen_before_and_afterfit(fitted_linear_ae):
    fresh = AutoencoderProjection(8, 2, hidden_channels=4)
    assert all(not p.requires_grad for p in fresh.parameters())
    assert not fresh.is_fitted
    projection, _ = fitted_linear_ae
    assert len(list(projection.parameters())) == 4
    assert all(not p.requires_grad for p in projection.parameters())


def test_autoencoder_fit_reduces_reconstruction_error(ae_data, fitted_linear_ae):
    _, batches = ae_data
    projection, before = fitted_linear_ae
    after = _reconstruction_mse(projection, batches)
    assert projection.is_fitted
    assert after < 0.5 * before
    # Best rank-2 reconstruction leaves the 6 small directions: MSE = 6 * 0.3 / 8.
    assert after == pytest.approx(6 * 0.3 / 8, rel=0.05)
    assert projection.reconstruction_error.item() == pytest.approx(after, rel=0.2)


def test_linear_autoencoder_spans_pca_subspace(ae_data, fitted_linear_ae):
    """Baldi & Hornik: the encoder's row space is the top-k principal subspace."""
    basis, _ = ae_data
    projection, _ = fitted_linear_ae
    assert subspace_overlap(basis[:, :2], projection.encoder.weight.t()) > 2 - 0.05


def test_autoencoder_forward_is_encoder_per_position(ae_data, fitted_linear_ae):
    _, batches = ae_data
    projection, _ = fitted_linear_ae
    x = batches[0][:1]
    expected = projection.encoder(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    out = projection(x)
    assert out.shape == (1, 2, 16, 16)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match='expects 8 channels'):
        projection(torch.randn(1, 7, 2, 2))


def test_nonlinear_autoencoder_fit_reduces_reconstruction_error(ae_data):
    _, batches = ae_data
    projection = AutoencoderProjection(8, 2, hidden_channels=16, seed=0, lr=5e-2,
                                       steps_per_batch=50, samples_per_step=256)
    before = _reconstruction_mse(projection, batches)
    fit(projection, batches)
    assert _reconstruction_mse(projection, batches) < 0.5 * before
    assert projection.is_fitted
    assert all(not p.requires_grad for p in projection.parameters())


def test_autoencoder_is_deterministic_given_seed(ae_data):
    _, batches = ae_data
    kwargs = dict(lr=5e-2, steps_per_batch=10, samples_per_step=128)
    first = fit(AutoencoderProjection(8, 2, hidden_channels=4, seed=5, **kwargs), batches)
    second = fit(AutoencoderProjection(8, 2, hidden_channels=4, seed=5, **kwargs), batches)
    other = fit(AutoencoderProjection(8, 2, hidden_channels=4, seed=6, **kwargs), batches)
    for name, value in first.state_dict().items():
        assert torch.equal(value, second.state_dict()[name]), name
    assert not torch.allclose(first.encoder.weight, other.encoder.weight)


def test_autoencoder_init_depends_on_seed_not_global_rng():
    torch.manual_seed(0)
    first = AutoencoderProjection(8, 2, hidden_channels=4, seed=3)
    torch.manual_seed(1)
    second = AutoencoderProjection(8, 2, hidden_channels=4, seed=3)
    other = AutoencoderProjection(8, 2, hidden_channels=4, seed=4)
    for name, value in first.state_dict().items():
        assert torch.equal(value, second.state_dict()[name]), name
    assert not torch.allclose(first.encoder.weight, other.encoder.weight)


def test_autoencoder_init_does_not_touch_global_rng():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    AutoencoderProjection(8, 2, seed=42)
    assert torch.equal(torch.rand(3), expected)


def test_autoencoder_fit_step_before_fit_begin_raises():
    with pytest.raises(RuntimeError, match='fit_begin'):
        AutoencoderProjection(8, 2).fit_step(torch.randn(1, 8, 2, 2))
