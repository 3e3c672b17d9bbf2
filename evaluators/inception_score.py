"""Inception score on the suite's MNIST classifier.

Salimans et al. 2016, "Improved Techniques for Training GANs", NeurIPS:

    IS = exp( E_x KL( p(y|x) ‖ p(y) ) ),   p(y) = E_x p(y|x)

computed per split of the samples (contiguous, as in the paper's code) and reported as mean ± std
(population std) over splits. Everything is in float64 log space: log p(y|x) by log-softmax and
log p(y) by log-sum-exp, so saturated logits never give log 0.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax, logsumexp

from evaluators.validation import check_features
from wgan.errors import WganbenchError


def inception_score(logits: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """(mean, std) of the inception score over ``splits`` splits of [N, classes] ``logits``."""
    logits = check_features(logits, "logits").astype(np.float64, copy=False)
    if splits < 1 or len(logits) < splits:
        raise WganbenchError(f"inception_score: {len(logits)} samples cannot form {splits} splits; "
                             "expected 1 <= splits <= N")
    scores = []
    for part in np.array_split(log_softmax(logits, axis=1), splits):
        log_py = logsumexp(part, axis=0) - np.log(len(part))
        kl = np.sum(np.exp(part) * (part - log_py), axis=1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))
