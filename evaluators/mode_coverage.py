"""Mode coverage: which digit classes the samples fall into, by the classifier's argmax.

The class histogram is the mode-collapse check of the Stacked-MNIST literature (Metz et al. 2017,
"Unrolled GANs"; Lin et al. 2018, "PacGAN") applied to single digits:

    share_c       = #{x : argmax p(y|x) = c} / N
    modes_covered = #{c : share_c >= min_share}
    kl_uniform    = KL(share ‖ uniform)   = Σ_c share_c log(share_c · C)
    kl_test       = KL(share ‖ test_share) = Σ_c share_c log(share_c / test_share_c)
    confident     = #{x : max_c p(c|x) >= 0.9} / N

with 0 log 0 = 0. A share that is positive where ``test_share`` is zero makes kl_test infinite.
"""

from __future__ import annotations

import numpy as np
from scipy.special import rel_entr

from evaluators.validation import check_features
from wgan.errors import WganbenchError

HISTOGRAM = "histogram"
MODES_COVERED = "modes_covered"
KL_UNIFORM = "kl_uniform"
KL_TEST = "kl_test"
CONFIDENT_SHARE = "confident_share"


def class_counts(probs: np.ndarray) -> np.ndarray:
    """Number of samples per argmax class, int [classes]."""
    return np.bincount(np.argmax(probs, axis=1), minlength=probs.shape[1])


def mode_coverage(probs: np.ndarray, min_share: float = 0.01, test_share: np.ndarray | None = None,
                  confident_prob: float = 0.9) -> dict:
    """Histogram and coverage scores of [N, classes] class probabilities; see the module docstring.

    Returns {HISTOGRAM: counts per class (list of int), MODES_COVERED, KL_UNIFORM, KL_TEST (NaN without
    ``test_share``), CONFIDENT_SHARE}.
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
        HISTOGRAM: counts.tolist(),
        MODES_COVERED: int(np.count_nonzero(share >= min_share)),
        KL_UNIFORM: float(rel_entr(share, np.full(classes, 1.0 / classes)).sum()),
        KL_TEST: kl_test,
        CONFIDENT_SHARE: float(np.mean(probs.max(axis=1) >= confident_prob)),
    }
