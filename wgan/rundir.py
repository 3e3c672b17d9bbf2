"""The run directory: its layout, the files in it, and the rules for starting over or resuming.

Layout (docs/DESIGN.md §3 Training runs and the run directory)::

    config.json         what ran: setting, seed, options, versions
    history.csv         one row per generator step: training seconds, losses, W estimate, penalty, norms
    samples/step_NNNNNN.png, samples/latest.png   8×8 grid of one fixed noise, per checkpoint
    generator.keras     the generator at the last checkpoint
    checkpoints/        tf.train.CheckpointManager checkpoints (the commit point of a save)
    tensorboard/        TensorBoard event files: step scalars, sample grids, hparams, scores
    summary.json        written when a training session stops

TensorFlow is not imported here, so the evaluators and the study layer can read run directories
cheaply.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import numpy as np

from wgan.data import IMAGE_SHAPE
from wgan.errors import WganbenchError
from wgan.io import atomic_write, write_json
from wgan.settings import Setting, dirname
from wgan.train_options import resume_keys

CONFIG_FILE = "config.json"
HISTORY_FILE = "history.csv"
SUMMARY_FILE = "summary.json"
GENERATOR_FILE = "generator.keras"
GENERATOR_EMA_FILE = "generator_ema.keras"  # the EMA of the generator's weights, with --ema-decay
SAMPLES_DIR = "samples"
LATEST_GRID = "latest.png"
CHECKPOINT_DIR = "checkpoints"
TENSORBOARD_DIR = "tensorboard"
RUN_ENTRIES = (CONFIG_FILE, HISTORY_FILE, SUMMARY_FILE, GENERATOR_FILE, GENERATOR_EMA_FILE, SAMPLES_DIR, CHECKPOINT_DIR,
               TENSORBOARD_DIR)
MAX_TO_KEEP = 2
GRID_SIDE = 8
GRID_PAD = 2

# history.csv: the step, its cumulative training seconds, then the step's logged values (the training
# step's tracker names, `wgan.step.GAN`'s logs).
STEP = "step"
WALL_TIME = "wall_time"
CRITIC_LOSS = "critic_loss"
GENERATOR_LOSS = "generator_loss"
WASSERSTEIN = "wasserstein"
PENALTY = "penalty"
CRITIC_GRAD_NORM = "critic_grad_norm"
GENERATOR_GRAD_NORM = "generator_grad_norm"
LOGGED = (CRITIC_LOSS, GENERATOR_LOSS, WASSERSTEIN, PENALTY, CRITIC_GRAD_NORM, GENERATOR_GRAD_NORM)
HISTORY_COLUMNS = (STEP, WALL_TIME, *LOGGED)

# summary.json keys and statuses.
SUMMARY_OUT_DIR = "out_dir"
SUMMARY_SETTING = "setting"
SUMMARY_SEED = "seed"
SUMMARY_STEPS = "steps"
SUMMARY_WALL_SECONDS = "wall_seconds"      # seconds of training (steps only), across resumes
SUMMARY_TOTAL_SECONDS = "total_seconds"    # the last session's wall-clock: training, tracing and saves
SUMMARY_IMAGES_PER_SECOND = "images_per_second"
SUMMARY_STATUS = "status"
STATUS_COMPLETE = "complete"      # reached `steps`
STATUS_BUDGET = "budget"          # reached `budget_seconds`
STATUS_STOPPED = "stopped"        # a caller's callback stopped training
STATUS_DIVERGED = "diverged"      # a loss went NaN/Inf; the last good checkpoint is kept

# What must match to resume a run (the RESUME options of wgan.train_options); steps, budget, strategy and
# progress options may change.
RESUME_KEYS = resume_keys()


def run_name(setting: str, seed: int) -> str:
    """A run's folder name: its setting's name made filesystem-safe (`wgan.settings.dirname`), and its seed."""
    return f"{dirname(setting)}-s{seed}"


def write_history(path: Path, rows: list[dict], columns: tuple[str, ...]) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    atomic_write(path, write)


def read_history(path: Path, up_to_step: int) -> list[dict]:
    """The rows of history.csv up to ``up_to_step`` (rows after the last checkpoint are dropped)."""
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            try:  # a row cut short by a crash outside our atomic writes (an edited file) is dropped
                rows.append({k: int(v) if k == STEP else float(v) for k, v in row.items()})
            except (TypeError, ValueError):
                continue
    return [row for row in rows if row[STEP] <= up_to_step]


def summary(out: Path, setting: str, seed: int, steps: int, wall_seconds: float,
            images_per_second: float | None, status: str, *, total_seconds: float | None = None) -> dict[str, Any]:
    return {SUMMARY_OUT_DIR: str(out), SUMMARY_SETTING: setting, SUMMARY_SEED: seed, SUMMARY_STEPS: steps,
            SUMMARY_WALL_SECONDS: round(wall_seconds, 3), SUMMARY_IMAGES_PER_SECOND: images_per_second,
            SUMMARY_STATUS: status,
            SUMMARY_TOTAL_SECONDS: None if total_seconds is None else round(total_seconds, 3)}


def save_generator(path: Path, generator) -> None:
    atomic_write(path, generator.save)


def fixed_noise(seed: int, noise_dim: int) -> np.ndarray:
    """The 64 noise vectors a run draws its sample grids from (the same at every checkpoint)."""
    return np.random.default_rng(seed).standard_normal((GRID_SIDE * GRID_SIDE, noise_dim)).astype(np.float32)


def sample_grid(generator, noise: np.ndarray) -> np.ndarray:
    """An 8×8 uint8 image grid of ``generator(noise)`` with a dark 2-pixel gutter."""
    images = np.asarray(generator(noise, training=False), dtype=np.float32)[..., 0]
    images = np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
    cell = IMAGE_SHAPE[0] + GRID_PAD
    grid = np.zeros((GRID_SIDE * cell + GRID_PAD,) * 2, np.uint8)
    for k, image in enumerate(images):
        r, c = divmod(k, GRID_SIDE)
        grid[GRID_PAD + r * cell:(r + 1) * cell, GRID_PAD + c * cell:(c + 1) * cell] = image
    return grid


def save_png(path: Path, grid: np.ndarray) -> None:
    from PIL import Image

    atomic_write(path, lambda tmp: Image.fromarray(grid, mode="L").save(tmp, format="PNG"))


def prepare_run_dir(out_dir: Path, config: dict, *, resume: bool, force: bool,
                    keys: tuple[str, ...] = RESUME_KEYS) -> bool:
    """Check what ``out_dir`` holds; returns whether to restore (``keys`` of ``config`` must match the held
    run's). Removes nothing unless ``force``."""
    config_path = out_dir / CONFIG_FILE
    if out_dir.exists() and not out_dir.is_dir():
        raise WganbenchError(f"{out_dir} exists and is not a folder; choose another --out-dir")
    if not config_path.is_file():  # no run here: what the folder holds is someone else's, never removed
        foreign = [name for name in RUN_ENTRIES if (out_dir / name).exists()]
        if foreign:
            raise WganbenchError(f"{out_dir} holds {', '.join(foreign)} but no run (no {CONFIG_FILE}); a run would "
                                 "write among them, and --force removes only a run's files: choose another "
                                 "--out-dir")
        return False
    try:
        held = json.loads(config_path.read_text())
        held_setting = held["setting"]
    except (OSError, ValueError, KeyError, TypeError):
        raise WganbenchError(f"{config_path} is unreadable; pass --force to start this run over") from None
    if force:
        remove_run(out_dir)
        return False
    if not (out_dir / CHECKPOINT_DIR / "checkpoint").is_file():
        saved = [name for name in (HISTORY_FILE, GENERATOR_FILE, SAMPLES_DIR) if (out_dir / name).exists()]
        if not saved:
            remove_run(out_dir)  # a run that failed before its first checkpoint: nothing to lose
            return False
        if resume:
            raise WganbenchError(f"{out_dir} holds a run whose {CHECKPOINT_DIR}/ is missing, so it cannot resume "
                                 f"(it has {', '.join(saved)}); pass --force to start it over")
    if not resume:
        raise WganbenchError(f"{out_dir} already holds a run of setting {held_setting.get('name')!r}; pass "
                             "--resume to continue it or --force to start over")
    held["setting"] = with_setting_defaults(held_setting)
    mismatched = [k for k in keys if held.get(k) != config.get(k)]
    if mismatched:
        raise WganbenchError(f"{out_dir} holds a run of setting {held_setting.get('name')!r} that differs in "
                             f"{', '.join(mismatched)}; resume with the same options or pass --force")
    return True


def with_setting_defaults(recorded: dict[str, Any]) -> dict[str, Any]:
    """A config.json's setting with each field it lacks at that field's default: a run recorded before the
    field existed trained as its default does (`Setting.g_batchnorm`), so it still resumes."""
    defaults = {f.name: f.default for f in fields(Setting) if f.default is not MISSING}
    return {**json.loads(json.dumps(defaults)), **recorded}


def remove_run(out_dir: Path) -> None:
    """Delete the run ``out_dir`` holds: its own entries only, and only when it holds one (config.json,
    deleted last, so a removal cut short still marks the folder as a run's)."""
    if not (out_dir / CONFIG_FILE).is_file():
        return
    for name in (*RUN_ENTRIES[1:], CONFIG_FILE):
        path = out_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def write_config(out_dir: Path, config: dict) -> None:
    write_json(out_dir / CONFIG_FILE, config)
