"""Stacked MNIST's 1,000 modes: which three-digit combinations the samples fall into.

The mode-collapse measure of Metz et al. 2017 ("Unrolled GANs") in the protocol of Srivastava et
al. 2017 (VEEGAN) as run by Lin et al. 2018 (PacGAN, Table 2 and its code
``stacked_MNIST_experiments``): each of the three channels of a sample is classified by an MNIST
classifier, and the sample's mode is the combination of the three predicted digits:

    m(x)          = 100·argmax p(y|x_R) + 10·argmax p(y|x_G) + argmax p(y|x_B)     ∈ {0, …, 999}
    share_m       = #{x : m(x) = m} / M
    stacked_modes = #{m : share_m > 0}                                               (≤ 1,000)
    stacked_kl    = KL(share ‖ uniform) = Σ_m share_m log(1000 · share_m)            (0 log 0 = 0)

over M generated samples (26,000 in VEEGAN's and PacGAN's experiments). A mode counts with a single
sample, as in the papers, so the count is also raised by classifier mistakes: a misread channel
moves a sample to a neighbouring combination (results/evaluator_sanity.md measures by how much). On
M uniform draws the KL is not 0 but about (1000 − 1)/(2M) ≈ 0.019 at M = 26,000 (its small-sample
bias), plus what MNIST's unequal digit frequencies add.

An unreadable channel still lands in some mode, so the papers' count rewards blur and noise. Three
values say how much of it is read (`stacked_reading`):

    stacked_confident_share   = #{x : every channel's top class has p ≥ confident_prob} / M
    stacked_modes_confident   = #{m : some confident sample has mode m}
    stacked_modes_independent = Σ_(a,b,c) 1 − (1 − p_R(a)·p_G(b)·p_B(c))^M

the last being the count expected if the three channels were drawn independently from their observed
digit shares p_R, p_G, p_B: a count near it says little beyond the digit shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import rel_entr, softmax

from evaluators.validation import CONFIDENT_PROB, check_features
from wgan.checks import fraction, positive_int
from wgan.data import STACKED_DIGITS, STACKED_MODES, stacked_label
from wgan.errors import WganbenchError
from wgan.options import option

PROTOCOL_SAMPLES = 26_000  # VEEGAN's and PacGAN's generated samples per evaluation (PacGAN's num_test_sample)


@dataclass(frozen=True)
class StackedOptions:
    samples: int = option(PROTOCOL_SAMPLES, "stacked-mnist: generated samples whose three-digit modes are "
                          "counted (the VEEGAN/PacGAN protocol's 26,000)")
    confident_prob: float = option(CONFIDENT_PROB, "stacked-mnist: a sample is read with confidence "
                                   "when each channel's top class has at least this probability")

    def __post_init__(self) -> None:
        positive_int("stacked_samples", self.samples)
        fraction("stacked_confident_prob", self.confident_prob, closed=True)


def channel_digits(channel_logits: np.ndarray) -> np.ndarray:
    """Classifier logits (or probabilities) [M, 3, 10] of each channel → predicted digits int [M, 3]."""
    logits = np.asarray(channel_logits)
    if logits.ndim != 3 or logits.shape[1:] != (STACKED_DIGITS, 10):
        raise WganbenchError(f"stacked modes: channel logits of shape {logits.shape}, expected [M, "
                             f"{STACKED_DIGITS}, 10] (one row of digit logits per channel of each sample)")
    check_features(logits.reshape(len(logits), -1), "stacked modes: channel logits")
    return np.argmax(logits, axis=2)


def stacked_modes(digits: np.ndarray) -> dict:
    """Mode histogram and scores of predicted digits int [M, 3] (R, G, B); see the module docstring.

    Returns {"histogram": counts per mode 0..999 (list of int), "stacked_modes" (int), "stacked_kl"}.
    """
    digits = np.asarray(digits)
    if digits.ndim != 2 or digits.shape[1] != STACKED_DIGITS or len(digits) == 0 \
            or not np.issubdtype(digits.dtype, np.integer) or digits.min() < 0 or digits.max() > 9:
        raise WganbenchError(f"stacked modes: got {digits.dtype} array of shape {digits.shape}, expected digits "
                             f"0-9 of shape [M, {STACKED_DIGITS}] with M ≥ 1")
    counts = np.bincount(stacked_label(digits), minlength=STACKED_MODES)
    share = counts / len(digits)
    return {
        "histogram": counts.tolist(),
        "stacked_modes": int(np.count_nonzero(counts)),
        "stacked_kl": float(rel_entr(share, np.full(STACKED_MODES, 1.0 / STACKED_MODES)).sum()),
    }


def stacked_reading(channel_logits: np.ndarray, confident_prob: float = StackedOptions.confident_prob) -> dict:
    """How much of the mode count is read with confidence, from logits [M, 3, 10]; see the module docstring.

    Returns {"stacked_confident_share", "stacked_modes_confident", "stacked_modes_independent"}.
    """
    digits = channel_digits(channel_logits)
    probs = softmax(np.asarray(channel_logits, dtype=np.float64), axis=2)
    confident = (probs.max(axis=2) >= confident_prob).all(axis=1)
    shares = [np.bincount(digits[:, c], minlength=10) / len(digits) for c in range(STACKED_DIGITS)]
    cube = shares[0][:, None, None] * shares[1][None, :, None] * shares[2][None, None, :]
    # 1 − (1 − p)^M without the cancellation of 1 − p for the rarest combinations
    expected = -np.expm1(len(digits) * np.log1p(-np.minimum(cube, 1.0 - 1e-16)))
    return {
        "stacked_confident_share": float(confident.mean()),
        "stacked_modes_confident": int(np.unique(stacked_label(digits[confident])).size),
        "stacked_modes_independent": float(expected.sum()),
    }
