"""The three clipping implementations agree, clip to ±c, and leave non-trainable state alone."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from wgan.errors import WganbenchError
from wgan.gan import GAN, build_gan
from wgan.lipschitz import CLIP_IMPLS, clipping_call, critic_constraint
from wgan.notebook import NumpyClippingGAN
from wgan.settings import SETTINGS
from wgan.stream import training_data

CLIP = 0.01


@pytest.fixture(scope="module")
def critic_states(mnist) -> dict[str, tuple[list[np.ndarray], list[np.ndarray]]]:
    """Critic and generator weights after 2 steps of `wgan` (2 critic updates each, dropout on)."""
    setting = dataclasses.replace(SETTINGS["wgan"], batch_size=16, n_critic=2, width=16)
    batches = list(training_data(mnist[0][0], 16, 2, seed=0).take(2))
    states = {}
    for impl in ("fused", "constraint", "numpy"):
        gan = build_gan(setting, seed=3, clip_impl=impl)
        step = gan.train_step if impl == "numpy" else tf.function(gan.train_step)
        for batch in batches:
            step(batch)
        states[impl] = (gan.critic.get_weights(), gan.generator.get_weights())
    return states


def test_implementations_reach_the_same_critic(critic_states) -> None:
    fused_critic, fused_generator = critic_states["fused"]
    for impl in ("constraint", "numpy"):
        critic, generator = critic_states[impl]
        for a, b in zip(fused_critic + fused_generator, critic + generator):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7, err_msg=impl)


def test_numpy_clipping_is_its_own_class() -> None:
    """The notebook's round trip is the NumpyClippingGAN subclass (an eager step); the base step refuses it."""
    setting = dataclasses.replace(SETTINGS["wgan-seed"], width=8)
    assert type(build_gan(setting, clip_impl="numpy")) is NumpyClippingGAN
    assert type(build_gan(setting, clip_impl="fused")) is GAN
    with pytest.raises(WganbenchError, match="GAN clips with fused, constraint, not 'numpy'"):
        GAN(setting, clip_impl="numpy")
    with pytest.raises(WganbenchError, match="cannot be XLA-compiled"):
        build_gan(setting, clip_impl="numpy", jit_compile=True)


def test_every_critic_weight_is_clipped(critic_states) -> None:
    for critic, _ in critic_states.values():
        flat = np.concatenate([w.ravel() for w in critic])
        assert np.abs(flat).max() <= CLIP
        assert np.isclose(np.abs(flat), CLIP).mean() > 0.1  # the bound is active, not vacuous


def _critic_with_batchnorm(impl: str) -> keras.Model:
    constraint = critic_constraint(impl, CLIP)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(4, 3, kernel_constraint=constraint, bias_constraint=constraint),
        keras.layers.BatchNormalization(beta_constraint=constraint, gamma_constraint=constraint),
        keras.layers.Dropout(0.3), keras.layers.Flatten(),
        keras.layers.Dense(1, kernel_constraint=constraint, bias_constraint=constraint),
    ])
    bn = model.layers[1]
    bn.moving_mean.assign(np.full(4, 5.0, "float32"))
    bn.moving_variance.assign(np.full(4, 7.0, "float32"))
    model.layers[4].bias.assign(np.full(1, 0.5, "float32"))  # biases start at 0, inside ±c
    return model


@pytest.mark.parametrize("impl", CLIP_IMPLS)
def test_clipping_call_touches_trainable_variables_only(impl: str) -> None:
    model = _critic_with_batchnorm(impl)
    before_trainable = [v.numpy() for v in model.trainable_variables]
    before_other = [v.numpy() for v in model.non_trainable_variables]  # BN statistics, dropout seed
    clipping_call(model, impl, CLIP)()
    for before, var in zip(before_trainable, model.trainable_variables):
        expected = before if impl == "none" else np.clip(before, -CLIP, CLIP)
        np.testing.assert_array_equal(var.numpy(), expected)
    for before, var in zip(before_other, model.non_trainable_variables):
        np.testing.assert_array_equal(var.numpy(), before)


def test_constraint_call_needs_a_constrained_critic() -> None:
    with pytest.raises(WganbenchError, match="critic_constraint"):
        clipping_call(_critic_with_batchnorm("fused"), "constraint", CLIP)
    with pytest.raises(WganbenchError, match="unknown clipping implementation 'clamp'"):
        clipping_call(_critic_with_batchnorm("fused"), "clamp", CLIP)
