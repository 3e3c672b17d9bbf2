"""The statistics behind the report: pure functions on per-seed numbers, from SciPy and statsmodels.

Every interval is two-sided at ``LEVEL`` unless a family's size lowers it (Bonferroni, so an interval
excludes zero exactly when its adjusted p < α); every test is two-sided. With one seed there is no
spread: the functions return NaN and :func:`format_ci` prints the value. Our own code remains only for
what no library gives (a bounded quantity's interval on its transformed scale, the difference of two
Welch differences); ``tests/test_stats.py`` checks it against SciPy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize as sps_optimize
from scipy import stats as sps
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.multitest import multipletests

LEVEL, ALPHA = 0.95, 0.05
ONE_SEED = "n/a (1 seed)"
FEW_SEEDS = 5  # with this many seeds or fewer the per-seed values are printed beside the mean
Array = Sequence[float] | np.ndarray


def _sample(x: Array) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).ravel()
    return a[~np.isnan(a)]


@dataclass(frozen=True)
class Scale:
    """Where a quantity lives, [``low``, ``high``], and so the scale its interval is computed on: logit of
    the position in a bounded range, log of the distance from a lower bound, else the value itself.
    ``unit`` is the half-step a value at a bound is moved inward by (½ a count; ½ a sample of a share)."""

    low: float = -math.inf
    high: float = math.inf
    unit: float = 0.0

    def forward(self, x: np.ndarray) -> np.ndarray:
        if math.isfinite(self.low) and math.isfinite(self.high):
            width = self.high - self.low
            share = np.clip((x - self.low) / width, self.unit / width, 1 - self.unit / width)
            return np.log(share / (1 - share))
        if math.isfinite(self.low):
            return np.log(np.maximum(x - self.low, self.unit))
        return x

    def back(self, y: float) -> float:
        if math.isfinite(self.low) and math.isfinite(self.high):
            return self.low + (self.high - self.low) * float(sps.logistic.cdf(y))
        return self.low + math.exp(y) if math.isfinite(self.low) else y

    @property
    def name(self) -> str:
        both = math.isfinite(self.low) and math.isfinite(self.high)
        return "logit" if both else "log" if math.isfinite(self.low) else "identity"


LINEAR = Scale()


@dataclass(frozen=True)
class MeanCI:
    """A mean over ``n`` seeds with its interval [``low``, ``high``] (NaN under 2 seeds) and the values."""

    mean: float
    low: float
    high: float
    std: float
    n: int
    values: tuple[float, ...] = ()


def mean_ci(x: Array, level: float = LEVEL, scale: Scale = LINEAR) -> MeanCI:
    """Mean with a Student t interval over seeds, computed on ``scale`` and mapped back into its range.

    On the identity scale this is x̄ ± t_{1−α/2, n−1}·s/√n (``scipy.stats.ttest_1samp``'s interval).
    """
    a = _sample(x)
    n, values = len(a), tuple(float(v) for v in a)
    if n == 0:
        return MeanCI(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(a.mean())
    if n == 1 or np.ptp(a) == 0:
        return MeanCI(mean, math.nan, math.nan, 0.0 if n > 1 else math.nan, n, values)
    y = scale.forward(a)
    if np.ptp(y) == 0:  # every value at the same bound
        return MeanCI(mean, math.nan, math.nan, float(a.std(ddof=1)), n, values)
    ci = sps.ttest_1samp(y, 0.0).confidence_interval(level)
    return MeanCI(mean, scale.back(ci.low), scale.back(ci.high), float(a.std(ddof=1)), n, values)


@dataclass(frozen=True)
class Welch:
    """A difference ``a − b`` (or of differences) with its Welch interval, t, degrees of freedom and p."""

    diff: float
    low: float
    high: float
    t: float
    df: float
    p: float
    n_a: int
    n_b: int

    @property
    def excludes_zero(self) -> bool:
        return bool(self.low > 0 or self.high < 0)


def _welch_terms(groups: Sequence[np.ndarray], signs: Sequence[int], level: float) -> Welch:
    """Welch–Satterthwaite for Σ signᵢ·meanᵢ: se² = Σ vᵢ, vᵢ = sᵢ²/nᵢ, ν = se⁴ / Σ vᵢ²/(nᵢ − 1)."""
    diff = float(sum(s * g.mean() for s, g in zip(signs, groups)))
    n_a, n_b = len(groups[0]), len(groups[1])
    if min(len(g) for g in groups) < 2:
        return Welch(diff, math.nan, math.nan, math.nan, math.nan, math.nan, n_a, n_b)
    v = [float(g.var(ddof=1)) / len(g) for g in groups]
    se2 = sum(v)
    if se2 <= 0:
        return Welch(diff, math.nan, math.nan, math.nan, math.nan, math.nan, n_a, n_b)
    df = se2**2 / sum(vi**2 / (len(g) - 1) for vi, g in zip(v, groups))
    t = diff / math.sqrt(se2)
    half = float(sps.t.ppf(0.5 + level / 2, df)) * math.sqrt(se2)
    return Welch(diff, diff - half, diff + half, t, df, float(2 * sps.t.sf(abs(t), df)), n_a, n_b)


def welch(a: Array, b: Array, level: float = LEVEL) -> Welch:
    """Welch's unequal-variance t-test of mean(a) = mean(b): ``scipy.stats.ttest_ind(equal_var=False)``
    and its ``confidence_interval``. NaN but the difference when a group has < 2 values or none varies."""
    xa, xb = _sample(a), _sample(b)
    diff = float(xa.mean() - xb.mean()) if len(xa) and len(xb) else math.nan
    if min(len(xa), len(xb)) < 2 or xa.var() + xb.var() == 0:
        return Welch(diff, math.nan, math.nan, math.nan, math.nan, math.nan, len(xa), len(xb))
    res = sps.ttest_ind(xa, xb, equal_var=False)
    ci = res.confidence_interval(level)
    return Welch(diff, float(ci.low), float(ci.high), float(res.statistic), float(res.df), float(res.pvalue),
                 len(xa), len(xb))


def interaction(a1: Array, b1: Array, a2: Array, b2: Array, level: float = LEVEL) -> Welch:
    """The difference of differences (mean a2 − mean b2) − (mean a1 − mean b1) with Welch–Satterthwaite's
    interval and p (no library has this four-group contrast; with two constant groups it is `welch`)."""
    groups = [_sample(g) for g in (a2, b2, a1, b1)]
    return _welch_terms(groups, (1, -1, -1, 1), level)


def adjust(pvalues: Array, method: str = "bonferroni") -> np.ndarray:
    """Family-wise adjusted p-values (statsmodels ``multipletests``: "bonferroni" or "holm"); NaN stays NaN."""
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    out = np.full_like(p, np.nan)
    finite = ~np.isnan(p)
    if finite.any():
        out[finite] = multipletests(p[finite], alpha=ALPHA, method=method)[1]
    return out


def holm(pvalues: Array) -> np.ndarray:
    return adjust(pvalues, "holm")


def family_level(m: int, level: float = LEVEL) -> float:
    """The Bonferroni level of each of ``m`` simultaneous intervals: 1 − α/m."""
    return 1 - (1 - level) / max(1, m)


def spearman(x: Array, y: Array) -> tuple[float, float]:
    """Spearman's ρ of paired values (``scipy.stats.spearmanr``) with its exact permutation p
    (``scipy.stats.permutation_test`` over every pairing; Monte Carlo above 9 pairs). NaN under 3 pairs
    or with a constant side."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan, math.nan
    rho = float(sps.spearmanr(a, b).statistic)
    ra, rb = sps.rankdata(a), sps.rankdata(b)
    rb = (rb - rb.mean()) / np.linalg.norm(rb - rb.mean())

    def rank_r(u: np.ndarray, axis: int = -1) -> np.ndarray:  # Pearson's r of ranks: ρ, for every pairing at once
        u = u - u.mean(axis=axis, keepdims=True)
        return (u * rb).sum(axis=axis) / np.linalg.norm(u, axis=axis)

    res = sps.permutation_test((ra,), rank_r, permutation_type="pairings", vectorized=True,
                               n_resamples=math.inf if len(a) <= 9 else 20_000, rng=0)
    return rho, float(res.pvalue)


def changes_correlation(x: Array, y: Array) -> tuple[float, float]:
    """Spearman's ρ (exact p) of the changes between consecutive points: two curves that merely trend
    with time correlate in their levels, not necessarily in their changes."""
    return spearman(np.diff(np.asarray(x, dtype=float)), np.diff(np.asarray(y, dtype=float)))


def fisher(pvalues: Array) -> float:
    """Fisher's combination of independent p-values (``scipy.stats.combine_pvalues``); NaN if none."""
    p = _sample(pvalues)
    return float(sps.combine_pvalues(p, method="fisher").pvalue) if len(p) else math.nan


def t_power(effect: float, n: float, alpha: float) -> float:
    """Power of a two-sided two-sample t-test, n seeds each, at standardized ``effect``: statsmodels
    ``TTestIndPower.power``'s noncentral-t formula, written out because past an effect of about 5 at 2 seeds
    scipy's lower tail (``nct.cdf``) fails as NaN and statsmodels returns NaN. That tail (the statistic a
    critical value below zero when its mean is far above) has shrunk under 1e-13 before then, so it counts as 0."""
    df, nc = 2 * n - 2, effect * math.sqrt(n / 2)
    critical = float(sps.t.isf(alpha / 2, df))
    lower = float(sps.nct.cdf(-critical, df, nc))
    return float(sps.nct.sf(critical, df, nc)) + (0.0 if math.isnan(lower) else lower)


def _root(gap: Callable[[float], float], low: float) -> float:
    """The root of an increasing ``gap`` above ``low``, by `scipy.optimize.brentq` on a doubling bracket:
    statsmodels' ``solve_power`` searches a fixed range and, past it (effect sizes above 10 at 2 seeds and a
    Bonferroni α; under 2 seeds for a large effect), returns its bound or NaN."""
    high = 2 * low
    while gap(high) < 0:
        low, high = high, 2 * high
    return float(sps_optimize.brentq(gap, low, high, xtol=1e-12, rtol=1e-12))


def detectable(sd: float, n: int, alpha: float = ALPHA, power: float = 0.8) -> float:
    """The smallest difference of means a two-sided Welch-like t-test of n against n seeds detects with
    ``power`` at ``alpha``, given the seed-to-seed ``sd`` (`t_power`, statsmodels' formula, inverted)."""
    if n < 2 or not sd > 0:
        return math.nan
    return sd * _root(lambda effect: t_power(effect, n, alpha) - power, 1e-6)


def seeds_for(sd: float, difference: float, alpha: float = ALPHA, power: float = 0.8) -> int:
    """Seeds per setting (at least 2) for a two-sided t-test to detect ``difference`` with ``power`` at ``alpha``."""
    if not sd > 0 or not difference > 0:
        raise ValueError(f"seeds_for needs sd > 0 and difference > 0, got sd={sd}, difference={difference}")

    def gap(n: float) -> float:
        return t_power(difference / sd, n, alpha) - power

    if gap(2) >= 0:
        return 2
    n = math.ceil(_root(gap, 2.0))
    return n - 1 if gap(n - 1) >= 0 else n  # the root found to round-off may sit a hair above a whole n


@dataclass(frozen=True)
class Survival:
    """Kaplan–Meier median time with its interval; ``above`` when fewer than half reached it by then."""

    median: float
    low: float
    high: float
    events: int
    n: int
    above: float = math.nan


def km_median(times: Array, reached: Sequence[bool], level: float = LEVEL) -> Survival:
    """Kaplan–Meier median of right-censored times (statsmodels ``SurvfuncRight``; interval by its
    ``quantile_ci``, Brookmeyer–Crowley). With half or more censored the median is only "> last time"."""
    t, e = np.asarray(times, dtype=float), np.asarray(reached, dtype=int)
    if not len(t):
        return Survival(math.nan, math.nan, math.nan, 0, 0)
    if e.sum() == 0:
        return Survival(math.nan, math.nan, math.nan, 0, len(t), float(t.max()))
    fit = SurvfuncRight(t, e)
    median = float(fit.quantile(0.5))
    with np.errstate(divide="ignore", invalid="ignore"):  # its log-log transform at S = 1 or 0: an open end
        low, high = (float(v) for v in fit.quantile_ci(0.5, alpha=1 - level))
    if math.isnan(median):
        return Survival(math.nan, low, high, int(e.sum()), len(t), float(t.max()))
    return Survival(median, low, high, int(e.sum()), len(t))


def proportion_ci(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Clopper–Pearson exact interval of k successes in n (``scipy.stats.binomtest(...).proportion_ci``)."""
    if n < 1:
        return math.nan, math.nan
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def bootstrap_std(n: int, statistic: Callable[[np.ndarray], float], *, resamples: int = 50, seed: int = 0) -> float:
    """Bootstrap standard error of a statistic of an ``n``-item sample (``scipy.stats.bootstrap`` over the
    item indices; ``statistic`` takes an index vector)."""
    if n < 1 or resamples < 2:
        raise ValueError(f"bootstrap_std needs n ≥ 1 and resamples ≥ 2, got n={n}, resamples={resamples}")
    res = sps.bootstrap((np.arange(n),), statistic, n_resamples=resamples, vectorized=False, method="percentile",
                        rng=np.random.default_rng(seed))
    return float(res.standard_error)


def fmt(value: float, digits: int = 4) -> str:
    """A number to ``digits`` significant digits (no exponent for everyday magnitudes)."""
    if math.isnan(value):
        return "n/a"
    text = f"{value:.{digits}g}"
    if "e" in text and 1e-4 <= abs(value) < 1e15:
        text = f"{value:.{max(0, digits - 1 - math.floor(math.log10(abs(value))))}f}"
    return text


def format_ci(ci: MeanCI, digits: int = 4) -> str:
    """``"90.01 (85.1, 90, 95) [80.2, 99.8]"``: the values beside the mean with ≤ ``FEW_SEEDS`` seeds;
    a spread of zero as the values alone (``"10, 10, 10 over 3 seeds"``), never a zero-width interval."""
    shown = ", ".join(fmt(v, 3) for v in ci.values)
    if ci.n >= 2 and ci.std == 0:
        return f"{shown} over {ci.n} seeds"
    if ci.n < 2 or math.isnan(ci.low):
        return f"{fmt(ci.mean, digits)} [{ONE_SEED if ci.n < 2 else 'no interval: values at a bound'}]" + (
            f" ({shown})" if ci.n >= 2 else "")
    beside = f" ({shown})" if ci.values and ci.n <= FEW_SEEDS else ""
    return f"{fmt(ci.mean, digits)}{beside} [{fmt(ci.low, 3)}, {fmt(ci.high, 3)}]"


def format_interval(low: float, high: float, n: int) -> str:
    """``"[−12.3, 4.5]"`` or ``n/a (1 seed)`` when an interval needs more seeds than ``n``."""
    if math.isnan(low) or math.isnan(high):
        return ONE_SEED if n < 2 else "n/a"
    return f"[{fmt(low, 3)}, {fmt(high, 3)}]"
