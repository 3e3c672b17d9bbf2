"""Prepared callables for the benchmarks: each built outside any timed region, with its real batch.

:func:`make_notebook_step`, :func:`make_step` and :func:`make_clip_call` build one callable per
thing the benchmarks time, plus the real MNIST batch it runs on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace

import keras
import numpy as np
import tensorflow as tf

from wgan.data import load_mnist
from wgan.gan import build_gan
from wgan.lipschitz import DEFAULT_CLIP_IMPL, clipping_call, critic_constraint
from wgan.models import make_critic, make_generator
from wgan.notebook import NOTEBOOK_BATCH, NOTEBOOK_CLIP, NOTEBOOK_LR, notebook_step
from wgan.settings import Setting, get_setting
from wgan.stream import training_data

StepFn = Callable[[tf.Tensor], dict[str, float]]


def real_batch(batch_size: int, n_critic: int | None = None, *, seed: int = 0) -> tf.Tensor:
    """The first training batch of real MNIST: [B, 28, 28, 1], or [B, n_critic, 28, 28, 1]."""
    batch = next(iter(training_data(load_mnist()[0][0], batch_size, n_critic or 1, seed=seed)))
    return batch if n_critic else batch[:, 0]


def make_notebook_step(*, batch_size: int = NOTEBOOK_BATCH, seed: int = 0) -> tuple[StepFn, tf.Tensor]:
    """The notebook's eager step on fresh notebook models, and the real batch to call it on."""
    keras.utils.set_random_seed(seed)
    generator, critic = make_generator(), make_critic()
    g_opt, d_opt = keras.optimizers.Adam(NOTEBOOK_LR), keras.optimizers.Adam(NOTEBOOK_LR)

    def step(images: tf.Tensor) -> dict[str, float]:
        return notebook_step(generator, critic, g_opt, d_opt, images)

    step.critic = critic  # tests check the clipping on it
    return step, real_batch(batch_size, seed=seed)


def make_step(setting: str | Setting, *, batch_size: int | None = None, clip_impl: str | None = None,
              mixed_precision: str | None = None, jit_compile: bool = False,
              seed: int = 0) -> tuple[StepFn, tf.Tensor]:
    """One training iteration of ``setting`` as the trainer runs it, and a real batch for it.

    The step is ``GAN.train_step`` compiled with ``tf.function`` (XLA with ``jit_compile``); for the
    ``numpy`` clipping implementation it runs eagerly around compiled critic and generator updates,
    as in training. Calling it returns the step's logs as floats, so the call has finished when it
    returns; ``step.gan`` is the model it trains. The first call traces: warm up before timing.
    """
    setting = get_setting(setting)
    if batch_size is not None:
        setting = replace(setting, batch_size=batch_size)
    gan = build_gan(setting, seed=seed, clip_impl=clip_impl, mixed_precision=mixed_precision,
                    jit_compile=jit_compile)
    train_step = gan.train_step if gan.clip_impl == "numpy" else tf.function(gan.train_step)

    def step(batch: tf.Tensor) -> dict[str, float]:
        return {name: float(value) for name, value in train_step(batch).items()}

    step.gan = gan  # benchmarks assert on the model the step trains (e.g. the clipped critic)
    return step, real_batch(setting.batch_size, setting.n_critic, seed=seed)


def step_flops(setting: str | Setting, batch_size: int) -> float:
    """Useful FLOPs of one training iteration of ``setting`` at ``batch_size``, counted from the model.

    TensorFlow's profiler sums the registered FLOPs (convolutions, their two gradients, matrix
    products, bias adds) of the traced ``train_step`` graph. A critic schedule's graph loop would hide
    its body from the count, so the step is counted with the constant schedule: the same n_critic
    updates, unrolled. Divide by batch × n_critic for FLOPs per real image consumed. The notebook's
    eager step does the wgan-seed step's arithmetic (tests/test_update_order.py).
    """
    from tensorflow.python.profiler import model_analyzer, option_builder

    setting = replace(get_setting(setting), batch_size=batch_size, critic_schedule="constant")
    gan = build_gan(setting)
    graph = tf.function(gan.train_step).get_concrete_function(real_batch(batch_size, setting.n_critic)).graph
    options = {**option_builder.ProfileOptionBuilder.float_operation(), "output": "none"}
    return float(model_analyzer.profile(graph, options=options).total_float_ops)


def matmul_peak_gflops(n: int = 4096, repeats: int = 5) -> float:
    """This machine's float32 matrix-multiply rate with TensorFlow's threads: the best of ``repeats``
    n×n products, in GFLOP/s (2n³ FLOPs each); the ceiling a training step's GFLOP/s is read against."""
    a = tf.random.stateless_normal((n, n), seed=(1, 2))
    b = tf.random.stateless_normal((n, n), seed=(3, 4))
    matmul = tf.function(tf.linalg.matmul)
    matmul(a, b).numpy()  # trace and warm the thread pool
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def make_clip_call(impl: str = DEFAULT_CLIP_IMPL, *, clip_value: float = NOTEBOOK_CLIP,
                   seed: int = 0) -> Callable[[], None]:
    """The clipping call alone of one implementation, on a notebook critic (for benchmarks)."""
    keras.utils.set_random_seed(seed)
    critic = make_critic(constraint=critic_constraint(impl, clip_value))
    return clipping_call(critic, impl, clip_value)


def images_per_second(step: StepFn, batch: tf.Tensor, *, repeats: int = 5, warmup: int = 2) -> float:
    """A rough speed figure for scripts: real images consumed per second over ``repeats`` calls."""
    for _ in range(warmup):
        step(batch)
    start = time.perf_counter()
    for _ in range(repeats):
        step(batch)
    return repeats * int(np.prod(batch.shape[:-3])) / (time.perf_counter() - start)
