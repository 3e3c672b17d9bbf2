"""`wganbench contrast`: do studies that differ in a recipe field (width, budget) reach the same verdict?

Input: two or more report folders written by `wganbench compare` (each holds ``curves.csv`` and the
study's recipe, ``study.json``). Output: the settings' final FID side by side, each setting's shift
between the studies (Welch, Holm-corrected over every shift), and the report's pairwise verdicts in
each study, with sentences that say whether the ranking changes (docs/DESIGN.md §6 Contrasts).
A contrast of studies that differ in more than one field says so: it cannot tell which one mattered.
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
from studies.report.html import render_html
from studies.report.report import META_FILE, markdown_page
from studies.report.tables import ALPHA, FID, MODES_COVERED, comparisons, final_rows, final_scores
from studies.schema import SETTING, STEP, TARGET
from wgan import checks, io
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
    if not (folder / CURVES_FILE).is_file() or not (folder / META_FILE).is_file():
        raise WganbenchError(f"{folder} is not a compare report folder (it needs {CURVES_FILE} and {META_FILE}, "
                             "written by `wganbench compare`)")
    try:
        meta = json.loads((folder / META_FILE).read_text())
        curves = pd.read_csv(folder / CURVES_FILE)
        if at is not None:
            curves = curves[np.isclose(curves[TARGET].to_numpy(dtype=float), at)]
        final = final_rows(curves)
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
        numeric, _ = final_scores(s.final)
        numeric["rank"] = numeric[f"{FID}_mean"].rank(method="min").astype(int)
        steps = s.final.groupby(SETTING)[STEP].mean()
        for _, r in numeric.iterrows():
            rows.append({SETTING: r[SETTING], "study": s.label, "seeds": int(r["seeds"]),
                         "fid_mean": r[f"{FID}_mean"], "fid_ci_low": r[f"{FID}_ci_low"],
                         "fid_ci_high": r[f"{FID}_ci_high"], "steps": float(steps[r[SETTING]]),
                         "modes_covered": r.get(f"{MODES_COVERED}_mean", math.nan), "rank": int(r["rank"])})
    return pd.DataFrame(rows)


def shifts(studies: list[Study]) -> pd.DataFrame:
    """Per setting, each study against the first: the difference of mean final FID with its Welch interval
    and p, Holm-adjusted over every row; ``verdict`` names the better study only where the interval
    excludes zero and the adjusted p < ``ALPHA``."""
    first, rows = studies[0], []
    for other in studies[1:]:
        for setting in dict.fromkeys(first.final[SETTING]):
            b = other.final.loc[other.final[SETTING] == setting, FID].to_numpy(dtype=float)
            if not len(b):
                continue
            a = first.final.loc[first.final[SETTING] == setting, FID].to_numpy(dtype=float)
            w = stats.welch(b, a)
            rows.append({SETTING: setting, "a": other.label, "b": first.label, "seeds_a": w.n_a, "seeds_b": w.n_b,
                         "diff": w.diff, "ci_low": w.low, "ci_high": w.high, "p": w.p})
    table = pd.DataFrame(rows, columns=[SETTING, "a", "b", "seeds_a", "seeds_b", "diff", "ci_low", "ci_high", "p"])
    table["p_holm"] = stats.holm(table["p"].to_numpy(dtype=float)) if len(table) else []
    table["verdict"] = [("better at " + (a if d < 0 else b)) if (lo > 0 or hi < 0) and p < ALPHA
                        else "no difference detected"
                        for a, b, d, lo, hi, p in zip(table["a"], table["b"], table["diff"], table["ci_low"],
                                                      table["ci_high"], table["p_holm"])]
    return table


def verdicts(studies: list[Study]) -> pd.DataFrame:
    """The compare report's pairwise comparisons, one column of verdicts per study, and whether they agree."""
    columns = {}
    for s in studies:
        pairs = comparisons(s.final)
        columns[s.label] = {(a, b): (f"`{w}` better" if w else "no difference detected")
                            for a, b, w in zip(pairs["a"], pairs["b"], pairs["winner"])}
    keys = list(dict.fromkeys(k for column in columns.values() for k in column))
    table = pd.DataFrame({"comparison": [f"`{a}` − `{b}`" for a, b in keys],
                          **{label: [column.get(k, "not in this study") for k in keys]
                             for label, column in columns.items()}})
    table["same verdict"] = ["yes" if len(set(row)) == 1 else "no" for row in table[list(columns)].values]
    return table


def _what(at: float | None) -> str:
    return "final FID" if at is None else f"FID at target {at:g}"


def _order(rows: pd.DataFrame) -> str:
    return " < ".join(f"`{s}`" for s in rows.sort_values("fid_mean")[SETTING])


def contrast_lines(studies: list[Study], table: pd.DataFrame, moved: pd.DataFrame, pairs: pd.DataFrame,
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
    changed = pairs[pairs["same verdict"] == "no"]
    labels = [s.label for s in studies]
    if changed.empty:
        lines.append(f"The pairwise verdicts are the same in every study ({len(pairs)} comparisons, Welch with Holm "
                     "within each study): the ranking the evidence supports does not change.")
    for _, row in changed.iterrows():
        lines.append(f"{row['comparison']} changes: " + "; ".join(f"{label}: {row[label]}" for label in labels) + ".")
    for _, row in moved.iterrows():
        interval = stats.format_interval(row["ci_low"], row["ci_high"], min(row["seeds_a"], row["seeds_b"]))
        lines.append(f"`{row[SETTING]}` at {row['a']} vs {row['b']}: FID {row['diff']:+.1f}, 95% CI {interval}, "
                     f"Holm p = {stats.fmt(row['p_holm'], 2)}: {row['verdict']}.")
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
    table, moved, pairs = side_by_side(studies), shifts(studies), verdicts(studies)
    lines = contrast_lines(studies, table, moved, pairs, at)
    written = [io.write_text(out_dir / f"{name}.csv", frame.to_csv(index=False))
               for name, frame in (("final_fid", table), ("shifts", moved), ("verdicts", pairs))]
    what = _what(at)
    figure = contrast_plot(table, out_dir / "final_fid.png", f"{what} (lower is better)")
    written.append(figure)
    shown = table.assign(fid=[stats.format_ci(stats.MeanCI(m, lo, hi, math.nan, n)) for m, lo, hi, n in
                              zip(table["fid_mean"], table["fid_ci_low"], table["fid_ci_high"], table["seeds"])])
    shown = shown[[SETTING, "study", "seeds", "fid", "rank", "modes_covered", "steps"]].rename(
        columns={"fid": f"{what}, mean [95% CI]", "rank": "rank by mean", "modes_covered": "digits covered",
                 "steps": "generator steps reached"})
    moved_shown = moved.assign(interval=[stats.format_interval(lo, hi, min(na, nb)) for lo, hi, na, nb in zip(
        moved["ci_low"], moved["ci_high"], moved["seeds_a"], moved["seeds_b"])])[
        [SETTING, "a", "b", "diff", "interval", "p", "p_holm", "verdict"]].rename(
        columns={"diff": "FID difference (a − b)", "interval": "95% CI", "p": "p (Welch)", "p_holm": "p (Holm)"})
    sections = [(f"{what[0].upper()}{what[1:]} in each study", shown),
                (f"Each setting's shift between studies (p Holm-corrected over {len(moved)})", moved_shown),
                ("The compare report's verdicts in each study", pairs)]
    figures = [(f"{what[0].upper()}{what[1:]} per setting and study (mean, 95% CI over seeds)", figure)]
    intro = ("Studies: " + "; ".join(f"{s.label} (`{s.path}`)" for s in studies) + ". Each study's runs had an "
             "equal budget within it; FID is the suite's classifier-feature FID of each run's "
             + (f"point scored at target {at:g} (seconds of training, or steps) in every study. " if at is not None
                else "last scored point. ") +
             f"Intervals are 95% t intervals over seeds; a shift or verdict counts only at Holm p < {ALPHA:g}.")
    written.append(io.write_text(out_dir / "contrast.md", markdown_page(TITLE, intro, lines, sections, figures)))
    best = {"fid_mean": "min"}
    written.append(io.write_text(out_dir / "contrast.html", render_html(TITLE, intro, lines, sections, figures,
                                                                         best=best)))
    return written
