"""`train()`: one setting trained with Keras ``fit()`` into its run directory.

The pieces live in their own modules: the data stream (:mod:`wgan.stream`), the GAN and its step
(:mod:`wgan.gan`), the run directory (:mod:`wgan.rundir`) and the session's callbacks
(:mod:`wgan.recorder`). Runs survive being killed: with op determinism a resumed run ends bitwise
equal to an uninterrupted one (docs/DESIGN.md §3 Training runs and the run directory).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
import threadpoolctl

from wgan import rundir, versions
from wgan.console import quiet_tensorflow
from wgan.errors import WganbenchError, first_line
from wgan.gan import make_checkpoint, resolve_strategy
from wgan.io import write_json
from wgan.lock import hold
from wgan.paths import runs_dir
from wgan.progress import Progress
from wgan.recorder import RunRecorder
from wgan.settings import Setting
from wgan.stacked import build_gan_for, training_images
from wgan.stream import training_data
from wgan.tensorboard import TensorBoardLogger, hparams_of, tensorboard_dir
from wgan.train_options import DEFAULT_STEPS, TrainOptions, recipe_of, resume_keys

__all__ = ["DEFAULT_STEPS", "OnPoint", "TrainOptions", "TrainingDiverged", "set_threads", "train"]

# Called at each of train()'s points with (step, the summary of a run ending there, the generator).
OnPoint = Callable[[int, dict, keras.Model], None]


class TrainingDiverged(WganbenchError):
    """A loss became NaN or Inf; the run stopped at its last good checkpoint."""


def train(setting: str | Setting, *, options: TrainOptions | None = None,
          callbacks: Sequence[keras.callbacks.Callback] | None = None, data: np.ndarray | None = None,
          points: Sequence[float] = (), on_point: OnPoint | None = None, **kwargs) -> dict:
    """Train ``setting`` for ``steps`` generator steps (or ``budget_seconds``) and write its run dir.

    Options come as ``options`` or as keywords (the fields of :class:`TrainOptions`). ``data`` are
    uint8 images [N, 28, 28], or [N, 28, 28, 3] for Stacked MNIST (default: the data set's 60,000
    training images). ``callbacks`` are extra Keras callbacks; they see the GAN as ``self.model``
    (``.generator``, ``.critic``, ``.step``). Returns the summary (also written to summary.json).

    ``points`` (ascending, the last one the budget itself: steps, or seconds of training) are where the
    run commits as a run ending there would (checkpoint, generator, grid, history, summary.json) and
    calls ``on_point`` off the training clock, then trains on; one session trains them all, to the
    same weights as a session per point. Points the restored checkpoint already reached are reported
    before training. Raises :class:`TrainingDiverged` when a loss turns NaN/Inf, after keeping the last good checkpoint.
    """
    opts = _options(options, kwargs)
    setting = opts.setting_for(setting)
    points = list(points)
    final = opts.steps if opts.steps is not None else opts.budget_seconds
    if points and (final is None or points != sorted(points) or points[-1] != final):
        raise WganbenchError(f"points {points}: give them ascending, the last one the budget ({final})")
    out = Path(opts.out_dir) if opts.out_dir is not None else runs_dir() / rundir.run_name(setting.name, opts.seed)
    with hold(out, "run directory", "wait for it to finish, or train into another --out-dir"):
        return _train(setting, opts, out, callbacks, data, points, on_point)


def _train(setting: Setting, opts: TrainOptions, out: Path, callbacks: Sequence[keras.callbacks.Callback] | None,
           data: np.ndarray | None, points: list[float], on_point: OnPoint | None) -> dict:
    """`train` with ``out`` held by this process."""
    steps, budget_seconds, seed = opts.steps, opts.budget_seconds, opts.seed
    config = {**recipe_of(opts, setting), "versions": versions()}
    config = json.loads(json.dumps(config))  # tuples → lists, as they read back from config.json
    restore = rundir.prepare_run_dir(out, config, resume=opts.resume, force=opts.force,
                                     keys=resume_keys(type(opts)))

    if opts.threads is not None:
        set_threads(opts.threads)
    if opts.deterministic:
        tf.config.experimental.enable_op_determinism()
    dist = resolve_strategy(opts.strategy)
    gan = build_gan_for(opts.dataset, setting, seed=seed, clip_impl=opts.clip_impl,
                        mixed_precision=opts.mixed_precision, strategy=dist, jit_compile=opts.jit_compile,
                        ema_decay=opts.ema_decay)
    with dist.scope():
        manager = tf.train.CheckpointManager(make_checkpoint(gan), str(out / rundir.CHECKPOINT_DIR),
                                             rundir.MAX_TO_KEEP)
    if restore and manager.latest_checkpoint:
        _restore(manager)
    start_step = gan.step
    history = rundir.read_history(out / rundir.HISTORY_FILE, start_step) if restore else []
    wall_before = history[-1][rundir.WALL_TIME] if history else 0.0
    budget_left = budget_seconds is None or wall_before < budget_seconds
    point_status = rundir.STATUS_COMPLETE if steps is not None else rundir.STATUS_BUDGET
    while points and (start_step >= points[0] if steps is not None else wall_before >= points[0]):
        points.pop(0)  # committed by the checkpoint restored, not yet reported (a kill came in between)
        if on_point is not None:
            on_point(start_step, rundir.summary(out, setting.name, seed, start_step, wall_before, None,
                                                point_status), gan.generator)
    if restore and ((steps is not None and start_step >= steps) or not budget_left):
        held = out / rundir.SUMMARY_FILE  # nothing left to train: report the run as it stands, write nothing
        if held.is_file():
            return json.loads(held.read_text())
        summary = rundir.summary(out, setting.name, seed, start_step, wall_before, None,
                                 rundir.STATUS_COMPLETE if budget_left else rundir.STATUS_BUDGET)
        write_json(held, summary)
        return summary
    # says so when a first run fetches MNIST
    data = training_images(opts.dataset, data, digits=opts.digits, verbose=not opts.quiet)
    dataset = training_data(data, setting.batch_size, setting.n_critic, seed=seed, start_step=start_step,
                            schedule=setting.critic_schedule)  # checks the batch against the data first
    out.mkdir(parents=True, exist_ok=True)
    rundir.write_config(out, config)
    images_per_step = setting.batch_size * setting.n_critic

    def point(step: int) -> None:
        session = recorder.elapsed
        summary = rundir.summary(out, setting.name, seed, step, wall_before + session,
                                 (step - start_step) * images_per_step / session if session else None,
                                 point_status, total_seconds=recorder.total)
        write_json(out / rundir.SUMMARY_FILE, summary)
        if on_point is not None:
            on_point(step, summary, gan.generator)

    recorder = RunRecorder(out, manager, history, start_step=start_step, wall_before=wall_before, steps=steps,
                           budget_seconds=budget_seconds, checkpoint_every=opts.checkpoint_every,
                           noise=rundir.fixed_noise(seed, setting.noise_dim), points=points[:-1], on_point=point)
    board = TensorBoardLogger(tensorboard_dir(out), setting=setting.name, hparams=hparams_of(config),
                              start_step=start_step, noise=recorder.noise, every=opts.checkpoint_every)
    extra = [] if opts.quiet else [Progress(start_step, steps, budget_seconds, images_per_step, opts.checkpoint_every,
                                            name=setting.name, wall_before=wall_before,
                                            training_seconds=lambda: recorder.elapsed)]
    fit_steps = steps - start_step if steps is not None else np.iinfo(np.int32).max
    with quiet_tensorflow():  # the remapper's refused fusion logs an ERROR line per run (wgan/console.py)
        gan.fit(dataset, epochs=1, steps_per_epoch=fit_steps, verbose=0, shuffle=False,
                callbacks=[recorder, board, *extra, *(callbacks or [])])

    done = recorder.history[-1][rundir.STEP] if recorder.history else start_step
    session = recorder.elapsed
    summary = rundir.summary(out, setting.name, seed, done, wall_before + session,
                             (done - start_step) * images_per_step / session if session else None,
                             recorder.status, total_seconds=recorder.total)
    write_json(out / rundir.SUMMARY_FILE, summary)
    if recorder.diverged:
        raise TrainingDiverged(f"training diverged: {recorder.diverged}; stopped with the last good checkpoint "
                               f"(step {recorder.last_saved}) kept in {out}")
    if points and on_point is not None and recorder.status != rundir.STATUS_STOPPED:
        for _ in [*recorder.points, points[-1]]:  # a seconds point the last step reached with the budget
            on_point(done, summary, gan.generator)
    if not opts.quiet:
        print(f"{setting.name}: {done} steps in {summary[rundir.SUMMARY_WALL_SECONDS]:.1f}s of training "
              f"({summary[rundir.SUMMARY_IMAGES_PER_SECOND] or 0:.0f} images/s; this session "
              f"{recorder.total:.1f}s in all), {recorder.status}; run in {out}")
    return summary


def _restore(manager: tf.train.CheckpointManager) -> None:
    """Restore the newest readable checkpoint; a corrupt newest one falls back to the one before."""
    failures = []
    for path in reversed(manager.checkpoints):
        try:
            manager.checkpoint.restore(path).assert_consumed()
        except (tf.errors.OpError, ValueError, AssertionError, IndexError, KeyError, OSError) as err:
            failures.append(f"{path} ({first_line(err)})")
            continue
        if failures:
            print(f"warning: cannot restore {failures[0]}; resumed from {path} instead", file=sys.stderr)
        return
    raise WganbenchError(f"cannot restore {'; nor '.join(failures)}; the checkpoints are corrupt or from another "
                         "model: pass --force to start over")


def set_threads(threads: int) -> None:
    """Pin TensorFlow's thread pools, and NumPy's BLAS to as many threads; refused once TensorFlow has started
    with other sizes. The BLAS limit matters where runs share cores: OpenBLAS starts one thread per core, and
    beside another run's training they spin on each other (FID's 576-wide ``eigh`` took 0.07 s at one thread and
    up to 4.7 s at two, on 2 cores with two runs training: docs/DESIGN.md §6)."""
    threadpoolctl.threadpool_limits(threads, user_api="blas")
    config = tf.config.threading
    if (config.get_intra_op_parallelism_threads(), config.get_inter_op_parallelism_threads()) == (threads,) * 2:
        return
    try:
        config.set_intra_op_parallelism_threads(threads)
        config.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        raise WganbenchError(f"threads={threads}: TensorFlow already started in this process with other thread "
                             "pools; set the threads in a fresh process (a study's workers do)") from None


def _options(options: TrainOptions | None, kwargs: dict) -> TrainOptions:
    if options is not None and kwargs:
        raise WganbenchError(f"pass either options or keyword options, not both (got {sorted(kwargs)})")
    if options is not None:
        return options
    try:
        return TrainOptions(**kwargs)
    except TypeError as err:  # an unknown keyword
        raise WganbenchError(f"train: {err}") from None
