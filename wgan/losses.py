"""GAN and WGAN losses as pure functions of critic outputs (all means over the batch, float32).

- ``gan``: Goodfellow et al. 2014 with the non-saturating generator. With logits ``D``,
  critic loss ``E[softplus(-D(x))] + E[softplus(D(G(z)))]`` (binary cross-entropy, real = 1,
  fake = 0), generator loss ``E[softplus(-D(G(z)))]`` (= −E log σ(D(G(z)))).
- Wasserstein (Arjovsky et al. 2017): critic loss ``E[D(G(z))] − E[D(x)]``, generator loss
  ``−E[D(G(z))]``; ``E[D(x)] − E[D(G(z))]`` estimates W₁ up to the critic's Lipschitz constant.
- Gradient penalty (Gulrajani et al. 2017): ``E[(‖∇D(x̂)‖₂ − 1)²]`` with
  ``x̂ = εx + (1−ε)G(z)``, ε ~ U[0, 1] drawn once per sample, and the norm taken as
  ``sqrt(Σ g² + 1e-12)`` because a bare sqrt has an infinite (NaN) gradient at 0.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from wgan.objectives import GAN_LOSS, WASSERSTEIN_LOSS, Loss

NORM_EPS = 1e-12


def _f32(x: tf.Tensor) -> tf.Tensor:
    return tf.cast(x, tf.float32)


def gan_critic_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """Binary cross-entropy from logits, real labelled 1 and fake 0."""
    return (tf.reduce_mean(tf.nn.softplus(-_f32(real_logits)))
            + tf.reduce_mean(tf.nn.softplus(_f32(fake_logits))))


def gan_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """Non-saturating generator loss −E log σ(D(G(z))) = E softplus(−D(G(z)))."""
    return tf.reduce_mean(tf.nn.softplus(-_f32(fake_logits)))


def wasserstein_critic_loss(real_scores: tf.Tensor, fake_scores: tf.Tensor) -> tf.Tensor:
    """E[D(G(z))] − E[D(x)]: the critic minimises it, i.e. maximises the W₁ estimate."""
    return tf.reduce_mean(_f32(fake_scores)) - tf.reduce_mean(_f32(real_scores))


def wasserstein_generator_loss(fake_scores: tf.Tensor) -> tf.Tensor:
    """−E[D(G(z))]."""
    return -tf.reduce_mean(_f32(fake_scores))


def wasserstein_estimate(real_scores: tf.Tensor, fake_scores: tf.Tensor) -> tf.Tensor:
    """E[D(x)] − E[D(G(z))], the critic's estimate of W₁ (for logging; also useful for `gan`)."""
    return -wasserstein_critic_loss(real_scores, fake_scores)


# Each loss record's two objectives (critic loss of (real, fake) scores, generator loss of fake scores).
FUNCTIONS: dict[str, tuple[Callable[[tf.Tensor, tf.Tensor], tf.Tensor], Callable[[tf.Tensor], tf.Tensor]]] = {
    GAN_LOSS.name: (gan_critic_loss, gan_generator_loss),
    WASSERSTEIN_LOSS.name: (wasserstein_critic_loss, wasserstein_generator_loss),
}


def critic_loss(loss: Loss, real_scores: tf.Tensor, fake_scores: tf.Tensor) -> tf.Tensor:
    """What ``loss``'s critic minimises."""
    return FUNCTIONS[loss.name][0](real_scores, fake_scores)


def generator_loss(loss: Loss, fake_scores: tf.Tensor) -> tf.Tensor:
    """What ``loss``'s generator minimises."""
    return FUNCTIONS[loss.name][1](fake_scores)


def interpolate(real: tf.Tensor, fake: tf.Tensor, epsilon: tf.Tensor) -> tf.Tensor:
    """x̂ = εx + (1−ε)x̃ with one ε per sample (``epsilon`` shaped [B, 1, 1, 1])."""
    return epsilon * real + (1.0 - epsilon) * fake


def gradient_penalty(critic: Callable[[tf.Tensor], tf.Tensor], real: tf.Tensor, fake: tf.Tensor,
                     epsilon: tf.Tensor) -> tf.Tensor:
    """E[(‖∇D(x̂)‖₂ − 1)²] over the batch, the norm per sample over all pixels.

    ``epsilon`` must be uniform on [0, 1] with shape [B, 1, 1, 1]; the caller draws it so this
    function stays pure. Differentiable w.r.t. the critic's weights (a tape nested in the caller's).
    """
    x_hat = interpolate(_f32(real), _f32(fake), _f32(epsilon))
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        # Samples are independent through the critic (no batch statistics), so the gradient of
        # the summed scores w.r.t. x̂ holds each sample's own input gradient.
        total = tf.reduce_sum(_f32(critic(x_hat)))
    grads = tape.gradient(total, x_hat)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=list(range(1, grads.shape.rank))) + NORM_EPS)
    return tf.reduce_mean(tf.square(norms - 1.0))
