"""The metric functions against independent references: SciPy's sqrtm, closed forms, brute force."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import scipy.linalg

from evaluators.fid import feature_stats, fid_from_features, frechet_distance
from evaluators.inception_score import inception_score
from evaluators.kid import kernel_inception_distance, mmd2_unbiased
from evaluators.mode_coverage import mode_coverage
from evaluators.prdc import knn_sq_radii, prdc
from wgan.errors import WganbenchError


def scipy_fid(mu1, sigma1, mu2, sigma2) -> float:
    """The reference route of the FID paper's code: sqrtm of the (non-symmetric) product Σ₁Σ₂."""
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def correlated_features(rng: np.random.Generator, n: int, d: int, shift: float) -> np.ndarray:
    mixing = rng.normal(size=(d, d)) / np.sqrt(d)
    return rng.normal(size=(n, d)) @ mixing + shift


# --- FID -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, d", [(50, 2), (500, 16), (2000, 64), (3000, 128)])
def test_fid_matches_scipy_sqrtm_route(n: int, d: int) -> None:
    rng = np.random.default_rng(d)
    stats1 = feature_stats(correlated_features(rng, n, d, 0.0))
    stats2 = feature_stats(correlated_features(rng, n, d, 0.3))
    ours = frechet_distance(*stats1, *stats2)
    assert ours == pytest.approx(scipy_fid(*stats1, *stats2), rel=1e-6)
    assert frechet_distance(*stats2, *stats1) == pytest.approx(ours, rel=1e-9)  # symmetric


@pytest.mark.slow
def test_fid_matches_scipy_sqrtm_route_on_real_features() -> None:
    from evaluators.reference import reference_stats

    features = reference_stats("test").features.astype(np.float64)  # the classifier's test-set features
    order = np.random.default_rng(0).permutation(len(features))
    half1, half2 = features[order[:5000]], features[order[5000:]]
    # Dead ReLU units make the covariances singular, where sqrtm itself is inaccurate ("Matrix is
    # singular"); on the units alive in both halves the two routes must agree to 1e-6.
    live = (half1.std(axis=0) > 0) & (half2.std(axis=0) > 0)
    stats1, stats2 = feature_stats(half1[:, live]), feature_stats(half2[:, live])
    assert frechet_distance(*stats1, *stats2) == pytest.approx(scipy_fid(*stats1, *stats2), rel=1e-6)
    full1, full2 = feature_stats(half1), feature_stats(half2)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        assert frechet_distance(*full1, *full2) == pytest.approx(scipy_fid(*full1, *full2), rel=1e-4)


def test_fid_closed_form_for_diagonal_gaussians() -> None:
    # Diagonal covariances commute, so the distance is ‖μ₁−μ₂‖² + Σ (√a − √b)².
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.1, 4.0, 20), rng.uniform(0.1, 4.0, 20)
    mu1, mu2 = rng.normal(size=20), rng.normal(size=20)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)


def test_fid_of_identical_statistics_is_zero_even_when_singular() -> None:
    rng = np.random.default_rng(2)
    features = correlated_features(rng, 400, 32, 1.0)
    features[:, :4] = 0.0  # dead ReLU units give a singular covariance
    mu, sigma = feature_stats(features)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-9 * np.trace(sigma)


def test_feature_stats_are_mean_and_unbiased_covariance() -> None:
    features = np.array([[1.0, 2.0], [3.0, 0.0], [5.0, 4.0]])
    mu, sigma = feature_stats(features)
    np.testing.assert_allclose(mu, [3.0, 2.0])
    np.testing.assert_allclose(sigma, [[4.0, 2.0], [2.0, 4.0]])  # divides by N − 1 = 2


def test_fid_needs_more_samples_than_dimensions() -> None:
    rng = np.random.default_rng(3)
    with pytest.raises(WganbenchError, match=r"more samples than feature dimensions.*64 samples.*N > 64"):
        fid_from_features(rng.normal(size=(64, 64)), rng.normal(size=(500, 64)))


def test_fid_rejects_mismatched_or_non_finite_statistics() -> None:
    mu, sigma = np.zeros(3), np.eye(3)
    with pytest.raises(WganbenchError, match="sigma2 has shape"):
        frechet_distance(mu, sigma, mu, np.eye(4))
    with pytest.raises(WganbenchError, match="mu1 contains NaN"):
        frechet_distance(np.array([0.0, np.nan, 0.0]), sigma, mu, sigma)


# --- Inception score -------------------------------------------------------------------------------------

def test_is_of_balanced_confident_predictions_is_the_number_of_classes() -> None:
    logits = np.tile(100.0 * np.eye(10), (100, 1))  # each split of 100 holds every class 10 times
    assert inception_score(logits, splits=10) == {"is_mean": pytest.approx(10.0, rel=1e-12),
                                                  "is_std": pytest.approx(0.0, abs=1e-12)}


def test_is_of_identical_predictions_is_one() -> None:
    logits = np.tile(np.random.default_rng(4).normal(size=10), (500, 1))
    assert inception_score(logits, splits=5) == pytest.approx({"is_mean": 1.0, "is_std": 0.0}, abs=1e-12)


@pytest.mark.parametrize("splits", [1, 3, 10])
def test_is_matches_direct_formula(splits: int) -> None:
    logits = np.random.default_rng(splits).normal(scale=3.0, size=(1000, 10))
    scores = []
    for part in np.array_split(logits, splits):
        p = np.exp(part) / np.exp(part).sum(axis=1, keepdims=True)
        py = p.mean(axis=0)
        scores.append(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(py)), axis=1))))
    expected = {"is_mean": np.mean(scores), "is_std": np.std(scores)}
    assert inception_score(logits, splits) == pytest.approx(expected, rel=1e-10)


def test_is_rejects_more_splits_than_samples() -> None:
    with pytest.raises(WganbenchError, match="cannot form 10 splits"):
        inception_score(np.zeros((5, 10)), splits=10)


# --- Mode coverage ---------------------------------------------------------------------------------------

def test_mode_coverage_on_hand_made_probabilities() -> None:
    # 200 samples: classes 0–3 get 50, 48, 100, 1 (share 0.005 < 0.01) and class 4 one more; 1 of 200 unsure.
    labels = np.repeat([0, 1, 2, 3, 4], [50, 48, 100, 1, 1])
    probs = np.full((200, 5), 0.01)
    probs[np.arange(200), labels] = 0.96
    probs[0] = [0.5, 0.2, 0.1, 0.1, 0.1]  # argmax still 0, but not confident
    share = np.array([50, 48, 100, 1, 1]) / 200
    test_share = np.array([0.3, 0.2, 0.2, 0.2, 0.1])
    out = mode_coverage(probs, min_share=0.01, test_share=test_share)
    assert out["histogram"] == [50, 48, 100, 1, 1]
    assert out["modes_covered"] == 3
    assert out["kl_uniform"] == pytest.approx(np.sum(share * np.log(share * 5)), rel=1e-12)
    assert out["kl_test"] == pytest.approx(np.sum(share * np.log(share / test_share)), rel=1e-12)
    assert out["confident_share"] == pytest.approx(199 / 200)
    assert mode_coverage(probs, min_share=0.005)["modes_covered"] == 5


def test_mode_coverage_of_one_class_and_of_a_uniform_spread() -> None:
    one_class = np.tile(np.eye(10)[3], (100, 1))
    out = mode_coverage(one_class)
    assert out["modes_covered"] == 1 and out["kl_uniform"] == pytest.approx(np.log(10))
    assert np.isnan(out["kl_test"])
    spread = np.tile(np.eye(10), (10, 1))
    assert mode_coverage(spread, test_share=np.full(10, 0.1))["kl_test"] == pytest.approx(0.0, abs=1e-15)


def test_mode_coverage_rejects_logits() -> None:
    with pytest.raises(WganbenchError, match="apply softmax"):
        mode_coverage(np.random.default_rng(5).normal(size=(20, 10)))


# --- KID -------------------------------------------------------------------------------------------------

def brute_force_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    k = lambda a, b: (float(a @ b) / d + 1.0) ** 3  # noqa: E731
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(n), 2)) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_mmd2_matches_brute_force() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(30, 8)), rng.normal(0.5, 1.2, size=(40, 8))
    assert mmd2_unbiased(x, y) == pytest.approx(brute_force_mmd2(x, y), rel=1e-10)


def test_kid_with_one_full_subset_is_the_mmd_of_the_sets() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(60, 8)), rng.normal(0.3, 1.0, size=(60, 8))
    kid = kernel_inception_distance(x, y, subsets=1, subset_size=60)
    assert kid["kid_mean"] == pytest.approx(brute_force_mmd2(x, y), rel=1e-10) and kid["kid_std"] == 0.0


def test_kid_of_one_distribution_is_near_zero_and_seeded() -> None:
    rng = np.random.default_rng(8)
    x, x2, y = rng.normal(size=(3000, 16)), rng.normal(size=(3000, 16)), rng.normal(0.2, 1.0, size=(3000, 16))
    itself = kernel_inception_distance(x, x, subsets=20, subset_size=500)
    same = kernel_inception_distance(x, x2, subsets=20, subset_size=500)
    apart = kernel_inception_distance(x, y, subsets=20, subset_size=500)
    assert abs(same["kid_mean"]) < same["kid_std"]  # unbiased: zero within the spread over subsets
    assert abs(itself["kid_mean"]) < 0.1 * apart["kid_mean"] and abs(same["kid_mean"]) < 0.1 * apart["kid_mean"]
    assert apart["kid_mean"] > 3 * apart["kid_std"]
    assert kernel_inception_distance(x, y, subsets=20, subset_size=500, seed=0) == apart
    assert kernel_inception_distance(x, y, subsets=20, subset_size=500, seed=1) != apart


def test_float32_features_give_float64_scores_within_rounding() -> None:
    # The classifier's float32 features run KID's and PRDC's products in float32.
    rng = np.random.default_rng(12)
    x = np.maximum(rng.normal(size=(1500, 64)), 0.0)  # ReLU-like, as the classifier's features
    y = np.maximum(rng.normal(0.1, 1.0, size=(1500, 64)), 0.0)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    kid64 = kernel_inception_distance(x32.astype(np.float64), y32.astype(np.float64), subsets=5, subset_size=500)
    kid32 = kernel_inception_distance(x32, y32, subsets=5, subset_size=500)
    assert kid32 == pytest.approx(kid64, rel=1e-6)  # measured: 4e-8
    assert knn_sq_radii(x32).dtype == np.float32
    p64, p32 = prdc(x32.astype(np.float64), y32.astype(np.float64)), prdc(x32, y32)
    assert all(abs(p32[key] - p64[key]) <= 2 / 1500 for key in p64)  # at most a borderline ball or two


def test_kid_needs_subset_size_samples() -> None:
    rng = np.random.default_rng(9)
    with pytest.raises(WganbenchError, match=r"subset_size=1000.*fake has 999"):
        kernel_inception_distance(rng.normal(size=(2000, 4)), rng.normal(size=(999, 4)))


# --- PRDC ------------------------------------------------------------------------------------------------

def brute_force_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """Naeem et al.'s definitions with explicit loops and sorted distances."""
    dist = lambda a, b: float(np.sqrt(np.sum((a - b) ** 2)))  # noqa: E731
    radius = lambda s, i: sorted(dist(s[i], s[j]) for j in range(len(s)) if j != i)[k - 1]  # noqa: E731
    r_real = [radius(real, i) for i in range(len(real))]
    r_fake = [radius(fake, j) for j in range(len(fake))]
    inside = np.array([[dist(x, y) < r_real[i] for y in fake] for i, x in enumerate(real)])
    return {
        "precision": inside.any(axis=0).mean(),
        "recall": np.mean([any(dist(x, y) < r_fake[j] for j, y in enumerate(fake)) for x in real]),
        "density": inside.sum(axis=0).mean() / k,
        "coverage": np.mean([min(dist(x, y) for y in fake) < r_real[i] for i, x in enumerate(real)]),
    }


@pytest.mark.parametrize("k, chunk", [(1, 7), (3, 1024), (5, 16)])
def test_prdc_matches_brute_force(k: int, chunk: int) -> None:
    rng = np.random.default_rng(10 + k)
    real, fake = rng.normal(size=(70, 3)), rng.normal(1.5, 0.5, size=(50, 3))
    expected = brute_force_prdc(real, fake, k)
    got = prdc(real, fake, k=k, chunk=chunk)
    assert got == pytest.approx(expected, rel=1e-12)
    assert 0 < got["precision"] < 1 and 0 < got["recall"] < 1  # the sets neither coincide nor miss


def test_prdc_of_identical_sets() -> None:
    real = np.random.default_rng(11).normal(size=(300, 8))
    out = prdc(real, real.copy(), k=5, real_sq_radii=knn_sq_radii(real, 5, chunk=64))
    assert out["precision"] == out["recall"] == out["coverage"] == 1.0
    assert out["density"] > 0.9


def test_prdc_k_needs_more_samples() -> None:
    with pytest.raises(WganbenchError, match=r"k=5 nearest neighbours need at least k \+ 1 = 6 samples, got 5"):
        knn_sq_radii(np.zeros((5, 2)), k=5)
