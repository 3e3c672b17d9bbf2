"""Precision, recall, density and coverage with k-NN balls in feature space.

Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative Models", ICML (and
Kynkäänniemi et al. 2019 for precision/recall). With r_k(z) the distance from z to its k-th nearest
neighbour in its own set (itself excluded), real X = {x_i} (N) and fake Y = {y_j} (M):

    precision = 1/M Σ_j 1[∃i: ‖y_j − x_i‖ < r_k(x_i)]
    recall    = 1/N Σ_i 1[∃j: ‖x_i − y_j‖ < r_k(y_j)]
    density   = 1/(kM) Σ_j Σ_i 1[‖y_j − x_i‖ < r_k(x_i)]
    coverage  = 1/N Σ_i 1[min_j ‖x_i − y_j‖ < r_k(x_i)]

Distances are compared squared (same order, no square roots) and computed in blocks of rows, so a
10,000 × 10,000 problem holds a few [chunk, 10,000] blocks at a time, never the full matrix. They are
computed in the features' dtype: float32 for the classifier's features, as in the authors' code
(sklearn's pairwise distances on float32 features).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from evaluators.validation import check_feature_pair, float_features
from wgan.checks import positive_int
from wgan.errors import WganbenchError
from wgan.options import option


@dataclass(frozen=True)
class PRDCOptions:
    k: int = option(5, "nearest neighbours that set each sample's ball (the reference statistics are cached per k)")
    chunk: int = option(1_024, "rows per block of pairwise distances (≈ 40 MB of float32 at 10k columns)")

    def __post_init__(self) -> None:
        positive_int("prdc_k", self.k)
        positive_int("prdc_chunk", self.chunk)


def _sq_distance_blocks(a: np.ndarray, b: np.ndarray, chunk: int) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield (rows, ‖a[rows] − b‖²) blocks of shape [≤chunk, len(b)], clipped at 0 against rounding."""
    b_sq = np.einsum("ij,ij->i", b, b)
    for start in range(0, len(a), chunk):
        rows = slice(start, start + chunk)
        block = a[rows] @ b.T
        block *= -2.0
        block += np.einsum("ij,ij->i", a[rows], a[rows])[:, None]
        block += b_sq[None, :]
        np.maximum(block, 0.0, out=block)
        yield rows, block


def knn_sq_radii(features: np.ndarray, k: int = PRDCOptions.k, chunk: int = PRDCOptions.chunk) -> np.ndarray:
    """Squared distance from each row to its k-th nearest other row, [N] in the features' float dtype."""
    f = float_features(features, "features")
    if not 1 <= k < len(f):
        raise WganbenchError(f"PRDC: k={k} nearest neighbours need at least k + 1 = {k + 1} samples, got {len(f)}")
    radii = np.empty(len(f), f.dtype)
    for rows, block in _sq_distance_blocks(f, f, chunk):
        # Column k of the partition: index 0 is the row itself (distance 0), as in the paper's code.
        radii[rows] = np.partition(block, k, axis=1)[:, k]
    return radii


def prdc(real: np.ndarray, fake: np.ndarray, *, k: int = PRDCOptions.k, real_sq_radii: np.ndarray | None = None,
         chunk: int = PRDCOptions.chunk) -> dict[str, float]:
    """{"precision", "recall", "density", "coverage"} of ``fake`` against ``real`` [N, d] features.

    ``real_sq_radii`` may pass cached ``knn_sq_radii(real, k)`` for a fixed reference set.
    """
    real, fake = check_feature_pair(real, fake, "PRDC")
    real_r = knn_sq_radii(real, k, chunk) if real_sq_radii is None else np.asarray(real_sq_radii, real.dtype)
    if real_r.shape != (len(real),):
        raise WganbenchError(f"PRDC: real_sq_radii has shape {real_r.shape}, expected ({len(real)},)")
    fake_r = knn_sq_radii(fake, k, chunk)
    inside_counts = np.zeros(len(fake))   # per fake sample: real balls containing it
    recalled = np.zeros(len(real), bool)  # per real sample: inside some fake ball
    covered = np.zeros(len(real), bool)   # per real sample: its nearest fake is inside its ball
    for rows, block in _sq_distance_blocks(real, fake, chunk):
        inside = block < real_r[rows, None]
        inside_counts += inside.sum(axis=0)
        covered[rows] = inside.any(axis=1)
        recalled[rows] = (block < fake_r[None, :]).any(axis=1)
    return {
        "precision": float(np.mean(inside_counts > 0)),
        "recall": float(recalled.mean()),
        "density": float(inside_counts.mean() / k),
        "coverage": float(covered.mean()),
    }
