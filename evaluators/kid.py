"""Kernel Inception Distance on the suite's classifier features.

Bińkowski et al. 2018, "Demystifying MMD GANs", ICLR: the unbiased estimator of the squared
maximum mean discrepancy with the cubic polynomial kernel k(x, y) = (x·y / d + 1)³,

    MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(x_i, x_j) + 1/(n(n−1)) Σ_{i≠j} k(y_i, y_j) − 2/(mn) Σ_{i,j} k(x_i, y_j)

averaged over random subsets (each drawn without replacement, with a fixed seed) and reported as
mean ± std over subsets, as in the paper's code and torch-fidelity. The kernel matrices are computed
in the features' dtype (float32 for the classifier's, whose entries are exact to ~1e-7 relative:
float64 products would add cost, not precision) and summed in float64: on the sanity table a KID
moved by at most 1.5e-8 against all-float64 arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluators.validation import check_feature_pair
from wgan.checks import positive_int
from wgan.errors import WganbenchError
from wgan.options import option


@dataclass(frozen=True)
class KIDOptions:
    subsets: int = option(100, "random subsets KID is averaged over")
    subset_size: int = option(1_000, "samples drawn from each set (real and generated) per subset")

    def __post_init__(self) -> None:
        positive_int("kid_subsets", self.subsets)
        positive_int("kid_subset_size", self.subset_size)
        if self.subset_size < 2:
            raise WganbenchError(f"kid_subset_size must be at least 2, got {self.subset_size}")


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (x·y / d + 1)³ for all pairs of rows: [m, d] × [n, d] → [m, n], in x's dtype."""
    g = x @ y.T  # BLAS computes x @ x.T as a symmetric rank-k update, half the work
    g *= g.dtype.type(1.0 / x.shape[1])
    g += 1
    cube = g * g
    cube *= g
    return cube


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² between the rows of x [m, d] and y [n, d] with the polynomial kernel."""
    m, n = len(x), len(y)
    f64 = np.float64
    kxx, kyy = polynomial_kernel(x, x), polynomial_kernel(y, y)
    within = ((kxx.sum(dtype=f64) - np.trace(kxx, dtype=f64)) / (m * (m - 1))
              + (kyy.sum(dtype=f64) - np.trace(kyy, dtype=f64)) / (n * (n - 1)))
    return float(within - 2.0 * polynomial_kernel(x, y).sum(dtype=f64) / (m * n))


def kernel_inception_distance(real: np.ndarray, fake: np.ndarray, *, subsets: int = KIDOptions.subsets,
                              subset_size: int = KIDOptions.subset_size, seed: int = 0) -> dict[str, float]:
    """{"kid_mean", "kid_std"}: mean and std of MMD²_u over ``subsets`` random subsets of ``subset_size``
    rows from each set."""
    real, fake = check_feature_pair(real, fake, "KID")
    for name, f in (("real", real), ("fake", fake)):
        if len(f) < subset_size:
            raise WganbenchError(f"KID needs at least subset_size={subset_size} samples per set: {name} has "
                                 f"{len(f)}; score more samples or lower kid_subset_size")
    if subsets < 1 or subset_size < 2:
        raise WganbenchError(f"KID: expected subsets >= 1 and subset_size >= 2, got {subsets} and {subset_size}")
    rng = np.random.default_rng(seed)
    mmds = [mmd2_unbiased(real[rng.choice(len(real), subset_size, replace=False)],
                          fake[rng.choice(len(fake), subset_size, replace=False)]) for _ in range(subsets)]
    return {"kid_mean": float(np.mean(mmds)), "kid_std": float(np.std(mmds))}
