"""Mode coverage: which digit classes the samples fall into, by the classifier's argmax.

The class histogram is the mode-collapse check of the Stacked-MNIST literature (Metz et al. 2017,
"Unrolled GANs"; Lin et al. 2018, "PacGAN") applied to single digits:

    share_c       = #{x : argmax p(y|x) = c} / N
    modes_covered = #{c : share_c >= min_share}
    kl_uniform    = KL(share ‖ uniform)   = Σ_c share_c log(share_c · C)
    kl_test       = KL(share ‖ test_share) = Σ_c share_c log(share_c / test_share_c)
    confident     = #{x : max_c p(c|x) >= confident_prob} / N

with 0 log 0 = 0. A share that is positive where ``test_share`` is zero makes kl_test infinite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import rel_entr

from evaluators.validation import CONFIDENT_PROB, check_features
from wgan.checks import fraction
from wgan.errors import WganbenchError
from wgan.options import option


@dataclass(frozen=True)
class ModesOptions:
    min_share: float = option(0.01, "a digit class counts as a covered mode at this share of the samples")
    confident_prob: float = option(CONFIDENT_PROB, "a sample is confident when its top class has at least this "
                                   "probability")

    def __post_init__(self) -> None:
        fraction("modes_min_share", self.min_share, closed=True)
        fraction("modes_confident_prob", self.confident_prob, closed=True)


def class_counts(probs: np.ndarray) -> np.ndarray:
    """Number of samples per argmax class, int [classes]."""
    return np.bincount(np.argmax(probs, axis=1), minlength=probs.shape[1])


def mode_coverage(probs: np.ndarray, min_share: float = ModesOptions.min_share,
                  test_share: np.ndarray | None = None,
                  confident_prob: float = ModesOptions.confident_prob) -> dict:
    """Histogram and coverage scores of [N, classes] class probabilities; see the module docstring.

    Returns {"histogram": counts per class (list of int), "modes_covered" (int: a count), "kl_uniform",
    "kl_test" (NaN without ``test_share``), "confident_share"}.
    """
    probs = check_features(probs, "probs").astype(np.float64, copy=False)
    if np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4):
        raise WganbenchError("mode_coverage: expected class probabilities (non-negative rows summing to 1); "
                             "apply softmax to logits first")
    classes = probs.shape[1]
    counts = class_counts(probs)
    share = counts / len(probs)
    if test_share is None:
        kl_test = float("nan")
    else:
        test_share = np.asarray(test_share, dtype=np.float64)
        if test_share.shape != (classes,) or not np.isclose(test_share.sum(), 1.0):
            raise WganbenchError(f"mode_coverage: test_share has shape {test_share.shape}, expected a distribution "
                                 f"over {classes} classes summing to 1")
        kl_test = float(rel_entr(share, test_share).sum())
    return {
        "histogram": counts.tolist(),
        "modes_covered": int(np.count_nonzero(share >= min_share)),
        "kl_uniform": float(rel_entr(share, np.full(classes, 1.0 / classes)).sum()),
        "kl_test": kl_test,
        "confident_share": float(np.mean(probs.max(axis=1) >= confident_prob)),
    }
