"""RandomProjection: a fixed random orthonormal basis."""
import pytest
import torch

import rdimkd_mm  # noqa: F401  (registers the projections)
from rdimkd_mm.models.projections import RandomProjection


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
