"""The statistics behind the report's comparisons: pure functions on arrays of per-seed numbers.

Every interval is two-sided at 95 % (``LEVEL``); every test is two-sided. With one seed there is no
spread and so no interval or test: the functions return NaN there and :func:`format_ci` says
``n/a (1 seed)``. Each function names its formula and source; ``tests/test_stats.py`` checks them
against SciPy and independent NumPy formulas.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

LEVEL = 0.95
ONE_SEED = "n/a (1 seed)"


def _sample(x: Sequence[float] | np.ndarray) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).ravel()
    return a[~np.isnan(a)]


@dataclass(frozen=True)
class MeanCI:
    """A mean over ``n`` seeds with its t interval [``low``, ``high``] (NaN with fewer than 2 seeds)."""

    mean: float
    low: float
    high: float
    std: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def mean_ci(x: Sequence[float] | np.ndarray, level: float = LEVEL) -> MeanCI:
    """Mean with the Student t confidence interval over independent seeds (NaNs dropped).

    x̄ ± t_{1−α/2, n−1} · s/√n, with s the sample standard deviation (ddof 1) and t the quantile of
    Student's t with n − 1 degrees of freedom (``scipy.stats.t.ppf``); e.g. Wasserman, *All of
    Statistics* (2004), §10.4 / Student (1908). Assumes roughly normal per-seed values; with 2–5 seeds
    the t quantile (12.7 for n = 2, 4.30 for n = 3) makes the interval honestly wide.
    """
    a = _sample(x)
    n = len(a)
    if n == 0:
        return MeanCI(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(a.mean())
    if n == 1:
        return MeanCI(mean, math.nan, math.nan, math.nan, 1)
    std = float(a.std(ddof=1))
    half = float(sps.t.ppf(0.5 + level / 2, n - 1)) * std / math.sqrt(n)
    return MeanCI(mean, mean - half, mean + half, std, n)


@dataclass(frozen=True)
class Welch:
    """Difference of means ``a − b`` with its Welch interval, t statistic, degrees of freedom and p."""

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


def welch(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, level: float = LEVEL) -> Welch:
    """Welch's unequal-variance t-test of mean(a) = mean(b), with the interval of the difference.

    With vᵢ = sᵢ²/nᵢ: t = (x̄_a − x̄_b)/√(v_a + v_b); degrees of freedom by Welch–Satterthwaite,
    ν = (v_a + v_b)² / (v_a²/(n_a − 1) + v_b²/(n_b − 1)); p = 2·P(T_ν > |t|); interval
    (x̄_a − x̄_b) ± t_{1−α/2, ν}·√(v_a + v_b). Welch (1947), *Biometrika* 34:28–35; Satterthwaite
    (1946). The p equals ``scipy.stats.ttest_ind(a, b, equal_var=False)``'s. NaN everywhere but the
    difference when a group has fewer than 2 values, or when neither group varies.
    """
    xa, xb = _sample(a), _sample(b)
    na, nb = len(xa), len(xb)
    diff = float(xa.mean() - xb.mean()) if na and nb else math.nan
    va = float(xa.var(ddof=1)) / na if na > 1 else math.nan
    vb = float(xb.var(ddof=1)) / nb if nb > 1 else math.nan
    se2 = va + vb
    if not (na > 1 and nb > 1) or se2 <= 0:
        return Welch(diff, math.nan, math.nan, math.nan, math.nan, math.nan, na, nb)
    se = math.sqrt(se2)
    df = se2**2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    t = diff / se
    half = float(sps.t.ppf(0.5 + level / 2, df)) * se
    return Welch(diff, diff - half, diff + half, t, df, float(2 * sps.t.sf(abs(t), df)), na, nb)


def holm(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values for a family of tests (NaNs stay NaN and are not counted).

    With the m finite p-values sorted, p₍₁₎ ≤ … ≤ p₍ₘ₎: p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1)·p₍ⱼ₎),
    returned in the input's order. Rejecting where p̃ < α controls the family-wise error rate at α
    under any dependence. Holm (1979), "A simple sequentially rejective multiple test procedure",
    *Scand. J. Statist.* 6:65–70; the same values as statsmodels' ``multipletests(method="holm")``.
    """
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    out = np.full_like(p, np.nan)
    finite = np.flatnonzero(~np.isnan(p))
    m = len(finite)
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def spearman(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Spearman's rank correlation ρ of paired values: Pearson's r of their (average) ranks.

    Spearman (1904), *Am. J. Psychol.* 15:72–101; ``scipy.stats.spearmanr``. NaN when fewer than 3
    pairs or when either side is constant (no ranking to correlate).
    """
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(sps.spearmanr(a, b).statistic)


def correlation_ci(rhos: Sequence[float] | np.ndarray, level: float = LEVEL) -> MeanCI:
    """The across-seed mean of per-run correlations with its t interval (:func:`mean_ci`), clipped to [−1, 1].

    Each run gives one ρ; the runs are the independent units, so the interval is over seeds, not
    over the points within a run.
    """
    ci = mean_ci(rhos, level)
    if math.isnan(ci.low):
        return ci
    return MeanCI(ci.mean, max(-1.0, ci.low), min(1.0, ci.high), ci.std, ci.n)


def bootstrap_std(n: int, statistic: Callable[[np.ndarray], float], *, resamples: int = 50,
                  seed: int = 0) -> float:
    """Bootstrap standard error of a statistic of an ``n``-item sample (Efron & Tibshirani 1993, ch. 6).

    Draws ``resamples`` index vectors of length n with replacement, evaluates ``statistic(indices)``
    on each and returns the standard deviation (ddof 1) of those replicates.
    """
    if n < 1 or resamples < 2:
        raise ValueError(f"bootstrap_std needs n ≥ 1 and resamples ≥ 2, got n={n}, resamples={resamples}")
    rng = np.random.default_rng(seed)
    replicates = [statistic(rng.integers(0, n, n)) for _ in range(resamples)]
    return float(np.std(replicates, ddof=1))


def fmt(value: float, digits: int = 4) -> str:
    """A number to ``digits`` significant digits (no exponent for everyday magnitudes)."""
    if math.isnan(value):
        return "n/a"
    text = f"{value:.{digits}g}"
    if "e" in text and 1e-4 <= abs(value) < 1e15:
        text = f"{value:.{max(0, digits - 1 - math.floor(math.log10(abs(value))))}f}"
    return text


def format_ci(ci: MeanCI, digits: int = 4) -> str:
    """``"90.01 [85.2, 94.8]"``, or ``"90.01 [n/a (1 seed)]"`` without an interval."""
    if ci.n < 2:
        return f"{fmt(ci.mean, digits)} [{ONE_SEED}]"
    return f"{fmt(ci.mean, digits)} [{fmt(ci.low, 3)}, {fmt(ci.high, 3)}]"


def format_interval(low: float, high: float, n: int) -> str:
    """``"[−12.3, 4.5]"`` or ``n/a (1 seed)`` when an interval needs more seeds than ``n``."""
    if math.isnan(low) or math.isnan(high):
        return ONE_SEED if n < 2 else "n/a"
    return f"[{fmt(low, 3)}, {fmt(high, 3)}]"
