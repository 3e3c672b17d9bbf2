"""Stacked MNIST: the data set, 3-channel networks that every setting trains, and the 1,000-mode metric
checked on real digits (what results/evaluator_sanity.md's stacked rows say)."""

from __future__ import annotations

import dataclasses
import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from evaluators import ROW_KEYS, EvalOptions, evaluate, score, values
from evaluators.classifier import load_classifier
from evaluators.metrics import row_keys
from evaluators.reference import reference_stats
from evaluators.sanity import STACKED_ALL, STACKED_BLUR, STACKED_READ, STACKED_REAL, sanity_table, stacked_cases
from evaluators.stacked_modes import PROTOCOL_SAMPLES, channel_digits, stacked_modes, stacked_reading
from evaluators.suite import classify
from evaluators.validation import check_samples
from wgan.data import (
    CHANNELS,
    MNIST,
    STACKED_MNIST,
    channel_images,
    load_stacked_mnist,
    stacked_indices,
    stacked_label,
)
from wgan.errors import WganbenchError
from wgan.lipschitz import CLIP_IMPLS
from wgan.models import make_critic, make_generator
from wgan.settings import SETTINGS
from wgan.stacked import build_gan_for, training_images
from wgan.stream import training_data
from wgan.trainer import TrainOptions, train

STACKED_VALUES = ("stacked_modes", "stacked_kl", "stacked_confident_share", "stacked_modes_confident",
                  "stacked_modes_independent")
# Every setting, and each clipping setting with every clipping implementation.
SETTING_IMPLS = [(name, impl) for name, s in SETTINGS.items()
                 for impl in ([i for i in CLIP_IMPLS if i != "none"] if s.lipschitz == "clip" else [None])]


@pytest.fixture(scope="module")
def stacked(mnist):
    return load_stacked_mnist()


# --- the data set ------------------------------------------------------------------------------------------

def test_stacked_mnist_is_three_independent_digits_per_image(mnist, stacked) -> None:
    (x_train, y_train), (x_test, y_test) = mnist
    (sx_train, sy_train), (sx_test, sy_test) = stacked
    assert sx_train.shape == (60_000, 28, 28, 3) and sx_test.shape == (10_000, 28, 28, 3)
    assert sx_train.dtype == np.uint8 and sy_train.shape == (60_000,)
    # Channels R, G, B are the training digits the seeded draws name; the label is 100·R + 10·G + B.
    for (x, y), (sx, sy), stream in (((x_train, y_train), (sx_train, sy_train), (0, 0)),
                                     ((x_test, y_test), (sx_test, sy_test), (0, 1))):
        index = stacked_indices(len(x), len(sx), stream)
        for c in range(3):
            np.testing.assert_array_equal(sx[..., c], x[index[:, c]])
        digit = y.astype(np.int64)[index]
        np.testing.assert_array_equal(sy, 100 * digit[:, 0] + 10 * digit[:, 1] + digit[:, 2])
    # Uniform draws: every one of the 1,000 modes, each near 60 times; the channels independent.
    counts = np.bincount(sy_train, minlength=1000)
    assert counts.size == 1000 and counts.min() > 25 and abs(counts.mean() - 60) < 1e-9
    digits = sy_train[:, None] // np.array([100, 10, 1]) % 10
    assert abs(np.corrcoef(digits.T)[0, 1]) < 0.02 and abs(np.corrcoef(digits.T)[1, 2]) < 0.02


def test_stacked_mnist_is_deterministic_and_seeded(stacked) -> None:
    (sx_train, sy_train), (sx_test, _) = stacked
    (again, labels), (fewer, _) = load_stacked_mnist(n_test=5)
    np.testing.assert_array_equal(again, sx_train)
    np.testing.assert_array_equal(labels, sy_train)
    np.testing.assert_array_equal(fewer, sx_test[:5])  # a smaller set is a prefix of the larger one
    (other, _), (small_test, _) = load_stacked_mnist(seed=1, n_train=100, n_test=7)
    assert not np.array_equal(other, sx_train[:100]) and small_test.shape == (7, 28, 28, 3)
    assert stacked_label(np.array([[3, 0, 7], [9, 9, 9]])).tolist() == [307, 999]
    with pytest.raises(WganbenchError, match="n_train must be a positive integer"):
        load_stacked_mnist(n_train=0)


def test_channel_images_are_sample_major() -> None:
    x = np.arange(2 * 28 * 28 * 3, dtype=np.int64).reshape(2, 28, 28, 3)
    single = channel_images(x)
    assert single.shape == (6, 28, 28, 1)
    for i in range(2):
        for c in range(3):
            np.testing.assert_array_equal(single[3 * i + c, ..., 0], x[i, ..., c])


# --- networks and training ---------------------------------------------------------------------------------

def unnamed(config):
    """A Keras config without its layer names (Keras numbers them per process)."""
    if isinstance(config, dict):
        return {k: unnamed(v) for k, v in config.items() if k != "name"}
    return [unnamed(v) for v in config] if isinstance(config, list) else config


def test_three_channel_networks_differ_only_at_the_image_end() -> None:
    width = 16
    g1, g3 = make_generator(width=width), make_generator(width=width, channels=3)
    c1, c3 = make_critic(width=width), make_critic(width=width, channels=3)
    assert unnamed(g1.get_config()) == unnamed(make_generator(width=width, channels=1).get_config())  # 1 channel
    assert unnamed(c1.get_config()) == unnamed(make_critic(width=width, channels=1).get_config())
    assert g3.output_shape == (None, 28, 28, 3) and c3.input_shape == (None, 28, 28, 3)
    assert g3.count_params() - g1.count_params() == 5 * 5 * width * 2  # last ConvTranspose, no bias
    assert c3.count_params() - c1.count_params() == 5 * 5 * 2 * width  # first Conv's kernel
    assert make_generator(width=width).output_shape[-1] == 1  # MNIST's one channel unless told
    with pytest.raises(WganbenchError, match="channels must be a positive integer"):
        make_critic(channels=0)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "impl"), SETTING_IMPLS)
def test_every_setting_and_clipping_steps_on_stacked_mnist(stacked, name: str, impl: str | None) -> None:
    """One generator step (the setting's own critic schedule) of each setting × clipping implementation."""
    setting = dataclasses.replace(SETTINGS[name], width=8, batch_size=16)
    gan = build_gan_for(STACKED_MNIST, setting, seed=0, clip_impl=impl)
    assert gan.generator.output_shape == (None, 28, 28, 3) and gan.critic.input_shape == (None, 28, 28, 3)
    batch = next(iter(training_data(stacked[0][0], 16, setting.n_critic, seed=0, schedule=setting.critic_schedule)))
    assert tuple(batch.shape[2:]) == (28, 28, 3)
    before = [w.copy() for w in gan.critic.get_weights()]
    logs = (gan.train_step if impl == "numpy" else tf.function(gan.train_step))(batch)
    assert all(math.isfinite(float(v)) for v in logs.values()), logs
    assert gan.step == 1
    after = gan.critic.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    if setting.lipschitz == "clip":
        assert max(float(np.abs(w).max()) for w in after) <= setting.clip_value
    images = np.asarray(gan.generator(tf.random.normal((4, setting.noise_dim)), training=False))
    assert images.shape == (4, 28, 28, 3) and np.abs(images).max() <= 1.0


def test_training_images_match_the_data_set(mnist, stacked) -> None:
    assert training_images(STACKED_MNIST, stacked[0][0][:10]).shape == (10, 28, 28, 3)
    with pytest.raises(WganbenchError, match="training images have 1 channel .* 'stacked-mnist' has 3"):
        training_images(STACKED_MNIST, mnist[0][0][:10])
    with pytest.raises(WganbenchError, match="training images have 3 channels .* 'mnist' has 1"):
        training_images(MNIST, stacked[0][0][:10])
    with pytest.raises(WganbenchError, match="unknown dataset 'cifar'"):
        TrainOptions(dataset="cifar")


@pytest.mark.slow
def test_a_stacked_run_trains_saves_and_evaluates(stacked, tmp_path) -> None:
    out = tmp_path / "run"
    summary = train("wgan-gp", dataset=STACKED_MNIST, steps=2, width=8, batch_size=16, out_dir=str(out),
                    quiet=True, checkpoint_every=2, data=stacked[0][0][:2_000])
    assert summary["steps"] == 2 and json.loads((out / "config.json").read_text())["dataset"] == STACKED_MNIST
    assert keras.saving.load_model(out / "generator.keras", compile=False).output_shape == (None, 28, 28, 3)
    row = evaluate(out, dataset=STACKED_MNIST, n=1_200, stacked_samples=1_000, kid_subsets=5)
    assert tuple(row) == row_keys(STACKED_MNIST) == (*ROW_KEYS[:-1], *STACKED_VALUES, "n")
    assert row["n"] == 1_200 and 1 <= row["stacked_modes"] <= 1_000 and row["stacked_kl"] > 0
    with pytest.raises(WganbenchError, match="three channels: Stacked MNIST samples"):
        evaluate(out, n=1_200)


# --- the metric ----------------------------------------------------------------------------------------------

def test_stacked_modes_by_hand() -> None:
    every = np.array([[m // 100, m // 10 % 10, m % 10] for m in range(1000)])
    assert stacked_modes(every) == {"histogram": [1] * 1000, "stacked_modes": 1000, "stacked_kl": 0.0}
    one = stacked_modes(np.tile([[1, 2, 3]], (50, 1)))
    assert one["stacked_modes"] == 1 and one["histogram"][123] == 50 and math.isclose(one["stacked_kl"], math.log(1000))
    half = stacked_modes(np.repeat(every[::2], 3, axis=0))  # 500 modes, 3 samples each
    assert half["stacked_modes"] == 500 and math.isclose(half["stacked_kl"], math.log(2))
    logits = np.zeros((2, 3, 10))
    logits[0, [0, 1, 2], [4, 0, 9]] = 1.0
    logits[1, [0, 1, 2], [0, 0, 1]] = 1.0
    assert channel_digits(logits).tolist() == [[4, 0, 9], [0, 0, 1]]
    with pytest.raises(WganbenchError, match=r"expected \[M, 3, 10\]"):
        channel_digits(np.zeros((2, 10)))
    with pytest.raises(WganbenchError, match="expected digits 0-9"):
        stacked_modes(np.array([[1, 2, 10]]))


def test_stacked_reading_by_hand() -> None:
    every = np.array([[m // 100, m // 10 % 10, m % 10] for m in range(1000)])
    logits = np.full((1000, 3, 10), -20.0)
    logits[np.arange(1000)[:, None], np.arange(3), every] = 20.0  # each channel read as its digit, p ≈ 1
    logits[:250, 1] = 0.0                                          # a quarter with an unreadable middle channel
    reading = stacked_reading(logits, confident_prob=0.9)
    assert reading["stacked_confident_share"] == 0.75 and reading["stacked_modes_confident"] == 750
    # a flat channel reads as digit 0: the middle channel holds 250 + 70 zeros, 70 of each of 1-4 (from modes
    # 300-999) and 80 of each of 5-9 (modes 250-299 too)
    middle = np.array([0.32, *[0.07] * 4, *[0.08] * 5])
    cube = np.full(10, 0.1)[:, None, None] * middle[None, :, None] * np.full(10, 0.1)[None, None, :]
    assert math.isclose(reading["stacked_modes_independent"], float((1 - (1 - cube) ** 1000).sum()), rel_tol=1e-12)
    one = stacked_reading(np.tile(logits[-1:], (40, 1, 1)))  # one combination: exactly one mode expected
    assert (one["stacked_confident_share"], one["stacked_modes_confident"]) == (1.0, 1)
    assert math.isclose(one["stacked_modes_independent"], 1.0)
    flat = stacked_reading(np.zeros((30, 3, 10)))  # every channel at p = 0.1: nothing is read with confidence
    assert flat["stacked_confident_share"] == 0.0 and flat["stacked_modes_confident"] == 0


def test_the_table_adds_stacked_values_for_stacked_mnist_only() -> None:
    assert [v.key for v in values()] == list(ROW_KEYS[:-1]) and row_keys() == ROW_KEYS  # plain MNIST unchanged
    stacked_values = {v.key: v for v in values(dataset=STACKED_MNIST)}
    assert tuple(stacked_values)[-len(STACKED_VALUES):] == STACKED_VALUES
    assert stacked_values["stacked_modes"].better == "higher" and stacked_values["stacked_kl"].better == "lower"
    assert EvalOptions(dataset=STACKED_MNIST).metric_options("stacked").samples == PROTOCOL_SAMPLES == 26_000
    assert [m.name for m in EvalOptions().selected()] == ["fid", "is", "modes", "kid", "prdc"]
    assert [m.name for m in EvalOptions(dataset=STACKED_MNIST).selected()][-1] == "stacked"
    with pytest.raises(WganbenchError, match="metric 'stacked' applies to stacked-mnist only"):
        EvalOptions(metrics=("stacked",))
    with pytest.raises(WganbenchError, match="stacked_samples must be a positive integer"):
        EvalOptions(overrides={"stacked_samples": 0})


def test_stacked_samples_are_checked(stacked) -> None:
    x = stacked[1][0][:4]
    scaled = check_samples(x, channels=CHANNELS[STACKED_MNIST])
    assert scaled.shape == (4, 28, 28, 3) and scaled.dtype == np.float32 and scaled.min() == -1.0
    np.testing.assert_array_equal(check_samples(scaled, channels=3), scaled)
    with pytest.raises(WganbenchError, match="expected float \\[N, 28, 28, 1\\].*three channels"):
        check_samples(x)
    with pytest.raises(WganbenchError, match="expected float \\[N, 28, 28, 3\\].*one channel"):
        check_samples(scaled[..., :1], channels=3)


@pytest.mark.slow
def test_each_channel_is_read_as_its_digit(stacked) -> None:
    """classify reads channel c of sample i as row 3i + c, so modes are the true labels for ~98% of real
    test samples (three reads at the classifier's ≈ 99.3% each)."""
    x, labels = stacked[1][0][:600], stacked[1][1][:600]
    classifier = load_classifier()
    options = EvalOptions(dataset=STACKED_MNIST, n=900, metrics=("fid", "stacked"))
    features, logits, stacked_logits = classify(x, classifier, options)
    assert features.shape == (900, classifier.feature_dim) and stacked_logits.shape == (600, 3, 10)
    np.testing.assert_array_equal(stacked_logits.reshape(-1, 10)[:900], logits)
    assert np.mean(stacked_label(channel_digits(stacked_logits)) == labels) > 0.96
    row = score(features, logits, reference_stats("test", classifier=classifier), options,
                stacked_logits=stacked_logits)
    assert list(row) == ["fid", *STACKED_VALUES, "n"] and row["n"] == 900
    assert row["stacked_modes"] == len(np.unique(stacked_label(channel_digits(stacked_logits))))
    assert evaluate(x, options=options) == row  # evaluate takes the same path


# --- the sanity rows: real digits ------------------------------------------------------------------------

SANITY_SAMPLES = 10_000  # the restricted sets need fewer than the protocol's 26,000 to fill their modes


@pytest.fixture(scope="module")
def sanity(mnist):
    """The sanity table's stacked rows at 10,000 samples, and real Stacked MNIST at the protocol's 26,000."""
    table = sanity_table(metrics=("stacked",), mnist=mnist, stacked_samples=SANITY_SAMPLES)
    assert set(table["group"]) == {STACKED_REAL, STACKED_BLUR, STACKED_ALL, STACKED_READ}  # only the stacked rows
    classifier = load_classifier()
    real = next(stacked_cases(mnist, classifier, samples=PROTOCOL_SAMPLES))
    options = EvalOptions(metrics=("stacked",), dataset=STACKED_MNIST)
    features, logits, stacked_logits = classify(real.images, classifier, options)
    return table, score(features, logits, real.reference, options, stacked_logits=stacked_logits)


def _row(table, group: str, level: int):
    (row,) = table[(table["group"] == group) & (table["level"] == level)].itertuples()
    return row


@pytest.mark.slow
def test_real_stacked_mnist_covers_all_modes_with_kl_near_zero(sanity) -> None:
    table, protocol = sanity
    # 26,000 uniform draws leave no mode empty (the rarest expects 18 samples); the KL is its finite-sample
    # bias 999/52,000 ≈ 0.019 plus MNIST's unequal digit frequencies (≈ 0.005).
    assert protocol["stacked_modes"] >= 995 and protocol["stacked_kl"] < 0.05
    fewer = _row(table, STACKED_REAL, 1000)  # at 10,000 samples the bias doubles: 999/20,000 ≈ 0.05
    assert fewer.stacked_modes >= 995 and protocol["stacked_kl"] < fewer.stacked_kl < 0.08


@pytest.mark.slow
def test_restricted_sets_cover_their_combinations(sanity) -> None:
    table, _ = sanity
    exact = _row(table, STACKED_READ, 500)  # digits the classifier reads as labelled: the count is exact
    assert exact.stacked_modes == 500 and abs(exact.stacked_kl - math.log(2)) < 0.04
    misread = _row(table, STACKED_ALL, 500)  # all test digits: misreadings add neighbouring combinations
    assert 500 < misread.stacked_modes < 500 + 0.03 * SANITY_SAMPLES and misread.stacked_kl < exact.stacked_kl
    one = _row(table, STACKED_READ, 1)
    assert one.stacked_modes == 1 and math.isclose(one.stacked_kl, math.log(1000))
    assert 1 < _row(table, STACKED_ALL, 1).stacked_modes < 50
    assert _row(table, STACKED_READ, 1).stacked_modes_confident == 1
    assert (table["n"] == 10_000).all()  # the image metrics' count of channel images


@pytest.mark.slow
def test_blurred_stacks_fill_modes_that_are_not_read(sanity) -> None:
    """The calibration rows: blurring real stacks by 2 px leaves almost no stack read with all three channels
    confident, while the papers' count still fills the modes that its channels' digit shares predict (measured:
    998 modes, 0.06% read, 13 modes with one classifier; 945, 0.01%, 1 with another: the blurred channels sit
    near the classifier's decision boundaries, so their exact counts move with its weights)."""
    table, _ = sanity
    real, blurred = _row(table, STACKED_REAL, 1000), _row(table, STACKED_BLUR, 2.0)
    assert real.stacked_confident_share > 0.9 and real.stacked_modes_confident >= 995
    assert blurred.stacked_confident_share < 0.05
    assert blurred.stacked_modes_confident < real.stacked_modes_confident / 5
    # A real stack's three digits are drawn independently and each channel is read alone, so the papers' count
    # is an occupancy count with cell probabilities p_R p_G p_B: its empty cells E have Var(E) <= E[E]
    # (occupancy indicators are negatively associated), and the count lies within 5 sd of its expectation.
    empty = 1000 - blurred.stacked_modes_independent
    assert abs(blurred.stacked_modes - blurred.stacked_modes_independent) <= 5 * math.sqrt(empty) + 1
    assert blurred.stacked_modes > 10 * blurred.stacked_modes_confident  # filled, but not read
