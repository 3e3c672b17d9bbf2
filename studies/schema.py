"""The study's file formats, importable without TensorFlow: a run's ``scores.csv`` and ``budget.json``.

A study's runner writes these files and its report and gate read them; both import their names from
here, so reading a study (``wganbench contrast``, ``wganbench report``) never starts TensorFlow. The
run directory's own files are :mod:`wgan.rundir`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from wgan import io, rundir

# Row keys of scores.csv besides the evaluator's own.
SETTING, SEED, TARGET, STEP, WALL_S, IMAGES_PER_S, STATUS, ERROR = (
    "setting", "seed", "target", "step", "wall_s", "images_per_s", "status", "error")
STATUS_OK, STATUS_FAILED = "ok", "failed"
SCORES_FILE = "scores.csv"
BUDGET_FILE = "budget.json"


@dataclass(frozen=True)
class Budget:
    """Equal budget per run: generator steps, or seconds of training; scored at ``points`` targets."""

    steps: int | None
    seconds: float | None
    points: int

    @property
    def unit(self) -> str:
        return "steps" if self.steps is not None else "s"

    def targets(self) -> list[float]:
        """Where each segment ends, unique and increasing: in steps, or in seconds of training."""
        total = self.steps if self.steps is not None else self.seconds
        targets = [total * k / self.points for k in range(1, self.points + 1)]
        if self.steps is not None:
            targets = [max(1, round(t)) for t in targets]
        return list(dict.fromkeys(targets))

    def record(self) -> dict[str, Any]:
        return {"unit": self.unit, "total": self.steps if self.steps is not None else self.seconds,
                "points": self.points}


def run_name(setting: str, seed: int) -> str:
    """A study's name for one run, and its folder's (the trainer's: a setting's name made filesystem-safe)."""
    return rundir.run_name(setting, seed)


def run_dir(runs_dir: str | Path, setting: str, seed: int) -> Path:
    return Path(runs_dir) / run_name(setting, seed)


def read_scores(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.exists() else pd.DataFrame()


def append_score(path: Path, row: dict[str, Any]) -> pd.DataFrame:
    """Add one row to a scores.csv atomically; returns the whole table."""
    frame = pd.concat([read_scores(path), pd.DataFrame([row])], ignore_index=True)
    io.write_text(path, frame.to_csv(index=False))
    return frame
