import pytest
import torch
import torch.nn.functional as F

import rdimkd_mm  # noqa: F401  (registers the projections)
from rdimkd_mm.models.projections import (AutoencoderProjection, IdentityProjection, PCAProjection,
                                          RandomProjection)


@pytest.fixture(autouse=True, scope='module')
def _single_thread():
    """The autoencoder fits take many tiny steps; intra-op threads only add overhead there."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _gaussian_maps(eigenvalues, mean, num_batches, batch_shape=(4, 16, 16), seed=0):
    """Feature maps (N, C, H, W) whose per-position vectors are N(mean, U diag(eig) U^T).

    Returns the orthonormal basis U (columns sorted by descending eigenvalue) and the batches.
    """
    generator = torch.Generator().manual_seed(seed)
    eigenvalues = torch.as_tensor(eigenvalues, dtype=torch.float64)
    mean = torch.as_tensor(mean, dtype=torch.float64)
    c = eigenvalues.numel()
    basis, _ = torch.linalg.qr(torch.randn(c, c, generator=generator, dtype=torch.float64))
    n, h, w = batch_shape
    batches = []
    for _ in range(num_batches):
        codes = torch.randn(n * h * w, c, generator=generator, dtype=torch.float64)
        vectors = (codes * eigenvalues.sqrt()) @ basis.t() + mean
        batches.append(vectors.reshape(n, h, w, c).permute(0, 3, 1, 2).float().contiguous())
    return basis, batches


def _vectors(batches):
    """All per-position feature vectors of the batches, (M, C) in float64."""
    return torch.cat([b.permute(0, 2, 3, 1).reshape(-1, b.shape[1]) for b in batches]).double()


def _subspace_overlap(basis_k, weight):
    """||U_k^T Q||_F^2 with Q an orthonormal basis of span(weight); equals k iff the spans agree."""
    q, _ = torch.linalg.qr(weight.double())
    return (basis_k.double().t() @ q).pow(2).sum().item()


def _fit(projection, batches):
    projection.fit_begin()
    for batch in batches:
        projection.fit_step(batch)
    projection.fit_end()
    return projection


# --------------------------------------------------------------------------- RandomProjection


@pytest.mark.parametrize('c,k', [(16, 4), (64, 8), (7, 7), (5, 1)])
def test_random_projection_has_orthonormal_columns(c, k):
    weight = RandomProjection(c, k, seed=3).weight
    assert weight.shape == (c, k)
    torch.testing.assert_close(weight.t() @ weight, torch.eye(k), atol=1e-5, rtol=0)


def test_random_projection_depends_on_seed_only():
    same_a = RandomProjection(32, 8, seed=7).weight
    same_b = RandomProjection(32, 8, seed=7).weight
    other = RandomProjection(32, 8, seed=8).weight
    assert torch.equal(same_a, same_b)
    assert not torch.allclose(same_a, other, atol=1e-3)


def test_random_projection_ignores_global_rng():
    torch.manual_seed(0)
    first = RandomProjection(16, 4, seed=1).weight
    torch.manual_seed(123)
    torch.rand(10)
    second = RandomProjection(16, 4, seed=1).weight
    assert torch.equal(first, second)


def test_random_projection_forward_is_centred_linear_map():
    torch.manual_seed(0)
    projection = RandomProjection(12, 5, seed=2)
    # A non-zero mean checks the sign and placement of the centring term.
    projection.mean.copy_(torch.randn(12))
    x = torch.randn(3, 12, 4, 6)
    expected = torch.einsum('nchw,ck->nkhw', x - projection.mean[None, :, None, None],
                            projection.weight)
    out = projection(x)
    assert out.shape == (3, 5, 4, 6)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)


def test_random_projection_matrix_is_persistent_buffer_not_parameter():
    projection = RandomProjection(16, 4, seed=0)
    assert list(projection.parameters()) == []
    assert 'weight' in dict(projection.named_buffers())
    state = projection.state_dict()
    assert 'weight' in state and 'mean' in state and 'fitted' in state
    torch.testing.assert_close(state['weight'], projection.weight)
    assert projection.is_fitted  # nothing to fit


@pytest.mark.parametrize('k', [17, 0, -1])
def test_random_projection_rejects_invalid_k(k):
    with pytest.raises(ValueError, match=r'0 < k <= in_channels.*k=' + str(k)):
        RandomProjection(16, k)


def test_random_projection_rejects_wrong_channel_count():
    projection = RandomProjection(16, 4)
    with pytest.raises(ValueError, match='expects 16 channels'):
        projection(torch.randn(2, 15, 3, 3))


# ------------------------------------------------------------------------------ PCAProjection

PCA_EIGENVALUES = [50., 30., 20.] + [1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1, 0.08,
                                     0.05, 0.02]
PCA_MEAN = [3.0 - 0.4 * i for i in range(16)]


@pytest.fixture(scope='module')
def pca_data():
    return _gaussian_maps(PCA_EIGENVALUES, PCA_MEAN, num_batches=6)


@pytest.fixture(scope='module')
def fitted_pca(pca_data):
    _, batches = pca_data
    return _fit(PCAProjection(16, 3), batches)


def test_pca_is_not_fitted_before_fit():
    projection = PCAProjection(16, 3)
    assert not projection.is_fitted
    assert projection.requires_fit


def test_pca_fit_step_before_fit_begin_raises():
    with pytest.raises(RuntimeError, match='fit_begin'):
        PCAProjection(16, 3).fit_step(torch.randn(1, 16, 2, 2))


def test_pca_fit_finds_top_eigen_subspace(pca_data, fitted_pca):
    basis, _ = pca_data
    weight = fitted_pca.weight
    assert fitted_pca.is_fitted
    torch.testing.assert_close(weight.t() @ weight, torch.eye(3), atol=1e-5, rtol=0)
    assert _subspace_overlap(basis[:, :3], weight) == pytest.approx(3.0, abs=2e-3)
    # Each column is the eigenvector of its eigenvalue (up to sign), not only the span.
    cosines = (basis[:, :3].t() @ weight.double()).diagonal().abs()
    assert torch.all(cosines > 0.99)


def test_pca_mean_and_eigenvalues(pca_data, fitted_pca):
    _, batches = pca_data
    vectors = _vectors(batches)
    sample_mean = vectors.mean(0)
    centred = vectors - sample_mean
    sample_eigenvalues = torch.linalg.eigvalsh(centred.t() @ centred / len(vectors)).flip(0)

    torch.testing.assert_close(fitted_pca.mean.double(), sample_mean, atol=1e-4, rtol=0)
    torch.testing.assert_close(fitted_pca.mean.double(),
                               torch.tensor(PCA_MEAN, dtype=torch.float64), atol=0.3, rtol=0)

    eigenvalues = fitted_pca.eigenvalues.double()
    assert torch.all(eigenvalues[:-1] >= eigenvalues[1:])
    torch.testing.assert_close(eigenvalues, sample_eigenvalues[:3], rtol=1e-3, atol=0)
    torch.testing.assert_close(eigenvalues, torch.tensor(PCA_EIGENVALUES[:3],
                                                         dtype=torch.float64), rtol=0.1, atol=0)

    expected_ratio = (sample_eigenvalues[:3].sum() / sample_eigenvalues.sum()).item()
    assert fitted_pca.explained_variance_ratio.item() == pytest.approx(expected_ratio, rel=1e-4)
    true_ratio = sum(PCA_EIGENVALUES[:3]) / sum(PCA_EIGENVALUES)
    assert fitted_pca.explained_variance_ratio.item() == pytest.approx(true_ratio, abs=0.02)


def test_pca_projected_fit_data_is_centred_and_decorrelated(pca_data, fitted_pca):
    _, batches = pca_data
    codes = torch.cat([fitted_pca(b) for b in batches])
    codes = codes.permute(0, 2, 3, 1).reshape(-1, 3).double()
    torch.testing.assert_close(codes.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-3,
                               rtol=0)
    covariance = codes.t() @ codes / len(codes)
    torch.testing.assert_close(covariance, torch.diag(fitted_pca.eigenvalues.double()),
                               rtol=1e-3, atol=1e-3)


def test_pca_column_signs_are_canonical(fitted_pca):
    weight = fitted_pca.weight
    largest = weight.gather(0, weight.abs().argmax(0, keepdim=True))
    assert torch.all(largest > 0)


def test_pca_fit_is_deterministic(pca_data):
    _, batches = pca_data
    # Subsampling positions exercises the seeded draw as well.
    first = _fit(PCAProjection(16, 3, max_samples_per_batch=300), batches)
    second = _fit(PCAProjection(16, 3, max_samples_per_batch=300), batches)
    for name, buffer in first.state_dict().items():
        assert torch.equal(buffer, second.state_dict()[name]), name
    basis, _ = pca_data
    assert _subspace_overlap(basis[:, :3], first.weight) == pytest.approx(3.0, abs=0.05)


def test_pca_refit_resets_statistics(pca_data):
    _, batches = pca_data
    projection = _fit(PCAProjection(16, 3), [b * 10 + 5 for b in batches])
    _fit(projection, batches)
    reference = _fit(PCAProjection(16, 3), batches)
    torch.testing.assert_close(projection.mean, reference.mean)
    torch.testing.assert_close(projection.weight, reference.weight)


def test_pca_state_survives_state_dict_round_trip(pca_data, fitted_pca):
    _, batches = pca_data
    restored = PCAProjection(16, 3)
    assert not restored.is_fitted
    restored.load_state_dict(fitted_pca.state_dict())
    assert restored.is_fitted
    for name in ('weight', 'mean', 'eigenvalues', 'explained_variance_ratio'):
        assert torch.equal(getattr(restored, name), getattr(fitted_pca, name)), name
    assert torch.equal(restored(batches[0]), fitted_pca(batches[0]))


def test_pca_fit_end_with_too_few_samples_raises():
    projection = PCAProjection(4, 2)
    projection.fit_begin()
    projection.fit_step(torch.randn(1, 4, 1, 1))
    with pytest.raises(RuntimeError, match='fewer than 2'):
        projection.fit_end()
    assert not projection.is_fitted


# ---------------------------------------------------------------------- AutoencoderProjection

AE_EIGENVALUES = [9., 6.] + [0.3] * 6
AE_MEAN = [1.0, -2.0, 0.5, 3.0, 0.0, -1.0, 2.0, -0.5]
AE_KWARGS = dict(lr=5e-2, steps_per_batch=150, samples_per_step=256)


@pytest.fixture(scope='module')
def ae_data():
    return _gaussian_maps(AE_EIGENVALUES, AE_MEAN, num_batches=2, seed=1)


def _reconstruction_mse(projection, batches):
    vectors = _vectors(batches).float()
    with torch.no_grad():
        return F.mse_loss(projection.decoder(projection.encoder(vectors)), vectors).item()


@pytest.fixture(scope='module')
def fitted_linear_ae(ae_data):
    _, batches = ae_data
    projection = AutoencoderProjection(8, 2, hidden_channels=0, seed=0, **AE_KWARGS)
    before = _reconstruction_mse(projection, batches)
    _fit(projection, batches)
    return projection, before


def test_autoencoder_is_frozen_before_and_after_fit(fitted_linear_ae):
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
    assert _subspace_overlap(basis[:, :2], projection.encoder.weight.t()) > 2 - 0.05


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
    _fit(projection, batches)
    assert _reconstruction_mse(projection, batches) < 0.5 * before
    assert projection.is_fitted
    assert all(not p.requires_grad for p in projection.parameters())


def test_autoencoder_is_deterministic_given_seed(ae_data):
    _, batches = ae_data
    kwargs = dict(lr=5e-2, steps_per_batch=10, samples_per_step=128)
    first = _fit(AutoencoderProjection(8, 2, hidden_channels=4, seed=5, **kwargs), batches)
    second = _fit(AutoencoderProjection(8, 2, hidden_channels=4, seed=5, **kwargs), batches)
    other = _fit(AutoencoderProjection(8, 2, hidden_channels=4, seed=6, **kwargs), batches)
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


# ------------------------------------------------------------------------- IdentityProjection


def test_identity_projection_returns_input_unchanged():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 3, 5)
    projection = IdentityProjection(6)
    assert projection.k == 6
    assert projection.is_fitted
    assert torch.equal(projection(x), x)
    assert torch.equal(IdentityProjection(6, k=6)(x), x)


@pytest.mark.parametrize('k', [3, 7])
def test_identity_projection_rejects_k_different_from_channels(k):
    with pytest.raises(ValueError, match=f'k={k}'):
        IdentityProjection(6, k=k)
