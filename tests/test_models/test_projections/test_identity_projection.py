"""IdentityProjection: no projection."""
import pytest
import torch

import rdimkd_mm  # noqa: F401  (registers the projections)
from rdimkd_mm.models.projections import IdentityProjection


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
