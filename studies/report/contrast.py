"""`wganbench contrast`: do studies that differ in a recipe field (width, budget) reach the same verdict?

Input: two or more report folders written by `wganbench compare` (each holds ``curves.csv`` and the
study's recipe, ``study.json``). Output, a table of sections (`studies.report.page`): the settings'
final FID side by side; each setting's shift between the studies; and per comparison of the report the
interaction, the change of its log-FID difference between studies (a ratio of FID ratios) with its
Bonferroni-simultaneous interval: "the comparison changes with X" only where that interval excludes 1,
never from two significance labels, and no verdict between two settings both near noise (docs/DESIGN.md
§6 Contrasts). A contrast of studies that differ in more than one field says so.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from studies import stats
from studies.report.figures import contrast_plot
from studies.report.findings import noise_fid
from studies.report.page import Section, write_page
from studies.report.report import read_study
from studies.report.tables import FID, MODES_COVERED, comparisons, final_rows, final_scores, near_noise
from studies.schema import SETTING, STEP, TARGET
from wgan import checks
from wgan.errors import WganbenchError
from wgan.options import contrast_labels, option
from wgan.paths import results_dir
from wgan.train_options import TrainOptions

CURVES_FILE = "curves.csv"
# The recipe fields a contrast names when they differ (the rest of a study's options say where it ran).
# The training options' own labels (wgan.train_options), then the study's scoring.
RECIPE = {**contrast_labels(TrainOptions), "n": "n ", "points": "points "}
TITLE = "wganbench: does the recipe decide the verdict?"


@dataclass(frozen=True)
class ContrastOptions:
    """Where `wganbench contrast` writes; the studies are its positional arguments."""

    out_dir: str | None = option(None, "where the contrast goes (default: <results>/contrast)")
    at: float | None = option(None, "contrast every run's score at this target (seconds of training, or steps) "
                              "instead of its last point: studies of different budgets, set at an equal one")

    def __post_init__(self) -> None:
        checks.positive_number("at", self.at, optional=True)

    def report_dir(self) -> Path:
        return Path(self.out_dir) if self.out_dir else results_dir() / "contrast"


@dataclass(frozen=True)
class Study:
    path: Path
    meta: dict[str, Any]
    final: pd.DataFrame  # the last scored point of every finished run
    label: str = ""


def load_study(path: str | Path, at: float | None = None) -> Study:
    """A compare report folder: its recipe and each run's last scored point (or its point at target ``at``)."""
    folder = Path(path)
    meta, curves = read_study(folder, "compare")
    try:
        if at is not None:
            curves = curves[np.isclose(curves[TARGET].to_numpy(dtype=float), at)]
        final = final_rows(curves, noise_fid())
    except (ValueError, KeyError, pd.errors.ParserError) as err:
        raise WganbenchError(f"{folder}: unreadable study ({type(err).__name__}: {err})") from None
    if final.empty:
        where = f" scored at target {at:g}" if at is not None else ""
        raise WganbenchError(f"{folder}: no finished run{where} to contrast")
    return Study(folder, meta, final)


def _value_text(field: str, value: Any) -> str:
    if field == "budget_seconds":
        return f"{value:g} s" if value else ""
    if field == "steps":
        return f"{value} steps" if value else ""
    return f"{RECIPE[field]}{value}"


BUDGET_FIELDS = ("budget_seconds", "steps")


def differing(studies: list[Study], at: float | None = None) -> list[str]:
    """The recipe fields whose values are not the same in every study (the budget not, when set ``at`` one)."""
    fields = [f for f in RECIPE if at is None or f not in BUDGET_FIELDS]
    return [f for f in fields if len({json.dumps(s.meta.get(f), sort_keys=True) for s in studies}) > 1]


def labelled(studies: list[Study], at: float | None = None) -> list[Study]:
    """Each study named by the fields that differ (``width 64, 600 s``), else by its folder (a replication)."""
    fields = differing(studies, at)
    out = []
    for s in studies:
        label = ", ".join(t for t in (_value_text(f, s.meta.get(f)) for f in fields) if t) or s.path.name
        out.append(Study(s.path, s.meta, s.final, label))
    if len({s.label for s in out}) < len(out):
        raise WganbenchError("two studies have the same name and recipe: give each study once")
    return out


def side_by_side(studies: list[Study]) -> pd.DataFrame:
    """One row per (setting, study): final FID mean and 95 % interval over seeds, digits covered, steps, rank."""
    rows = []
    for s in studies:
        numeric, shown = final_scores(s.final)
        numeric["rank"] = numeric[f"{FID}_mean"].rank(method="min").astype(int)
        steps = s.final.groupby(SETTING)[STEP].mean()
        for (_, r), text in zip(numeric.iterrows(), shown[FID]):
            rows.append({SETTING: r[SETTING], "study": s.label, "seeds": int(r["seeds"]),
                         "fid_mean": r[f"{FID}_mean"], "fid_ci_low": r[f"{FID}_ci_low"],
                         "fid_ci_high": r[f"{FID}_ci_high"], "fid": text, "steps": float(steps[r[SETTING]]),
                         "modes_covered": r.get(f"{MODES_COVERED}_mean", math.nan), "rank": int(r["rank"])})
    return pd.DataFrame(rows)


def _log(final: pd.DataFrame, setting: str) -> np.ndarray:
    return np.log(final.loc[final[SETTING] == setting, FID].to_numpy(dtype=float))


def _decide(table: pd.DataFrame) -> pd.DataFrame:
    """Bonferroni over the table's rows: p adjusted and each interval at 1 − α/m, as ratios (exp)."""
    table["p_adj"] = stats.adjust(table["p"].to_numpy(dtype=float)) if len(table) else []
    table["detected"] = [bool(lo > 1 or hi < 1) for lo, hi in zip(table["ci_low"], table["ci_high"])]
    return table


def shifts(studies: list[Study]) -> pd.DataFrame:
    """Per setting, each study against the first: the ratio of geometric-mean final FID (Welch on log FID)
    with its Bonferroni-simultaneous interval over every row; ``verdict`` names the better study only
    where that interval excludes 1."""
    first, rows = studies[0], []
    pending = [(o, s) for o in studies[1:] for s in dict.fromkeys(first.final[SETTING]) if s in set(o.final[SETTING])]
    level = stats.family_level(len(pending))
    for other, setting in pending:
        w = stats.welch(_log(other.final, setting), _log(first.final, setting), level)
        rows.append({SETTING: setting, "a": other.label, "b": first.label, "seeds_a": w.n_a, "seeds_b": w.n_b,
                     "ratio": math.exp(w.diff), "ci_low": math.exp(w.low), "ci_high": math.exp(w.high),
                     "level": level, "p": w.p})
    table = _decide(pd.DataFrame(rows, columns=[SETTING, "a", "b", "seeds_a", "seeds_b", "ratio", "ci_low",
                                                "ci_high", "level", "p"]))
    table["verdict"] = [("better at " + (a if r < 1 else b)) if d else "no difference detected"
                        for a, b, r, d in zip(table["a"], table["b"], table["ratio"], table["detected"])]
    return table


def interactions(studies: list[Study], noise: float) -> pd.DataFrame:
    """Per comparison of the report and each study against the first: the report's verdict in both, and the
    interaction (ratio of the two FID ratios, Welch–Satterthwaite on log FID, `studies.stats.interaction`)
    with its Bonferroni-simultaneous interval over every row; no verdict where both settings are near
    ``noise`` in either study."""
    first = studies[0]
    verdict = {s.label: {(r["a"], r["b"]): r for _, r in comparisons(s.final, noise=noise).iterrows()}
               for s in studies}
    keys = [(o, k) for o in studies[1:] for k in verdict[first.label] if k in verdict[o.label]]
    level, rows = stats.family_level(len(keys)), []
    for other, (a, b) in keys:
        w = stats.interaction(_log(first.final, a), _log(first.final, b), _log(other.final, a),
                              _log(other.final, b), level)
        r1, r2 = verdict[first.label][(a, b)], verdict[other.label][(a, b)]
        noisy = any(near_noise(r[f"{FID}_a"], noise) and near_noise(r[f"{FID}_b"], noise) for r in (r1, r2))
        rows.append({"comparison": f"`{a}` / `{b}`", "a": a, "b": b, "study_1": first.label, "study_2": other.label,
                     "ratio_1": r1["ratio"], "ratio_2": r2["ratio"], "winner_1": r1["winner"],
                     "winner_2": r2["winner"], "both_near_noise": noisy, "interaction": math.exp(w.diff),
                     "ci_low": math.exp(w.low), "ci_high": math.exp(w.high), "level": level, "df": w.df, "p": w.p})
    return _decide(pd.DataFrame(rows, columns=["comparison", "a", "b", "study_1", "study_2", "ratio_1", "ratio_2",
                                               "winner_1", "winner_2", "both_near_noise", "interaction", "ci_low",
                                               "ci_high", "level", "df", "p"]))


def interaction_verdict(row: pd.Series, fields: str) -> str:
    if row["both_near_noise"]:
        return "no verdict, both settings are near noise in one of the studies"
    if not row["detected"]:
        return f"no interaction detected: the comparison does not change with {fields}"
    flips = row["winner_1"] != row["winner_2"]
    return f"the difference changes with {fields}{' and so does the ranking' if flips else ', the verdict stays'}"


def interaction_line(row: pd.Series, fields: str) -> str:
    interval = stats.format_interval(row["ci_low"], row["ci_high"], 2)
    return (f"{row['comparison']}: {interaction_verdict(row, fields)} (FID ratio {row['ratio_1']:.3g} at "
            f"{row['study_1']}, {row['ratio_2']:.3g} at {row['study_2']}; ratio of ratios {row['interaction']:.3g}, "
            f"{100 * row['level']:.3g}% simultaneous CI {interval}, Bonferroni p = {stats.fmt(row['p_adj'], 2)}).")


def _what(at: float | None) -> str:
    return "final FID" if at is None else f"FID at target {at:g}"


def _order(rows: pd.DataFrame) -> str:
    return " < ".join(f"`{s}`" for s in rows.sort_values("fid_mean")[SETTING])


def contrast_lines(studies: list[Study], table: pd.DataFrame, moved: pd.DataFrame, inter: pd.DataFrame,
                   at: float | None = None) -> list[str]:
    """The contrast's findings, computed from its tables."""
    fields = differing(studies, at)
    seeds = int(table["seeds"].min())
    lines = [f"Mean {_what(at)}, lowest first: " + "; ".join(
        f"{s.label}: {_order(table[table['study'] == s.label])}" for s in studies)
        + f" (a mean order is not a ranking where intervals overlap; {seeds}+ seeds per setting)."]
    lines.append("Generator steps reached (mean over seeds): " + "; ".join(
        f"{s.label}: " + ", ".join(f"`{r[SETTING]}` {r['steps']:.0f}" for _, r in table[table["study"] == s.label]
                                   .iterrows()) for s in studies) + ".")
    what = " and ".join(fields) or "the study"
    lines += [interaction_line(row, what) for _, row in inter.iterrows()]
    for _, row in moved.iterrows():
        interval = stats.format_interval(row["ci_low"], row["ci_high"], min(row["seeds_a"], row["seeds_b"]))
        lines.append(f"`{row[SETTING]}` at {row['a']} vs {row['b']}: FID ratio {row['ratio']:.3g}, "
                     f"{100 * row['level']:.3g}% simultaneous CI {interval}, Bonferroni p = "
                     f"{stats.fmt(row['p_adj'], 2)}: {row['verdict']}.")
    if len(fields) > 1:
        lines.append(f"These studies differ in {', '.join(fields)}: the contrast cannot say which of them made a "
                     "difference.")
    return lines


def write_contrast(paths: list[str | Path], options: ContrastOptions) -> list[Path]:
    """Write the contrast's tables (CSV), figure and report (Markdown, HTML); returns the paths written."""
    if len(paths) < 2:
        raise WganbenchError("contrast needs at least two study folders")
    at, out_dir = options.at, options.report_dir()
    studies = labelled([load_study(p, at) for p in paths], at)
    table, moved, inter = side_by_side(studies), shifts(studies), interactions(studies, noise_fid())
    lines = contrast_lines(studies, table, moved, inter, at)
    what = _what(at)
    title = f"{what[0].upper()}{what[1:]}"
    figure = contrast_plot(table, out_dir / "final_fid.png", f"{what} (lower is better)")
    shown = table[[SETTING, "study", "seeds", "fid", "rank", "modes_covered", "steps"]].rename(
        columns={"fid": f"{what}, mean (per-seed values) [95% CI]", "rank": "rank by mean",
                 "modes_covered": "digits covered", "steps": "generator steps reached"})
    moved_shown = moved.assign(interval=[stats.format_interval(lo, hi, min(na, nb)) for lo, hi, na, nb in zip(
        moved["ci_low"], moved["ci_high"], moved["seeds_a"], moved["seeds_b"])])[
        [SETTING, "a", "b", "ratio", "interval", "p", "p_adj", "verdict"]].rename(
        columns={"ratio": "FID ratio (a / b)", "interval": "simultaneous CI", "p": "p (Welch, log)",
                 "p_adj": "p (Bonferroni)"})
    fields = " and ".join(differing(studies, at)) or "the study"
    inter_shown = inter.assign(interval=[stats.format_interval(lo, hi, 2) for lo, hi in
                                         zip(inter["ci_low"], inter["ci_high"])],
                               verdict=[interaction_verdict(r, fields) for _, r in inter.iterrows()])[
        ["comparison", "study_1", "ratio_1", "study_2", "ratio_2", "interaction", "interval", "p_adj", "verdict"]]
    sections = [
        Section(f"{title} in each study", "each run's last good point (or its point at the target); intervals on log "
                "FID", shown, {"final_fid": table}, tuple(lines[:2]),),
        Section(f"Does each comparison change between studies (interactions, Bonferroni over {len(inter)})",
                "ratio of the two studies' FID ratios; Welch–Satterthwaite on log FID", inter_shown,
                {"interactions": inter}, tuple(lines[2:2 + len(inter)])),
        Section(f"Each setting's shift between studies (Bonferroni over {len(moved)})",
                "ratio of geometric-mean FID between studies; Welch on log FID", moved_shown, {"shifts": moved},
                tuple(lines[2 + len(inter):])),
        Section(f"{title} per setting and study (mean, 95% CI over seeds)", "the first table as a figure",
                figure=figure),
    ]
    intro = ("Studies: " + "; ".join(f"{s.label} (`{s.path}`)" for s in studies) + ". Each study's runs had an "
             "equal budget within it; FID is the suite's classifier-feature FID of each run's "
             + (f"point scored at target {at:g} (seconds of training, or steps) in every study. " if at is not None
                else "last scored point. ") +
             "Every comparison is on log FID, fixed in advance; each family's intervals are Bonferroni-simultaneous, "
             "so an interval excluding 1 is exactly a Bonferroni p < 0.05.")
    return [*write_page(out_dir, "contrast", TITLE, intro, sections, best={"fid_mean": "min"}), figure]
