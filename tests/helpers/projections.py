"""Gaussian feature maps with a known eigen-decomposition, and the fit calls of a projection."""
import torch


def gaussian_maps(eigenvalues, mean, num_batches, batch_shape=(4, 16, 16), seed=0):
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


def position_vectors(batches):
    """All per-position feature vectors of the batches, (M, C) in float64."""
    return torch.cat([b.permute(0, 2, 3, 1).reshape(-1, b.shape[1]) for b in batches]).double()


def subspace_overlap(basis_k, weight):
    """||U_k^T Q||_F^2 with Q an orthonormal basis of span(weight); equals k iff the spans agree."""
    q, _ = torch.linalg.qr(weight.double())
    return (basis_k.double().t() @ q).pow(2).sum().item()


def fit(projection, batches):
    projection.fit_begin()
    for batch in batches:
        projection.fit_step(batch)
    projection.fit_end()
    return projection
