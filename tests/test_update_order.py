"""Each setting trains as its source does: the notebook's simultaneous step for `gan` and `wgan-seed`,
Algorithm 1's alternating step with fresh noise for `wgan` and `wgan-gp`, the WGAN authors' schedule."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from wgan.data import scale_images
from wgan.gan import build_gan
from wgan.notebook import notebook_step
from wgan.settings import SETTINGS
from wgan.stream import training_data

BATCH = 32


@pytest.mark.parametrize("name", ["gan", "wgan-seed"])
def test_trainer_step_is_the_notebook_step(mnist, name: str) -> None:
    """One trainer step and one notebook step on the same weights, batch and noise agree to float32
    round-off. Dropout is off so both critics see the same network (its masks are the only randomness)."""
    setting = dataclasses.replace(SETTINGS[name], width=8, batch_size=BATCH, critic_dropout=0.0)
    images = scale_images(mnist[0][0][:BATCH])
    gan = build_gan(setting, seed=1)
    generator, critic = (keras.models.clone_model(m) for m in (gan.generator, gan.critic))
    generator.set_weights(gan.generator.get_weights())
    critic.set_weights(gan.critic.get_weights())
    noise = tf.random.stateless_normal((BATCH, 1, setting.noise_dim), (1, 2))
    logs = tf.function(gan.train_step)((tf.constant(images[:, None]), noise))
    reference = notebook_step(generator, critic, keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4),
                              tf.constant(images), noise=noise[:, 0], loss=setting.loss,
                              clip_value=setting.clip_value if setting.lipschitz == "clip" else None)
    assert float(logs["critic_loss"]) == pytest.approx(reference["critic_loss"], rel=1e-6, abs=1e-7)
    assert float(logs["generator_loss"]) == pytest.approx(reference["generator_loss"], rel=1e-6, abs=1e-7)
    for ours, theirs in ((gan.generator, generator), (gan.critic, critic)):
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_settings_record_their_update_order() -> None:
    assert {n: (s.update, s.fresh_noise) for n, s in SETTINGS.items()} == {
        "gan": ("simultaneous", False), "wgan-seed": ("simultaneous", False),
        "wgan": ("alternating", True), "wgan-gp": ("alternating", True)}
    assert SETTINGS["wgan"].rho == 0.99 and SETTINGS["wgan"].critic_schedule == "wgan-authors"
    assert SETTINGS["wgan-gp"].betas == (0.5, 0.9) and "gan_mnist.py" in SETTINGS["wgan-gp"].source


def test_wgan_authors_schedule() -> None:
    wgan = SETTINGS["wgan"]
    counts = [wgan.critic_updates(t) for t in range(1002)]
    assert counts[:25] == [100] * 25 and counts[25:500] == [5] * 475 and counts[500] == 100
    assert counts[1000] == 100 and counts[501] == counts[1001] == 5
    # where each step's data begins: the running sum of the counts, in closed form
    assert [wgan.critic_updates_before(t) for t in range(1002)] == list(np.cumsum([0, *counts[:-1]]))


def test_schedule_stream_visits_each_image_once_per_epoch(mnist) -> None:
    """Warm-up steps take 100 batches, later ones 5; every image still comes once per epoch."""
    pool = mnist[0][0][:1000]
    steps = [b.numpy() for b in training_data(pool, 2, 5, seed=3, schedule="wgan-authors").take(27)]
    assert [s.shape[1] for s in steps] == [100] * 25 + [5, 5]
    flat = np.concatenate([s.reshape(-1, 28 * 28) for s in steps])[:5000]  # 5 epochs of 1,000 images
    as_uint8 = np.rint(flat * 127.5 + 127.5).astype(np.uint8)
    for epoch in range(5):
        chunk = as_uint8[epoch * 1000:(epoch + 1) * 1000]
        assert sorted(map(bytes, chunk)) == sorted(map(bytes, pool.reshape(-1, 28 * 28)))


def test_alternating_step_draws_fresh_noise_for_the_generator(mnist) -> None:
    """With fresh noise, changing only the generator's z column changes the generator update and
    leaves the critic's updates alone."""
    setting = dataclasses.replace(SETTINGS["wgan-gp"], width=8, batch_size=8, n_critic=2)
    real = next(iter(training_data(mnist[0][0], 8, 2, seed=0)))
    noise = tf.random.stateless_normal((8, 3, setting.noise_dim), (3, 4))
    other = tf.concat([noise[:, :2], tf.random.stateless_normal((8, 1, setting.noise_dim), (5, 6))], axis=1)
    results = []
    for z in (noise, other):
        gan = build_gan(setting, seed=2)
        tf.function(gan.train_step)((real, z))
        results.append((gan.critic.get_weights(), gan.generator.get_weights()))
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(results[0][1], results[1][1]))
