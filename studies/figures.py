"""The comparison report's figures, written as PNG files beside it (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import ScalarFormatter

from studies.compare import SETTING, STATUS, STATUS_OK, TARGET, run_dir
from wgan import io, rundir

FID = "fid"


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    io.atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return path


def band_plot(curves: pd.DataFrame, x: str, path: Path, xlabel: str) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ok = curves[curves[STATUS] == STATUS_OK]
    for setting, runs in ok.groupby(SETTING, sort=False):
        by_target = runs.groupby(TARGET)
        xs, mean, std = by_target[x].mean(), by_target[FID].mean(), by_target[FID].std(ddof=1).fillna(0.0)
        ax.plot(xs, mean, marker="o", label=setting)
        ax.fill_between(xs, mean - std, mean + std, alpha=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("FID (classifier features, lower is better)")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ScalarFormatter())  # plain 150, not 1.5 × 10²
    ax.yaxis.set_minor_formatter(ScalarFormatter())
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


def sample_grids(settings: list[str], seed: int, runs_dir: Path, path: Path) -> Path:
    fig, axes = plt.subplots(1, len(settings), figsize=(3.2 * len(settings), 3.5), squeeze=False)
    for ax, setting in zip(axes[0], settings):
        grid = run_dir(runs_dir, setting, seed) / rundir.SAMPLES_DIR / rundir.LATEST_GRID
        if grid.exists():
            ax.imshow(plt.imread(grid), cmap="gray")
        ax.set_title(f"{setting} (seed {seed})")
        ax.axis("off")
    return _save(fig, path)


def class_shares(settings: list[str], seed: int, runs_dir: Path, n: int) -> pd.DataFrame:
    """Argmax class shares of ``n`` samples from each setting's final generator (one row per setting)."""
    from evaluators.classifier import load_classifier
    from evaluators.mode_coverage import class_counts
    from evaluators.suite import generate, load_source

    classifier = load_classifier()
    rows = {}
    for setting in settings:
        samples = generate(load_source(run_dir(runs_dir, setting, seed)), n, seed=seed)
        _, logits = classifier.features_and_logits(samples)
        rows[setting] = class_counts(logits) / n
    return pd.DataFrame.from_dict(rows, orient="index", columns=[str(d) for d in range(10)])


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
