"""The study's file formats, importable without TensorFlow: a run's ``scores.csv`` and ``budget.json``.

A study's runner writes these files and its report and gate read them; both import their names from
here, so reading a study (``wganbench contrast``, ``wganbench report``) never starts TensorFlow. The
run directory's own files are :mod:`wgan.rundir`'s.
"""

from __future__ import annotations

import csv
import io as textio
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from wgan import io, rundir
from wgan.errors import WganbenchError
from wgan.paths import results_dir

# Row keys of scores.csv besides the evaluator's own. wall_s: the run's training seconds so far; the
# point's cost: score_s seconds of scoring, point_s its wall-clock in all (training session with its
# tracing and saves, scoring, bookkeeping), so point_s - score_s - training is the overhead.
SETTING, SEED, TARGET, STEP, WALL_S, IMAGES_PER_S, STATUS, ERROR = (
    "setting", "seed", "target", "step", "wall_s", "images_per_s", "status", "error")
SCORE_S, POINT_S = "score_s", "point_s"
TEXT_COLUMNS = (SETTING, STATUS, ERROR)  # every other column of scores.csv holds numbers
KEY = (SETTING, SEED, TARGET)  # one row per point
STATUS_OK, STATUS_FAILED = "ok", "failed"
SCORES_FILE = "scores.csv"
BUDGET_FILE = "budget.json"
STUDY_COST_FILE = "study-cost.json"  # in the runs folder: the last session's workers, wall and training seconds

# The range of each score column, and so the scale a report's interval is computed on (``stats.Scale``):
# counts and shares on the logit of their range, positive quantities on the log, KID (an unbiased MMD²,
# which may fall below 0) as it is; a KL to uniform over K classes or modes is at most log K. ``None`` as
# the unit: half a sample of the study's ``n``. The gate
# reads the same ranges: a limit past one passes every candidate.
SCALES: dict[str, tuple[float, float, float | None]] = {
    "fid": (0, math.inf, 1e-9), "is_mean": (1, 10, 1e-9), "modes_covered": (0, 10, 0.5),
    "kl_uniform": (0, math.log(10), 1e-9), "kl_test": (0, math.inf, 1e-9), "confident_share": (0, 1, None),
    "precision": (0, 1, None), "recall": (0, 1, None), "coverage": (0, 1, None), "density": (0, math.inf, None),
    "stacked_modes": (0, 1000, 0.5), "stacked_kl": (0, math.log(1000), 1e-9), "stacked_confident_share": (0, 1, None),
    "stacked_modes_confident": (0, 1000, 0.5)}


# The evaluator sanity table (evaluators/sanity.py, committed under results/) and its uniform-noise row: MNIST,
# n = 10,000 against the test split. What noise scores is what a generator that learned nothing scores.
SANITY_FILE, NOISE_CASE = "evaluator_sanity.csv", "uniform noise"


def noise_scores(path: Path | None = None) -> dict[str, float]:
    """Uniform noise's numeric scores in the sanity table, or {} when the table is not there to read."""
    try:
        table = pd.read_csv(path or results_dir() / SANITY_FILE)
        row = table.loc[table["case"] == NOISE_CASE].iloc[0]
    except (OSError, KeyError, IndexError, ValueError, pd.errors.ParserError):
        return {}
    return {k: float(v) for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


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


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def read_scores(path: Path) -> pd.DataFrame:
    """A run's scores.csv, damage refused: rows cut short (a last line without its newline, a row with
    fewer fields than the header) and repeated points are dropped with a warning naming the file; a
    value that is not a number in a numeric column is an error naming file, column and row."""
    if not path.exists():
        return pd.DataFrame()
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):  # every write ends its last row: this one was cut
        warn(f"{path}: its last line is cut short ({lines[-1].strip()[:40]!r}); dropped")
        lines = lines[:-1]
    rows = list(csv.reader(lines))
    if not rows:
        return pd.DataFrame()
    whole = [line for line, row in zip(lines[1:], rows[1:]) if len(row) == len(rows[0])]
    if len(whole) < len(rows) - 1:
        warn(f"{path}: {len(rows) - 1 - len(whole)} row(s) with fewer or more fields than its header; dropped")
    frame = pd.read_csv(textio.StringIO("".join([lines[0], *whole])))
    frame.attrs["damaged"] = len(whole) < len(lines) - 1 or not text.endswith("\n")
    for column in frame.columns.difference(TEXT_COLUMNS):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise WganbenchError(f"{path}: column {column!r} holds {frame[column].iloc[row]!r} in row {row + 1}, "
                                 "not a number; correct or delete that row (the point is then scored again)")
        frame[column] = values
    if set(KEY) | {STATUS} <= set(frame.columns):
        repeated = frame.duplicated([*KEY, STATUS]) & frame[TARGET].notna()
        if repeated.any():
            warn(f"{path}: {int(repeated.sum())} repeated point(s) (same setting, seed and target); the first kept")
            frame = frame[~repeated].reset_index(drop=True)
            frame.attrs["damaged"] = True
    return frame


def append_score(path: Path, row: dict[str, Any]) -> pd.DataFrame:
    """Add one row to a scores.csv atomically; returns the whole table. A point already there is not
    added again (two writers of one run are refused by its lock; this keeps the table whole anyway)."""
    frame = read_scores(path)
    if row.get(TARGET) is not None and not frame.empty and TARGET in frame.columns and (
            (frame[TARGET] == row[TARGET]) & (frame[STATUS] == row.get(STATUS))).any():
        return frame
    frame = pd.concat([frame, pd.DataFrame([row])], ignore_index=True)
    io.write_text(path, frame.to_csv(index=False))
    return frame
