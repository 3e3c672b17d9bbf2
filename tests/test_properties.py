"""Properties of the pure metric functions on small random feature arrays (Hypothesis).

Pure math: any finite features will do, so these draw random arrays rather than stand in for MNIST.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluators.fid import feature_stats, frechet_distance
from evaluators.inception_score import inception_score
from evaluators.kid import kernel_inception_distance
from evaluators.mode_coverage import mode_coverage
from evaluators.prdc import prdc

# Examples drawn from the profile's seed (tests/conftest.py: derandomized unless HYPOTHESIS_PROFILE=explore).
FAST = settings(max_examples=30, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def features(seed: int, n: int, d: int, *, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d)) / np.sqrt(d)
    return rng.normal(size=(n, d)) @ mixing * scale + shift


def stats_pair(seed: int, d: int, shift: float, scale: float):
    return (feature_stats(features(seed, 4 * d + 8, d)),
            feature_stats(features(seed + 1, 3 * d + 10, d, shift=shift, scale=scale)))


def rounding(sigma1: np.ndarray, sigma2: np.ndarray, diff: np.ndarray | None = None, *,
             perturbation: float = 0.0) -> float:
    """A bound on FID's round-off, from the conditioning of its matrix square roots.

    Forming Σ₁^½ Σ₂ Σ₁^½ in float64 (an eigendecomposition and two products of d × d matrices) perturbs it
    by at most e ≈ c·d·ε·‖Σ₁‖‖Σ₂‖ (c = 8 covers eigh's and the products' constants), so each of its
    eigenvalues μᵢ moves by at most e (Weyl), and its root by at most min(√e, e / (2√μᵢ)): small
    eigenvalues — an ill-conditioned covariance — amplify the error, which a fixed multiple of the trace
    ignores. The traces and the mean term add a few ulps of their own size. ``perturbation`` is a bound on
    ‖δΣ₁‖ from how Σ₁ itself was computed (e.g. another summation order), which adds ‖δΣ₁‖‖Σ₂‖ to e and
    d‖δΣ₁‖ to the trace.
    """
    eps, d = np.finfo(np.float64).eps, sigma1.shape[0]
    e = (8.0 * d * eps * np.linalg.norm(sigma1, 2) + perturbation) * np.linalg.norm(sigma2, 2)
    w1, v1 = np.linalg.eigh(sigma1)
    half = (v1 * np.sqrt(np.clip(w1, 0, None))) @ v1.T
    mu = np.clip(np.linalg.eigvalsh(half @ sigma2 @ half), 0.0, None)
    roots = np.minimum(np.sqrt(e), e / (2.0 * np.sqrt(np.maximum(mu, np.finfo(np.float64).tiny))))
    scale = np.trace(sigma1) + np.trace(sigma2) + (float(diff @ diff) if diff is not None else 0.0)
    return float(2.0 * roots.sum() + 4.0 * d * eps * scale + d * perturbation)


@FAST
@given(seed=seeds, d=st.integers(2, 8), shift=st.floats(-3, 3), scale=st.floats(0.1, 5))
def test_fid_is_a_symmetric_non_negative_distance(seed, d, shift, scale) -> None:
    (mu1, sigma1), (mu2, sigma2) = stats_pair(seed, d, shift, scale)
    fid = frechet_distance(mu1, sigma1, mu2, sigma2)
    bound = rounding(sigma1, sigma2, mu1 - mu2)
    assert fid >= -bound
    # Swapping the arguments swaps which root is formed first: each order carries its own round-off.
    assert abs(fid - frechet_distance(mu2, sigma2, mu1, sigma1)) <= bound + rounding(sigma2, sigma1, mu1 - mu2)
    assert abs(frechet_distance(mu1, sigma1, mu1, sigma1)) <= rounding(sigma1, sigma1)
    # No smaller than its mean term (the covariance term is a squared Bures distance, ≥ 0).
    assert fid >= float((mu1 - mu2) @ (mu1 - mu2)) - bound


@FAST
@given(seed=seeds, d=st.integers(2, 8))
def test_fid_does_not_depend_on_the_order_of_samples(seed, d) -> None:
    real, fake = features(seed, 5 * d + 5, d), features(seed + 1, 5 * d + 5, d, shift=0.5)
    order = np.random.default_rng(seed).permutation(len(fake))
    mu_r, sigma_r = feature_stats(real)
    fid = frechet_distance(*feature_stats(fake), mu_r, sigma_r)
    permuted = frechet_distance(*feature_stats(fake[order]), mu_r, sigma_r)
    # Reordering the samples changes the covariance's sums by at most n·ε·max‖xᵢ − x̄‖² / (n − 1) (the
    # worst case of recursive summation), for each of the two statistics.
    centred = fake - fake.mean(axis=0)
    perturbation = 2 * len(fake) * np.finfo(np.float64).eps * float((centred**2).sum(axis=1).max()) / (len(fake) - 1)
    bound = rounding(*feature_stats(fake)[1:], sigma_r, perturbation=perturbation)
    assert abs(fid - permuted) <= 2 * bound


@FAST
@given(seed=seeds, n=st.integers(10, 200), classes=st.integers(2, 12), temperature=st.floats(0.01, 20),
       splits=st.integers(1, 5))
def test_inception_score_lies_between_one_and_the_class_count(seed, n, classes, temperature, splits) -> None:
    logits = np.random.default_rng(seed).normal(size=(n, classes)) * temperature
    out = inception_score(logits, splits)
    # exp(mean KL): each KL sums `classes` terms of size ≤ the logits' range plus log(classes), each within a
    # few ulps, so the score is within a relative 4·classes·ε·(range + log classes + 1) of exact.
    spread = float(np.ptp(logits)) + np.log(classes) + 1.0
    slack = 4 * classes * np.finfo(np.float64).eps * spread * classes
    assert 1.0 - slack <= out["is_mean"] <= classes * (1 + slack)
    assert out["is_std"] >= 0.0


@FAST
@given(seed=seeds, d=st.integers(2, 8), scale=st.floats(0.2, 3))
def test_kid_of_one_distribution_is_zero_within_its_spread(seed, d, scale) -> None:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d)) * scale
    x, y = rng.normal(size=(400, d)) @ mixing, rng.normal(size=(400, d)) @ mixing  # two draws of one law
    same = kernel_inception_distance(x, y, subsets=20, subset_size=100, seed=seed)
    assert same["kid_std"] > 0 and abs(same["kid_mean"]) < 2 * same["kid_std"]  # unbiased: 0 within the spread
    apart = kernel_inception_distance(x, y + 3.0 * scale, subsets=20, subset_size=100, seed=seed)
    assert apart["kid_mean"] > 2 * apart["kid_std"] and apart["kid_mean"] > abs(same["kid_mean"])


@FAST
@given(seed=seeds, n_real=st.integers(8, 80), n_fake=st.integers(8, 80), d=st.integers(1, 6),
       k=st.integers(1, 5), shift=st.floats(-2, 2))
def test_prdc_values_lie_in_their_ranges(seed, n_real, n_fake, d, k, shift) -> None:
    out = prdc(features(seed, n_real, d), features(seed + 1, n_fake, d, shift=shift), k=k, chunk=16)
    assert set(out) == {"precision", "recall", "density", "coverage"}
    for key in ("precision", "recall", "coverage"):
        assert 0.0 <= out[key] <= 1.0, out
    assert out["density"] >= 0.0
    assert out["density"] <= n_real / k  # each fake lies in at most all N real balls


@FAST
@given(seed=seeds, n=st.integers(1, 300), classes=st.integers(2, 12), temperature=st.floats(0.01, 20),
       min_share=st.floats(0, 1))
def test_mode_coverage_counts_between_zero_and_the_class_count(seed, n, classes, temperature, min_share) -> None:
    logits = np.random.default_rng(seed).normal(size=(n, classes)) * temperature
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    out = mode_coverage(probs, min_share=min_share, test_share=np.full(classes, 1.0 / classes))
    assert 0 <= out["modes_covered"] <= classes
    assert sum(out["histogram"]) == n and len(out["histogram"]) == classes
    assert 0.0 <= out["confident_share"] <= 1.0
    # KL of `classes` shares: a sum of that many terms of size ≤ log(classes), each within a few ulps.
    slack = 4 * classes * np.finfo(np.float64).eps * (1 + np.log(classes))
    assert -slack <= out["kl_uniform"] <= np.log(classes) + slack
    assert out["kl_test"] == out["kl_uniform"]  # the same uniform reference
