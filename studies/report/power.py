"""Which noise dominates, what the study's seeds can detect and how many it would need.

Variance components: the seed-to-seed variance of the final FID is the between-seed variance plus the
evaluation's own (a bootstrap of the final samples); the between-seed part net of the evaluation's says
whether more seeds or more samples buy precision, and the sample count that makes the evaluation's
share small. Power: from the pooled seed-to-seed spread of log FID (the comparisons' scale), the
smallest FID ratio the study's seeds detect at the comparisons' Bonferroni level with 80 % power, and
the seeds per setting that would detect ``RATIO`` (`studies.stats.detectable`, `studies.stats.seeds_for`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from studies import stats
from studies.schema import SETTING

FID = "fid"
POWER = 0.8
RATIO = 1.25           # the FID ratio the mission asks a study to detect (a quarter lower or higher)
EVAL_SHARE = 0.1       # the evaluation's variance counts as small below this share of the between-seed part


def noise_sources(final: pd.DataFrame, eval_std: Mapping[str, float], n: int) -> pd.DataFrame:
    """Per setting: seed-to-seed and evaluation standard deviation of the final FID, the between-seed
    standard deviation net of the evaluation's, what to buy more of and the samples that would make the
    evaluation's variance ``EVAL_SHARE`` of the between-seed variance (``n`` is the study's)."""
    rows = []
    for setting, runs in final.groupby(SETTING, sort=False):
        seed_var = float(runs[FID].var(ddof=1)) if len(runs) > 1 else math.nan
        e = eval_std.get(setting, math.nan)
        between = max(0.0, seed_var - e**2) if not math.isnan(seed_var + e) else math.nan
        if math.isnan(seed_var):
            advice, samples = "more seeds (one seed measures no seed-to-seed spread)", math.nan
        elif math.isnan(e):
            advice, samples = "n/a (no evaluation spread)", math.nan
        elif between == 0:
            advice, samples = "more samples (the seeds vary no more than the evaluation)", math.nan
        else:
            samples = n * e**2 / (EVAL_SHARE * between)
            advice = "more seeds" if between > e**2 else "more samples"
            if samples <= n:
                advice += f" ({n:,} samples are enough)"
        rows.append({SETTING: setting, "seeds": len(runs), "fid_seed_std": math.sqrt(seed_var) if seed_var >= 0
                     else math.nan, "fid_eval_std": e, "fid_between_std": math.sqrt(between)
                     if between >= 0 else math.nan, "samples_needed": samples, "recommend": advice})
    return pd.DataFrame(rows, columns=[SETTING, "seeds", "fid_seed_std", "fid_eval_std", "fid_between_std",
                                       "samples_needed", "recommend"])


def spread_line(spread: pd.DataFrame) -> str:
    parts = [f"`{r[SETTING]}` seed-to-seed std {stats.fmt(r['fid_seed_std'], 3)}, between seeds net of the "
             f"evaluation's {stats.fmt(r['fid_between_std'], 3)}, evaluation std {stats.fmt(r['fid_eval_std'], 3)} "
             f"→ {r['recommend']}" for _, r in spread.iterrows()]
    return "Which noise dominates the final FID: " + "; ".join(parts) + "." if parts else ""


def log_sd(final: pd.DataFrame) -> tuple[float, int]:
    """The pooled within-setting standard deviation of log final FID and its degrees of freedom."""
    groups = [np.log(runs[FID].to_numpy(dtype=float)) for _, runs in final.groupby(SETTING)]
    df = sum(len(g) - 1 for g in groups)
    ss = sum(float(((g - g.mean()) ** 2).sum()) for g in groups if len(g) > 1)
    return (math.sqrt(ss / df), df) if df > 0 else (math.nan, 0)


def power_table(final: pd.DataFrame, m: int) -> pd.DataFrame:
    """The minimum detectable FID ratio at the study's seeds and the seeds that detect ``RATIO``, at
    α / m (the comparisons' Bonferroni level) with ``POWER``."""
    sd, df = log_sd(final)
    seeds = int(final.groupby(SETTING).size().min())
    alpha = stats.ALPHA / max(1, m)
    mdd = stats.detectable(sd, seeds, alpha, POWER)
    need = stats.seeds_for(sd, math.log(RATIO), alpha, POWER) if sd > 0 else math.nan
    return pd.DataFrame([{"log_fid_sd": sd, "df": df, "seeds": seeds, "alpha": alpha, "power": POWER,
                          "detectable_ratio": math.exp(mdd) if not math.isnan(mdd) else math.nan,
                          "ratio_asked": RATIO, "seeds_needed": need}])


def power_line(table: pd.DataFrame) -> str:
    r = table.iloc[0]
    if math.isnan(r["log_fid_sd"]):
        return "Power: one seed per setting measures no spread, so no difference can be detected."
    return (f"Power: the seeds' spread of log FID is {r['log_fid_sd']:.3g} (pooled, {int(r['df'])} df); with "
            f"{int(r['seeds'])} seeds per setting, at α = {r['alpha']:.3g} (Bonferroni) and {100 * r['power']:.0f}% "
            f"power, the smallest FID ratio detected is {r['detectable_ratio']:.3g}×; detecting {r['ratio_asked']:g}× "
            f"needs {int(r['seeds_needed'])} seeds per setting.")
