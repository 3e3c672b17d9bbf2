"""The comparison report: pandas tables, matplotlib figures and sentences computed from them.

Input is the concatenated ``scores.csv`` rows of every run (one row per scored checkpoint) and the run
directories. Output, under ``out_dir``: ``report.md``, ``report.html`` (one self-contained page,
`studies.report.html.render_html`), one CSV per table and the figures. Every compared number carries its
uncertainty: final scores as mean [95 % CI] over seeds, pairwise FID differences with their Welch
interval and Holm-corrected p (`studies.report.tables`, `studies.stats`), the evaluation's own spread beside
the seeds', and the loss-versus-FID rank correlation (`studies.report.rundata`). docs/DESIGN.md §6.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import pandas as pd

from studies.report.figures import band_plot, class_histograms, loss_curves, sample_grids, sample_strips, w_and_fid
from studies.report.findings import findings, noise_fid
from studies.report.html import MISSING, render_html
from studies.report.published import PUBLISHED_STACKED
from studies.report.rundata import MIN_POINTS, FinalSamples, loss_correlation, noise_sources
from studies.report.tables import (
    FID,
    STACKED_MODES,
    best_columns,
    comparisons,
    comparisons_shown,
    cost_table,
    final_rows,
    final_scores,
    ranking,
    score_columns,
)
from studies.schema import ERROR, SEED, SETTING, STATUS, STATUS_FAILED, STEP, TARGET, WALL_S
from wgan import io
from wgan.data import DATASET_NAMES, MNIST, STACKED_MNIST
from wgan.errors import WganbenchError

FINDINGS_TITLE = "What the numbers show"
META_FILE = "study.json"
__all__ = ["final_rows", "final_scores", "findings", "ranking", "score_columns", "write_report"]


def _title(meta: dict[str, Any]) -> str:
    return f"wganbench: GAN vs WGAN settings on {DATASET_NAMES[meta.get('dataset', MNIST)]}"


def _intro(meta: dict[str, Any]) -> str:
    stacked = meta.get("dataset", MNIST) == STACKED_MNIST
    channels = " (each channel of a sample scored as one digit)" if stacked else ""
    budget = f"{meta['steps']} generator steps" if meta["steps"] else f"{meta['budget_seconds']:g} s of training"
    return (f"Settings {', '.join(meta['settings'])}; seeds {', '.join(map(str, meta['seeds']))}; an equal budget "
            f"of {budget} per run at batch {meta['batch_size']}, models at width {meta['width']} (the notebook's "
            f"is 64), scored at {meta['points']} checkpoints on {meta['n']:,} samples each against the 10,000 "
            f"MNIST test images{channels}; {meta['mixed_precision']}{', XLA' if meta['jit_compile'] else ''} on "
            f"{platform.processor() or platform.machine()} (CPU). Scores use the suite's own MNIST classifier; FID "
            "is in its feature space, so compare it within this suite, not with Inception-FID values. Intervals "
            "are 95% t intervals over seeds; comparisons are Welch t-tests, Holm-corrected over the pairs.")


def _shown_noise(spread: pd.DataFrame) -> pd.DataFrame:
    return spread.rename(columns={"fid_seed_std": "FID std over seeds", "fid_eval_std": "FID std of the evaluation"})


def _shown_correlation(correlation: pd.DataFrame) -> pd.DataFrame:
    return correlation[[SETTING, "w_estimate", "runs", "points", "shown"]].rename(
        columns={"shown": "Spearman ρ vs FID, mean [95% CI]", "w_estimate": "critic's estimate"})


def markdown_page(title: str, intro: str, lines: list[str], sections: list[tuple[str, pd.DataFrame]],
                  figures: list[tuple[str, Path]]) -> str:
    """The Markdown twin of `studies.report.html.render_html`: intro, findings, tables, then figures."""
    md = [f"# {title}", "", intro, "", f"## {FINDINGS_TITLE}", ""] + [f"- {line}" for line in lines] + [""]
    for title, table in sections:
        shown = table.astype(object).where(table.notna(), MISSING)  # NaN as the HTML page shows it
        md += [f"## {title}", "", shown.to_markdown(index=False, floatfmt=".4g"), ""]
    for title, path in figures:
        md += [f"## {title}", "", f"![{title}]({path.name})", ""]
    return "\n".join(md)


def write_report(curves: pd.DataFrame, meta: dict[str, Any], *, out_dir: Path, runs_dir: Path,
                 samples: FinalSamples | None = None) -> list[Path]:
    """Write every table, figure and the Markdown/HTML report; returns the paths written.

    ``samples`` gives the final generators' features (the evaluation's spread, class shares); by default
    they are drawn from the run directories with the study's ``n``.
    """
    final = final_rows(curves)
    if final.empty:
        errors = "; ".join(curves.reindex(columns=[ERROR])[ERROR].dropna().astype(str).unique()) or "no runs"
        raise WganbenchError(f"every run failed, nothing to report: {errors}")
    target = meta["target_fid"]
    stats, shown = final_scores(final)
    pairs = comparisons(final)
    cost = cost_table(curves, final, target)
    rank = ranking(stats)
    samples = samples or FinalSamples(Path(runs_dir), meta["n"], meta.get("dataset", MNIST))
    spread = noise_sources(final, samples)
    per_run_rho, correlation = loss_correlation(curves, Path(runs_dir))
    failures = curves[curves[STATUS] == STATUS_FAILED].reindex(columns=[SETTING, SEED, TARGET, ERROR])
    settings = list(dict.fromkeys(final[SETTING]))
    seed = min(meta["seeds"])
    first_seed = [s for s in settings if (final[SETTING].eq(s) & final[SEED].eq(seed)).any()]
    shares = samples.class_shares(first_seed, seed)
    tables = {"final_scores": stats, "comparisons": pairs, "cost": cost, "ranking": rank, "noise": spread,
              "loss_correlation": correlation, "loss_correlation_runs": per_run_rho, "curves": curves,
              "failures": failures, "class_shares": shares.rename_axis(SETTING).reset_index()}
    written = [io.write_text(out_dir / f"{name}.csv", table.to_csv(index=False)) for name, table in tables.items()]
    figures = [
        ("FID versus generator step", band_plot(curves, STEP, out_dir / "fid_vs_step.png", "generator step")),
        ("FID versus training wall-clock", band_plot(curves, WALL_S, out_dir / "fid_vs_wallclock.png",
                                                     "training wall-clock (s)")),
        (f"Samples over training (seed {seed}, the same noise at each scored step)",
         sample_strips(curves, seed, runs_dir, out_dir / "samples_over_training.png")),
        (f"Losses and the W estimate (seed {seed})", loss_curves(settings, seed, runs_dir, out_dir / "losses.png")),
        ("The critic's estimate and FID against step", w_and_fid(curves, runs_dir, out_dir / "w_and_fid.png")),
        ("Final fixed-noise samples", sample_grids(first_seed, seed, runs_dir, out_dir / "samples.png")),
        ("Class histogram of generated samples", class_histograms(shares, out_dir / "class_histograms.png")),
    ]
    if meta.get("dataset", MNIST) == STACKED_MNIST:
        figures.insert(2, ("Stacked MNIST modes covered versus training wall-clock", band_plot(
            curves, WALL_S, out_dir / "modes_vs_wallclock.png", "training wall-clock (s)", STACKED_MODES,
            "modes covered of 1,000 (higher is better)")))
    written += [path for _, path in figures]
    sections = [("Final scores (mean [95% CI] over seeds)", shown),
                (f"{FID.upper()} differences (Welch; p Holm-corrected over {len(pairs)} "
                 f"comparison{'s' * (len(pairs) != 1)})",
                 comparisons_shown(pairs)),
                (f"Cost and time to FID ≤ {target:g} (median over the seeds that reached it)", cost),
                ("Ranking (by mean final FID; overlapping intervals are not a ranking)", rank),
                ("Which noise dominates: seeds or the evaluation (bootstrap of the final samples)",
                 _shown_noise(spread)),
                (f"Does the loss mean something (at least {MIN_POINTS} scored points per run)",
                 _shown_correlation(correlation))]
    if meta.get("dataset", MNIST) == STACKED_MNIST:
        sections.append(("Published Stacked MNIST results (other models, budgets and classifiers: they place "
                         "these numbers, they do not rank them)", PUBLISHED_STACKED))
    if not failures.empty:
        sections.append(("Failed runs", failures))
    intro = _intro(meta)
    lines = findings(stats, cost, target, pairs=pairs, spread=spread, correlation=correlation, noise=noise_fid())
    written.append(io.write_json(out_dir / META_FILE, meta))  # the recipe, for `wganbench contrast`
    written.append(io.write_text(out_dir / "report.md", markdown_page(_title(meta), intro, lines, sections, figures)))
    best = {**best_columns(), "images_per_s": "max", f"s_to_fid_{target:g}": "min"}
    page = render_html(_title(meta), intro, lines, sections, figures, best=best, findings_title=FINDINGS_TITLE)
    written.append(io.write_text(out_dir / "report.html", page))
    return written
