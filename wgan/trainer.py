"""Train one setting with Keras ``fit()`` and write its run directory (DESIGN.md §2-§3, §7).

One training step is one compiled call that runs ``n_critic`` critic updates and one generator
update (Arjovsky et al. 2017, Alg. 1). Each step consumes ``n_critic`` real batches: the data set
yields ``[B, n_critic, 28, 28, 1]`` and critic update ``i`` takes ``[:, i]``, so a distribution
strategy that splits the batch axis gives every replica its share of *each* critic batch.

Runs survive being killed: with op determinism a resumed run ends bitwise equal to an
uninterrupted one. The checkpoint holds both networks, both optimizers (built before restoring),
the noise ``tf.random.Generator`` and every Dropout ``SeedGenerator`` state. The data position is
the generator step counter itself: step ``s`` reads the images at positions ``s·n_critic·B …`` of a
stream that visits the training images in a fresh ``index_shuffle`` permutation every epoch, a pure
function of ``(seed, s)``. That is what a checkpointed ``tf.data`` iterator restores, without
writing a 60,000-image shuffle buffer into every checkpoint.

Run directory::

    config.json         what ran (setting, seed, options, versions)
    history.csv         one row per step: wall time, losses, W estimate, penalty, gradient norms
    samples/step_NNNNNN.png, samples/latest.png   8×8 grid of one fixed noise, per checkpoint
    generator.keras     the generator at the last checkpoint
    checkpoints/        tf.train.CheckpointManager checkpoints
    summary.json        written when the run stops (keys: the SUMMARY_* constants)
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from wgan import losses
from wgan.errors import WganbenchError
from wgan.io import atomic_write, write_json
from wgan.lipschitz import (DEFAULT_IMPLEMENTATION, IMPLEMENTATIONS, check_implementation, clip_fused,
                            clip_numpy, critic_constraint)
from wgan.models import IMAGE_SHAPE, make_critic, make_generator
from wgan.settings import SETTINGS, Setting, get_setting

# One dict of defaults for train() and `wganbench train`.
DEFAULTS: dict[str, Any] = {
    "steps": None,             # generator steps; with no budget either, DEFAULT_STEPS
    "seed": 0,
    "out_dir": None,           # results/runs/<setting>-s<seed>
    "budget_seconds": None,    # stop after this much training wall time (counted across resumes)
    "batch_size": None,        # the setting's
    "width": None,             # the setting's (the notebook's 64)
    "mixed_precision": None,   # or "bfloat16"
    "strategy": None,          # or "mirrored"
    "lipschitz": None,         # clipping implementation for clipping settings: DEFAULT_IMPLEMENTATION
    "resume": False,
    "force": False,
    "checkpoint_every": 100,
    "quiet": False,
    "deterministic": True,     # tf.config.experimental.enable_op_determinism (process-wide, one-way)
    "jit_compile": False,      # XLA for the compiled step
}
DEFAULT_STEPS = 1000
RUNS_ROOT = Path("results") / "runs"
MIXED_PRECISION = {None: None, "float32": None, "bfloat16": "mixed_bfloat16"}
STRATEGIES = (None, "default", "mirrored")
MAX_TO_KEEP = 2
GRID_SIDE = 8
GRID_PAD = 2

# Metric (tracker) names: the keys of train_step's logs and the columns of history.csv.
CRITIC_LOSS = "critic_loss"
GENERATOR_LOSS = "generator_loss"
WASSERSTEIN = "wasserstein"
PENALTY = "penalty"
CRITIC_GRAD_NORM = "critic_grad_norm"
GENERATOR_GRAD_NORM = "generator_grad_norm"
METRICS = (CRITIC_LOSS, GENERATOR_LOSS, WASSERSTEIN, PENALTY, CRITIC_GRAD_NORM, GENERATOR_GRAD_NORM)
STEP = "step"
WALL_TIME = "wall_time"
HISTORY_COLUMNS = (STEP, WALL_TIME, *METRICS)

# Run directory entries.
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.csv"
SUMMARY_FILE = "summary.json"
GENERATOR_FILE = "generator.keras"
SAMPLES_DIR = "samples"
LATEST_GRID = "latest.png"
CHECKPOINT_DIR = "checkpoints"
RUN_ENTRIES = (CONFIG_FILE, HISTORY_FILE, SUMMARY_FILE, GENERATOR_FILE, SAMPLES_DIR, CHECKPOINT_DIR)

# summary.json keys and statuses.
SUMMARY_OUT_DIR = "out_dir"
SUMMARY_SETTING = "setting"
SUMMARY_SEED = "seed"
SUMMARY_STEPS = "steps"
SUMMARY_WALL_SECONDS = "wall_seconds"
SUMMARY_IMAGES_PER_SECOND = "images_per_second"
SUMMARY_STATUS = "status"
STATUS_COMPLETE = "complete"      # reached `steps`
STATUS_BUDGET = "budget"          # reached `budget_seconds`
STATUS_STOPPED = "stopped"        # a caller's callback stopped training
STATUS_DIVERGED = "diverged"      # a loss went NaN/Inf; the last good checkpoint is kept


class TrainingDiverged(WganbenchError):
    """A loss became NaN or Inf; the run stopped at its last good checkpoint."""


# --------------------------------------------------------------------------------------------
# data


def training_data(images: np.ndarray, batch_size: int, n_critic: int, *, seed: int,
                  start_step: int = 0) -> tf.data.Dataset:
    """Step ``s`` → float32 ``[B, n_critic, 28, 28, 1]`` in [-1, 1], for every ``s ≥ start_step``.

    Image ``j`` of step ``s`` sits at stream position ``p = s·B·n_critic + j``: epoch ``p // N``,
    image ``perm_epoch(p % N)`` with ``perm_epoch`` a seeded ``index_shuffle`` permutation, so
    every epoch sees each image once, in a new order, and any step can be produced on its own.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.shape[1:] not in ((28, 28), IMAGE_SHAPE) or not len(images):
        raise WganbenchError(f"training images must be uint8 [N, 28, 28], got {images.dtype}{list(images.shape)}")
    n = len(images)
    per_step = batch_size * n_critic
    if per_step > n:
        raise WganbenchError(f"a step needs {per_step} images (batch {batch_size} × n_critic {n_critic}) "
                             f"but only {n} are available")
    last = tf.constant(n - 1, tf.int64)

    def images_for_step(step: tf.Tensor, pool: tf.Tensor) -> tf.Tensor:
        position = step * per_step + tf.range(per_step, dtype=tf.int64)
        epoch, offset = position // n, position % n
        first = epoch[0]  # a step spans at most two epochs (per_step ≤ n)
        this_epoch = tf.random.experimental.index_shuffle(offset, tf.stack([seed, first]), last)
        next_epoch = tf.random.experimental.index_shuffle(offset, tf.stack([seed, first + 1]), last)
        index = tf.where(epoch == first, this_epoch, next_epoch)
        batch = (tf.cast(tf.gather(pool, index), tf.float32) - 127.5) / 127.5  # as wgan.data.scale_images
        return tf.reshape(batch, (batch_size, n_critic, *IMAGE_SHAPE))

    steps = tf.data.Dataset.range(start_step, np.iinfo(np.int64).max)
    # The image pool rides along as a dataset element, not as a constant inside the map function.
    pool = tf.data.Dataset.from_tensors(images.reshape(-1, *IMAGE_SHAPE)).repeat()
    return (tf.data.Dataset.zip(steps, pool)
            .map(images_for_step, num_parallel_calls=1, deterministic=True).prefetch(2))


# --------------------------------------------------------------------------------------------
# the model


def make_optimizer(name: str, learning_rate: float, betas: tuple[float, float]) -> keras.optimizers.Optimizer:
    if name == "adam":
        return keras.optimizers.Adam(learning_rate, beta_1=betas[0], beta_2=betas[1])
    return keras.optimizers.RMSprop(learning_rate)


class GAN(keras.Model):
    """Generator + critic trained by ``fit()``; ``train_step`` is one generator step.

    ``fit`` data are real batches ``[B, n_critic, 28, 28, 1]`` (see :func:`training_data`), or
    ``(real, noise)`` pairs with ``noise`` ``[B, n_critic, noise_dim]`` (critic update ``i`` takes
    ``noise[:, i]``) to pin the noise, e.g. to compare strategies on identical inputs. Otherwise the
    noise and the penalty's ε come from ``noise_rng``, a checkpointed ``tf.random.Generator``.

    Logged metrics (one ``keras.metrics.Mean`` each, reset every step, so logs are per step): the
    critic loss (with the penalty term), the generator loss, the W₁ estimate and the penalty averaged
    over the step's critic updates, and the gradient norms. Under a strategy the losses are global
    means; a gradient norm is the mean over replicas of each replica's own.
    """

    def __init__(self, setting: Setting, *, lipschitz: str = DEFAULT_IMPLEMENTATION, seed: int = 0,
                 dtype: str | None = None, synchronized_bn: bool = False) -> None:
        super().__init__(name="gan")
        self.setting = setting
        self.clip_impl = check_implementation(lipschitz) if setting.lipschitz == "clip" else "none"
        self.generator = make_generator(noise_dim=setting.noise_dim, width=setting.width, dtype=dtype,
                                        synchronized_bn=synchronized_bn)
        self.critic = make_critic(width=setting.width, dropout=setting.critic_dropout, dtype=dtype,
                                  constraint=critic_constraint(self.clip_impl, setting.clip_value))
        self.noise_rng = tf.random.Generator.from_seed(seed)
        self.trackers = [keras.metrics.Mean(name=name) for name in METRICS]
        self.built = True

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self.trackers)

    @property
    def step(self) -> int:
        """Generator steps done (the generator optimizer's iteration count)."""
        return int(self.g_optimizer.iterations.numpy())

    def seed_states(self) -> list[keras.Variable]:
        """States of every Keras ``SeedGenerator`` (Dropout keeps one): resume needs them."""
        return [value.state for model in (self.generator, self.critic) for layer in model.layers
                for value in vars(layer).values() if isinstance(value, keras.random.SeedGenerator)]

    def compile(self, d_optimizer: keras.optimizers.Optimizer | None = None,
                g_optimizer: keras.optimizers.Optimizer | None = None, **kwargs: Any) -> None:
        """Optimizers default to the setting's; both are built now so a checkpoint can restore them.

        The ``numpy`` clipping round trip cannot run inside a graph, so with it ``fit`` runs the
        step eagerly and compiles its pieces (generator pass, critic update, generator loss, generator
        update) one call each; the eager tape differentiates through the compiled calls.
        """
        s = self.setting
        self.d_optimizer = d_optimizer or make_optimizer(s.d_optimizer, s.d_lr, s.betas)
        self.g_optimizer = g_optimizer or make_optimizer(s.g_optimizer, s.g_lr, s.betas)
        eager = self.clip_impl == "numpy"
        # XLA through a nested tf.function: Keras' own jit_compile refuses to run under op determinism,
        # although this step compiles and stays bitwise reproducible with it.
        jit = bool(kwargs.pop("jit_compile", False))
        if jit and eager:
            raise WganbenchError("the numpy clipping round trip runs eagerly and cannot be XLA-compiled; "
                                 "drop jit_compile or use fused clipping")
        super().compile(run_eagerly=eager, jit_compile=False, **kwargs)
        self.d_optimizer.build(self.critic.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

        def piece(fn: Callable) -> Callable:
            return tf.function(fn) if eager else fn

        self._generate = piece(lambda noise: self.generator(noise, training=True))
        self._critic_update = piece(self.critic_update)
        self._generator_loss = piece(self.generator_loss)
        self._generator_apply = piece(self.generator_apply)
        self._updates = tf.function(self.updates, jit_compile=True) if jit else self.updates

    def train_step(self, data):
        """n_critic critic updates, then one generator update, on this step's data.

        The generator update reuses the last critic update's generated batch and its forward pass
        (taped), as the notebook shares one generator pass between both losses: one generator
        forward per critic update, never two.
        """
        real, noise = (data[0], data[1]) if isinstance(data, (tuple, list)) else (data, None)
        if noise is None:
            noise = self.noise_rng.normal((tf.shape(real)[0], self.setting.n_critic, self.setting.noise_dim))
        self._updates(real, noise)
        return {tracker.name: tracker.result() for tracker in self.trackers}

    def updates(self, real: tf.Tensor, noise: tf.Tensor) -> None:
        """The body of :meth:`train_step` (XLA-compiled as a whole with ``jit_compile``)."""
        n_critic = self.setting.n_critic
        for tracker in self.trackers:  # logs are this step's values (means over its critic updates)
            tracker.reset_state()
        for i in range(n_critic - 1):
            self._critic_update(real[:, i], self._generate(noise[:, i]))
            self._clip_after_update()
        with tf.GradientTape() as tape:
            fake = self._generate(noise[:, -1])
            with tape.stop_recording():
                self._critic_update(real[:, -1], fake)
                self._clip_after_update()
            loss = self._generator_loss(fake)
        self._generator_apply(tape.gradient(loss, self.generator.trainable_variables))

    def _clip_after_update(self) -> None:
        # `fused` clips inside critic_update and `constraint` inside the optimizer.
        if self.clip_impl == "numpy":
            clip_numpy(self.critic, self.setting.clip_value)

    def _scale(self, loss: tf.Tensor) -> tf.Tensor:
        # Optimizers sum gradients over replicas, so each replica's mean is divided by the replica
        # count: the applied gradient is that of the mean over the global batch.
        return loss / tf.distribute.get_strategy().num_replicas_in_sync

    def critic_update(self, real: tf.Tensor, fake: tf.Tensor) -> None:
        s = self.setting
        fake = tf.stop_gradient(fake)
        with tf.GradientTape() as tape:
            real_scores = self.critic(real, training=True)
            fake_scores = self.critic(fake, training=True)
            if s.loss == "gan":
                loss = losses.gan_critic_loss(real_scores, fake_scores)
            else:
                loss = losses.wasserstein_critic_loss(real_scores, fake_scores)
            penalty = tf.zeros((), tf.float32)
            if s.lipschitz == "penalty":
                epsilon = self.noise_rng.uniform((tf.shape(real)[0], 1, 1, 1))
                penalty = losses.gradient_penalty(lambda x: self.critic(x, training=True), real, fake, epsilon)
                loss = loss + s.gp_lambda * penalty
            scaled = self._scale(loss)
        variables = self.critic.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.d_optimizer.apply(grads, variables)
        if self.clip_impl == "fused":
            clip_fused(variables, s.clip_value)
        self._track(CRITIC_LOSS, loss)
        self._track(WASSERSTEIN, losses.wasserstein_estimate(real_scores, fake_scores))
        self._track(PENALTY, penalty)
        self._track(CRITIC_GRAD_NORM, self._unscaled_norm(grads))

    def generator_loss(self, fake: tf.Tensor) -> tf.Tensor:
        """This replica's share of the generator loss (tracked unscaled) against the current critic."""
        fake_scores = self.critic(fake, training=True)
        if self.setting.loss == "gan":
            loss = losses.gan_generator_loss(fake_scores)
        else:
            loss = losses.wasserstein_generator_loss(fake_scores)
        self._track(GENERATOR_LOSS, loss)
        return self._scale(loss)

    def generator_apply(self, grads: Sequence[tf.Tensor]) -> None:
        self.g_optimizer.apply(grads, self.generator.trainable_variables)
        self._track(GENERATOR_GRAD_NORM, self._unscaled_norm(grads))

    def _unscaled_norm(self, grads: Sequence[tf.Tensor]) -> tf.Tensor:
        """This replica's gradient norm of its own mean loss."""
        return tf.linalg.global_norm(grads) * tf.distribute.get_strategy().num_replicas_in_sync

    def _track(self, name: str, value: tf.Tensor) -> None:
        self.trackers[METRICS.index(name)].update_state(value)


def resolve_strategy(strategy: str | tf.distribute.Strategy | None) -> tf.distribute.Strategy:
    """None/"default" → the default strategy; "mirrored" → all GPUs, else all logical CPUs."""
    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy not in STRATEGIES:
        raise WganbenchError(f"unknown strategy {strategy!r}; expected one of: default, mirrored")
    if strategy == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return _mirrored(tuple(d.name for d in devices))
    return tf.distribute.get_strategy()


@functools.cache
def _mirrored(devices: tuple[str, ...]) -> tf.distribute.MirroredStrategy:
    # One instance per process: a second MirroredStrategy over the same devices restarts the
    # collective instance keys, and its synchronized-BatchNorm all-reduces then collide with the
    # first one's ("Shape mismatch in the collective instance").
    return tf.distribute.MirroredStrategy(list(devices))


def build_gan(setting: Setting, *, seed: int = 0, lipschitz: str | None = None,
              mixed_precision: str | None = None, strategy: tf.distribute.Strategy | None = None,
              jit_compile: bool = False) -> GAN:
    """A compiled GAN (optimizers built) under ``strategy``'s scope, seeded by ``seed``."""
    if mixed_precision not in MIXED_PRECISION:
        raise WganbenchError(f"unknown mixed precision {mixed_precision!r}; expected bfloat16 (or none)")
    if lipschitz is not None and setting.lipschitz != "clip" and lipschitz != "none":
        raise WganbenchError(f"setting {setting.name!r} does not clip weights; --lipschitz applies only to "
                             "clipping settings")
    strategy = strategy or tf.distribute.get_strategy()
    distributed = strategy.num_replicas_in_sync > 1
    impl = lipschitz or DEFAULT_IMPLEMENTATION
    if distributed and impl == "numpy" and setting.lipschitz == "clip":
        raise WganbenchError("the numpy clipping round trip runs eagerly on one device; use fused or "
                             "constraint clipping with a distribution strategy")
    if distributed and jit_compile:
        raise WganbenchError("jit_compile is not supported with a distribution strategy")
    if setting.batch_size % strategy.num_replicas_in_sync:
        raise WganbenchError(f"batch size {setting.batch_size} does not split evenly over "
                             f"{strategy.num_replicas_in_sync} replicas")
    keras.utils.set_random_seed(seed)
    with strategy.scope():
        gan = GAN(setting, lipschitz=impl, seed=seed, dtype=MIXED_PRECISION[mixed_precision],
                  synchronized_bn=distributed)
        gan.compile(jit_compile=jit_compile)
    return gan


def make_checkpoint(gan: GAN) -> tf.train.Checkpoint:
    return tf.train.Checkpoint(generator=gan.generator, critic=gan.critic, g_optimizer=gan.g_optimizer,
                               d_optimizer=gan.d_optimizer, noise_rng=gan.noise_rng,
                               dropout_seeds=gan.seed_states())


# --------------------------------------------------------------------------------------------
# run directory


def _write_history(path: Path, rows: list[dict]) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=HISTORY_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    atomic_write(path, write)


def _read_history(path: Path, up_to_step: int) -> list[dict]:
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        rows = [{k: float(v) if k != STEP else int(v) for k, v in row.items()} for row in csv.DictReader(f)]
    return [row for row in rows if row[STEP] <= up_to_step]


def _save_generator(path: Path, generator: keras.Model) -> None:
    atomic_write(path, generator.save)


def fixed_noise(seed: int, noise_dim: int) -> np.ndarray:
    """The 64 noise vectors a run draws its sample grids from (the same at every checkpoint)."""
    return np.random.default_rng(seed).standard_normal((GRID_SIDE * GRID_SIDE, noise_dim)).astype(np.float32)


def sample_grid(generator: keras.Model, noise: np.ndarray) -> np.ndarray:
    """An 8×8 uint8 image grid of ``generator(noise)`` with a dark 2-pixel gutter."""
    images = np.asarray(generator(noise, training=False), dtype=np.float32)[..., 0]
    images = np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
    cell = IMAGE_SHAPE[0] + GRID_PAD
    grid = np.zeros((GRID_SIDE * cell + GRID_PAD,) * 2, np.uint8)
    for k, image in enumerate(images):
        r, c = divmod(k, GRID_SIDE)
        grid[GRID_PAD + r * cell:(r + 1) * cell, GRID_PAD + c * cell:(c + 1) * cell] = image
    return grid


def _save_png(path: Path, grid: np.ndarray) -> None:
    from PIL import Image

    atomic_write(path, lambda tmp: Image.fromarray(grid, mode="L").save(tmp, format="PNG"))


def _prepare_run_dir(out_dir: Path, config: dict, *, resume: bool, force: bool) -> bool:
    """Check what ``out_dir`` holds; returns whether to restore. Removes nothing unless ``force``."""
    config_path = out_dir / CONFIG_FILE
    if out_dir.exists() and not out_dir.is_dir():
        raise WganbenchError(f"{out_dir} exists and is not a folder; choose another --out-dir")
    if not config_path.is_file():
        if force:
            _remove_run(out_dir)
        return False
    try:
        held = json.loads(config_path.read_text())
        held_setting = held["setting"]
    except (OSError, ValueError, KeyError, TypeError):
        raise WganbenchError(f"{config_path} is unreadable; pass --force to start this run over") from None
    if force:
        _remove_run(out_dir)
        return False
    if not resume:
        raise WganbenchError(f"{out_dir} already holds a run of setting {held_setting.get('name')!r}; pass "
                             "--resume to continue it or --force to start over")
    mismatched = [k for k in RESUME_KEYS if held.get(k) != config.get(k)]
    if mismatched:
        raise WganbenchError(f"{out_dir} holds a run of setting {held_setting.get('name')!r} that differs in "
                             f"{', '.join(mismatched)}; resume with the same options or pass --force")
    return True


# What must match to resume a run; steps, budget, strategy and progress options may change.
RESUME_KEYS = ("setting", "seed", "mixed_precision", "lipschitz")


def _remove_run(out_dir: Path) -> None:
    for name in RUN_ENTRIES:
        path = out_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# callbacks


class RunRecorder(keras.callbacks.Callback):
    """Per step: history row, NaN check, stop at `steps`/budget; per checkpoint: checkpoint, grid,
    generator.keras and history.csv (so the files always agree with the last checkpoint)."""

    def __init__(self, out_dir: Path, manager: tf.train.CheckpointManager, history: list[dict], *,
                 start_step: int, wall_before: float, steps: int | None, budget_seconds: float | None,
                 checkpoint_every: int, noise: np.ndarray) -> None:
        super().__init__()
        self.out_dir, self.manager, self.history = out_dir, manager, history
        self.start_step, self.steps, self.budget = start_step, steps, budget_seconds
        self.checkpoint_every, self.noise = checkpoint_every, noise
        self.wall_before = wall_before  # training time of the run before this session
        self.status = STATUS_STOPPED
        self.diverged: str | None = None
        self.last_saved = start_step

    def on_train_begin(self, logs=None) -> None:
        self.t0 = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        step = self.start_step + batch + 1
        values = {name: float(logs[name]) for name in METRICS}
        bad = [name for name, value in values.items() if not np.isfinite(value)]
        if bad:
            self.diverged = f"{', '.join(bad)} became {values[bad[0]]} at step {step}"
            self.status = STATUS_DIVERGED
            self.model.stop_training = True
            return
        self.history.append({STEP: step, WALL_TIME: round(self.wall_before + self.elapsed, 4), **values})
        if self.steps is not None and step >= self.steps:
            self.status = STATUS_COMPLETE
        elif self.budget is not None and self.wall_before + self.elapsed >= self.budget:
            self.status = STATUS_BUDGET
        else:
            if step % self.checkpoint_every == 0:
                self.save(step)
            return
        self.model.stop_training = True
        self.save(step)

    def on_train_end(self, logs=None) -> None:
        if self.diverged is None and self.history and self.history[-1][STEP] > self.last_saved:
            self.save(self.history[-1][STEP])  # a caller's callback stopped the run between checkpoints

    def save(self, step: int) -> None:
        self.manager.save(checkpoint_number=step)
        gan = self.model
        grid = sample_grid(gan.generator, self.noise)
        _save_png(self.out_dir / SAMPLES_DIR / f"step_{step:06d}.png", grid)
        _save_png(self.out_dir / SAMPLES_DIR / LATEST_GRID, grid)
        _save_generator(self.out_dir / GENERATOR_FILE, gan.generator)
        _write_history(self.out_dir / HISTORY_FILE, self.history)
        self.last_saved = step


class Progress(keras.callbacks.Callback):
    """A Keras progress bar with the global step, the losses and images/s."""

    def __init__(self, *, start_step: int, steps: int | None, images_per_step: int) -> None:
        super().__init__()
        self.start_step, self.images_per_step = start_step, images_per_step
        self.bar = keras.utils.Progbar(steps, stateful_metrics=["img/s", *METRICS])

    def on_train_begin(self, logs=None) -> None:
        self.t0 = time.perf_counter()
        self.bar.update(self.start_step)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        rate = (batch + 1) * self.images_per_step / (time.perf_counter() - self.t0)
        shown = [(name, float(logs[name])) for name in (CRITIC_LOSS, GENERATOR_LOSS, WASSERSTEIN)]
        self.bar.update(self.start_step + batch + 1, shown + [("img/s", rate)])


# --------------------------------------------------------------------------------------------
# train


def _check_count(name: str, value: Any, kind: type) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, kind) or value <= 0):
        raise WganbenchError(f"{name} must be a positive {kind.__name__}, got {value!r}")


def _summary(out: Path, setting: Setting, seed: int, steps: int, wall_seconds: float,
             images_per_second: float | None, status: str) -> dict:
    return {SUMMARY_OUT_DIR: str(out), SUMMARY_SETTING: setting.name, SUMMARY_SEED: seed, SUMMARY_STEPS: steps,
            SUMMARY_WALL_SECONDS: round(wall_seconds, 3), SUMMARY_IMAGES_PER_SECOND: images_per_second,
            SUMMARY_STATUS: status}


def train(setting: str | Setting, *, steps: int | None = DEFAULTS["steps"], seed: int = DEFAULTS["seed"],
          out_dir: str | os.PathLike | None = DEFAULTS["out_dir"],
          budget_seconds: float | None = DEFAULTS["budget_seconds"],
          batch_size: int | None = DEFAULTS["batch_size"], width: int | None = DEFAULTS["width"],
          mixed_precision: str | None = DEFAULTS["mixed_precision"],
          strategy: str | tf.distribute.Strategy | None = DEFAULTS["strategy"],
          lipschitz: str | None = DEFAULTS["lipschitz"], resume: bool = DEFAULTS["resume"],
          force: bool = DEFAULTS["force"], checkpoint_every: int = DEFAULTS["checkpoint_every"],
          quiet: bool = DEFAULTS["quiet"], callbacks: Sequence[keras.callbacks.Callback] | None = None,
          data: np.ndarray | None = None, deterministic: bool = DEFAULTS["deterministic"],
          jit_compile: bool = DEFAULTS["jit_compile"]) -> dict:
    """Train ``setting`` for ``steps`` generator steps (or ``budget_seconds``) and write its run dir.

    ``data`` are uint8 images [N, 28, 28] (default: the 60,000 MNIST training images). ``callbacks``
    are extra Keras callbacks; they see the :class:`GAN` as ``self.model`` (``.generator``,
    ``.critic``, ``.step``). Returns the summary (also written to summary.json). Raises
    :class:`TrainingDiverged` when a loss turns NaN/Inf, after keeping the last good checkpoint.
    """
    setting = get_setting(setting)
    _check_count("steps", steps, int)
    _check_count("batch_size", batch_size, int)
    _check_count("width", width, int)
    _check_count("checkpoint_every", checkpoint_every, int)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise WganbenchError(f"seed must be a non-negative integer, got {seed!r}")
    if budget_seconds is not None and (not isinstance(budget_seconds, (int, float)) or budget_seconds <= 0):
        raise WganbenchError(f"budget_seconds must be a positive number, got {budget_seconds!r}")
    if steps is None and budget_seconds is None:
        steps = DEFAULT_STEPS
    if batch_size is not None:
        setting = replace(setting, batch_size=batch_size)
    if width is not None:
        setting = replace(setting, width=width)
    if lipschitz is not None:
        check_implementation(lipschitz)
    out = Path(out_dir) if out_dir is not None else RUNS_ROOT / f"{setting.name}-s{seed}"
    impl = (lipschitz or DEFAULT_IMPLEMENTATION) if setting.lipschitz == "clip" else "none"
    config = {"setting": asdict(setting), "seed": seed, "steps": steps, "budget_seconds": budget_seconds,
              "mixed_precision": mixed_precision, "strategy": strategy if isinstance(strategy, str) else
              (type(strategy).__name__ if strategy else None), "lipschitz": impl,
              "checkpoint_every": checkpoint_every, "deterministic": deterministic, "jit_compile": jit_compile,
              "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "python": sys.version.split()[0]}}
    config = json.loads(json.dumps(config))  # tuples → lists, as they read back from config.json
    restore = _prepare_run_dir(out, config, resume=resume, force=force)

    if deterministic:
        tf.config.experimental.enable_op_determinism()
    dist = resolve_strategy(strategy)
    gan = build_gan(setting, seed=seed, lipschitz=lipschitz, mixed_precision=mixed_precision, strategy=dist,
                    jit_compile=jit_compile)
    with dist.scope():
        manager = tf.train.CheckpointManager(make_checkpoint(gan), str(out / CHECKPOINT_DIR), MAX_TO_KEEP)
    if restore and manager.latest_checkpoint:
        try:
            manager.checkpoint.restore(manager.latest_checkpoint).assert_consumed()
        except (tf.errors.OpError, ValueError, AssertionError, IndexError, KeyError, OSError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise WganbenchError(f"cannot restore {manager.latest_checkpoint} ({first}); the checkpoint is "
                                 "corrupt or from another model: pass --force to start over") from None
    start_step = gan.step
    history = _read_history(out / HISTORY_FILE, start_step) if restore else []
    wall_before = history[-1][WALL_TIME] if history else 0.0
    budget_left = budget_seconds is None or wall_before < budget_seconds
    if restore and ((steps is not None and start_step >= steps) or not budget_left):
        held = out / SUMMARY_FILE  # nothing left to train: report the run as it stands, write nothing
        if held.is_file():
            return json.loads(held.read_text())
        summary = _summary(out, setting, seed, start_step, wall_before, None,
                           STATUS_COMPLETE if budget_left else STATUS_BUDGET)
        write_json(held, summary)
        return summary
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / CONFIG_FILE, config)

    if data is None:
        from wgan.data import load_mnist
        data = load_mnist(verbose=not quiet)[0][0]  # says so when a first run fetches MNIST
    dataset = training_data(data, setting.batch_size, setting.n_critic, seed=seed, start_step=start_step)
    recorder = RunRecorder(out, manager, history, start_step=start_step, wall_before=wall_before, steps=steps,
                           budget_seconds=budget_seconds,
                           checkpoint_every=checkpoint_every, noise=fixed_noise(seed, setting.noise_dim))
    images_per_step = setting.batch_size * setting.n_critic
    extra = [] if quiet else [Progress(start_step=start_step, steps=steps, images_per_step=images_per_step)]
    fit_steps = steps - start_step if steps is not None else np.iinfo(np.int32).max
    gan.fit(dataset, epochs=1, steps_per_epoch=fit_steps, verbose=0, shuffle=False,
            callbacks=[recorder, *extra, *(callbacks or [])])

    done = recorder.history[-1][STEP] if recorder.history else start_step
    session = recorder.elapsed
    summary = _summary(out, setting, seed, done, wall_before + session, (done - start_step) * images_per_step / session,
                       recorder.status)
    write_json(out / SUMMARY_FILE, summary)
    if recorder.diverged:
        raise TrainingDiverged(f"training diverged: {recorder.diverged}; stopped with the last good checkpoint "
                               f"(step {recorder.last_saved}) kept in {out}")
    if not quiet:
        print(f"{setting.name}: {done} steps in {summary[SUMMARY_WALL_SECONDS]:.1f}s "
              f"({summary[SUMMARY_IMAGES_PER_SECOND]:.0f} images/s), {recorder.status}; run in {out}")
    return summary


# --------------------------------------------------------------------------------------------
# CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = DEFAULTS
    parser.add_argument("setting", help=f"one of: {', '.join(SETTINGS)}")
    parser.add_argument("--steps", type=int, default=d["steps"],
                        help=f"generator steps to train to (default {DEFAULT_STEPS} unless --budget-seconds)")
    parser.add_argument("--seed", type=int, default=d["seed"], help="seed for weights, data order and noise")
    parser.add_argument("--out-dir", default=d["out_dir"], help="run directory (default results/runs/SETTING-sSEED)")
    parser.add_argument("--budget-seconds", type=float, default=d["budget_seconds"],
                        help="stop after this much training wall time, counted across resumes")
    parser.add_argument("--batch-size", type=int, default=d["batch_size"], help="override the setting's batch size")
    parser.add_argument("--width", type=int, default=d["width"],
                        help="override the models' width (narrowest feature map; the notebook's is 64)")
    parser.add_argument("--mixed-precision", choices=["bfloat16"], default=d["mixed_precision"],
                        help="compute in bfloat16 (Keras mixed precision; variables and losses stay float32); "
                        "on a CPU without native bfloat16 (AVX512-BF16/AMX) add --jit-compile")
    parser.add_argument("--strategy", choices=["default", "mirrored"], default=d["strategy"],
                        help="tf.distribute strategy: mirrored = all GPUs, or all logical CPUs without one")
    parser.add_argument("--lipschitz", choices=IMPLEMENTATIONS, default=d["lipschitz"],
                        help=f"weight-clipping implementation for clipping settings (default {DEFAULT_IMPLEMENTATION})")
    parser.add_argument("--resume", action="store_true", default=d["resume"],
                        help="continue the run in --out-dir from its last checkpoint")
    parser.add_argument("--force", action="store_true", default=d["force"],
                        help="delete the run held in --out-dir and start over")
    parser.add_argument("--checkpoint-every", type=int, default=d["checkpoint_every"],
                        help="steps between checkpoints (each also writes a sample grid and generator.keras)")
    parser.add_argument("--quiet", action="store_true", default=d["quiet"], help="no progress bar (for CI)")
    parser.add_argument("--no-deterministic", dest="deterministic", action="store_false", default=d["deterministic"],
                        help="skip TensorFlow op determinism (a resumed run may then differ from an unbroken one)")
    parser.add_argument("--jit-compile", action="store_true", default=d["jit_compile"],
                        help="compile the training step with XLA")


def run(args: argparse.Namespace) -> int:
    train(args.setting, **{key: getattr(args, key) for key in DEFAULTS})
    return 0
