"""studies.stats against SciPy, against the formulas written out in NumPy, and against worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from studies.stats import (
    ONE_SEED,
    bootstrap_std,
    correlation_ci,
    format_ci,
    format_interval,
    holm,
    mean_ci,
    spearman,
    welch,
)

A = [91.2, 88.4, 95.0]         # e.g. final FIDs of three seeds
B = [120.5, 131.9, 117.2, 125.0]


def test_mean_ci_matches_scipy_and_the_closed_form() -> None:
    ci = mean_ci(A)
    low, high = sps.t.interval(0.95, len(A) - 1, loc=np.mean(A), scale=sps.sem(A))
    assert (ci.low, ci.high) == pytest.approx((low, high), rel=1e-12)
    # By hand: t_{0.975, 2} = 4.302652729749464 (tables), s = sample std.
    half = 4.302652729749464 * np.std(A, ddof=1) / math.sqrt(3)
    assert ci.mean == pytest.approx(np.mean(A)) and ci.half_width == pytest.approx(half, rel=1e-9)
    assert ci.n == 3 and ci.std == pytest.approx(np.std(A, ddof=1))


def test_one_seed_has_no_interval() -> None:
    ci = mean_ci([90.0])
    assert ci.mean == 90.0 and math.isnan(ci.low) and math.isnan(ci.high) and ci.n == 1
    assert format_ci(ci) == f"90 [{ONE_SEED}]" == "90 [n/a (1 seed)]"
    w = welch([90.0], [120.0, 130.0])
    assert w.diff == -35.0 and math.isnan(w.p) and math.isnan(w.low)
    assert format_interval(w.low, w.high, 1) == "n/a (1 seed)"
    assert mean_ci([1.0, np.nan, 3.0]).n == 2  # NaNs (a seed without the value) are dropped


def test_welch_matches_scipy_and_the_welch_satterthwaite_formulas() -> None:
    w = welch(A, B)
    ref = sps.ttest_ind(A, B, equal_var=False)
    assert w.t == pytest.approx(ref.statistic, rel=1e-12) and w.p == pytest.approx(ref.pvalue, rel=1e-10)
    # Independent computation from the formulas.
    va, vb = np.var(A, ddof=1) / 3, np.var(B, ddof=1) / 4
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 3)
    se = math.sqrt(va + vb)
    diff = np.mean(A) - np.mean(B)
    assert w.df == pytest.approx(df, rel=1e-12) and w.diff == pytest.approx(diff)
    q = sps.t.ppf(0.975, df)
    assert (w.low, w.high) == pytest.approx((diff - q * se, diff + q * se), rel=1e-12)
    assert w.p == pytest.approx(2 * sps.t.sf(abs(diff / se), df), rel=1e-12)
    assert w.excludes_zero and w.high < 0 and w.p < 0.05
    if hasattr(ref, "confidence_interval"):  # SciPy ≥ 1.11 gives the Welch interval too
        assert (w.low, w.high) == pytest.approx(tuple(ref.confidence_interval(0.95)), rel=1e-10)


def test_welch_overlapping_samples_are_not_different() -> None:
    w = welch([100.0, 140.0, 120.0], [110.0, 150.0, 105.0])
    assert not w.excludes_zero and w.p > 0.5
    assert w.p == pytest.approx(sps.ttest_ind([100, 140, 120], [110, 150, 105], equal_var=False).pvalue)


def test_holm_worked_example() -> None:
    # Holm–Bonferroni's textbook example (four hypotheses, α = 0.05): sorted 0.005, 0.01, 0.03, 0.04
    # times 4, 3, 2, 1 → 0.02, 0.03, 0.06, 0.04; running maximum → 0.02, 0.03, 0.06, 0.06.
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted.tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert (adjusted < 0.05).tolist() == [True, False, False, True]  # H1 and H4 rejected, as in the example


def test_holm_known_values_and_edges() -> None:
    # By hand from the definition (sorted p times 8, 7, …, 1, then the running maximum):
    p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205]
    expected = [0.008, 0.056, 0.234, 0.234, 0.234, 0.234, 0.234, 0.234]
    assert holm(p).tolist() == pytest.approx(expected)
    assert holm([0.5, 0.9]).tolist() == [1.0, 1.0]  # capped at 1
    assert holm([0.02]).tolist() == [0.02]  # a family of one is left alone
    out = holm([0.01, np.nan, 0.02])  # an untestable comparison is not part of the family
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1]) and out[2] == pytest.approx(0.02)
    assert holm([]).size == 0


def test_spearman_matches_scipy_and_ranks() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=12), rng.normal(size=12)
    assert spearman(x, y) == pytest.approx(sps.spearmanr(x, y).statistic)
    # Without ties ρ = 1 − 6 Σd² / (n(n² − 1)).
    d = sps.rankdata(x) - sps.rankdata(y)
    assert spearman(x, y) == pytest.approx(1 - 6 * np.sum(d**2) / (12 * (144 - 1)))
    assert spearman([1, 2, 3, 4], [10, 20, 35, 90]) == 1.0
    assert math.isnan(spearman([1, 2, 3], [5, 5, 5])) and math.isnan(spearman([1, 2], [3, 4]))


def test_correlation_ci_over_seeds() -> None:
    ci = correlation_ci([0.9, 0.95, 0.99])
    assert ci.mean == pytest.approx(0.9466666) and ci.high == 1.0  # clipped to a correlation's range
    assert ci.low == pytest.approx(mean_ci([0.9, 0.95, 0.99]).low)


def test_bootstrap_std_of_a_mean_is_its_standard_error() -> None:
    sample = np.random.default_rng(0).normal(size=400)
    se = bootstrap_std(len(sample), lambda idx: float(sample[idx].mean()), resamples=400, seed=1)
    assert se == pytest.approx(sample.std() / math.sqrt(400), rel=0.15)
    again = bootstrap_std(len(sample), lambda idx: float(sample[idx].mean()), resamples=400, seed=1)
    assert again == se  # seeded
