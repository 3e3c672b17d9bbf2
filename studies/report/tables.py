"""The report's tables computed from ``scores.csv`` rows: final scores with their 95 % intervals over
seeds (each on its quantity's scale, `studies.schema.SCALES`), the pairwise FID comparisons (Welch on log FID with
Bonferroni-simultaneous intervals), cost, ranking.

Each function returns a DataFrame whose numbers go to a CSV; ``*_shown`` tables hold the same
numbers as text ("90.01 [85.2, 94.8]") for the Markdown and HTML report.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from evaluators.metrics import value, values
from studies import stats
from studies.schema import (
    IMAGES_PER_S,
    POINT_S,
    SCALES,
    SCORE_S,
    SEED,
    SETTING,
    STATUS,
    STATUS_FAILED,
    STATUS_OK,
    STEP,
    TARGET,
    WALL_S,
)
from studies.stats import Scale
from wgan.data import DATASETS
from wgan.errors import WganbenchError
from wgan.settings import get_setting

# The headline scores the findings and the ranking speak of.
FID, IS_MEAN, MODES_COVERED, RECALL, STACKED_MODES = "fid", "is_mean", "modes_covered", "recall", "stacked_modes"
ALPHA = stats.ALPHA  # family-wise error rate of the comparisons (Bonferroni)
GAN = "gan"
NEAR_NOISE_SHARE = 0.6  # a final FID above this share of noise's is "near noise": no verdict between two such

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


def scale_for(key: str, n: float = math.nan) -> Scale:
    """The scale of score ``key``'s interval (identity for a score without a range in `SCALES`)."""
    if key not in SCALES:
        return stats.LINEAR
    low, high, unit = SCALES[key]
    return Scale(low, high, unit if unit is not None else 0.5 / (n if n > 0 else 10_000))


def final_rows(curves: pd.DataFrame, noise: float | None = None) -> pd.DataFrame:
    """Each run's last successful scored point, a failed run's included (``failed`` marks it: it is judged
    at its last good checkpoint, not dropped); with ``noise``, a run that failed before any good point
    is counted at uniform noise's FID (its other scores unknown), else left out."""
    ok = curves[curves[STATUS] == STATUS_OK]
    failed = set(map(tuple, curves.loc[curves[STATUS] == STATUS_FAILED, [SETTING, SEED]].values))
    last = ok.sort_values(TARGET).groupby([SETTING, SEED], sort=False).tail(1).copy()
    last["failed"] = [(s, seed) in failed for s, seed in zip(last[SETTING], last[SEED])]
    scored = set(zip(last[SETTING], last[SEED]))
    lost = [{SETTING: s, SEED: seed, FID: noise, "failed": True} for s, seed in sorted(failed - scored)]
    if noise is None or not lost:
        return last
    return pd.concat([last, pd.DataFrame(lost)], ignore_index=True)


def final_scores(final: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(numeric table for CSV, 'mean [95% CI]' table for reading), one row per setting.

    Numeric columns per score ``c``: ``c_mean``, ``c_std`` (over seeds), ``c_ci_low``, ``c_ci_high``,
    ``c_values`` (the per-seed values)
    (the t interval on the score's scale, :func:`scale_for`, mapped back into its range; NaN with one seed
    or values all at one bound).
    """
    columns = [c for c in score_columns() if c in final.columns]
    rows, shown = [], []
    for setting, runs in final.groupby(SETTING, sort=False):
        row: dict = {SETTING: setting, "seeds": len(runs)}
        text: dict = {SETTING: setting, "seeds": len(runs)}
        for c in columns:
            n = float(runs["n"].max()) if "n" in runs.columns else math.nan
            ci = stats.mean_ci(runs[c].to_numpy(dtype=float), scale=scale_for(c, n))
            row.update({f"{c}_mean": ci.mean, f"{c}_std": ci.std, f"{c}_ci_low": ci.low, f"{c}_ci_high": ci.high,
                        f"{c}_values": ci.values})
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


def near_noise(fid: float, noise: float | None) -> bool:
    return noise is not None and fid > NEAR_NOISE_SHARE * noise


def comparisons(final: pd.DataFrame, metric: str = FID, noise: float | None = None,
                compared: list[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Each pair's ratio of geometric-mean final ``metric`` (first over second): Welch's t on its log (the
    scale fixed in advance), the interval at the Bonferroni level 1 − α/m over the m pairs and p
    Bonferroni-adjusted, so the interval excludes 1 exactly when p_adj < ``ALPHA``; ``winner`` only then
    (empty otherwise, and empty when both settings are near ``noise``'s FID: ``both_near_noise``).
    ``compared``: the family of pairs (default: the report's `pairs`; an ablation gives its own)."""
    lower_better = next((v.better == "lower" for v in values() if v.key == metric), True)
    by = {s: runs[metric].to_numpy(dtype=float) for s, runs in final.groupby(SETTING, sort=False)}
    compared = pairs(list(by)) if compared is None else compared
    level, rows = stats.family_level(len(compared)), []
    for a, b in compared:
        w = stats.welch(np.log(by[a]), np.log(by[b]), level)
        mean_a, mean_b = float(np.mean(by[a])), float(np.mean(by[b]))
        rows.append({"a": a, "b": b, "question": PAIRS.get((a, b), f"`{a}` versus `{b}`"), "seeds_a": w.n_a,
                     "seeds_b": w.n_b, f"{metric}_a": mean_a, f"{metric}_b": mean_b, "log_diff": w.diff,
                     "ratio": math.exp(w.diff), "ci_low": math.exp(w.low), "ci_high": math.exp(w.high),
                     "level": level, "df": w.df, "p": w.p,
                     "both_near_noise": near_noise(mean_a, noise) and near_noise(mean_b, noise)})
    table = pd.DataFrame(rows, columns=["a", "b", "question", "seeds_a", "seeds_b", f"{metric}_a", f"{metric}_b",
                                        "log_diff", "ratio", "ci_low", "ci_high", "level", "df", "p",
                                        "both_near_noise"])
    table["p_adj"] = stats.adjust(table["p"].to_numpy(dtype=float)) if len(table) else []
    decisive = [(lo > 1 or hi < 1) and not both for lo, hi, both in
                zip(table["ci_low"], table["ci_high"], table["both_near_noise"])]
    table["winner"] = [("" if not d else (a if (r < 1) == lower_better else b))
                       for d, a, b, r in zip(decisive, table["a"], table["b"], table["ratio"])]
    return table


def verdict(winner: str, both_near_noise: bool) -> str:
    if winner:
        return f"`{winner}` better"
    return "no verdict: both near noise" if both_near_noise else "no difference detected"


def comparisons_shown(table: pd.DataFrame, metric: str = FID) -> pd.DataFrame:
    def p_text(p: float, n: int) -> str:
        return stats.ONE_SEED if math.isnan(p) and n < 2 else ("n/a" if math.isnan(p) else f"{p:.3g}")

    level = f"{100 * table['level'].iloc[0]:.3g}%" if len(table) else "95%"
    return pd.DataFrame({
        "comparison": [f"`{a}` / `{b}`" for a, b in zip(table["a"], table["b"])],
        "seeds": [f"{na} vs {nb}" for na, nb in zip(table["seeds_a"], table["seeds_b"])],
        f"{metric} ratio": [stats.fmt(r, 3) for r in table["ratio"]],
        f"{level} simultaneous CI": [stats.format_interval(lo, hi, min(na, nb)) for lo, hi, na, nb in
                                     zip(table["ci_low"], table["ci_high"], table["seeds_a"], table["seeds_b"])],
        "p (Welch, log)": [p_text(p, min(na, nb)) for p, na, nb in
                           zip(table["p"], table["seeds_a"], table["seeds_b"])],
        "p (Bonferroni)": [p_text(p, min(na, nb)) for p, na, nb in
                           zip(table["p_adj"], table["seeds_a"], table["seeds_b"])],
        "verdict": [verdict(w, n) for w, n in zip(table["winner"], table["both_near_noise"])],
    })


def cost_table(curves: pd.DataFrame, final: pd.DataFrame) -> pd.DataFrame:
    """Per setting: mean steps, training seconds and images/s of the final points (time to a target FID
    is `studies.report.timing`'s)."""
    table = final.groupby(SETTING, sort=False).agg(
        seeds=(SEED, "nunique"), steps=(STEP, "mean"), wall_s=(WALL_S, "mean"), images_per_s=(IMAGES_PER_S, "mean"))
    if {SCORE_S, POINT_S} <= set(curves.columns):  # each point's cost (runs of older studies lack it)
        scored = curves[curves[STATUS] == STATUS_OK].groupby(SETTING, sort=False)
        table["score_s_per_point"] = scored[SCORE_S].mean()
        table["point_s_per_point"] = scored[POINT_S].mean()
    return table.reset_index()


def ranking(table: pd.DataFrame) -> pd.DataFrame:
    """Settings by mean final FID (lower is better), with the other headline scores beside it."""
    cols = [c for c in (SETTING, f"{FID}_mean", f"{FID}_ci_low", f"{FID}_ci_high", f"{IS_MEAN}_mean",
                        f"{MODES_COVERED}_mean", f"{RECALL}_mean") if c in table.columns]
    out = table[cols].sort_values(f"{FID}_mean").reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out
