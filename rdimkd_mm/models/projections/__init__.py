from .autoencoder_projection import AutoencoderProjection
from .base_projection import BaseProjection
from .identity_projection import IdentityProjection
from .linear_projection import LinearProjection
from .pca_projection import PCAProjection
from .random_projection import RandomProjection

__all__ = [
    'BaseProjection', 'LinearProjection', 'RandomProjection', 'PCAProjection',
    'AutoencoderProjection', 'IdentityProjection'
]
