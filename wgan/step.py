"""The GAN as a ``keras.Model``: both networks, their optimizers and one training step.

``train_step`` is one generator step: ``n_critic`` critic updates, then one generator update
(docs/DESIGN.md §2 Settings and their sources). The step calls its own methods, one per part:
:meth:`GAN.generate`, :meth:`GAN.critic_update`, :meth:`GAN.clip`, :meth:`GAN.generator_loss`,
:meth:`GAN.generator_apply` (or :meth:`GAN.simultaneous_update` for the notebook's order). The
notebook's NumPy clipping, which cannot run in a graph, is a subclass (`wgan.notebook.NumpyClippingGAN`).
Models are built by `wgan.gan.build_gan`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from wgan import losses
from wgan.data import IMAGE_SHAPE
from wgan.errors import WganbenchError
from wgan.lipschitz import DEFAULT_CLIP_IMPL, check_clip_impl, clip_fused, critic_constraint
from wgan.models import make_critic, make_generator
from wgan.rundir import CRITIC_GRAD_NORM, CRITIC_LOSS, GENERATOR_GRAD_NORM, GENERATOR_LOSS, LOGGED, PENALTY, WASSERSTEIN
from wgan.settings import Setting


def make_optimizer(name: str, learning_rate: float, betas: tuple[float, float],
                   rho: float = 0.9) -> keras.optimizers.Optimizer:
    if name == "adam":
        return keras.optimizers.Adam(learning_rate, beta_1=betas[0], beta_2=betas[1])
    return keras.optimizers.RMSprop(learning_rate, rho=rho)


class GAN(keras.Model):
    """Generator + critic trained by ``fit()``; ``train_step`` is one generator step.

    ``fit`` data are real batches ``[B, n, 28, 28, C]`` (see :func:`wgan.stream.training_data`), or
    ``(real, noise)`` pairs with ``noise`` ``[B, n (+1 with fresh noise), noise_dim]`` (critic update
    ``i`` takes ``noise[:, i]``, a fresh-noise generator update the last column) to pin the noise,
    e.g. to compare strategies on identical inputs. Otherwise the
    noise and the penalty's ε come from ``noise_rng``, a checkpointed ``tf.random.Generator``.

    Logged metrics (one ``keras.metrics.Mean`` each, reset every step, so logs are per step): the
    critic loss (with the penalty term), the generator loss, the W₁ estimate and the penalty averaged
    over the step's critic updates, and the gradient norms. Under a strategy the losses are global
    means; a gradient norm is the mean over replicas of each replica's own.
    """

    CLIP_IMPLS: tuple[str, ...] = ("fused", "constraint")  # the clipping this class runs in its graph
    EAGER = False  # whether fit runs train_step eagerly

    def __init__(self, setting: Setting, *, clip_impl: str = DEFAULT_CLIP_IMPL, seed: int = 0,
                 dtype: str | None = None, synchronized_bn: bool = False, channels: int = IMAGE_SHAPE[-1],
                 ema_decay: float | None = None) -> None:
        super().__init__(name="gan")
        self.setting = setting
        self.clip_impl = check_clip_impl(clip_impl) if setting.constraint.clips else "none"
        if self.clip_impl not in (*self.CLIP_IMPLS, "none"):
            raise WganbenchError(f"{type(self).__name__} clips with {', '.join(self.CLIP_IMPLS)}, not "
                                 f"{self.clip_impl!r}; build it with wgan.gan.build_gan")
        self.generator = make_generator(noise_dim=setting.noise_dim, width=setting.width, dtype=dtype,
                                        synchronized_bn=synchronized_bn, channels=channels,
                                        batchnorm=setting.g_batchnorm)
        self.critic = make_critic(width=setting.width, dropout=setting.critic_dropout, dtype=dtype,
                                  constraint=critic_constraint(self.clip_impl, setting.clip_value), channels=channels)
        self.ema_decay = ema_decay
        self.generator_ema = self._ema_copy() if ema_decay is not None else None
        self.noise_rng = tf.random.Generator.from_seed(seed)
        self.trackers = [keras.metrics.Mean(name=name) for name in LOGGED]
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
        """Optimizers default to the setting's; both are built now so a checkpoint can restore them."""
        s = self.setting
        self.d_optimizer = d_optimizer or make_optimizer(s.d_optimizer, s.d_lr, s.betas, s.rho)
        self.g_optimizer = g_optimizer or make_optimizer(s.g_optimizer, s.g_lr, s.betas, s.rho)
        # XLA through a nested tf.function: Keras' own jit_compile refuses to run under op determinism,
        # although this step compiles and stays bitwise reproducible with it.
        if kwargs.pop("jit_compile", False):
            self.updates = tf.function(self.updates, jit_compile=True)
        super().compile(run_eagerly=self.EAGER, jit_compile=False, **kwargs)
        self.d_optimizer.build(self.critic.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def train_step(self, data):
        """One generator step on this step's real batches (see :meth:`updates`)."""
        real, noise = (data[0], data[1]) if isinstance(data, (tuple, list)) else (data, None)
        if noise is None:
            columns = tf.shape(real)[1] + (1 if self._fresh_column() else 0)
            noise = self.noise_rng.normal((tf.shape(real)[0], columns, self.setting.noise_dim))
        self.updates(real, noise)
        return {tracker.name: tracker.result() for tracker in self.trackers}

    def _fresh_column(self) -> bool:
        """Whether the noise carries one more column than the critic updates: the generator's own z."""
        return self.setting.update == "alternating" and self.setting.fresh_noise

    def updates(self, real: tf.Tensor, noise: tf.Tensor) -> None:
        """The body of :meth:`train_step` (XLA-compiled as a whole with ``jit_compile``).

        ``real`` is ``[B, n, 28, 28, C]`` (critic update ``i`` takes ``real[:, i]`` and
        ``noise[:, i]``). Simultaneous (the notebook): one generator pass and one critic pass per
        batch give both losses against the critic as it was before the step, and both gradients are
        applied. Alternating (Algorithm 1 of both papers): ``n`` critic updates, then the generator's
        loss against the updated critic, on its own z (``noise[:, n]``) with ``fresh_noise``, or else
        on the last critic update's generated batch (one generator pass shared by both).
        """
        for tracker in self.trackers:  # logs are this step's values (means over its critic updates)
            tracker.reset_state()
        if self.setting.update == "simultaneous":
            self.simultaneous_update(real[:, 0], noise[:, 0])
            self.clip()
            return
        fresh = self.setting.fresh_noise
        count = self.setting.n_critic if self.setting.critic_schedule == "constant" else tf.shape(real)[1]
        self._critic_updates(real, noise, count if fresh else count - 1)
        with tf.GradientTape() as tape:
            fake = self.generate(noise[:, -1])
            if not fresh:
                with tape.stop_recording():
                    self.critic_update(real[:, -1], fake)
                    self.clip()
            loss = self.generator_loss(fake)
        self.generator_apply(tape.gradient(loss, self.generator.trainable_variables))

    def _critic_updates(self, real: tf.Tensor, noise: tf.Tensor, count: int | tf.Tensor) -> None:
        """Critic updates on ``real[:, i]`` and ``G(noise[:, i])`` for ``i < count``; a tensor count
        (the warm-up schedule) becomes a graph loop."""
        def update(i) -> None:
            self.critic_update(real[:, i], self.generate(noise[:, i]))
            self.clip()

        if isinstance(count, tf.Tensor) and tf.executing_eagerly():
            count = int(count)
        if isinstance(count, int):
            for i in range(count):
                update(i)
            return

        def body(i: tf.Tensor) -> tuple[tf.Tensor]:
            update(i)
            return (i + 1,)

        tf.while_loop(lambda i: i < count, body, (tf.constant(0),))

    def generate(self, noise: tf.Tensor) -> tf.Tensor:
        return self.generator(noise, training=True)

    def clip(self) -> None:
        """After each critic update: ``fused`` clips here (``constraint`` clips inside the optimizer)."""
        if self.clip_impl == "fused":
            clip_fused(self.critic.trainable_variables, self.setting.clip_value)

    def _scale(self, loss: tf.Tensor) -> tf.Tensor:
        # Optimizers sum gradients over replicas, so each replica's mean is divided by the replica
        # count: the applied gradient is that of the mean over the global batch.
        return loss / tf.distribute.get_strategy().num_replicas_in_sync

    def _critic_loss(self, real: tf.Tensor, fake: tf.Tensor, real_scores: tf.Tensor,
                     fake_scores: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """(critic loss with the penalty term, penalty), inside the caller's tape."""
        s = self.setting
        loss = losses.critic_loss(s.objective, real_scores, fake_scores)
        penalty = tf.zeros((), tf.float32)
        if s.constraint.penalises:
            epsilon = self.noise_rng.uniform((tf.shape(real)[0], 1, 1, 1))
            penalty = losses.gradient_penalty(lambda x: self.critic(x, training=True), real, fake, epsilon)
            loss = loss + s.gp_lambda * penalty
        return loss, penalty

    def _apply_critic(self, loss: tf.Tensor, penalty: tf.Tensor, grads: Sequence[tf.Tensor],
                      real_scores: tf.Tensor, fake_scores: tf.Tensor) -> None:
        self.d_optimizer.apply(grads, self.critic.trainable_variables)
        self._track(CRITIC_LOSS, loss)
        self._track(WASSERSTEIN, losses.wasserstein_estimate(real_scores, fake_scores))
        self._track(PENALTY, penalty)
        self._track(CRITIC_GRAD_NORM, self._unscaled_norm(grads))

    def critic_update(self, real: tf.Tensor, fake: tf.Tensor) -> None:
        """One critic update on a real and a generated batch (clipping is :meth:`clip`'s)."""
        fake = tf.stop_gradient(fake)
        with tf.GradientTape() as tape:
            real_scores = self.critic(real, training=True)
            fake_scores = self.critic(fake, training=True)
            loss, penalty = self._critic_loss(real, fake, real_scores, fake_scores)
            scaled = self._scale(loss)
        grads = tape.gradient(scaled, self.critic.trainable_variables)
        self._apply_critic(loss, penalty, grads, real_scores, fake_scores)

    def simultaneous_update(self, real: tf.Tensor, noise: tf.Tensor) -> None:
        """The notebook's step: both losses from one pass, both gradients applied (order as in it)."""
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            real_scores = self.critic(real, training=True)
            fake = self.generator(noise, training=True)
            fake_scores = self.critic(fake, training=True)
            g_loss = losses.generator_loss(self.setting.objective, fake_scores)
            self._track(GENERATOR_LOSS, g_loss)
            d_loss, penalty = self._critic_loss(real, tf.stop_gradient(fake), real_scores, fake_scores)
            scaled_g, scaled_d = self._scale(g_loss), self._scale(d_loss)
        g_grads = g_tape.gradient(scaled_g, self.generator.trainable_variables)
        d_grads = d_tape.gradient(scaled_d, self.critic.trainable_variables)
        self.generator_apply(g_grads)
        self._apply_critic(d_loss, penalty, d_grads, real_scores, fake_scores)

    def generator_loss(self, fake: tf.Tensor) -> tf.Tensor:
        """This replica's share of the generator loss (tracked unscaled) against the current critic."""
        loss = losses.generator_loss(self.setting.objective, self.critic(fake, training=True))
        self._track(GENERATOR_LOSS, loss)
        return self._scale(loss)

    def generator_apply(self, grads: Sequence[tf.Tensor]) -> None:
        self.g_optimizer.apply(grads, self.generator.trainable_variables)
        self._track(GENERATOR_GRAD_NORM, self._unscaled_norm(grads))
        if self.generator_ema is not None:
            self.ema_update()

    def _ema_copy(self) -> keras.Model:
        """The EMA generator: the generator's architecture, starting at its initial weights."""
        copy = keras.models.clone_model(self.generator)
        copy.set_weights(self.generator.get_weights())
        return copy

    def ema_update(self) -> None:
        """``ema = D·ema + (1−D)·w`` for every generator weight, BatchNorm's moving statistics included.

        Starting at the initial weights (not zero) makes the average bias-free without Adam's
        ``1 − Dᵗ`` correction. The moving statistics are averaged too, so the EMA generator's inference
        BatchNorm has the statistics of (roughly) the averaged weights rather than of the last step's.
        """
        decay = self.ema_decay
        for average, weight in zip(self.generator_ema.weights, self.generator.weights, strict=True):
            average.assign(decay * average + (1.0 - decay) * weight)

    def _unscaled_norm(self, grads: Sequence[tf.Tensor]) -> tf.Tensor:
        """This replica's gradient norm of its own mean loss."""
        return tf.linalg.global_norm(grads) * tf.distribute.get_strategy().num_replicas_in_sync

    def _track(self, name: str, value: tf.Tensor) -> None:
        self.trackers[LOGGED.index(name)].update_state(value)
