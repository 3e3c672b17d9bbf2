"""The original notebook's training step, the one place it is written down, and its clipping in ours.

:func:`notebook_step` is the notebook's ``train_step`` on the notebook's models (docs/DESIGN.md §2
Settings and their sources): eager, not compiled; two tapes over one forward pass; Adam(1e-4) for
both networks; then the per-layer NumPy clipping round trip. One bug is fixed so comparisons are
fair: noise is drawn at the batch size, not at 16. The benchmarks time it against the trainer's step,
and the tests check the trainer's ``gan`` and ``wgan-seed`` steps against it.

:class:`NumpyClippingGAN` is the trainer's step with the notebook's clipping (``--clip-impl numpy``), a
benchmark baseline: the host round trip cannot run inside a graph, so ``fit`` runs the step eagerly and
each of its parts (generator pass, critic update, generator loss, generator update) is compiled on its
own; the eager tape differentiates through the compiled calls.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from wgan import losses
from wgan.errors import WganbenchError
from wgan.lipschitz import clip_numpy
from wgan.objectives import get_loss
from wgan.step import GAN

NOTEBOOK_LR = 1e-4
NOTEBOOK_CLIP = 0.01
NOTEBOOK_NOISE_DIM = 100
NOTEBOOK_BATCH = 256


def notebook_step(generator: keras.Model, critic: keras.Model, g_optimizer: keras.optimizers.Optimizer,
                  d_optimizer: keras.optimizers.Optimizer, images: tf.Tensor, *,
                  noise_dim: int = NOTEBOOK_NOISE_DIM, clip_value: float | None = NOTEBOOK_CLIP,
                  noise: tf.Tensor | None = None, loss: str = "wasserstein") -> dict[str, float]:
    """One eager step exactly as the notebook runs it (noise at the batch size).

    ``loss="gan"`` is the notebook's DCGAN step (cross-entropy losses, ``clip_value=None``: no
    clipping); ``noise`` pins z, to check the trainer's step against this one on identical inputs.
    """
    if noise is None:
        noise = tf.random.normal([images.shape[0], noise_dim])
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        real_out = critic(images, training=True)
        fake_out = critic(generator(noise, training=True), training=True)
        objective = get_loss(loss)
        g_loss = losses.generator_loss(objective, fake_out)
        d_loss = losses.critic_loss(objective, real_out, fake_out)
    g_optimizer.apply(g_tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables)
    d_optimizer.apply(d_tape.gradient(d_loss, critic.trainable_variables), critic.trainable_variables)
    if clip_value is not None:
        clip_numpy(critic, clip_value)
    return {"critic_loss": float(d_loss), "generator_loss": float(g_loss)}


class NumpyClippingGAN(GAN):
    """:class:`wgan.step.GAN` clipping by the notebook's round trip after each critic update."""

    CLIP_IMPLS = ("numpy",)
    EAGER = True
    COMPILED = ("generate", "critic_update", "simultaneous_update", "generator_loss", "generator_apply")

    def compile(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("jit_compile"):
            raise WganbenchError("the numpy clipping round trip runs eagerly and cannot be XLA-compiled; "
                                 "drop jit_compile or use fused clipping")
        super().compile(*args, **kwargs)
        parts = super()
        self._compiled = {name: tf.function(getattr(parts, name)) for name in self.COMPILED}

    def generate(self, noise: tf.Tensor) -> tf.Tensor:
        return self._compiled["generate"](noise)

    def critic_update(self, real: tf.Tensor, fake: tf.Tensor) -> None:
        self._compiled["critic_update"](real, fake)

    def simultaneous_update(self, real: tf.Tensor, noise: tf.Tensor) -> None:
        self._compiled["simultaneous_update"](real, noise)

    def generator_loss(self, fake: tf.Tensor) -> tf.Tensor:
        return self._compiled["generator_loss"](fake)

    def generator_apply(self, grads) -> None:
        self._compiled["generator_apply"](grads)

    def clip(self) -> None:
        clip_numpy(self.critic, self.setting.clip_value)
