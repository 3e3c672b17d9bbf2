"""TensorBoard event files of a run, so ``tensorboard --logdir results/runs`` shows every run side by side.

A run writes into ``<run dir>/tensorboard/`` (:func:`tensorboard_dir`):

- ``train/<name>`` scalars at every generator step, one per logged value of the step
  (:data:`wgan.gan.LOGGED`: both losses, the Wasserstein estimate, the penalty, both gradient norms);
- ``samples``, the fixed-noise 8×8 sample grid, at every checkpoint and at the last step;
- the setting and the run's options as hyperparameters (HParams plugin), once per run;
- ``scores/<key>`` scalars at each scored step of a comparison (:func:`log_scores`).

Cheap per step: a step's values are kept in memory (a list append, about 1 µs) and written at each
checkpoint and when training ends, all pending steps in one compiled call (about 50 µs a step),
then flushed; six eager ``tf.summary.scalar`` calls would cost about 5 ms every step on the 2-core
CPU. So the event files hold, like history.csv, the steps up to the last save: a run killed between
checkpoints and resumed does not write those steps twice.
"""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

from wgan import rundir
from wgan.gan import LOGGED

TENSORBOARD_DIR = rundir.TENSORBOARD_DIR
SAMPLES_TAG = "samples"
TRAIN_SCOPE = "train"
HParamValue = str | float | int | bool
# Summaries held in memory between checkpoints: the writer flushes at checkpoints, not by itself.
MAX_QUEUE = 100_000
FLUSH_MILLIS = 24 * 3600 * 1000


def tensorboard_dir(run_dir: str | Path) -> Path:
    """Where a run's event files go: ``<run dir>/tensorboard``."""
    return Path(run_dir) / TENSORBOARD_DIR


def train_tag(name: str) -> str:
    return f"{TRAIN_SCOPE}/{name}"


def score_tag(key: str) -> str:
    return f"scores/{key}"


def hparams_of(config: dict[str, Any], prefix: str = "") -> dict[str, HParamValue]:
    """``config`` flattened for the HParams plugin: nested keys joined by ``.``, values str/float/int/bool.

    Lists and tuples become their comma-joined text and ``None`` becomes ``"none"`` (the plugin
    takes no other types).
    """
    flat: dict[str, HParamValue] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(hparams_of(value, f"{name}."))
        elif isinstance(value, bool | str):
            flat[name] = value
        elif isinstance(value, numbers.Integral):
            flat[name] = int(value)
        elif isinstance(value, numbers.Real):
            flat[name] = float(value)
        elif isinstance(value, list | tuple):
            flat[name] = ", ".join(map(str, value))
        else:
            flat[name] = "none" if value is None else str(value)
    return flat


class TensorBoardLogger(keras.callbacks.Callback):
    """Writes a training session's summaries (see the module docstring) into ``log_dir``.

    ``setting`` is the setting's name, ``hparams`` the options (e.g. ``hparams_of(config)``);
    ``noise`` is the run's fixed noise (:func:`wgan.rundir.fixed_noise`), ``every`` the
    checkpoint interval; ``start_step`` the step the session starts from (hyperparameters are
    written when it is 0, so once per run).
    """

    def __init__(self, log_dir: str | Path, *, setting: str, hparams: dict[str, HParamValue], start_step: int,
                 noise: np.ndarray, every: int) -> None:
        super().__init__()
        self.log_dir, self.setting, self.hparams = Path(log_dir), setting, dict(hparams)
        self.start_step, self.noise, self.every = start_step, noise, every
        self.writer: tf.summary.SummaryWriter | None = None
        self.step = start_step
        self.last_image: int | None = None
        self.pending_steps: list[int] = []
        self.pending_values: list[list[float]] = []

    def on_train_begin(self, logs=None) -> None:
        self.writer = tf.summary.create_file_writer(str(self.log_dir), max_queue=MAX_QUEUE,
                                                    flush_millis=FLUSH_MILLIS)
        writer = self.writer

        @tf.function(input_signature=[tf.TensorSpec([None], tf.int64), tf.TensorSpec([None, len(LOGGED)])])
        def write_scalars(steps: tf.Tensor, values: tf.Tensor) -> None:
            with writer.as_default():  # this session's writer, captured when traced
                for i in tf.range(tf.shape(steps)[0]):
                    with tf.name_scope(f"{TRAIN_SCOPE}/"):  # absolute: the loop's "while/" scope stays out of tags
                        for j, name in enumerate(LOGGED):
                            tf.summary.scalar(name, values[i, j], step=steps[i])

        self.write_scalars = write_scalars
        if self.start_step == 0:
            with self.writer.as_default(step=0):
                hp.hparams({"setting": self.setting, **self.hparams})
            self.writer.flush()

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self.step = self.start_step + batch + 1
        self.pending_steps.append(self.step)
        self.pending_values.append([float(logs[name]) if logs and name in logs else np.nan for name in LOGGED])
        if self.step % self.every == 0:
            self.write()

    def on_train_end(self, logs=None) -> None:
        if self.writer is None:
            return
        self.write(samples=self.step > self.start_step and self.last_image != self.step)  # the last step's grid
        self.writer.close()
        self.writer = None

    def write(self, samples: bool = True) -> None:
        """The pending steps' scalars, the sample grid at the current step, then a flush."""
        if self.pending_steps:
            self.write_scalars(tf.constant(self.pending_steps, tf.int64),
                               tf.constant(self.pending_values, tf.float32))
            self.pending_steps, self.pending_values = [], []
        if samples:
            grid = rundir.sample_grid(self.model.generator, self.noise)  # [H, W], or [H, W, 3] in colour
            with self.writer.as_default(step=self.step):
                tf.summary.image(SAMPLES_TAG, grid[None, ..., None] if grid.ndim == 2 else grid[None], max_outputs=1,
                                 description="generator(fixed noise), 8×8 grid")
            self.last_image = self.step
        self.writer.flush()


def log_scores(log_dir: str | Path, step: int, scores: dict[str, Any]) -> list[str]:
    """Write every number of ``scores`` as a ``scores/<key>`` scalar at ``step``; returns the tags.

    Booleans and text (a status, an error) are left out.
    """
    tags = []
    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default(step=int(step)):
        for key, value in scores.items():
            if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
                continue
            tf.summary.scalar(score_tag(key), float(value))
            tags.append(score_tag(key))
    writer.flush()
    writer.close()
    return tags
