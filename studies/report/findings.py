"""The report's "What the numbers show": sentences computed from its tables, never written by hand.

Words follow the evidence: a setting "beats" another only where the 95 % interval of the FID
difference excludes zero and the Holm-corrected Welch p < 0.05 (`studies.report.tables.comparisons`);
otherwise the sentence says no difference was detected with that many seeds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from studies import stats
from studies.report.published import PUBLISHED_STACKED
from studies.report.tables import FID, MODES_COVERED, STACKED_MODES, reached_label
from studies.schema import SETTING
from wgan.errors import WganbenchError
from wgan.paths import results_dir
from wgan.settings import Setting, get_setting

# Uniform noise's FID in this suite (evaluators/sanity.py, n = 10,000 against the test split): the
# fallback when results/evaluator_sanity.csv is not there to read it from.
NOISE_FID = 698.0
NEAR_NOISE_SHARE = 0.6  # a final FID above this share of noise's is "near noise"
SANITY_FILE, NOISE_CASE = "evaluator_sanity.csv", "uniform noise"


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
    path = path or results_dir() / SANITY_FILE
    try:
        table = pd.read_csv(path)
        return float(table.loc[table["case"] == NOISE_CASE, FID].iloc[0])
    except (OSError, KeyError, IndexError, ValueError, pd.errors.ParserError):
        return NOISE_FID


def _seeds(na: int, nb: int) -> str:
    return f"{na} seed{'s' * (na != 1)}" if na == nb else f"{na} and {nb} seeds"


def _ci(stats_row: pd.Series, column: str = FID) -> str:
    ci = stats.MeanCI(stats_row[f"{column}_mean"], stats_row.get(f"{column}_ci_low", math.nan),
                      stats_row.get(f"{column}_ci_high", math.nan), math.nan, int(stats_row.get("seeds", 1)))
    if ci.n < 2:
        return f"{stats.fmt(ci.mean)}, no interval from 1 seed"
    return stats.format_ci(ci, 4).replace(" [", ", 95% CI [")


def comparison_line(row: pd.Series, metric: str = FID) -> str:
    what = row["question"][0].upper() + row["question"][1:]
    a, b, na, nb = row["a"], row["b"], int(row["seeds_a"]), int(row["seeds_b"])
    numbers = (f"FID `{a}` {row[f'{metric}_a']:.1f} vs `{b}` {row[f'{metric}_b']:.1f}, difference "
               f"{row['diff']:+.1f}")
    if math.isnan(row["p"]):
        return (f"{what}: no difference detected with {_seeds(na, nb)} ({numbers}; "
                f"{'one seed gives no interval' if min(na, nb) < 2 else 'no spread to test'}).")
    evidence = f"95% CI [{stats.fmt(row['ci_low'], 3)}, {stats.fmt(row['ci_high'], 3)}], Holm p = {row['p_holm']:.2g}"
    winner = row["winner"]
    if winner:
        loser = b if winner == a else a
        return f"{what}: `{winner}` beats `{loser}` ({numbers}; {evidence})."
    return f"{what}: no difference detected with {_seeds(na, nb)} ({numbers}; {evidence})."


def time_line(cost: pd.DataFrame, target: float) -> str:
    label, seconds = reached_label(target), f"s_to_fid_{target:g}"
    if label not in cost.columns:
        return ""
    parts = []
    for _, row in cost.iterrows():
        text = f"`{row[SETTING]}` {row[label]} seeds"
        if not pd.isna(row.get(seconds, math.nan)):
            text += f" (median {row[seconds]:.0f} s of training)"
        parts.append(text)
    return f"Time to FID ≤ {target:g}: " + "; ".join(parts) + "."


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


def spread_line(spread: pd.DataFrame) -> str:
    parts = []
    for _, row in spread.iterrows():
        seed_std = "n/a (1 seed)" if math.isnan(row["fid_seed_std"]) else f"{row['fid_seed_std']:.3g}"
        parts.append(f"`{row[SETTING]}` seed-to-seed std {seed_std} vs evaluation std "
                     f"{stats.fmt(row['fid_eval_std'], 3)} → {row['recommend']}")
    return "Which noise dominates the final FID: " + "; ".join(parts) + "." if parts else ""


def correlation_line(correlation: pd.DataFrame) -> str:
    parts = []
    for _, row in correlation.iterrows():
        what = "W estimate" if row["w_estimate"] == "wasserstein" else "discriminator loss"
        if row["shown"].startswith(("too few", "n/a")):
            parts.append(f"`{row[SETTING]}` {row['shown']}")
            continue
        low, high = row["rho_ci_low"], row["rho_ci_high"]
        verdict = ("tracks FID" if low > 0 else "moves against FID" if high < 0 else "no rank correlation detected"
                   ) if not math.isnan(low) else "no interval from one seed"
        parts.append(f"`{row[SETTING]}`'s {what} ρ = {row['shown']}: {verdict}")
    return ("Does the loss mean something (Spearman's ρ of the critic's estimate against FID over the scored "
            "points, mean [95% CI] over seeds): " + "; ".join(parts) + ".") if parts else ""


def modes_line(final_stats: pd.DataFrame) -> str:
    """Stacked MNIST: each setting's modes covered of 1,000 and KL from uniform, best first (empty on MNIST)."""
    if f"{STACKED_MODES}_mean" not in final_stats.columns:
        return ""
    parts = [f"`{row[SETTING]}` {_ci(row, STACKED_MODES)} modes, KL {row['stacked_kl_mean']:.3g}"
             for _, row in final_stats.sort_values(f"{STACKED_MODES}_mean", ascending=False).iterrows()]
    dcgan = PUBLISHED_STACKED.iloc[0]  # the published DCGAN, for scale only
    return ("Stacked MNIST modes covered of 1,000 (mean, 95% CI over seeds) and KL from uniform: " + "; ".join(parts)
            + f". For scale only (other models, budgets and classifiers): {dcgan['model']} under the "
            f"{dcgan['protocol']} covers {dcgan['modes of 1000']:g} modes, KL {dcgan['KL to uniform']:.2f}.")


def findings(final_stats: pd.DataFrame, cost: pd.DataFrame, target: float, *, pairs: pd.DataFrame | None = None,
             spread: pd.DataFrame | None = None, correlation: pd.DataFrame | None = None,
             noise: float = NOISE_FID) -> list[str]:
    """Sentences computed from the final scores (``studies.report.tables.final_scores``' numeric table), the cost
    table, the pairwise comparisons and, when given, the noise and loss-correlation tables."""
    by = final_stats.set_index(SETTING)
    fid = by[f"{FID}_mean"]
    best, worst = fid.idxmin(), fid.idxmax()
    modes = f", {by.loc[best, f'{MODES_COVERED}_mean']:.3g} of 10 digit classes covered" \
        if f"{MODES_COVERED}_mean" in by.columns else ""
    seeds = int(by["seeds"].min()) if "seeds" in by.columns else 1
    lines = [f"`{best}` has the lowest mean final FID ({_ci(by.loc[best])}{modes}); `{worst}` the "
             f"highest ({_ci(by.loc[worst])}); over {seeds} seed{'s' * (seeds != 1)} per setting."
             if best != worst else f"One setting: `{best}`, final FID {_ci(by.loc[best])}."]
    if pairs is not None:
        lines += [comparison_line(row) for _, row in pairs.iterrows()]
    lines.append(modes_line(final_stats))
    lines += noise_lines(final_stats, noise)
    lines.append(time_line(cost, target))
    if "images_per_s" in cost.columns:
        rate = cost.set_index(SETTING)["images_per_s"]
        lines.append(f"Fastest training: `{rate.idxmax()}` at {rate.max():.0f} images/s; slowest: `{rate.idxmin()}` at "
                     f"{rate.min():.0f} images/s (a critic update consumes one batch, so n_critic 5 costs 5 batches "
                     "per generator step).")
    if spread is not None:
        lines.append(spread_line(spread))
    if correlation is not None:
        lines.append(correlation_line(correlation))
    return [line for line in lines if line]
