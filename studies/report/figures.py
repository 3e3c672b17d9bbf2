"""The comparison report's figures, written as PNG files beside it (matplotlib, no display).

Curves over the study: FID against step and against training seconds with the seeds' 95 % band;
losses and the W estimate against step; the W estimate and FID on twin axes, one panel per setting.
Images: sample grids over training (one strip per setting), the final grids, class histograms.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator, ScalarFormatter

from studies import stats
from studies.report.rundata import read_history, w_column
from studies.report.tables import scale_for
from studies.schema import SEED, SETTING, STATUS, STATUS_OK, STEP, TARGET, run_dir
from wgan import io, rundir

FID = "fid"
LOSSES = (rundir.CRITIC_LOSS, rundir.GENERATOR_LOSS, rundir.WASSERSTEIN)
FID_COLOR, W_COLOR = "tab:orange", "tab:blue"


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    io.atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return path


def _plain_log_axis(ax) -> None:
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ScalarFormatter())  # plain 150, not 1.5 × 10²
    ax.yaxis.set_minor_formatter(ScalarFormatter())


def _smooth(values: np.ndarray) -> tuple[np.ndarray, int]:
    """A centred rolling mean over ~1/50 of the curve (so a long run's noise does not hide its trend)."""
    window = max(1, len(values) // 50)
    return pd.Series(values).rolling(window, center=True, min_periods=1).mean().to_numpy(), window


def _ok(curves: pd.DataFrame) -> pd.DataFrame:
    return curves[curves[STATUS] == STATUS_OK]


def band_plot(curves: pd.DataFrame, x: str, path: Path, xlabel: str, metric: str = FID,
              ylabel: str = "FID (classifier features, lower is better)") -> Path:
    """Mean ``metric`` per scoring point over seeds, with its 95 % t interval on the metric's scale
    (`studies.report.tables.scale_for`) as a band (none from one seed); FID on a log axis."""
    groups = list(_ok(curves).groupby(SETTING, sort=False))
    many = len(groups) > 6  # an ablation's many variants: the legend beside the axes, one colour each
    fig, ax = plt.subplots(figsize=(11, 4.5) if many else (6.5, 4))
    colors = plt.get_cmap("tab20").colors if len(groups) > 10 else plt.get_cmap("tab10").colors
    shown: list[float] = []
    for i, (setting, runs) in enumerate(groups):
        scale = scale_for(metric, float(runs["n"].max()) if "n" in runs.columns else math.nan)
        points = [(g[x].mean(), stats.mean_ci(g[metric].to_numpy(dtype=float), scale=scale))
                  for _, g in runs.groupby(TARGET)]
        xs = np.array([p[0] for p in points])
        mean = np.array([ci.mean for _, ci in points])
        low, high = np.array([ci.low for _, ci in points]), np.array([ci.high for _, ci in points])
        seeds = runs[SEED].nunique()
        line = ax.plot(xs, mean, marker="o", color=colors[i % len(colors)],
                       label=f"{setting} ({seeds} seed{'s' * (seeds != 1)})")[0]
        shown += mean.tolist()
        if not np.isnan(low).all():  # the interval on the metric's scale stays inside its range
            ax.fill_between(xs, low, high, alpha=0.2, color=line.get_color())
            shown += [v for v in (*low, *high) if np.isfinite(v)]
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if metric == FID:
        _plain_log_axis(ax)
    if shown:
        ax.set_ylim(0.9 * min(shown), 1.1 * max(shown))
    ax.grid(alpha=0.3)
    if many:
        ax.legend(title="mean, 95% CI over seeds", fontsize=7, title_fontsize=8, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(title="mean, 95% CI over seeds", fontsize=8, title_fontsize=8, loc="best")
    return _save(fig, path)


def loss_curves(settings: list[str], seed: int, runs_dir: Path, path: Path) -> Path:
    """Per setting (one panel each): critic and generator losses and the W estimate against step."""
    fig, axes = plt.subplots(1, len(settings), figsize=(4.2 * len(settings), 3.6), squeeze=False)
    for ax, setting in zip(axes[0], settings):
        history = read_history(runs_dir, setting, seed)
        ax.set_title(f"{setting} (seed {seed})")
        if history is None or history.empty:
            ax.text(0.5, 0.5, "no history.csv", ha="center", va="center", transform=ax.transAxes)
            continue
        window = 1
        for column in LOSSES:
            if column in history.columns and history[column].notna().any() and (
                    column != rundir.WASSERSTEIN or w_column(setting) == "wasserstein"):
                smooth, window = _smooth(history[column].to_numpy(dtype=float))
                ax.plot(history[rundir.STEP], smooth, label=column.replace("_", " "), lw=1.2)
        ax.set_xlabel("generator step" + (f" (rolling mean of {window})" if window > 1 else ""))
        ax.set_ylabel("loss / estimate")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, path)


def w_and_fid(curves: pd.DataFrame, runs_dir: Path, path: Path) -> Path:
    """Per setting: the critic's estimate (left axis, every seed) and FID at the scored steps (right axis)."""
    ok = _ok(curves)
    settings = list(dict.fromkeys(ok[SETTING]))
    fig, axes = plt.subplots(1, max(1, len(settings)), figsize=(4.4 * max(1, len(settings)), 3.6), squeeze=False)
    for ax, setting in zip(axes[0], settings):
        column = w_column(setting)
        twin = ax.twinx()
        for k, (seed, points) in enumerate(ok[ok[SETTING] == setting].groupby(SEED)):
            style = ("-", "--", ":", "-.")[k % 4]
            history = read_history(runs_dir, setting, int(seed))
            if history is not None and column in history.columns:
                smooth, _ = _smooth(history[column].to_numpy(dtype=float))
                ax.plot(history[rundir.STEP], smooth, color=W_COLOR, ls=style, lw=1, label=f"seed {seed}")
            points = points.sort_values(STEP)
            twin.plot(points[STEP], points[FID], color=FID_COLOR, ls=style, marker="o", ms=3)
        ax.set_title(setting)
        ax.set_xlabel("generator step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("W estimate" if column == rundir.WASSERSTEIN else "discriminator loss", color=W_COLOR)
        twin.set_ylabel("FID", color=FID_COLOR)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    return _save(fig, path)


def _image(ax, path: Path) -> None:
    if path.exists():
        ax.imshow(plt.imread(path), cmap="gray")
    else:
        ax.text(0.5, 0.5, "missing", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def sample_strips(curves: pd.DataFrame, seed: int, runs_dir: Path, path: Path) -> Path:
    """One row per setting: the run's fixed-noise grid at each scored step (samples/step_NNNNNN.png)."""
    ok = _ok(curves)
    ok = ok[ok[SEED] == seed]
    settings = list(dict.fromkeys(ok[SETTING]))
    points = max([int((ok[SETTING] == s).sum()) for s in settings] or [1])
    fig, axes = plt.subplots(max(1, len(settings)), points, figsize=(1.9 * points, 2.1 * max(1, len(settings))),
                             squeeze=False)
    for row, setting in zip(axes, settings):
        steps = ok.loc[ok[SETTING] == setting, STEP].astype(int).sort_values().tolist()
        for ax, step in zip(row, steps):
            _image(ax, run_dir(runs_dir, setting, seed) / rundir.SAMPLES_DIR / f"step_{step:06d}.png")
            ax.set_title(f"step {step:,}", fontsize=8)
        for ax in row[len(steps):]:
            ax.axis("off")
        row[0].set_ylabel(setting)
    return _save(fig, path)


def sample_grids(settings: list[str], seed: int, runs_dir: Path, path: Path) -> Path:
    fig, axes = plt.subplots(1, len(settings), figsize=(3.2 * len(settings), 3.5), squeeze=False)
    for ax, setting in zip(axes[0], settings):
        _image(ax, run_dir(runs_dir, setting, seed) / rundir.SAMPLES_DIR / rundir.LATEST_GRID)
        ax.set_title(f"{setting} (seed {seed})")
        ax.axis("off")
    return _save(fig, path)


def class_histograms(shares: pd.DataFrame, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 3.8))
    width = 0.8 / max(1, len(shares))
    for i, (setting, row) in enumerate(shares.iterrows()):
        ax.bar(np.arange(10) + i * width - 0.4 + width / 2, row.values, width, label=setting)
    ax.axhline(0.1, color="k", lw=0.8, ls="--", label="uniform")
    ax.set_xticks(range(10))
    ax.set_xlabel("digit class (the suite's classifier)")
    ax.set_ylabel("share of generated samples")
    ax.legend(fontsize=8)
    return _save(fig, path)


def contrast_plot(table: pd.DataFrame, path: Path, ylabel: str = "final FID (lower is better)") -> Path:
    """Final FID per setting, one marker per study with its 95 % interval over seeds (`studies.report.contrast`)."""
    settings = list(dict.fromkeys(table[SETTING]))
    studies = list(dict.fromkeys(table["study"]))
    fig, ax = plt.subplots(figsize=(1.6 * len(settings) + 2.5, 3.8))
    step = 0.6 / max(1, len(studies))
    for k, study in enumerate(studies):
        rows = table[table["study"] == study].set_index(SETTING).reindex(settings)
        xs = np.arange(len(settings)) - 0.3 + step * (k + 0.5)
        low = (rows["fid_mean"] - rows["fid_ci_low"]).fillna(0).clip(lower=0)
        high = (rows["fid_ci_high"] - rows["fid_mean"]).fillna(0).clip(lower=0)
        ax.errorbar(xs, rows["fid_mean"], yerr=[low, high], fmt="o", capsize=3, label=study)
    ax.set_xticks(range(len(settings)), settings)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(title="study", fontsize=8, title_fontsize=8)
    return _save(fig, path)
