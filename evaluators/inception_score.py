"""Inception score on the suite's MNIST classifier.

Salimans et al. 2016, "Improved Techniques for Training GANs", NeurIPS:

    IS = exp( E_x KL( p(y|x) ‖ p(y) ) ),   p(y) = E_x p(y|x)

computed per split of the samples (contiguous, as in the paper's code) and reported as mean ± std
(population std) over splits. Everything is in float64 log space: log p(y|x) by log-softmax and
log p(y) by log-sum-exp, so saturated logits never give log 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax, logsumexp

from evaluators.validation import check_features
from wgan.checks import positive_int
from wgan.errors import WganbenchError
from wgan.options import option


@dataclass(frozen=True)
class ISOptions:
    splits: int = option(10, "contiguous splits of the samples the inception score is averaged over")

    def __post_init__(self) -> None:
        positive_int("is_splits", self.splits)


def inception_score(logits: np.ndarray, splits: int = ISOptions.splits) -> dict[str, float]:
    """{"is_mean", "is_std"}: the inception score's mean and std over ``splits`` splits of [N, classes]
    ``logits``."""
    logits = check_features(logits, "logits").astype(np.float64, copy=False)
    if splits < 1 or len(logits) < splits:
        raise WganbenchError(f"inception_score: {len(logits)} samples cannot form {splits} splits; "
                             "expected 1 <= splits <= N")
    scores = []
    for part in np.array_split(log_softmax(logits, axis=1), splits):
        log_py = logsumexp(part, axis=0) - np.log(len(part))
        kl = np.sum(np.exp(part) * (part - log_py), axis=1).mean()
        scores.append(np.exp(kl))
    return {"is_mean": float(np.mean(scores)), "is_std": float(np.std(scores))}
