"""studies.stats against SciPy and statsmodels, against the formulas written out in NumPy, and against
worked examples; our own code (bounded scales, the interaction) against SciPy where it reduces to it."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestIndPower

from studies.stats import (
    ONE_SEED,
    Scale,
    adjust,
    bootstrap_std,
    changes_correlation,
    detectable,
    family_level,
    fisher,
    format_ci,
    format_interval,
    holm,
    interaction,
    km_median,
    mean_ci,
    proportion_ci,
    seeds_for,
    spearman,
    t_power,
    welch,
)

A = [91.2, 88.4, 95.0]         # e.g. final FIDs of three seeds
B = [120.5, 131.9, 117.2, 125.0]
EPS = 1e-12                    # relative agreement of two float64 evaluations of one closed form


def test_mean_ci_matches_scipy_and_the_closed_form() -> None:
    ci = mean_ci(A)
    low, high = sps.t.interval(0.95, len(A) - 1, loc=np.mean(A), scale=sps.sem(A))
    assert (ci.low, ci.high) == pytest.approx((low, high), rel=EPS)
    half = 4.302652729749464 * np.std(A, ddof=1) / math.sqrt(3)  # t_{0.975, 2} from the tables
    assert ci.high - ci.mean == pytest.approx(half, rel=1e-9) and ci.values == tuple(A)


def test_a_bounded_count_near_its_bound_stays_inside_its_range() -> None:
    """Digits covered 7, 9, 9 of 10: the t interval on the raw scale reaches 12.1 (the issue's example);
    on the logit of the range it is the logistic of SciPy's t interval of the logits, inside (0, 10)."""
    counts = Scale(0, 10, 0.5)
    raw = mean_ci([7, 9, 9])
    assert raw.high > 10  # what the report printed before
    ci = mean_ci([7, 9, 9], scale=counts)
    logits = np.log(np.array([7, 9, 9]) / (10 - np.array([7, 9, 9])))
    oracle = sps.ttest_1samp(logits, 0).confidence_interval(0.95)
    assert (ci.low, ci.high) == pytest.approx((10 * sps.logistic.cdf(oracle.low), 10 * sps.logistic.cdf(oracle.high)),
                                              rel=EPS)
    assert 0 < ci.low < ci.mean < ci.high < 10
    shares = mean_ci([0.0, 0.0002, 0.0], scale=Scale(0, 1, 0.5 / 5000))  # a share at its lower bound
    assert 0 < shares.low and shares.high < 1
    fid = mean_ci([5.0, 40.0, 300.0], scale=Scale(0, math.inf, 1e-9))  # positive: the log keeps it above 0
    assert fid.low > 0 and mean_ci([5.0, 40.0, 300.0]).low < 0


def test_a_zero_spread_is_printed_as_its_values_and_few_seeds_beside_the_mean() -> None:
    assert format_ci(mean_ci([10, 10, 10], scale=Scale(0, 10, 0.5))) == "10, 10, 10 over 3 seeds"
    text = format_ci(mean_ci([7, 9, 9], scale=Scale(0, 10, 0.5)))
    assert text.startswith("8.333 (7, 9, 9) [") and "[4.53, 9.75]" in text
    many = format_ci(mean_ci(range(6)))
    assert "(" not in many  # six seeds: the interval alone


def test_one_seed_has_no_interval() -> None:
    ci = mean_ci([90.0])
    assert ci.mean == 90.0 and math.isnan(ci.low) and ci.n == 1
    assert format_ci(ci) == f"90 [{ONE_SEED}]"
    w = welch([90.0], [120.0, 130.0])
    assert w.diff == -35.0 and math.isnan(w.p) and format_interval(w.low, w.high, 1) == ONE_SEED
    assert mean_ci([1.0, np.nan, 3.0]).n == 2


def test_welch_is_scipys_and_the_welch_satterthwaite_formulas() -> None:
    w = welch(A, B)
    va, vb = np.var(A, ddof=1) / 3, np.var(B, ddof=1) / 4
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 3)
    diff, se = np.mean(A) - np.mean(B), math.sqrt(va + vb)
    q = sps.t.ppf(0.975, df)
    assert w.df == pytest.approx(df, rel=EPS) and (w.low, w.high) == pytest.approx((diff - q * se, diff + q * se),
                                                                                 rel=EPS)
    assert w.p == pytest.approx(2 * sps.t.sf(abs(diff / se), df), rel=1e-10) and w.excludes_zero


def test_the_interaction_reduces_to_welch_when_one_study_does_not_vary() -> None:
    """(a2 − b2) − (a1 − b1) with a1, b1 constant is a2 − b2 shifted: SciPy's Welch interval and p."""
    x, y = [4.1, 4.5, 4.3], [3.0, 3.4, 3.9, 3.1]
    w = interaction([2.0, 2.0], [1.0, 1.0], x, y)
    ref = sps.ttest_ind(x, np.add(y, 1.0), equal_var=False)  # the same null: mean x − mean y = 2 − 1
    ci = ref.confidence_interval(0.95)
    assert w.p == pytest.approx(ref.pvalue, rel=1e-10) and w.df == pytest.approx(ref.df, rel=EPS)
    assert (w.low, w.high) == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_bonferroni_intervals_exclude_zero_exactly_where_the_adjusted_p_is_below_alpha() -> None:
    rng = np.random.default_rng(11)  # pure math: random groups of three
    groups = [(rng.normal(0, 1, 3), rng.normal(shift, 1, 3)) for shift in np.linspace(0, 6, 40)]
    level = family_level(len(groups))
    tests = [welch(a, b, level) for a, b in groups]
    p = adjust([t.p for t in tests])
    assert p.tolist() == pytest.approx(multipletests([t.p for t in tests], method="bonferroni")[1].tolist())
    assert [t.excludes_zero for t in tests] == (p < 0.05).tolist()
    assert 0 < sum(p < 0.05) < len(groups)  # both outcomes exercised


def test_holm_is_statsmodels_on_a_worked_example() -> None:
    assert holm([0.01, 0.04, 0.03, 0.005]).tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    out = holm([0.01, np.nan, 0.02])
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1]) and holm([]).size == 0


def test_spearman_exact_p_and_the_changes() -> None:
    rho, _p = spearman(range(8), [1, 3, 2, 5, 4, 7, 6, 8])
    assert rho == pytest.approx(sps.spearmanr(range(8), [1, 3, 2, 5, 4, 7, 6, 8]).statistic)
    # ρ = 1 of 8 points: 2 of the 8! pairings reach |ρ| = 1, so the exact two-sided p is 2/40320.
    assert spearman(range(8), range(8)) == (pytest.approx(1.0), pytest.approx(2 / 40320))
    # Two monotone curves: ρ of levels is 1, of their changes unrelated.
    fid = [700, 650, 500, 480, 300, 290, 250, 240]
    w = [5.0, 4.9, 4.0, 3.2, 3.1, 2.0, 1.9, 1.0]
    assert spearman(w, fid)[0] == pytest.approx(1.0) and changes_correlation(w, fid)[1] > 0.05
    assert math.isnan(spearman([1, 2, 3], [5, 5, 5])[0])
    assert fisher([0.5]) == pytest.approx(0.5) and fisher([0.07, 0.07, 0.07]) == pytest.approx(
        sps.chi2.sf(-2 * 3 * math.log(0.07), 6))


def test_power_is_statsmodels_and_inverts() -> None:
    d = detectable(0.2, 3)
    # brentq stops within 1e-12 of the effect size; power's slope there is under 10, so power is 0.8 to 1e-11.
    assert TTestIndPower().power(effect_size=d / 0.2, nobs1=3, alpha=0.05) == pytest.approx(0.8, abs=1e-11)
    # statsmodels' own solver stops earlier (its answer moves at 1e-9 relative) but agrees.
    assert d == pytest.approx(0.2 * TTestIndPower().solve_power(nobs1=3, alpha=0.05, power=0.8), rel=1e-8)
    n = seeds_for(0.2, 0.3)
    assert detectable(0.2, n) <= 0.3 < detectable(0.2, n - 1)
    with pytest.raises(ValueError, match="sd > 0"):
        seeds_for(0.0, 0.3)


def test_t_power_is_statsmodels_where_it_is_finite() -> None:
    compared = 0
    for n, effect, alpha in itertools.product([2, 3, 5, 20], [0.1, 1.0, 3.0, 4.5], [0.05, 0.01 / 6]):
        expected = TTestIndPower().power(effect_size=effect, nobs1=n, alpha=alpha)
        if not math.isnan(expected):  # statsmodels' NaN comes at large noncentrality (here 4.5 at 20 seeds)
            assert t_power(effect, n, alpha) == pytest.approx(expected, rel=EPS)
            compared += 1
    assert compared >= 28
    assert math.isnan(TTestIndPower().power(effect_size=8.0, nobs1=2, alpha=0.01 / 6))  # why it is written out
    assert 0.1 < t_power(8.0, 2, 0.01 / 6) < t_power(12.0, 2, 0.01 / 6) < 1


def test_power_past_statsmodels_solver_range() -> None:
    # Two seeds at a Bonferroni α need an effect size above 10 (solve_power's bound), and a spread of 0.006
    # against a 1.25× ratio needs under 2 seeds (its NaN): the 4-run check's report crashed on the second.
    alpha, power = 0.01 / 6, 0.8
    d = detectable(1.0, 2, alpha, power)
    assert d > 10 and TTestIndPower().power(effect_size=d, nobs1=2, alpha=alpha) == pytest.approx(power, abs=1e-11)
    assert seeds_for(0.006, math.log(1.25), alpha, power) == 2
    n = seeds_for(0.2, 0.05, alpha, power)
    assert TTestIndPower().power(effect_size=0.25, nobs1=n, alpha=alpha) >= power
    assert TTestIndPower().power(effect_size=0.25, nobs1=n - 1, alpha=alpha) < power


def test_kaplan_meier_median_censored_and_not() -> None:
    censored = km_median([150.0, 150.0, 150.0], [False, False, False])
    assert math.isnan(censored.median) and censored.above == 150.0 and censored.events == 0
    s = km_median([50.0, 80.0, 100.0, 150.0, 150.0], [True, True, True, False, False])
    # KM by hand: S is 4/5 after 50, 3/5 after 80, 2/5 after 100: the median is 100 (S first below ½).
    assert s.median == 100.0 and s.events == 3 and s.low <= 100.0 <= s.high


def test_exact_binomial_interval_is_clopper_pearson() -> None:
    low, high = proportion_ci(0, 3)
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 3), rel=EPS)  # (1 − p)³ = α/2
    low, high = proportion_ci(1, 4)
    assert (low, high) == pytest.approx((sps.beta.ppf(0.025, 1, 4), sps.beta.ppf(0.975, 2, 3)), rel=1e-9)


def test_bootstrap_std_of_a_mean_is_its_standard_error() -> None:
    sample = np.random.default_rng(0).normal(size=400)
    se = bootstrap_std(len(sample), lambda idx: float(sample[idx].mean()), resamples=400, seed=1)
    # 400 replicates estimate a standard deviation to a relative error of about 1/√(2·399) ≈ 3.5 %; 4 of those.
    assert se == pytest.approx(sample.std() / math.sqrt(400), rel=4 / math.sqrt(2 * 399))
    assert bootstrap_std(len(sample), lambda idx: float(sample[idx].mean()), resamples=400, seed=1) == se
