"""The report's tables computed from ``scores.csv`` rows: final scores with their 95 % intervals over
seeds, the pairwise FID comparisons (Welch, Holm-corrected), cost with time to a target FID, ranking.

Each function returns a DataFrame whose numbers go to a CSV; ``*_shown`` tables hold the same
numbers as text ("90.01 [85.2, 94.8]") for the Markdown and HTML report.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from evaluators.metrics import value, values
from studies import stats
from studies.schema import IMAGES_PER_S, SEED, SETTING, STATUS, STATUS_FAILED, STATUS_OK, STEP, TARGET, WALL_S
from wgan.data import DATASETS
from wgan.errors import WganbenchError
from wgan.settings import get_setting

# The headline scores the findings and the ranking speak of.
FID, IS_MEAN, MODES_COVERED, RECALL, STACKED_MODES = "fid", "is_mean", "modes_covered", "recall", "stacked_modes"
ALPHA = 0.05  # family-wise error rate of the comparisons (Holm)
GAN = "gan"

# Pairs compared beyond "every WGAN setting against `gan`", and what each pair asks.
PAIRS: dict[tuple[str, str], str] = {
    ("wgan-seed", "gan"): "the notebook's clipped WGAN versus its DCGAN",
    ("wgan", "gan"): "the paper's WGAN versus the cross-entropy GAN",
    ("wgan-gp", "gan"): "the gradient-penalty WGAN versus the cross-entropy GAN",
    ("wgan", "wgan-seed"): "the paper's WGAN recipe versus the notebook's",
    ("wgan-gp", "wgan"): "the gradient penalty versus weight clipping",
}


def score_columns() -> list[str]:
    """Every quality value of the metric table on any data set (spreads left out), in the table's order."""
    keys = [v.key for dataset in DATASETS for v in values(dataset=dataset) if v.better is not None]
    return list(dict.fromkeys(keys))


def best_columns() -> dict[str, str]:
    """Which way is best for each score column, from the metric table (``render_html``'s ``best``)."""
    best = {}
    for v in (value(key) for key in score_columns()):
        if v.better is not None:
            how = "min" if v.better == "lower" else "max"
            best.update({v.key: how, f"{v.key}_mean": how})
    return best


def final_rows(curves: pd.DataFrame) -> pd.DataFrame:
    """The last successful scored checkpoint of every run that did not fail."""
    ok = curves[curves[STATUS] == STATUS_OK]
    failed = set(map(tuple, curves.loc[curves[STATUS] == STATUS_FAILED, [SETTING, SEED]].values))
    last = ok.sort_values(TARGET).groupby([SETTING, SEED], sort=False).tail(1)
    return last[np.array([(s, seed) not in failed for s, seed in zip(last[SETTING], last[SEED])], dtype=bool)]


def final_scores(final: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(numeric table for CSV, 'mean [95% CI]' table for reading), one row per setting.

    Numeric columns per score ``c``: ``c_mean``, ``c_std`` (over seeds), ``c_ci_low``, ``c_ci_high``
    (the t interval of the mean, :func:`studies.stats.mean_ci`; NaN with one seed).
    """
    columns = [c for c in score_columns() if c in final.columns]
    rows, shown = [], []
    for setting, runs in final.groupby(SETTING, sort=False):
        row: dict = {SETTING: setting, "seeds": len(runs)}
        text: dict = {SETTING: setting, "seeds": len(runs)}
        for c in columns:
            ci = stats.mean_ci(runs[c].to_numpy(dtype=float))
            row.update({f"{c}_mean": ci.mean, f"{c}_std": ci.std, f"{c}_ci_low": ci.low, f"{c}_ci_high": ci.high})
            text[c] = stats.format_ci(ci)
        rows.append(row)
        shown.append(text)
    return pd.DataFrame(rows), pd.DataFrame(shown)


def pairs(settings: list[str]) -> list[tuple[str, str]]:
    """The comparisons of the report among ``settings``: each WGAN setting against `gan`, `wgan` against
    `wgan-seed`, `wgan-gp` against `wgan` (only pairs whose settings are both present)."""
    def wasserstein(name: str) -> bool:
        try:
            return get_setting(name).objective.estimates_distance
        except WganbenchError:
            return False

    out = [(s, GAN) for s in settings if s != GAN and GAN in settings and wasserstein(s)]
    out += [p for p in PAIRS if p[0] in settings and p[1] in settings and p not in out]
    return out


def comparisons(final: pd.DataFrame, metric: str = FID) -> pd.DataFrame:
    """Each pair's difference of mean final ``metric`` (first minus second) with its Welch interval and
    p-value, Holm-adjusted over the pairs; ``winner`` only where the interval excludes zero and the
    adjusted p < ``ALPHA`` (else empty)."""
    lower_better = next((v.better == "lower" for v in values() if v.key == metric), True)
    by = {s: runs[metric].to_numpy(dtype=float) for s, runs in final.groupby(SETTING, sort=False)}
    rows = []
    for a, b in pairs(list(by)):
        w = stats.welch(by[a], by[b])
        rows.append({"a": a, "b": b, "question": PAIRS.get((a, b), f"`{a}` versus `{b}`"), "seeds_a": w.n_a,
                     "seeds_b": w.n_b, f"{metric}_a": float(np.mean(by[a])), f"{metric}_b": float(np.mean(by[b])),
                     "diff": w.diff, "ci_low": w.low, "ci_high": w.high, "df": w.df, "p": w.p})
    table = pd.DataFrame(rows, columns=["a", "b", "question", "seeds_a", "seeds_b", f"{metric}_a", f"{metric}_b",
                                        "diff", "ci_low", "ci_high", "df", "p"])
    table["p_holm"] = stats.holm(table["p"].to_numpy(dtype=float)) if len(table) else []
    decisive = [(lo > 0 or hi < 0) and p < ALPHA for lo, hi, p in zip(table["ci_low"], table["ci_high"],
                                                                      table["p_holm"])]
    table["winner"] = [("" if not d else (a if (diff < 0) == lower_better else b))
                       for d, a, b, diff in zip(decisive, table["a"], table["b"], table["diff"])]
    return table


def comparisons_shown(table: pd.DataFrame, metric: str = FID) -> pd.DataFrame:
    def p_text(p: float, n: int) -> str:
        return stats.ONE_SEED if math.isnan(p) and n < 2 else ("n/a" if math.isnan(p) else f"{p:.3g}")

    return pd.DataFrame({
        "comparison": [f"`{a}` − `{b}`" for a, b in zip(table["a"], table["b"])],
        "seeds": [f"{na} vs {nb}" for na, nb in zip(table["seeds_a"], table["seeds_b"])],
        f"{metric} difference": [stats.fmt(d) for d in table["diff"]],
        "95% CI": [stats.format_interval(lo, hi, min(na, nb)) for lo, hi, na, nb in
                   zip(table["ci_low"], table["ci_high"], table["seeds_a"], table["seeds_b"])],
        "p (Welch)": [p_text(p, min(na, nb)) for p, na, nb in zip(table["p"], table["seeds_a"], table["seeds_b"])],
        "p (Holm)": [p_text(p, min(na, nb)) for p, na, nb in
                     zip(table["p_holm"], table["seeds_a"], table["seeds_b"])],
        "verdict": [f"`{w}` better" if w else "no difference detected" for w in table["winner"]],
    })


def time_to_fid(curves: pd.DataFrame, target: float) -> pd.DataFrame:
    """Per (setting, seed): the first scored point with FID ≤ target (training seconds and step), if any."""
    ok = curves[(curves[STATUS] == STATUS_OK) & (curves[FID] <= target)]
    first = ok.sort_values(WALL_S).groupby([SETTING, SEED], sort=False).head(1)
    return first[[SETTING, SEED, WALL_S, STEP]].reset_index(drop=True)


def reached_label(target: float) -> str:
    return f"reached_fid_{target:g}"


def cost_table(curves: pd.DataFrame, final: pd.DataFrame, target: float) -> pd.DataFrame:
    """Per setting: mean steps, training seconds and images/s of the final points; how many seeds reached
    FID ≤ ``target`` and the median training seconds (over those seeds) it took."""
    table = final.groupby(SETTING, sort=False).agg(
        seeds=(SEED, "nunique"), steps=(STEP, "mean"), wall_s=(WALL_S, "mean"), images_per_s=(IMAGES_PER_S, "mean"))
    reached = time_to_fid(curves, target)
    finished = set(zip(final[SETTING], final[SEED]))
    reached = reached[np.array([(s, seed) in finished for s, seed in zip(reached[SETTING], reached[SEED])],
                               dtype=bool)]
    by = reached.groupby(SETTING)
    count, median = by.size(), by[WALL_S].median()
    table[reached_label(target)] = [f"{int(count.get(s, 0))} of {n}" for s, n in zip(table.index, table["seeds"])]
    table[f"s_to_fid_{target:g}"] = [median.get(s, np.nan) for s in table.index]
    return table.reset_index()


def ranking(table: pd.DataFrame) -> pd.DataFrame:
    """Settings by mean final FID (lower is better), with the other headline scores beside it."""
    cols = [c for c in (SETTING, f"{FID}_mean", f"{FID}_ci_low", f"{FID}_ci_high", f"{IS_MEAN}_mean",
                        f"{MODES_COVERED}_mean", f"{RECALL}_mean") if c in table.columns]
    out = table[cols].sort_values(f"{FID}_mean").reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out
