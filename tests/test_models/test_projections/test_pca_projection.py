"""PCAProjection: the top eigen-subspace of the teacher features it is fitted on."""
import pytest
import torch

import rdimkd_mm  # noqa: F401  (registers the projections)
from rdimkd_mm.models.projections import PCAProjection
from helpers.projections import fit, gaussian_maps, position_vectors, subspace_overlap

# The fits take many tiny steps; intra-op threads only add overhead there.
pytestmark = pytest.mark.usefixtures('one_torch_thread')


PCA_EIGENVALUES = [50., 30., 20.] + [1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1, 0.08,
                                     0.05, 0.02]
PCA_MEAN = [3.0 - 0.4 * i for i in range(16)]


@pytest.fixture(scope='module')
def pca_data():
    return gaussian_maps(PCA_EIGENVALUES, PCA_MEAN, num_batches=6)


@pytest.fixture(scope='module')
def fitted_pca(pca_data):
    _, batches = pca_data
    return fit(PCAProjection(16, 3), batches)


def test_pca_is_not_fitted_beforefit():
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
    assert subspace_overlap(basis[:, :3], weight) == pytest.approx(3.0, abs=2e-3)
    # Each column is the eigenvector of its eigenvalue (up to sign), not only the span.
    cosines = (basis[:, :3].t() @ weight.double()).diagonal().abs()
    assert torch.all(cosines > 0.99)


def test_pca_mean_and_eigenvalues(pca_data, fitted_pca):
    _, batches = pca_data
    vectors = position_vectors(batches)
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
    first = fit(PCAProjection(16, 3, max_samples_per_batch=300), batches)
    second = fit(PCAProjection(16, 3, max_samples_per_batch=300), batches)
    for name, buffer in first.state_dict().items():
        assert torch.equal(buffer, second.state_dict()[name]), name
    basis, _ = pca_data
    assert subspace_overlap(basis[:, :3], first.weight) == pytest.approx(3.0, abs=0.05)


def test_pca_refit_resets_statistics(pca_data):
    _, batches = pca_data
    projection = fit(PCAProjection(16, 3), [b * 10 + 5 for b in batches])
    fit(projection, batches)
    reference = fit(PCAProjection(16, 3), batches)
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
