"""Losses against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from wgan import losses
from wgan.objectives import GAN_LOSS, LOSSES, WASSERSTEIN_LOSS


def test_gan_losses_are_cross_entropy_from_logits() -> None:
    real, fake = tf.constant([[0.0], [math.log(3.0)]]), tf.constant([[0.0], [-math.log(3.0)]])
    # real: −log σ(0) = ln 2 and −log σ(ln 3) = ln(4/3), mean (ln 2 + ln 4/3)/2;
    # fake: −log(1 − σ(0)) = ln 2 and −log(1 − σ(−ln 3)) = ln(4/3), the same mean.
    expected_critic = math.log(2) + math.log(4 / 3)
    assert float(losses.gan_critic_loss(real, fake)) == pytest.approx(expected_critic, rel=1e-6)
    # non-saturating: −log σ(0) = ln 2, −log σ(−ln 3) = −log(1/4) = ln 4
    assert float(losses.gan_generator_loss(fake)) == pytest.approx((math.log(2) + math.log(4)) / 2, rel=1e-6)


def test_wasserstein_losses() -> None:
    real, fake = tf.constant([[1.0], [2.0], [3.0]]), tf.constant([[0.5], [-0.5]])
    assert float(losses.wasserstein_critic_loss(real, fake)) == pytest.approx(0.0 - 2.0)
    assert float(losses.wasserstein_generator_loss(fake)) == pytest.approx(0.0)
    assert float(losses.wasserstein_generator_loss(tf.constant([[1.0], [3.0]]))) == pytest.approx(-2.0)
    assert float(losses.wasserstein_estimate(real, fake)) == pytest.approx(2.0)


def test_each_loss_record_names_its_own_math() -> None:
    """A record's objectives are exactly its two functions (identical values, not approximately), and no loss
    is declared without them."""
    assert set(losses.FUNCTIONS) == set(LOSSES)
    real, fake = tf.constant([[1.5], [-0.5]]), tf.constant([[0.25], [2.0]])
    for record, (critic, generator) in ((GAN_LOSS, (losses.gan_critic_loss, losses.gan_generator_loss)),
                                        (WASSERSTEIN_LOSS, (losses.wasserstein_critic_loss,
                                                            losses.wasserstein_generator_loss))):
        assert float(losses.critic_loss(record, real, fake)) == float(critic(real, fake))
        assert float(losses.generator_loss(record, fake)) == float(generator(fake))
    assert WASSERSTEIN_LOSS.estimates_distance and not GAN_LOSS.estimates_distance


def test_losses_are_float32_for_bfloat16_scores() -> None:
    scores = tf.constant([[1.0], [2.0]], tf.bfloat16)
    assert losses.wasserstein_critic_loss(scores, scores).dtype == tf.float32
    assert losses.gan_generator_loss(scores).dtype == tf.float32


def test_interpolation_uses_one_epsilon_per_sample() -> None:
    real, fake = tf.ones((3, 28, 28, 1)), tf.zeros((3, 28, 28, 1))
    eps = tf.constant([0.0, 0.25, 1.0])[:, None, None, None]
    x_hat = losses.interpolate(real, fake, eps).numpy()
    for i, e in enumerate([0.0, 0.25, 1.0]):
        assert np.all(x_hat[i] == e)


def test_gradient_penalty_of_a_linear_critic() -> None:
    # D(x) = Σ w·x has ∇D = w everywhere: ‖w‖ = 0.5·28 = 14, penalty (14 − 1)² = 169 for any ε.
    w = tf.fill((1, 28, 28, 1), 0.5)

    def critic(x):
        return tf.reduce_sum(w * x, axis=[1, 2, 3])[:, None]

    real, fake = tf.ones((4, 28, 28, 1)), -tf.ones((4, 28, 28, 1))
    eps = tf.constant([0.1, 0.4, 0.7, 0.9])[:, None, None, None]
    assert float(losses.gradient_penalty(critic, real, fake, eps)) == pytest.approx(169.0, rel=1e-6)


def test_gradient_penalty_per_sample_norms() -> None:
    # D(x) = ½Σx² has ∇D(x̂) = x̂ = ε·a with a = 1/28 everywhere: ‖x̂‖ = ε, so the penalty is
    # mean((ε − 1)²) — with ε = 0 the norm is sqrt(0 + 1e-12) = 1e-6.
    def critic(x):
        return 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3])[:, None]

    real, fake = tf.fill((3, 28, 28, 1), 1 / 28), tf.zeros((3, 28, 28, 1))
    eps = tf.constant([0.0, 0.5, 1.0])[:, None, None, None]
    expected = ((1e-6 - 1) ** 2 + 0.25 + 0.0) / 3
    assert float(losses.gradient_penalty(critic, real, fake, eps)) == pytest.approx(expected, rel=1e-5)


def test_gradient_penalty_gradient_is_finite_at_a_zero_input_gradient() -> None:
    # At x̂ = 0 the input gradient of w·½Σx² is 0; a bare sqrt would give a NaN weight gradient.
    w = tf.Variable(2.0)

    def critic(x):
        return w * 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3])[:, None]

    zeros = tf.zeros((2, 28, 28, 1))
    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(critic, zeros, zeros, tf.fill((2, 1, 1, 1), 0.5))
    grad = tape.gradient(penalty, w)
    assert float(penalty) == pytest.approx((1e-6 - 1) ** 2)
    assert np.isfinite(float(grad))
