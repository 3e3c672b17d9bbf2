"""The comparison report: a table of sections (`studies.report.page`) computed from ``scores.csv`` rows.

Input: the concatenated ``scores.csv`` rows of every run (one row per scored checkpoint) and what the run
directories add (:class:`Evidence`: the evaluation's own FID spread, class shares, the critic's estimate
at each point, the sample and loss figures). :func:`write_report` reads those from the run directories;
:func:`rerender` rebuilds a committed study's report from its own committed tables alone, so a change of
analysis never needs retraining (figures that need the run directories are kept as committed, never
redrawn). docs/DESIGN.md §6.
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from studies.report import ablation, power, timing
from studies.report import findings as words
from studies.report.figures import band_plot, class_histograms, loss_curves, sample_grids, sample_strips, w_and_fid
from studies.report.page import Section, applying, write_page
from studies.report.published import PUBLISHED_STACKED
from studies.report.rundata import MIN_POINTS, FinalSamples, eval_spread, loss_correlation, loss_points
from studies.report.tables import (
    STACKED_MODES,
    best_columns,
    comparisons,
    comparisons_shown,
    cost_table,
    final_rows,
    final_scores,
    ranking,
)
from studies.schema import ERROR, SEED, SETTING, STATUS, STATUS_FAILED, STEP, TARGET, WALL_S
from wgan import io
from wgan.data import DATASET_NAMES, MNIST, STACKED_MNIST
from wgan.errors import WganbenchError

META_FILE, CURVES_FILE = "study.json", "curves.csv"
KEPT = " (kept as committed: drawn from the run directories when the study ran)"


@dataclass(frozen=True)
class Evidence:
    """What the report reads beside ``scores.csv``."""

    eval_std: dict[str, float]               # per setting, the evaluation's FID spread (bootstrap)
    shares: pd.DataFrame                     # class shares of the first seed's samples, one row per setting
    points: pd.DataFrame | None              # the critic's estimate at every scored point (None: not recorded)
    run_figures: list[tuple[str, Path]]      # sample and loss figures drawn from the run directories


def _title(meta: dict[str, Any]) -> str:
    return f"wganbench: GAN vs WGAN settings on {DATASET_NAMES[meta.get('dataset', MNIST)]}"


def _intro(meta: dict[str, Any], m: int) -> str:
    stacked = meta.get("dataset", MNIST) == STACKED_MNIST
    channels = " (each channel of a sample scored as one digit)" if stacked else ""
    budget = f"{meta['steps']} generator steps" if meta["steps"] else f"{meta['budget_seconds']:g} s of training"
    return (f"Settings {', '.join(meta['settings'])}; seeds {', '.join(map(str, meta['seeds']))}; an equal budget "
            f"of {budget} per run at batch {meta['batch_size']}, models at width {meta['width']} (the notebook's "
            f"is 64), scored at {meta['points']} checkpoints on {meta['n']:,} samples each against the 10,000 "
            f"MNIST test images{channels}; {meta['mixed_precision']}{', XLA' if meta['jit_compile'] else ''} on "
            f"{platform.processor() or platform.machine()} (CPU). Scores use the suite's own MNIST classifier; FID "
            "is in its feature space, so compare it within this suite, not with Inception-FID values. A score's "
            "95% t interval over seeds is computed on its range's scale (log, logit) and so stays inside it. "
            "Comparisons are fixed in advance on log FID: Welch's t, each interval at the Bonferroni level over "
            f"the {m} pairs, so an interval excluding 1 is exactly a Bonferroni p < 0.05 (with 3 seeds against 3, "
            "no distribution-free test goes below p = 0.10).")


def _figures(curves: pd.DataFrame, out_dir: Path, ev: Evidence, stacked: bool) -> list[Section]:
    every = ("a mean per scoring point over seeds with its 95% t band on log FID; every point's scores are in "
             "curves.csv")
    out = [Section("FID versus generator step", every, csv={"curves": curves},
                   figure=band_plot(curves, STEP, out_dir / "fid_vs_step.png", "generator step")),
           Section("FID versus training wall-clock", every, figure=band_plot(
               curves, WALL_S, out_dir / "fid_vs_wallclock.png", "training wall-clock (s)"))]
    if stacked:
        out.append(Section("Stacked MNIST modes covered versus training wall-clock", every, figure=band_plot(
            curves, WALL_S, out_dir / "modes_vs_wallclock.png", "training wall-clock (s)", STACKED_MODES,
            "modes covered of 1,000 (higher is better)")))
    out += [Section(title, "images and curves from the run directories", figure=path) for title, path in
            ev.run_figures]
    out.append(Section("Class histogram of generated samples", "argmax class shares of the first seed's samples",
                       csv={"class_shares": ev.shares.rename_axis(SETTING).reset_index()},
                       figure=class_histograms(ev.shares, out_dir / "class_histograms.png")))
    return out


def sections(curves: pd.DataFrame, meta: dict[str, Any], ev: Evidence, out_dir: Path) -> list[Section]:
    """The report's table of sections, in page order."""
    noise = words.noise_fid()
    final = final_rows(curves, noise)
    if final.empty:
        errors = "; ".join(curves.reindex(columns=[ERROR])[ERROR].dropna().astype(str).unique()) or "no runs"
        raise WganbenchError(f"every run failed, nothing to report: {errors}")
    stats_table, shown = final_scores(final)
    pairs = comparisons(final, noise=noise)
    cost, rank = cost_table(curves, final), ranking(stats_table)
    target = timing.default_target(noise)
    budget = float(meta.get("budget_seconds") or curves[WALL_S].max())
    runs = timing.events(curves, target, budget)
    reach = timing.time_to_target(runs)
    failed = timing.failures(curves, noise_counted=True)
    strength = power.power_table(final, len(pairs))
    spread = power.noise_sources(final, ev.eval_std, int(meta["n"]))
    stacked = meta.get("dataset", MNIST) == STACKED_MNIST
    if ev.points is not None:
        per_run, correlation = loss_correlation(ev.points)
        loss = Section(f"Does the loss mean something (at least {MIN_POINTS} scored points per run)",
                       "Spearman's ρ of the changes between scored points, exact p per run, Fisher over runs",
                       correlation[[SETTING, "w_estimate", "runs", "points", "shown"]],
                       {"loss_correlation": correlation, "loss_correlation_runs": per_run, "loss_points": ev.points},
                       (words.correlation_line(correlation),))
    else:
        loss = Section("Does the loss mean something", "not computed", findings=(
            "Does the loss mean something: not re-read here, the critic's estimate at each scored point is not in "
            "this study's committed tables (loss_points.csv, written by reports from now on); the levels' ρ it "
            "once printed trends with the step and is not shown.",))
    failed_runs = curves[curves[STATUS] == STATUS_FAILED].reindex(columns=[SETTING, SEED, TARGET, ERROR])
    return [
        *ablation.sections(final, meta, noise, reach),  # an ablation's answer is its first finding
        Section("Final scores (mean (per-seed values) [95% CI] over seeds)",
                "each run's last good point; intervals on the score's log or logit scale, mapped back", shown,
                {"final_scores": stats_table},
                (words.headline(stats_table), *words.noise_lines(stats_table, noise),
                 words.modes_line(stats_table, final))),
        Section(f"FID ratios ({100 * (pairs['level'].iloc[0] if len(pairs) else 0.95):.3g}% simultaneous "
                f"intervals, Bonferroni over {len(pairs)} comparison{'s' * (len(pairs) != 1)})",
                "Welch's t on log FID; the ratio of geometric means with its Bonferroni interval",
                comparisons_shown(pairs), {"comparisons": pairs},
                tuple(words.comparison_line(row) for _, row in pairs.iterrows())),
        Section("What these seeds can detect", "pooled seed-to-seed spread of log FID; statsmodels' t-test power",
                strength, {"power": strength}, (power.power_line(strength),)),
        Section("Cost", "mean steps, training seconds and images/s of the final points", cost, {"cost": cost},
                (words.rate_line(cost), meta.get("training_share", ""))),
        Section(f"Time to FID ≤ {target:.0f} (Kaplan–Meier over seeds, censored at the budget)",
                "first crossing interpolated between scored points; statsmodels' SurvfuncRight",
                reach[[SETTING, "reached", "time to target"]], {"time_to_target": reach, "target_runs": runs},
                (timing.time_line(reach, target),)),
        Section("Failures (exact 95% interval of the rate)", "Clopper–Pearson via SciPy's binomtest",
                failed[[SETTING, "shown", "a failed run counts"]], {"failure_rate": failed, "failures": failed_runs},
                (timing.failure_line(failed),)),
        Section("Ranking (by mean final FID; overlapping intervals are not a ranking)", "settings by mean final FID",
                rank, {"ranking": rank}),
        Section("Which noise dominates: seeds or the evaluation (bootstrap of the final samples)",
                "between-seed variance net of the evaluation's; samples that make the evaluation's share 10%",
                spread, {"noise": spread}, (power.spread_line(spread),)),
        loss,
        Section("Published Stacked MNIST results (other models, budgets and classifiers: they place these numbers, "
                "they do not rank them)", "PacGAN's tables", PUBLISHED_STACKED, datasets=(STACKED_MNIST,)),
        *_figures(curves, out_dir, ev, stacked),
    ]


def _write(curves: pd.DataFrame, meta: dict[str, Any], out_dir: Path, ev: Evidence) -> list[Path]:
    parts = applying(sections(curves, meta, ev, out_dir), meta.get("dataset", MNIST))
    m = next((len(s.csv["comparisons"]) for s in parts if "comparisons" in s.csv), 0)
    best = {**best_columns(), "images_per_s": "max"}
    written = write_page(out_dir, "report", _title(meta), _intro(meta, m), parts, best)
    written.append(io.write_json(out_dir / META_FILE, meta))  # the recipe, for `wganbench contrast`
    return written + [s.figure for s in parts if s.figure is not None]


def write_report(curves: pd.DataFrame, meta: dict[str, Any], *, out_dir: Path, runs_dir: Path,
                 samples: FinalSamples | None = None) -> list[Path]:
    """Write the report of a study whose run directories are at ``runs_dir``; returns the paths written.

    ``samples`` gives the final generators' features (the evaluation's spread, class shares); by default
    they are drawn from the run directories with the study's ``n``.
    """
    final = final_rows(curves)
    if final.empty:
        errors = "; ".join(curves.reindex(columns=[ERROR])[ERROR].dropna().astype(str).unique()) or "no runs"
        raise WganbenchError(f"every run failed, nothing to report: {errors}")
    samples = samples or FinalSamples(Path(runs_dir), meta["n"], meta.get("dataset", MNIST))
    seed = min(meta["seeds"])
    settings = list(dict.fromkeys(final[SETTING]))
    first_seed = [s for s in settings if (final[SETTING].eq(s) & final[SEED].eq(seed)).any()]
    figures = [
        (f"Samples over training (seed {seed}, the same noise at each scored step)",
         sample_strips(curves, seed, runs_dir, out_dir / "samples_over_training.png")),
        (f"Losses and the W estimate (seed {seed})", loss_curves(settings, seed, runs_dir, out_dir / "losses.png")),
        ("The critic's estimate and FID against step", w_and_fid(curves, runs_dir, out_dir / "w_and_fid.png")),
        ("Final fixed-noise samples", sample_grids(first_seed, seed, runs_dir, out_dir / "samples.png"))]
    ev = Evidence(eval_spread(final, samples), samples.class_shares(first_seed, seed), loss_points(curves, runs_dir),
                  figures)
    return _write(curves, meta, Path(out_dir), ev)


RUN_FIGURES = (("Samples over training", "samples_over_training.png"), ("Losses and the W estimate", "losses.png"),
               ("The critic's estimate and FID against step", "w_and_fid.png"),
               ("Final fixed-noise samples", "samples.png"))


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    return pd.read_csv(folder / name) if (folder / name).is_file() else None


def read_study(folder: Path, kind: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """A report folder's recipe (``study.json``, an object) and ``curves.csv``; one line naming the folder when
    it is not a ``kind`` report folder or cannot be read."""
    if not (folder / CURVES_FILE).is_file() or not (folder / META_FILE).is_file():
        raise WganbenchError(f"{folder} is not a {kind} report folder (it needs {CURVES_FILE} and {META_FILE}, "
                             "written by `wganbench compare`)")
    try:
        meta = json.loads((folder / META_FILE).read_text())
        curves = pd.read_csv(folder / CURVES_FILE)
    except (ValueError, KeyError, pd.errors.ParserError) as err:
        raise WganbenchError(f"{folder}: unreadable study ({type(err).__name__}: {err})") from None
    if not isinstance(meta, dict):
        raise WganbenchError(f"{folder / META_FILE}: expected the study's recipe as a JSON object (written by "
                             f"`wganbench compare`), got a JSON {type(meta).__name__}")
    return meta, curves


def rerender(folder: str | Path) -> list[Path]:
    """Rebuild a committed study's report in ``folder`` from its own tables: ``curves.csv`` and
    ``study.json``, the evaluation's spread in ``noise.csv``, ``class_shares.csv`` and, where present,
    ``loss_points.csv``; the run-directory figures are kept as they are."""
    folder = Path(folder)
    meta, curves = read_study(folder, "study")
    try:
        noise, shares = _read(folder, "noise.csv"), _read(folder, "class_shares.csv")
        eval_std = {} if noise is None else dict(zip(noise[SETTING], noise["fid_eval_std"]))
        shares = (shares.set_index(SETTING) if shares is not None
                  else pd.DataFrame(columns=[str(d) for d in range(10)], dtype=float))
    except (ValueError, KeyError, pd.errors.ParserError) as err:
        raise WganbenchError(f"{folder}: unreadable study ({type(err).__name__}: {err})") from None
    kept = [(title + KEPT, folder / name) for title, name in RUN_FIGURES if (folder / name).is_file()]
    ev = Evidence({k: float(v) for k, v in eval_std.items() if not math.isnan(v)}, shares,
                  _read(folder, "loss_points.csv"), kept)
    return [p for p in _write(curves, meta, folder, ev) if p not in {path for _, path in kept}]
