"""Real-data statistics the metrics compare against: features, FID mean and covariance, class shares,
k-NN radii (docs/DESIGN.md §5 Metrics).

Those of a whole MNIST split are computed once per split, classifier and PRDC's k, and cached as
``.npz`` under ``$WGANBENCH_HOME/reference/`` (written atomically: a killed process never leaves
half a file).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from evaluators.classifier import Classifier, load_classifier
from evaluators.fid import fid_stats
from evaluators.mode_coverage import class_counts
from evaluators.options import SPLITS, EvalOptions
from evaluators.prdc import PRDCOptions, knn_sq_radii
from evaluators.validation import check_samples
from wgan.checks import one_of
from wgan.data import load_mnist
from wgan.io import atomic_write
from wgan.paths import wganbench_home

# Bumped when the cached statistics are computed differently (2: k-NN radii from float32 distances).
_REFERENCE_VERSION = 2
_ARRAYS = ("features", "mu", "sigma", "class_share", "sq_radii")


@dataclass(frozen=True)
class Reference:
    """Statistics of a real image set, as the metrics need them."""

    features: np.ndarray     # [N, d] classifier features
    mu: np.ndarray           # FID mean [d], float64
    sigma: np.ndarray        # FID covariance [d, d], float64, unbiased
    class_share: np.ndarray  # argmax class shares [10]
    sq_radii: np.ndarray     # squared k-NN radii [N] for PRDC
    k: int


def reference_from_images(images: np.ndarray, *, classifier: Classifier | None = None, k: int = PRDCOptions.k,
                          batch_size: int = EvalOptions.batch_size) -> Reference:
    """Reference statistics of any real image set (uint8 or float in [-1, 1]), uncached."""
    classifier = classifier or load_classifier()
    features, logits = classifier.features_and_logits(check_samples(images, "reference images"), batch_size)
    mu, sigma = fid_stats(features, "reference features")
    return Reference(features, mu, sigma, class_counts(logits) / len(logits), knn_sq_radii(features, k), k)


@functools.cache
def _cached_reference(split: str, k: int, classifier: Classifier) -> Reference:
    path = wganbench_home() / "reference" / f"{split}-{classifier.hash[:16]}-k{k}-v{_REFERENCE_VERSION}.npz"
    if path.is_file():
        with np.load(path) as npz:
            return Reference(**{key: npz[key] for key in _ARRAYS}, k=k)
    (x_train, _), (x_test, _) = load_mnist()
    ref = reference_from_images(x_test if split == "test" else x_train, classifier=classifier, k=k)
    # The temporary name ends in .npz, so np.savez writes exactly that file.
    atomic_write(path, lambda tmp: np.savez(tmp, **{key: getattr(ref, key) for key in _ARRAYS}))
    return ref


def reference_stats(split: str = EvalOptions.reference, *, k: int = PRDCOptions.k,
                    classifier: Classifier | None = None) -> Reference:
    """Statistics of a whole MNIST split, cached as .npz keyed by split, classifier hash and k."""
    one_of("reference split", split, SPLITS)
    return _cached_reference(split, k, classifier or load_classifier())
