"""The report's "What the numbers show": sentences computed from its tables, never written by hand.

Words follow the evidence: a setting "beats" another only where the simultaneous interval of the FID
ratio (Welch on log FID, Bonferroni over the pairs) excludes 1, which is where the adjusted p < 0.05
(`studies.report.tables.comparisons`); otherwise the sentence says no difference was detected with that
many seeds, or that both settings are near noise and so not ranked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from studies import stats
from studies.report.published import PUBLISHED_STACKED
from studies.report.tables import FID, MODES_COVERED, NEAR_NOISE_SHARE, STACKED_MODES
from studies.schema import SETTING, noise_scores
from wgan.errors import WganbenchError
from wgan.settings import Setting, get_setting

# Uniform noise's FID in this suite (evaluators/sanity.py, n = 10,000 against the test split): the
# fallback when results/evaluator_sanity.csv is not there to read it from.
NOISE_FID = 698.0
INDEPENDENT = "stacked_modes_independent"  # the metric table's count if the channels were independent


def _sci(x: float) -> str:
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{x:.0e}").replace("e+", "e")


# Why a setting may stay near noise on a short budget: the first rule that holds names the reason.
REASONS: tuple[tuple[Callable[[Setting], bool], Callable[[Setting], str]], ...] = (
    (lambda s: s.d_optimizer == "rmsprop" and s.d_lr <= 5e-5, lambda s: f"RMSprop at {_sci(s.d_lr)} learns slowly"),
    (lambda s: s.constraint.clips, lambda s: f"weights clipped to ±{s.clip_value:g} limit the critic"),
)


def reason(setting: str) -> str | None:
    try:
        spec = get_setting(setting)
    except WganbenchError:
        return None
    return next((text(spec) for holds, text in REASONS if holds(spec)), None)


def noise_fid(path: Path | None = None) -> float:
    """Uniform noise's FID from the sanity table, if it is there; else ``NOISE_FID``."""
    return noise_scores(path).get(FID, NOISE_FID)


def _seeds(na: int, nb: int) -> str:
    return f"{na} seed{'s' * (na != 1)}" if na == nb else f"{na} and {nb} seeds"


def _ci(stats_row: pd.Series, column: str = FID) -> str:
    """A setting's score as its table shows it, the interval named."""
    values = stats_row.get(f"{column}_values", ())
    ci = stats.MeanCI(stats_row[f"{column}_mean"], stats_row.get(f"{column}_ci_low", math.nan),
                      stats_row.get(f"{column}_ci_high", math.nan), stats_row.get(f"{column}_std", math.nan),
                      int(stats_row.get("seeds", 1)), tuple(values) if isinstance(values, tuple) else ())
    if ci.n < 2:
        return f"{stats.fmt(ci.mean)}, no interval from 1 seed"
    return stats.format_ci(ci, 4).replace(" [", ", 95% CI [")


def comparison_line(row: pd.Series, metric: str = FID) -> str:
    what = row["question"][0].upper() + row["question"][1:]
    a, b, na, nb = row["a"], row["b"], int(row["seeds_a"]), int(row["seeds_b"])
    numbers = f"FID `{a}` {row[f'{metric}_a']:.1f} vs `{b}` {row[f'{metric}_b']:.1f}, ratio {row['ratio']:.3g}"
    if math.isnan(row["p"]):
        return (f"{what}: no difference detected with {_seeds(na, nb)} ({numbers}; "
                f"{'one seed gives no interval' if min(na, nb) < 2 else 'no spread to test'}).")
    evidence = (f"{100 * row['level']:.3g}% simultaneous CI [{stats.fmt(row['ci_low'], 3)}, "
                f"{stats.fmt(row['ci_high'], 3)}], Bonferroni p = {row['p_adj']:.2g}")
    winner = row["winner"]
    if winner:
        loser = b if winner == a else a
        return f"{what}: `{winner}` beats `{loser}` ({numbers}; {evidence})."
    if row["both_near_noise"]:
        return f"{what}: no verdict, both are near noise ({numbers}; {evidence})."
    return f"{what}: no difference detected with {_seeds(na, nb)} ({numbers}; {evidence})."


def noise_lines(final_stats: pd.DataFrame, noise: float) -> list[str]:
    lines = []
    threshold = NEAR_NOISE_SHARE * noise
    for _, row in final_stats.iterrows():
        if row[f"{FID}_mean"] > threshold:
            why = reason(row[SETTING])
            because = f" ({why})." if why else "."
            lines.append(f"`{row[SETTING]}` stays near noise: final FID {_ci(row)}, above "
                         f"{100 * NEAR_NOISE_SHARE:.0f}% of uniform noise's {noise:.0f}{because}")
    return lines


def correlation_line(correlation: pd.DataFrame) -> str:
    """Does the critic's estimate move with FID beyond both trending with the step (changes, Fisher p)?"""
    parts = []
    for _, row in correlation.iterrows():
        what = "W estimate" if row["w_estimate"] == "wasserstein" else "discriminator loss"
        p = row["p_fisher"]
        verdict = "" if math.isnan(p) else (": its changes move with FID's" if p < stats.ALPHA
                                           else ": no association beyond time detected")
        parts.append(f"`{row[SETTING]}`'s {what}, {row['shown']}{verdict}")
    return ("Does the loss mean something (Spearman's ρ of the changes of the critic's estimate and of FID between "
            "scored points, exact p per run, combined by Fisher; levels alone trend with the step): "
            + "; ".join(parts) + ".") if parts else ""


def modes_line(final_stats: pd.DataFrame, final: pd.DataFrame | None = None) -> str:
    """Stacked MNIST: each setting's modes of 1,000 beside how much of that count is read (the stacks whose
    three channels are all read with confidence, and the modes among them) and, from each run's channel
    shares (``final``, one row per run), the count channels drawn independently would give."""
    if f"{STACKED_MODES}_mean" not in final_stats.columns:
        return ""
    read = "stacked_modes_confident_mean" in final_stats.columns
    independent = (final.groupby(SETTING)[INDEPENDENT].mean()
                   if final is not None and INDEPENDENT in final.columns else pd.Series(dtype=float))
    parts = []
    for _, row in final_stats.sort_values(f"{STACKED_MODES}_mean", ascending=False).iterrows():
        text = f"`{row[SETTING]}` {_ci(row, STACKED_MODES)} modes, KL {row['stacked_kl_mean']:.3g}"
        if read:
            text += (f"; {100 * row['stacked_confident_share_mean']:.3g}% of stacks read with all three channels "
                     f"confident, {_ci(row, 'stacked_modes_confident')} modes among them")
        elif "confident_share_mean" in row:  # an older study: only single channels' confidence was scored
            text += f", {100 * row['confident_share_mean']:.3g}% of channels read with confidence"
        if row[SETTING] in independent.index:
            text += f"; {independent[row[SETTING]]:.0f} expected from independent channels (mean over seeds)"
        parts.append(text)
    dcgan = PUBLISHED_STACKED.iloc[0]  # the published DCGAN, for scale only
    missing = "" if read else (" (the count among confidently read stacks is not in this study's tables: it was "
                               "scored before that value existed)")
    return ("Stacked MNIST modes covered of 1,000 (mean, 95% CI over seeds) and KL from uniform: " + "; ".join(parts)
            + ". A mode count near the independent-channel count says little beyond the digit shares, and "
            f"unreadable channels inflate it{missing}: the modes among confidently read stacks are the count to "
            f"compare. For scale only (other models, budgets and classifiers): {dcgan['model']} under the "
            f"{dcgan['protocol']} covers {dcgan['modes of 1000']:g} modes, KL {dcgan['KL to uniform']:.2f}.")


def headline(final_stats: pd.DataFrame) -> str:
    by = final_stats.set_index(SETTING)
    fid = by[f"{FID}_mean"]
    best, worst = fid.idxmin(), fid.idxmax()
    modes = f", {by.loc[best, f'{MODES_COVERED}_mean']:.3g} of 10 digit classes covered" \
        if f"{MODES_COVERED}_mean" in by.columns else ""
    seeds = int(by["seeds"].min()) if "seeds" in by.columns else 1
    if best == worst:
        return f"One setting: `{best}`, final FID {_ci(by.loc[best])}."
    return (f"`{best}` has the lowest mean final FID ({_ci(by.loc[best])}{modes}); `{worst}` the highest "
            f"({_ci(by.loc[worst])}); over {seeds} seed{'s' * (seeds != 1)} per setting.")


def rate_line(cost: pd.DataFrame) -> str:
    if "images_per_s" not in cost.columns:
        return ""
    rate = cost.set_index(SETTING)["images_per_s"]
    return (f"Fastest training: `{rate.idxmax()}` at {rate.max():.0f} images/s; slowest: `{rate.idxmin()}` at "
            f"{rate.min():.0f} images/s (a critic update consumes one batch, so n_critic 5 costs 5 batches per "
            "generator step).")
