"""The run's recorder: the Keras callback that keeps a training session's history, clock and saves.

:class:`RunRecorder` appends a history row per step, stops on NaN, at ``steps`` or at the budget, and
saves at each checkpoint. Its clock counts training steps only: each step from the batch's start to
its end, never the saves between them. The first step of a session also traces and optimizes the
compiled step, so it is charged the measured time of the session's second step instead (and until
that is known, the run's mean step so far: a seconds budget never stops on a tracing); budgets in
seconds are therefore budgets of training, equal for every setting (docs/DESIGN.md §6).

A save writes history.csv, the sample grids and generator.keras first and the checkpoint last: the
checkpoint is the commit point, so a kill at any moment of a save resumes from the previous
checkpoint with a history that covers it (rows past it are dropped on resume).

``points`` are targets before the last (steps, or seconds of training with a seconds budget): at the
first step reaching each, the recorder saves as a run ending there would and calls ``on_point(step)``
(scoring, say) before training goes on; that call, like a save, is off the training clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from wgan import rundir
from wgan.rundir import HISTORY_COLUMNS, LOGGED


class RunRecorder(keras.callbacks.Callback):
    """Per step: history row, NaN check, stop at `steps`/budget; per checkpoint: a save."""

    def __init__(self, out_dir: Path, manager: tf.train.CheckpointManager, history: list[dict], *,
                 start_step: int, wall_before: float, steps: int | None, budget_seconds: float | None,
                 checkpoint_every: int, noise: np.ndarray, points: Sequence[float] = (),
                 on_point: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self.out_dir, self.manager, self.history = out_dir, manager, history
        self.start_step, self.steps, self.budget = start_step, steps, budget_seconds
        self.checkpoint_every, self.noise = checkpoint_every, noise
        self.points, self.on_point = list(points), on_point
        self.wall_before = wall_before  # training time of the run before this session
        self.status = rundir.STATUS_STOPPED
        self.diverged: str | None = None
        self.last_saved = start_step
        self.elapsed = 0.0  # training seconds of this session

    def on_train_begin(self, logs=None) -> None:
        self.t0 = time.perf_counter()

    @property
    def total(self) -> float:
        """Wall-clock seconds of this session: training, tracing and saves."""
        return time.perf_counter() - self.t0

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        self.batch_start = time.perf_counter()

    def _clock(self, batch: int) -> None:
        seconds = time.perf_counter() - self.batch_start
        if batch == 0:
            # The first step also traced the compiled step: charge it the run's mean step so far (0 on a
            # fresh run), so a seconds budget never stops on the tracing; the second step's time replaces
            # it below. A session of one step from scratch has nothing better than its measured time.
            self.first_seconds = seconds
            one_step = self.steps is not None and self.start_step + 1 >= self.steps
            self.elapsed += (self.wall_before / self.start_step if self.start_step else
                             seconds if one_step else 0.0)
            return
        self.elapsed += seconds
        if batch == 1 and self.history and self.history[-1][rundir.STEP] == self.start_step + 1:
            self.elapsed = 2 * seconds  # the first step charged this step's time
            self.history[-1][rundir.WALL_TIME] = round(self.wall_before + seconds, 4)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self._clock(batch)
        step = self.start_step + batch + 1
        values = {name: float(logs[name]) for name in LOGGED}
        bad = [name for name, value in values.items() if not np.isfinite(value)]
        if bad:
            self.diverged = f"{', '.join(bad)} became {values[bad[0]]} at step {step}"
            self.status = rundir.STATUS_DIVERGED
            self.model.stop_training = True
            return
        self.history.append({rundir.STEP: step, rundir.WALL_TIME: round(self.wall_before + self.elapsed, 4),
                             **values})
        if self.steps is not None and step >= self.steps:
            self.status = rundir.STATUS_COMPLETE
        elif self.budget is not None and self.wall_before + self.elapsed >= self.budget:
            self.status = rundir.STATUS_BUDGET
        else:
            if self.points and self._reached(self.points[0], step):
                self.save(step)
                while self.points and self._reached(self.points[0], step):
                    self.points.pop(0)
                    if self.on_point is not None:
                        self.on_point(step)
            elif step % self.checkpoint_every == 0:
                self.save(step)
            return
        self.model.stop_training = True
        self.save(step)

    def _reached(self, target: float, step: int) -> bool:
        return step >= target if self.steps is not None else self.wall_before + self.elapsed >= target

    def on_train_end(self, logs=None) -> None:
        if self.diverged is None and self.history and self.history[-1][rundir.STEP] > self.last_saved:
            self.save(self.history[-1][rundir.STEP])  # a caller's callback stopped the run between checkpoints

    def save(self, step: int) -> None:
        generator = self.model.generator
        rundir.write_history(self.out_dir / rundir.HISTORY_FILE, self.history, HISTORY_COLUMNS)
        grid = rundir.sample_grid(generator, self.noise)
        rundir.save_png(self.out_dir / rundir.SAMPLES_DIR / f"step_{step:06d}.png", grid)
        rundir.save_png(self.out_dir / rundir.SAMPLES_DIR / rundir.LATEST_GRID, grid)
        rundir.save_generator(self.out_dir / rundir.GENERATOR_FILE, generator)
        if self.model.generator_ema is not None:  # the grid stays the raw generator's
            rundir.save_generator(self.out_dir / rundir.GENERATOR_EMA_FILE, self.model.generator_ema)
        self.manager.save(checkpoint_number=step)
        self.last_saved = step
