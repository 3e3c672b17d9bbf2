"""Fréchet distance between Gaussians fitted to classifier features (FID).

Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
Equilibrium", NeurIPS:

    FID = ‖μ₁ − μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr (Σ₁^½ Σ₂ Σ₁^½)^½

The last term equals Tr (Σ₁Σ₂)^½ (the two matrices are similar), but Σ₁^½ Σ₂ Σ₁^½ is symmetric
positive semi-definite, so both roots come from `eigh`/`eigvalsh`: real arithmetic, no complex
parts to discard and no dependence on SciPy's `sqrtm` (whose `disp` keyword SciPy 1.18 removed).
Eigenvalues that rounding pushes below zero are clipped to zero.
"""

from __future__ import annotations

import numpy as np

from evaluators.validation import check_features
from wgan.errors import WganbenchError


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased (N − 1) covariance of [N, d] features, in float64."""
    f = check_features(features, "features").astype(np.float64, copy=False)
    if len(f) < 2:
        raise WganbenchError(f"feature statistics need at least 2 samples, got {len(f)}")
    return f.mean(axis=0), np.cov(f, rowvar=False, ddof=1)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Principal square root of a symmetric positive semi-definite matrix via eigendecomposition."""
    eigvals, eigvecs = np.linalg.eigh(matrix)
    return (eigvecs * np.sqrt(np.clip(eigvals, 0.0, None))) @ eigvecs.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(μ₁, Σ₁) and N(μ₂, Σ₂); see the module docstring."""
    mu1, mu2 = (np.asarray(m, dtype=np.float64) for m in (mu1, mu2))
    sigma1, sigma2 = (np.asarray(s, dtype=np.float64) for s in (sigma1, sigma2))
    d = mu1.shape[0] if mu1.ndim == 1 else -1
    for name, arr, shape in (("mu1", mu1, (d,)), ("mu2", mu2, (d,)), ("sigma1", sigma1, (d, d)),
                             ("sigma2", sigma2, (d, d))):
        if arr.shape != shape:
            raise WganbenchError(f"frechet_distance: {name} has shape {arr.shape}, expected {shape} "
                                 "(means [d], covariances [d, d] of the same d)")
        if not np.all(np.isfinite(arr)):
            raise WganbenchError(f"frechet_distance: {name} contains NaN or Inf")
    root1 = _psd_sqrt((sigma1 + sigma1.T) / 2)
    inner = root1 @ sigma2 @ root1
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0.0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean)


def fid_stats(features: np.ndarray, name: str = "features") -> tuple[np.ndarray, np.ndarray]:
    """``feature_stats`` for FID, which needs N > d samples for a full-rank covariance estimate."""
    f = check_features(features, name)
    if len(f) <= f.shape[1]:
        raise WganbenchError(f"FID needs more samples than feature dimensions: {name} has {len(f)} samples "
                             f"of dimension {f.shape[1]}; expected N > {f.shape[1]} (the default is 10,000)")
    return feature_stats(f)


def fid(features: np.ndarray, mu_ref: np.ndarray, sigma_ref: np.ndarray) -> dict[str, float]:
    """{"fid": FID of generated [N, d] ``features`` (N > d) against the reference N(``mu_ref``, ``sigma_ref``)}."""
    return {"fid": frechet_distance(*fid_stats(features, "generated features"), mu_ref, sigma_ref)}


def fid_from_features(features1: np.ndarray, features2: np.ndarray) -> float:
    """FID between two [N, d] feature sets (each N > d)."""
    return frechet_distance(*fid_stats(features1, "features1"), *fid_stats(features2, "features2"))
