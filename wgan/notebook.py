"""The original notebook's training step, the one place it is written down.

:func:`notebook_step` is the notebook's ``train_step`` on the notebook's models (docs/DESIGN.md §2
Settings and their sources): eager, not compiled; two tapes over one forward pass; Adam(1e-4) for
both networks; then the per-layer NumPy clipping round trip. One bug is fixed so comparisons are
fair: noise is drawn at the batch size, not at 16. The benchmarks time it against the trainer's step,
and the tests check the trainer's ``gan`` and ``wgan-seed`` steps against it.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from wgan import losses
from wgan.lipschitz import clip_numpy

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
        if loss == "gan":
            g_loss, d_loss = losses.gan_generator_loss(fake_out), losses.gan_critic_loss(real_out, fake_out)
        else:
            g_loss = losses.wasserstein_generator_loss(fake_out)
            d_loss = losses.wasserstein_critic_loss(real_out, fake_out)
    g_optimizer.apply(g_tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables)
    d_optimizer.apply(d_tape.gradient(d_loss, critic.trainable_variables), critic.trainable_variables)
    if clip_value is not None:
        clip_numpy(critic, clip_value)
    return {"critic_loss": float(d_loss), "generator_loss": float(g_loss)}
