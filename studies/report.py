"""The comparison report: pandas tables, matplotlib figures and a few sentences computed from them.

Input is the concatenated ``scores.csv`` rows of every run (one row per scored checkpoint). Output,
under ``out_dir``: ``report.md``, ``report.html``, one CSV per table (final scores, cost, ranking,
curves, failures) and four figures (FID vs step, FID vs wall-clock, sample grids, class histograms).
"""

from __future__ import annotations

import platform
import re
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluators.metrics import values
from studies.compare import ERROR, IMAGES_PER_S, SEED, SETTING, STATUS, STATUS_FAILED, STATUS_OK, STEP, TARGET, WALL_S
from studies.figures import band_plot, class_histograms, class_shares, sample_grids
from wgan import io
from wgan.errors import WganbenchError

# The headline scores the findings and the ranking speak of.
FID, IS_MEAN, MODES_COVERED, RECALL = "fid", "is_mean", "modes_covered", "recall"


def score_columns() -> list[str]:
    """Every quality value of the metric table (spreads left out), in the table's order."""
    return [v.key for v in values() if v.better is not None]


def final_rows(curves: pd.DataFrame) -> pd.DataFrame:
    """The last successful scored checkpoint of every run that did not fail."""
    ok = curves[curves[STATUS] == STATUS_OK]
    failed = set(map(tuple, curves.loc[curves[STATUS] == STATUS_FAILED, [SETTING, SEED]].values))
    last = ok.sort_values(TARGET).groupby([SETTING, SEED], sort=False).tail(1)
    return last[[(s, seed) not in failed for s, seed in zip(last[SETTING], last[SEED])]]


def _mean_std(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    grouped = frame.groupby(SETTING, sort=False)[columns]
    mean, std = grouped.mean(), grouped.std(ddof=1)  # NaN for one seed: no spread was measured
    return mean.join(std, lsuffix="_mean", rsuffix="_std").join(grouped.size().rename("seeds"))


def final_scores(final: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(numeric table for CSV, 'mean ± std' table for reading), one row per setting."""
    stats = _mean_std(final, score_columns())
    shown = pd.DataFrame({c: [f"{m:.4g}" if pd.isna(s) else f"{m:.4g} ± {s:.2g}"
                              for m, s in zip(stats[f"{c}_mean"], stats[f"{c}_std"])]
                          for c in score_columns()}, index=stats.index)
    shown.insert(0, "seeds", stats["seeds"])
    return stats.reset_index(), shown.reset_index()


def time_to_fid(curves: pd.DataFrame, target: float) -> pd.Series:
    """Per setting, the mean training seconds until FID ≤ target, over the seeds that got there."""
    ok = curves[curves[STATUS] == STATUS_OK]
    reached = ok[ok[FID] <= target].groupby([SETTING, SEED])[WALL_S].min()
    return reached.groupby(level=SETTING).mean()


def cost_table(curves: pd.DataFrame, final: pd.DataFrame, target: float) -> pd.DataFrame:
    stats = final.groupby(SETTING, sort=False).agg(
        steps=(STEP, "mean"), wall_s=(WALL_S, "mean"), images_per_s=(IMAGES_PER_S, "mean"))
    reached = time_to_fid(curves, target)
    stats[f"s_to_fid_{target:g}"] = [reached.get(s, np.nan) for s in stats.index]
    return stats.reset_index()


def ranking(stats: pd.DataFrame) -> pd.DataFrame:
    """Settings by mean final FID (lower is better), with the other headline scores beside it."""
    cols = [SETTING, f"{FID}_mean", f"{IS_MEAN}_mean", f"{MODES_COVERED}_mean", f"{RECALL}_mean"]
    table = stats[cols].sort_values(f"{FID}_mean").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table


def _inline_html(text: str) -> str:
    """Markdown's `code` spans as HTML <code>, everything else escaped."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", escape(text, quote=False))


def findings(stats: pd.DataFrame, cost: pd.DataFrame, target: float) -> list[str]:
    """Sentences computed from the tables (never written by hand)."""
    fid = stats.set_index(SETTING)[f"{FID}_mean"]
    modes = stats.set_index(SETTING)[f"{MODES_COVERED}_mean"]
    best, worst = fid.idxmin(), fid.idxmax()
    lines = [f"`{best}` reaches the lowest final FID ({fid[best]:.1f}, {modes[best]:.3g} of 10 digit classes "
             f"covered); `{worst}` the highest ({fid[worst]:.1f})."]
    for a, b, what in (("wgan-seed", "gan", "the notebook's clipped WGAN versus its DCGAN"),
                       ("wgan", "wgan-seed", "the paper's WGAN recipe versus the notebook's"),
                       ("wgan-gp", "wgan", "the gradient penalty versus weight clipping"),
                       ("wgan-gp", "gan", "the gradient-penalty WGAN versus the cross-entropy GAN")):
        if a in fid and b in fid:
            verb = "trails" if fid[a] > fid[b] else "beats"
            lines.append(f"{what[0].upper() + what[1:]}: `{a}` {verb} `{b}` on FID ({fid[a]:.1f} vs {fid[b]:.1f}, "
                         f"{100 * (fid[a] - fid[b]) / fid[b]:+.0f}%).")
    rate = cost.set_index(SETTING)["images_per_s"]
    lines.append(f"Fastest training: `{rate.idxmax()}` at {rate.max():.0f} images/s; slowest: `{rate.idxmin()}` at "
                 f"{rate.min():.0f} images/s (a critic update consumes one batch, so n_critic 5 costs 5 batches per "
                 "generator step).")
    reached = cost.set_index(SETTING)[f"s_to_fid_{target:g}"].dropna()
    lines.append(f"FID ≤ {target:g} was reached by " + ", ".join(f"`{s}` after {t:.0f}s" for s, t in reached.items())
                 + " of training." if len(reached) else f"No setting reached FID ≤ {target:g} within its budget.")
    return lines


def write_report(curves: pd.DataFrame, meta: dict[str, Any], *, out_dir: Path, runs_dir: Path) -> list[Path]:
    """Write every table, figure and the Markdown/HTML report; returns the paths written."""
    final = final_rows(curves)
    if final.empty:
        errors = "; ".join(curves.reindex(columns=[ERROR])[ERROR].dropna().astype(str).unique()) or "no runs"
        raise WganbenchError(f"every run failed, nothing to report: {errors}")
    stats, shown = final_scores(final)
    cost = cost_table(curves, final, meta["target_fid"])
    rank = ranking(stats)
    failures = curves[curves[STATUS] == STATUS_FAILED].reindex(columns=[SETTING, SEED, TARGET, ERROR])
    settings = list(dict.fromkeys(final[SETTING]))
    shares = class_shares(settings, min(meta["seeds"]), runs_dir, meta["n"])
    tables = {"final_scores": stats, "cost": cost, "ranking": rank, "curves": curves, "failures": failures,
              "class_shares": shares.rename_axis(SETTING).reset_index()}
    written = [io.write_text(out_dir / f"{name}.csv", table.to_csv(index=False)) for name, table in tables.items()]
    figures = {
        "FID versus generator step": band_plot(curves, STEP, out_dir / "fid_vs_step.png", "generator step"),
        "FID versus training wall-clock": band_plot(curves, WALL_S, out_dir / "fid_vs_wallclock.png",
                                                     "training wall-clock (s)"),
        "Final fixed-noise samples": sample_grids(settings, min(meta["seeds"]), runs_dir, out_dir / "samples.png"),
        "Class histogram of generated samples": class_histograms(shares, out_dir / "class_histograms.png"),
    }
    written += figures.values()
    budget = (f"{meta['steps']} generator steps" if meta["steps"] else f"{meta['budget_seconds']:g} s of training")
    intro = (f"Settings {', '.join(meta['settings'])}; seeds {', '.join(map(str, meta['seeds']))}; an equal budget "
             f"of {budget} per run at batch {meta['batch_size']}, models at width "
             f"{meta['width']} (the notebook's is 64), scored at {meta['points']} "
             f"checkpoints on {meta['n']:,} samples each against the 10,000 MNIST test images; "
             f"{meta['mixed_precision']}{', XLA' if meta['jit_compile'] else ''} on "
             f"{platform.processor() or platform.machine()} "
             "(CPU). Scores use the suite's own MNIST classifier; FID is in its feature space, so compare it "
             "within this suite, not with Inception-FID values.")
    sections = [("Final scores (mean ± std over seeds)", shown), ("Cost", cost), ("Ranking", rank)]
    if not failures.empty:
        sections.append(("Failed runs", failures))
    md = ["# wganbench: GAN vs WGAN settings on MNIST", "", intro, "", "## What the numbers show", ""]
    lines = findings(stats, cost, meta["target_fid"])
    md += [f"- {line}" for line in lines] + [""]
    html = [f"<h1>wganbench: GAN vs WGAN settings on MNIST</h1><p>{intro}</p><h2>What the numbers show</h2><ul>"]
    html += [f"<li>{_inline_html(line)}</li>" for line in lines] + ["</ul>"]
    for title, table in sections:
        md += [f"## {title}", "", table.to_markdown(index=False, floatfmt=".4g"), ""]
        html += [f"<h2>{title}</h2>", table.to_html(index=False, float_format=lambda v: f"{v:.4g}")]
    for title, path in figures.items():
        md += [f"## {title}", "", f"![{title}]({path.name})", ""]
        html += [f"<h2>{title}</h2>", f'<img src="{path.name}" alt="{title}">']
    written.append(io.write_text(out_dir / "report.md", "\n".join(md)))
    written.append(io.write_text(out_dir / "report.html", "<!doctype html><meta charset='utf-8'><title>wganbench "
                                 "report</title>\n" + "\n".join(html) + "\n"))
    return written
