"""Kernel Inception Distance on the suite's classifier features.

Bińkowski et al. 2018, "Demystifying MMD GANs", ICLR: the unbiased estimator of the squared
maximum mean discrepancy with the cubic polynomial kernel k(x, y) = (x·y / d + 1)³,

    MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(x_i, x_j) + 1/(n(n−1)) Σ_{i≠j} k(y_i, y_j) − 2/(mn) Σ_{i,j} k(x_i, y_j)

averaged over random subsets (each drawn without replacement, with a fixed seed) and reported as
mean ± std over subsets, as in the paper's code and torch-fidelity. Float64 throughout.
"""

from __future__ import annotations

import numpy as np

from evaluators.validation import check_features
from wgan.errors import WganbenchError


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (x·y / d + 1)³ for all pairs of rows: [m, d] × [n, d] → [m, n]."""
    g = x @ y.T  # BLAS computes x @ x.T as a symmetric rank-k update, half the work
    g /= x.shape[1]
    g += 1.0
    cube = g * g
    cube *= g
    return cube


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² between the rows of x [m, d] and y [n, d] with the polynomial kernel."""
    m, n = len(x), len(y)
    kxx, kyy = polynomial_kernel(x, x), polynomial_kernel(y, y)
    within = (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(within - 2.0 * polynomial_kernel(x, y).mean())


def kernel_inception_distance(real: np.ndarray, fake: np.ndarray, *, subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """(mean, std) of MMD²_u over ``subsets`` random subsets of ``subset_size`` rows from each set."""
    real = check_features(real, "real features").astype(np.float64, copy=False)
    fake = check_features(fake, "fake features").astype(np.float64, copy=False)
    if real.shape[1] != fake.shape[1]:
        raise WganbenchError(f"KID: real features have dimension {real.shape[1]}, fake {fake.shape[1]}; "
                             "expected the same")
    for name, f in (("real", real), ("fake", fake)):
        if len(f) < subset_size:
            raise WganbenchError(f"KID needs at least subset_size={subset_size} samples per set: {name} has "
                                 f"{len(f)}; score more samples or lower kid_subset_size")
    if subsets < 1 or subset_size < 2:
        raise WganbenchError(f"KID: expected subsets >= 1 and subset_size >= 2, got {subsets} and {subset_size}")
    rng = np.random.default_rng(seed)
    mmds = [mmd2_unbiased(real[rng.choice(len(real), subset_size, replace=False)],
                          fake[rng.choice(len(fake), subset_size, replace=False)]) for _ in range(subsets)]
    return float(np.mean(mmds)), float(np.std(mmds))
