"""`wganbench compare`: train settings × seeds on an equal budget, score each run along the way.

Each run trains in segments (``points`` of them) through :func:`wgan.trainer.train` with
``resume=True``, and after every segment its generator is scored with :func:`evaluators.evaluate`;
the rows go to the run's ``scores.csv``. So quality is a curve, a finished segment is never
trained or scored twice, an interrupted compare resumes where it stopped, and a run that fails is
recorded as failed while the others go on. The report is written by :mod:`wgan.compare_report`.
"""

from __future__ import annotations

import argparse
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evaluators import evaluate
from evaluators import suite as keys
from evaluators.defaults import DEFAULTS as EVAL_DEFAULTS
from wgan import io, trainer
from wgan.errors import WganbenchError
from wgan.settings import get_setting

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"

# One dict of defaults for compare() and `wganbench compare`: the README's main job. The notebook's
# model trains at a few hundred images/s on 2 CPU cores, so the default fits 30 minutes by running
# the two settings that give recognisable digits soonest; `--settings` adds wgan-seed and wgan.
DEFAULTS: dict[str, Any] = {
    "settings": ("gan", "wgan-gp"),
    "seeds": (0,),
    "steps": None,
    "budget_seconds": 540.0,     # equal wall-clock cost per run
    "points": 4,                 # scored checkpoints per run
    "n": 5000,                   # samples per score (the FID reference is always the 10,000 test images)
    "width": 16,                 # a quarter of the notebook's width (64): 5× the steps in the same time here
    "batch_size": 64,            # every setting's batch: 4× the generator updates of 256 for the same images
    "jit_compile": False,        # with oneDNN kernels (wgan/__init__.py) plain graph steps beat XLA's by 15-20% here
    "mixed_precision": None,
    "out_dir": str(RESULTS_DIR / "compare"),
    "runs_dir": str(RESULTS_DIR / "runs" / "compare"),
    "target_fid": 150.0,         # "time to reach FID ≤ target" in the cost table: legible digits, roughly
    "quiet": False,
}

# Row keys of scores.csv besides the evaluator's own.
SETTING, SEED, TARGET, STEP, WALL_S, IMAGES_PER_S, STATUS, ERROR = (
    "setting", "seed", "target", "step", "wall_s", "images_per_s", "status", "error")
STATUS_OK, STATUS_FAILED = "ok", "failed"
SCORES_FILE = "scores.csv"


@dataclass(frozen=True)
class Budget:
    """Equal budget per run: generator steps, or seconds of training wall time."""

    steps: int | None
    seconds: float | None
    points: int

    def __post_init__(self) -> None:
        if (self.steps is None) == (self.seconds is None):
            raise WganbenchError("give exactly one budget: --steps N or --budget-seconds S")
        if (self.steps is not None and self.steps <= 0) or (self.seconds is not None and self.seconds <= 0):
            raise WganbenchError(f"the budget must be positive, got steps={self.steps}, seconds={self.seconds}")
        if self.points <= 0:
            raise WganbenchError(f"points must be a positive integer, got {self.points}")

    def targets(self) -> list[float]:
        """Where each segment ends: in steps, or in seconds of training time."""
        total = self.steps if self.steps is not None else self.seconds
        targets = [total * k / self.points for k in range(1, self.points + 1)]
        return [max(1, round(t)) for t in targets] if self.steps is not None else targets

    def train_kwargs(self, target: float) -> dict[str, Any]:
        return {"steps": int(target)} if self.steps is not None else {"budget_seconds": float(target)}


def run_dir(runs_dir: str | os.PathLike, setting: str, seed: int) -> Path:
    return Path(runs_dir) / f"{setting}-s{seed}"


def read_scores(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.exists() else pd.DataFrame()


def _append(path: Path, row: dict[str, Any]) -> pd.DataFrame:
    frame = pd.concat([read_scores(path), pd.DataFrame([row])], ignore_index=True)
    io.write_text(path, frame.to_csv(index=False))
    return frame


def compare_run(setting: str, seed: int, budget: Budget, *, runs_dir: str | os.PathLike, n: int,
                width: int | None = None, batch_size: int | None = None, jit_compile: bool = False, mixed_precision: str | None = None,
                quiet: bool = False, label: str = "") -> pd.DataFrame:
    """Train and score one (setting, seed) run segment by segment; returns its scores.csv rows."""
    spec = get_setting(setting)
    out = run_dir(runs_dir, setting, seed)
    scores_path = out / SCORES_FILE
    frame = read_scores(scores_path)
    if not frame.empty and (frame[STATUS] == STATUS_FAILED).any():
        frame = frame[frame[STATUS] != STATUS_FAILED]  # a failed run is retried on the next compare
        io.write_text(scores_path, frame.to_csv(index=False))
    done = set(frame[TARGET]) if not frame.empty else set()
    for target in budget.targets():
        if target in done:
            continue
        unit = "steps" if budget.steps is not None else "s"
        print(f"{label}{setting} seed {seed}: training to {target:g} {unit}", flush=True)
        row: dict[str, Any] = {SETTING: setting, SEED: seed, TARGET: target}
        try:
            summary = trainer.train(setting, seed=seed, out_dir=out, resume=True, quiet=quiet,
                                    width=width, batch_size=batch_size, jit_compile=jit_compile,
                                    mixed_precision=mixed_precision, **budget.train_kwargs(target))
            t0 = time.perf_counter()
            scores = evaluate(str(out), n=n, seed=EVAL_DEFAULTS["seed"])
            print(f"{label}{setting} seed {seed}: step {summary[trainer.SUMMARY_STEPS]}, "
                  f"FID {scores[keys.FID]:.2f}, IS {scores[keys.IS_MEAN]:.2f}, modes {scores[keys.MODES_COVERED]} "
                  f"(scored in {time.perf_counter() - t0:.1f}s)", flush=True)
            history = pd.read_csv(out / trainer.HISTORY_FILE)
            images = len(history) * (batch_size or spec.batch_size) * spec.n_critic
            row.update({STEP: summary[trainer.SUMMARY_STEPS], WALL_S: summary[trainer.SUMMARY_WALL_SECONDS],
                        IMAGES_PER_S: images / history[trainer.WALL_TIME].iloc[-1],
                        STATUS: STATUS_OK, **scores})
        except Exception as err:  # noqa: BLE001 — one failing run must not abort the others
            detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            print(f"{label}{setting} seed {seed}: FAILED: {detail}", flush=True)
            if not isinstance(err, WganbenchError):
                traceback.print_exc()
            return _append(scores_path, {**row, STATUS: STATUS_FAILED, ERROR: f"{type(err).__name__}: {detail}"})
        frame = _append(scores_path, row)
    return frame


def compare(settings: list[str] | tuple[str, ...] = DEFAULTS["settings"], seeds: list[int] | tuple[int, ...] = DEFAULTS["seeds"], *,
            steps: int | None = DEFAULTS["steps"], budget_seconds: float | None = DEFAULTS["budget_seconds"],
            points: int = DEFAULTS["points"], n: int = DEFAULTS["n"], width: int | None = DEFAULTS["width"],
            batch_size: int | None = DEFAULTS["batch_size"],
            jit_compile: bool = DEFAULTS["jit_compile"], mixed_precision: str | None = DEFAULTS["mixed_precision"], out_dir: str | os.PathLike = DEFAULTS["out_dir"],
            runs_dir: str | os.PathLike = DEFAULTS["runs_dir"], target_fid: float = DEFAULTS["target_fid"],
            quiet: bool = DEFAULTS["quiet"]) -> list[Path]:
    """Run (or reuse) every setting × seed, then write the report; returns the files written."""
    from wgan.compare_report import write_report

    for name in settings:
        get_setting(name)  # an unknown setting fails before any training starts
    if not seeds or any(s < 0 for s in seeds):
        raise WganbenchError(f"seeds must be non-negative integers, got {list(seeds)}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 0):
        raise WganbenchError(f"batch_size must be a non-negative integer (0 = each setting's own), got {batch_size!r}")
    batch_size = batch_size or None
    if steps is not None:
        budget_seconds = None  # --steps given: it replaces the default wall-clock budget
    budget = Budget(steps, budget_seconds, points)
    if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width < 0):
        raise WganbenchError(f"width must be a non-negative integer (0 = the notebook's 64), got {width!r}")
    width = width or None
    runs = [(s, seed) for seed in seeds for s in settings]
    frames = [compare_run(s, seed, budget, runs_dir=runs_dir, n=n, width=width, batch_size=batch_size, jit_compile=jit_compile,
                          mixed_precision=mixed_precision, quiet=quiet, label=f"[{i}/{len(runs)}] ")
              for i, (s, seed) in enumerate(runs, 1)]
    curves = pd.concat(frames, ignore_index=True)
    meta = {"settings": list(settings), "seeds": list(seeds), "steps": steps, "budget_seconds": budget_seconds,
            "points": points, "n": n, "width": width or get_setting(settings[0]).width,
            "batch_size": batch_size or "each setting's", "jit_compile": jit_compile,
            "mixed_precision": mixed_precision or "float32", "target_fid": target_fid}
    return write_report(curves, meta, out_dir=Path(out_dir), runs_dir=Path(runs_dir))


def _csv(kind: type):
    def parse(text: str) -> list:
        try:
            return [kind(item) for item in text.split(",") if item.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {kind.__name__}, got {text!r}")
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = DEFAULTS
    parser.add_argument("--settings", type=_csv(str), default=list(d["settings"]),
                        help="comma-separated settings (default: %(default)s)")
    parser.add_argument("--seeds", type=_csv(int), default=list(d["seeds"]), help="comma-separated seeds (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=d["steps"], help="equal budget in generator steps per run "
                        "(replaces --budget-seconds)")
    parser.add_argument("--budget-seconds", type=float, default=d["budget_seconds"],
                        help="equal budget in seconds of training per run (default: %(default)s)")
    parser.add_argument("--points", type=int, default=d["points"], help="scored checkpoints per run (default: %(default)s)")
    parser.add_argument("--n", type=int, default=d["n"], help="generated samples per score (default: %(default)s)")
    parser.add_argument("--width", type=int, default=d["width"],
                        help="narrowest feature map of generator and critic; 0 = the notebook's (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=d["batch_size"],
                        help="batch of every run; 0 = each setting's own (default: %(default)s)")
    parser.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=d["jit_compile"],
                        help="compile the train step with XLA (default: %(default)s)")
    parser.add_argument("--mixed-precision", choices=["bfloat16"], default=d["mixed_precision"],
                        help="train in bfloat16 mixed precision")
    parser.add_argument("--out-dir", default=d["out_dir"], help="where the report goes (default: %(default)s)")
    parser.add_argument("--runs-dir", default=d["runs_dir"], help="where run directories go (default: %(default)s)")
    parser.add_argument("--target-fid", type=float, default=d["target_fid"],
                        help="the FID for the 'time to reach' column (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", default=d["quiet"], help="no progress bars")


def run(args: argparse.Namespace) -> int:
    for path in compare(**{key: getattr(args, key) for key in DEFAULTS}):
        print(f"wrote {path}")
    return 0
