"""Building the GAN of a setting: its class, precision, distribution strategy and checkpoint.

The model and its training step are :mod:`wgan.step`'s (:class:`GAN`); the NumPy-clipping benchmark
baseline is its subclass in :mod:`wgan.notebook`. Everything a resumed run needs is reachable from
:func:`make_checkpoint`: both networks, both optimizers (built before restoring), the noise
``tf.random.Generator``, every Dropout ``SeedGenerator`` state and, when kept, the EMA generator.
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf

from wgan.data import IMAGE_SHAPE
from wgan.errors import WganbenchError
from wgan.lipschitz import DEFAULT_CLIP_IMPL
from wgan.notebook import NumpyClippingGAN
from wgan.rundir import CRITIC_GRAD_NORM, CRITIC_LOSS, GENERATOR_GRAD_NORM, GENERATOR_LOSS, LOGGED, PENALTY, WASSERSTEIN
from wgan.settings import Setting
from wgan.step import GAN
from wgan.train_options import MIXED_PRECISION, STRATEGIES

__all__ = ["CRITIC_GRAD_NORM", "CRITIC_LOSS", "GAN", "GENERATOR_GRAD_NORM", "GENERATOR_LOSS", "LOGGED",
           "PENALTY", "WASSERSTEIN", "build_gan", "make_checkpoint", "resolve_strategy"]
# Policies of the MIXED_PRECISION names.
POLICIES = {None: None, "float32": None, "bfloat16": "mixed_bfloat16"}


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


def build_gan(setting: Setting, *, seed: int = 0, clip_impl: str | None = None,
              mixed_precision: str | None = None, strategy: tf.distribute.Strategy | None = None,
              jit_compile: bool = False, channels: int = IMAGE_SHAPE[-1], ema_decay: float | None = None) -> GAN:
    """A compiled GAN (optimizers built) under ``strategy``'s scope, seeded by ``seed``, with networks of
    ``channels`` image channels and, with ``ema_decay``, an EMA generator (:meth:`GAN.ema_update`); the
    ``numpy`` clipping implementation builds a :class:`NumpyClippingGAN`."""
    if mixed_precision not in MIXED_PRECISION:
        raise WganbenchError(f"unknown mixed precision {mixed_precision!r}; expected bfloat16 (or none)")
    clips = setting.constraint.clips
    if clip_impl is not None and not clips and clip_impl != "none":
        raise WganbenchError(f"setting {setting.name!r} does not clip weights; --clip-impl applies only to "
                             "clipping settings")
    strategy = strategy or tf.distribute.get_strategy()
    distributed = strategy.num_replicas_in_sync > 1
    impl = clip_impl or DEFAULT_CLIP_IMPL
    numpy = impl == "numpy" and clips
    if distributed and numpy:
        raise WganbenchError("the numpy clipping round trip runs eagerly on one device; use fused or "
                             "constraint clipping with a distribution strategy")
    if distributed and setting.critic_schedule != "constant":
        raise WganbenchError(f"setting {setting.name!r}: the {setting.critic_schedule} critic schedule runs a graph "
                             "loop that a distribution strategy's clipping cannot enter; use --strategy default")
    if distributed and jit_compile:
        raise WganbenchError("jit_compile is not supported with a distribution strategy")
    if setting.batch_size % strategy.num_replicas_in_sync:
        raise WganbenchError(f"batch size {setting.batch_size} does not split evenly over "
                             f"{strategy.num_replicas_in_sync} replicas")
    keras.utils.set_random_seed(seed)
    with strategy.scope():
        gan = (NumpyClippingGAN if numpy else GAN)(setting, clip_impl=impl, seed=seed, channels=channels,
                                                   dtype=POLICIES[mixed_precision], synchronized_bn=distributed,
                                                   ema_decay=ema_decay)
        gan.compile(jit_compile=jit_compile)
    return gan


def make_checkpoint(gan: GAN) -> tf.train.Checkpoint:
    ema = {} if gan.generator_ema is None else {"generator_ema": gan.generator_ema}
    return tf.train.Checkpoint(generator=gan.generator, critic=gan.critic, g_optimizer=gan.g_optimizer,
                               d_optimizer=gan.d_optimizer, noise_rng=gan.noise_rng,
                               dropout_seeds=gan.seed_states(), **ema)
