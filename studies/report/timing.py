"""Time to a target FID as a censored time-to-event, and failed runs counted, not dropped.

A run's time to the target is interpolated between the two scoring points that bracket its first
crossing (linear in log FID against training seconds); a run that never gets there, or fails first, is
censored at the study's budget. Each setting's Kaplan–Meier median comes with its interval
(`studies.stats.km_median`); where half the seeds or more never reach the target it is "> budget".
Failures: each setting's failure rate with its exact (Clopper–Pearson) interval.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from studies import stats
from studies.schema import SEED, SETTING, STATUS, STATUS_FAILED, STATUS_OK, WALL_S

FID = "fid"
TARGET_SHARE = 0.3  # the default target: 30 % of uniform noise's FID, where samples start to read as digits


def default_target(noise: float) -> float:
    return TARGET_SHARE * noise


def crossing(seconds: np.ndarray, fid: np.ndarray, target: float) -> float:
    """Training seconds at which a curve first reaches FID ≤ ``target`` (NaN if never): interpolated in
    log FID between the bracketing points; at the first point if it is already below."""
    below = np.flatnonzero(fid <= target)
    if not len(below):
        return math.nan
    k = int(below[0])
    if k == 0:
        return float(seconds[0])
    f0, f1 = math.log(fid[k - 1]), math.log(fid[k])
    return float(np.interp(math.log(target), [f1, f0], [seconds[k], seconds[k - 1]]))


def events(curves: pd.DataFrame, target: float, budget: float) -> pd.DataFrame:
    """Per run: ``seconds`` to the target (or the censoring time ``budget``), ``reached``, ``failed``."""
    failed = set(map(tuple, curves.loc[curves[STATUS] == STATUS_FAILED, [SETTING, SEED]].values))
    rows = []
    for (setting, seed), run in curves.groupby([SETTING, SEED], sort=False):
        ok = run[run[STATUS] == STATUS_OK].sort_values(WALL_S)
        t = crossing(ok[WALL_S].to_numpy(dtype=float), ok[FID].to_numpy(dtype=float), target)
        rows.append({SETTING: setting, SEED: int(seed), "seconds": budget if math.isnan(t) else t,
                     "reached": not math.isnan(t), "failed": (setting, seed) in failed})
    return pd.DataFrame(rows, columns=[SETTING, SEED, "seconds", "reached", "failed"])


def survival_text(s: stats.Survival) -> str:
    if not math.isnan(s.above):
        return f"median > {s.above:.0f} s"
    high = "∞" if math.isinf(s.high) or math.isnan(s.high) else f"{s.high:.0f}"
    low = "n/a" if math.isnan(s.low) else f"{s.low:.0f}"
    return f"median {s.median:.0f} s [{low}, {high}]"


def time_to_target(runs: pd.DataFrame) -> pd.DataFrame:
    """Per setting: seeds that reached the target and the Kaplan–Meier median seconds with its interval."""
    rows = []
    for setting, group in runs.groupby(SETTING, sort=False):
        s = stats.km_median(group["seconds"], group["reached"])
        rows.append({SETTING: setting, "reached": f"{s.events} of {s.n}", "median_s": s.median,
                     "ci_low_s": s.low, "ci_high_s": s.high, "median_above_s": s.above,
                     "time to target": survival_text(s)})
    return pd.DataFrame(rows)


def time_line(table: pd.DataFrame, target: float) -> str:
    parts = [f"`{r[SETTING]}` {r['reached']} seeds, {r['time to target']}" for _, r in table.iterrows()]
    return (f"Time to FID ≤ {target:.0f} ({100 * TARGET_SHARE:.0f}% of uniform noise's; Kaplan–Meier over seeds, "
            "runs that never reach it censored at the budget): " + "; ".join(parts) + ".") if parts else ""


def failures(curves: pd.DataFrame, noise_counted: bool) -> pd.DataFrame:
    """Per setting: failed runs of all, the failure rate's exact 95 % interval and how a failed run counts."""
    rows = []
    failed = curves[curves[STATUS] == STATUS_FAILED]
    how = "at its last good point, or at noise's FID without one" if noise_counted else "at its last good point"
    for setting, group in curves.groupby(SETTING, sort=False):
        n, k = group[SEED].nunique(), failed.loc[failed[SETTING] == setting, SEED].nunique()
        low, high = stats.proportion_ci(k, n)
        rows.append({SETTING: setting, "failed": k, "runs": n, "rate": k / n, "ci_low": low, "ci_high": high,
                     "shown": f"{k} of {n} [{100 * low:.0f}%, {100 * high:.0f}%]", "a failed run counts": how})
    return pd.DataFrame(rows)


def failure_line(table: pd.DataFrame) -> str:
    runs, failed = int(table["runs"].sum()), int(table["failed"].sum())
    low, high = stats.proportion_ci(failed, runs)
    return (f"Failed runs: {failed} of {runs} (exact 95% CI of the rate [{100 * low:.0f}%, {100 * high:.0f}%]); "
            + "; ".join(f"`{r[SETTING]}` {r['shown']}" for _, r in table.iterrows())
            + ("." if not failed else f"; a failed run counts {table['a failed run counts'].iloc[0]}."))
