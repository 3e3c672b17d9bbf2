"""The quality gate's rule: which values it gates, on which scale, and each one's limit (docs/DESIGN.md §7).

The metric table's ``gate`` field (`evaluators.metrics.Value`) declares the gated values and the scale
their limit is computed on (FID and the class shares' KL to uniform, both ``log``). A gated value of a
baseline entry fails a candidate only when the candidate is worse than a one-sided normal tolerance limit
over the entry's n seeds, computed on that scale (y) and mapped back:

    limit = back(ȳ ± k·s_y),   k = nct.ppf(1 − (1 − γ)/m, n − 1, z·√(n/c)) / √n,   z = Φ⁻¹(1 − α/m)

with m the gated values the entry holds, α `FALSE_ALARM`, γ `CONFIDENCE` and c the candidate's fresh seeds,
whose mean on the scale is what is compared (`pool`; c = 1: one seed). With confidence 1 − (1 − γ)/m over the
baseline's seeds, at least a share 1 − α/m of the distribution of that mean lies inside each limit (the mean of
c draws has the spread σ/√c); Bonferroni over the m values in both: with confidence γ, an unchanged recipe's
candidate of c fresh seeds fails with probability at most α. More seeds give tighter limits. A limit at or
past its value's possible range (`studies.schema.SCALES`) passes every candidate, and on MNIST so does one that
uniform noise passes (the committed sanity table's noise row): that value is shown ``vacuous`` and never fails
(its share of α goes unused). Every other quality value the baseline holds is shown ``info``: reported beside
the gated ones, never failing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaluators.metrics import value, values
from studies.schema import SCALES, noise_scores
from studies.stats import LINEAR, Scale
from wgan.data import DATASETS, MNIST
from wgan.errors import WganbenchError

FALSE_ALARM = 0.01   # per candidate, over all its gated values
CONFIDENCE = 0.95    # over the baseline's seeds, that the false-alarm rate holds
VERDICT_PASS, VERDICT_FAIL, VERDICT_INFO, VERDICT_VACUOUS = "pass", "REGRESSION", "info", "vacuous"
COLUMNS = ["metric", "scale", "baseline", "std", "seeds", "candidate", "delta", "limit", "verdict"]
RULE = ("one-sided normal tolerance limit on each gated value's scale, back(mean ± k·std) over n baseline seeds, for "
        "the mean on that scale of c candidate seeds: k = nct.ppf(1 − (1 − γ)/m, n − 1, Φ⁻¹(1 − α/m)·√(n/c))/√n, "
        "m gated values")


def gated_scales() -> dict[str, str]:
    """{value key: the scale it is gated on} from the metric table, on every data set (an entry holds those of
    its own data set)."""
    return {v.key: v.gate for dataset in DATASETS for v in values(dataset=dataset) if v.gate}


def gated_keys() -> list[str]:
    return list(gated_scales())


def scale_of(key: str, name: str) -> Scale:
    """The `Scale` a value is gated on: ``log`` of its distance from the lower end of its range (a value at
    that end is floored at the range's unit, so a KL of exactly 0 stays finite), or ``linear``."""
    if name == "linear":
        return LINEAR
    low, _, unit = SCALES.get(key, (-math.inf, math.inf, None))
    if not math.isfinite(low) or not unit:
        raise WganbenchError(f"value {key!r} is gated on the log scale, but studies.schema.SCALES gives it no "
                             "finite lower end and unit")
    return Scale(low, math.inf, unit)


def tolerance_factor(n: int, tail: float, confidence: float, candidates: int = 1) -> float:
    """k of the one-sided normal tolerance limit x̄ + k·s over n draws: with probability ``confidence``, at most
    ``tail`` of the distribution of the mean of ``candidates`` new draws lies beyond it (noncentral t; n 5, tail
    0.01, confidence 0.95: k 5.741). With x̄ ~ N(μ, σ²/n) and s²(n − 1)/σ² ~ χ²(n − 1), x̄ + k·s ≥ μ + z·σ/√c
    exactly when (z·√(n/c) − Z)/(s/σ) ≤ k·√n, a noncentral t with n − 1 degrees of freedom."""
    z = float(stats.norm.isf(tail))  # the tail itself, not 1 − tail: that rounds to 1 for a tiny false-alarm rate
    return float(stats.nct.ppf(confidence, n - 1, z * math.sqrt(n / candidates))) / math.sqrt(n)


@dataclass(frozen=True)
class Threshold:
    """The worst value of one gated metric a candidate may have, and where it comes from."""

    metric: str
    better: str
    scale: str
    mean: float      # of the per-seed values, as they are
    std: float
    seeds: int
    k: float
    limit: float
    vacuous: bool    # at or past the value's range (or what uniform noise scores): it passes a useless candidate

    def passes(self, candidate: float) -> bool:
        if not math.isfinite(candidate):
            return False
        slack = 1e-9 * max(1.0, abs(self.limit))  # float noise of a rerun that reproduces a seed exactly
        return candidate <= self.limit + slack if self.better == "lower" else candidate >= self.limit - slack


def per_seed(stats_or_value: Any) -> list[float]:
    if isinstance(stats_or_value, dict):
        return [float(v) for v in stats_or_value["values"]]
    return [float(stats_or_value)]  # one number: a baseline without spread allows no worsening


def threshold(metric: str, stats_or_value: Any, *, n_metrics: int, false_alarm: float = FALSE_ALARM,
              confidence: float = CONFIDENCE, scale: str | None = None, noise: float | None = None,
              candidates: int = 1) -> Threshold:
    """The one-sided tolerance limit of ``metric`` from its per-seed values, for the mean of ``candidates``
    fresh seeds (see the module docstring);
    ``scale`` defaults to the one the metric table gates it on. A limit at or past ``noise`` (what uniform
    noise scores) passes a generator that learned nothing: vacuous too."""
    seeds = per_seed(stats_or_value)
    better = value(metric).better
    assert better in ("lower", "higher"), metric  # the metric table allows gating only directed values
    name = scale or gated_scales().get(metric, "linear")
    on = scale_of(metric, name)
    y = on.forward(np.asarray(seeds, dtype=np.float64))
    n = len(seeds)
    k = (tolerance_factor(n, false_alarm / n_metrics, 1.0 - (1.0 - confidence) / n_metrics, candidates)
         if n > 1 else 0.0)
    if not math.isfinite(k):
        raise WganbenchError(f"false_alarm {false_alarm:g} is too small: the tolerance factor for it over {n} seeds "
                             "is not a finite number; give a larger --false-alarm")
    spread_y = float(np.std(y, ddof=1)) if n > 1 else 0.0
    sign = 1.0 if better == "lower" else -1.0
    limit = on.back(float(np.mean(y)) + sign * k * spread_y) if n > 1 else seeds[0]
    low, high, _ = SCALES.get(metric, (-math.inf, math.inf, None))
    worst = high if better == "lower" else low
    if noise is not None and math.isfinite(noise):
        worst = min(worst, noise) if better == "lower" else max(worst, noise)
    vacuous = limit >= worst if better == "lower" else limit <= worst
    mean = math.fsum(seeds) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in seeds) / (n - 1)) if n > 1 else 0.0
    return Threshold(metric, better, name, mean, std, n, k, limit, vacuous)


def reported_keys(baseline: dict[str, Any]) -> list[str]:
    """The quality values (those with a better direction) the baseline holds, in the metric table's order."""
    every = dict.fromkeys(v.key for dataset in DATASETS for v in values(dataset=dataset) if v.better is not None)
    return [key for key in every if key in baseline]


def thresholds(baseline: dict[str, Any], false_alarm: float = FALSE_ALARM, confidence: float = CONFIDENCE,
               dataset: str = MNIST, candidates: int = 1) -> dict[str, Threshold]:
    """The limit of each gated value the baseline holds for the mean of ``candidates`` fresh seeds, Bonferroni
    over the values (cheap: the gate computes them
    before scoring a candidate, so a rate too small to give a finite limit fails first). On MNIST a limit
    that uniform noise passes (the committed sanity table's row) is vacuous."""
    gated = [key for key in gated_keys() if key in baseline]
    if not gated:
        raise WganbenchError("the baseline holds none of the gated metrics " + ", ".join(gated_keys()))
    noise = noise_scores() if dataset == MNIST else {}
    return {key: threshold(key, baseline[key], n_metrics=len(gated), false_alarm=false_alarm, confidence=confidence,
                           noise=noise.get(key), candidates=candidates) for key in gated}


def compare_scores(baseline: dict[str, Any], candidate: dict[str, float], false_alarm: float = FALSE_ALARM,
                   confidence: float = CONFIDENCE, dataset: str = MNIST, candidates: int = 1) -> pd.DataFrame:
    """One row per quality value the baseline holds: baseline mean, std and seeds, candidate, limit, verdict.
    ``candidate`` is one seed's scores, or the `pool` of ``candidates`` seeds'.

    ``baseline`` maps a value to its spread ``{"values": [...], ...}`` (or to one number: no worsening
    allowed). A gated value the candidate lacks is an error; a reported one it lacks is left out.
    """
    gated = thresholds(baseline, false_alarm, confidence, dataset, candidates)
    rows = []
    for key in [*gated, *(key for key in reported_keys(baseline) if key not in gated)]:
        if key not in candidate:
            if key in gated:
                raise WganbenchError(f"candidate scores lack {key!r} (have {sorted(candidate)})")
            continue
        cand = float(candidate[key])
        if key in gated:
            limit = gated[key]
            verdict = VERDICT_VACUOUS if limit.vacuous else VERDICT_PASS if limit.passes(cand) else VERDICT_FAIL
            row = {"scale": limit.scale, "baseline": limit.mean, "std": limit.std, "seeds": limit.seeds,
                   "limit": limit.limit, "verdict": verdict}
        else:
            seeds = per_seed(baseline[key])
            row = {"scale": "", "baseline": float(np.mean(seeds)),
                   "std": float(np.std(seeds, ddof=1)) if len(seeds) > 1 else 0.0, "seeds": len(seeds),
                   "limit": math.nan, "verdict": VERDICT_INFO}
        rows.append({"metric": key, "candidate": cand, "delta": cand - row["baseline"], **row})
    return pd.DataFrame(rows, columns=COLUMNS)


def pool(scores: list[dict[str, float]]) -> dict[str, float]:
    """One candidate's scores from several fresh seeds' (the keys all of them hold): each gated value is the mean
    on the scale it is gated on, mapped back (a geometric mean on the log scale), so the limit for the mean of
    c seeds applies; every other value is the plain mean."""
    if not scores:
        raise WganbenchError("no candidate scores to pool")
    scales = gated_scales()
    out = {}
    for key in (key for key in scores[0] if all(key in s for s in scores)):
        x = np.array([s[key] for s in scores], dtype=np.float64)
        on = scale_of(key, scales[key]) if key in scales else LINEAR
        out[key] = on.back(float(np.mean(on.forward(x)))) if np.isfinite(x).all() else math.nan
    return out


def passed(table: pd.DataFrame) -> bool:
    return not bool((table["verdict"] == VERDICT_FAIL).any())


def gated_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of the values the gate judged (pass or regression)."""
    return table[table["verdict"].isin((VERDICT_PASS, VERDICT_FAIL))]
