"""`evaluators.evaluate`: input modes, determinism, the cache, options, bad input. (The command line
that wraps it is tested with the command line.)"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from evaluators import ROW_KEYS, EvalOptions, evaluate, format_row
from evaluators.fid import frechet_distance
from evaluators.reference import reference_stats
from evaluators.suite import GENERATOR_FILE, generate
from wgan.data import scale_images
from wgan.errors import WganbenchError

pytestmark = pytest.mark.slow
FAST = {"kid_subsets": 5}  # KID's subset count does not matter to what these tests check


@pytest.fixture(scope="module")
def train_images(mnist) -> np.ndarray:
    return mnist[0][0][:2000]


@pytest.fixture(scope="module")
def generator() -> keras.Model:
    """An untrained DCGAN-shaped generator: exercises the generator path, not sample quality."""
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((16,)),
        keras.layers.Dense(7 * 7 * 8),
        keras.layers.Reshape((7, 7, 8)),
        keras.layers.Conv2DTranspose(4, 5, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2DTranspose(1, 5, strides=2, padding="same", activation="tanh"),
    ])


def test_the_reference_scored_against_itself(mnist) -> None:
    """The test set against its own cached statistics: the metrics' fixed points."""
    row = evaluate(mnist[1][0])
    assert tuple(row) == ROW_KEYS and row["n"] == 10_000
    assert abs(row["fid"]) < 1e-7 * np.trace(reference_stats("test").sigma)  # rounding: dead units
    assert row["kl_test"] == pytest.approx(0.0, abs=1e-12) and row["modes_covered"] == 10
    assert row["precision"] == row["recall"] == row["coverage"] == 1.0
    assert abs(row["kid_mean"]) < row["kid_std"]  # subsets drawn twice from one set: zero within the spread
    assert row["is_mean"] > 9.0 and row["confident_share"] > 0.97  # a 99% classifier on balanced digits


def test_real_stats_cache_matches_the_features(mnist) -> None:
    ref = reference_stats("test")
    assert ref.features.shape == (10_000, 576) and ref.sq_radii.shape == (10_000,)
    np.testing.assert_allclose(ref.mu, ref.features.astype(np.float64).mean(axis=0), rtol=1e-12)
    assert abs(frechet_distance(ref.mu, ref.sigma, ref.mu, ref.sigma)) < 1e-7 * np.trace(ref.sigma)


def test_uint8_layouts_and_scaled_floats_score_identically(train_images) -> None:
    as_uint8 = evaluate(train_images, **FAST)
    assert as_uint8 == evaluate(train_images[..., None], **FAST) == evaluate(scale_images(train_images), **FAST)
    assert as_uint8["n"] == 2000 and evaluate(train_images, n=1500, **FAST)["n"] == 1500


def test_generator_sources_are_seeded_and_agree(generator, tmp_path) -> None:
    first = evaluate(generator, n=1200, seed=3, **FAST)
    assert first == evaluate(generator, n=1200, seed=3, **FAST)
    assert first != evaluate(generator, n=1200, seed=4, **FAST)
    # The same latents whatever the batch size (up to float rounding of differently shaped kernels).
    np.testing.assert_allclose(generate(generator, 300, seed=3, batch_size=128),
                               generate(generator, 300, seed=3, batch_size=1000), atol=1e-6)
    generator.save(tmp_path / GENERATOR_FILE)
    assert evaluate(tmp_path, n=1200, seed=3, **FAST) == first  # a run directory
    assert evaluate(tmp_path / GENERATOR_FILE, n=1200, seed=3, **FAST) == first


def test_array_files_score_like_the_array_and_print(train_images, tmp_path) -> None:
    expected = evaluate(train_images, n=1500, **FAST)
    np.save(tmp_path / "samples.npy", train_images)
    np.savez(tmp_path / "samples.npz", samples=train_images)
    np.savez(tmp_path / "one.npz", train_images)  # one unnamed array
    for name in ("samples.npy", "samples.npz", "one.npz"):
        assert evaluate(tmp_path / name, n=1500, **FAST) == expected
    row = json.loads(json.dumps(expected))  # the row is plain JSON
    assert tuple(row) == ROW_KEYS and row["n"] == 1500 and row["modes_covered"] == 10
    assert [line.split()[0] for line in format_row(expected).splitlines()] == list(ROW_KEYS)


def test_options_and_keywords_are_one_setting(train_images) -> None:
    options = EvalOptions(n=1500, seed=2, overrides={"kid_subsets": 5, "kid_subset_size": 500})
    by_options = evaluate(train_images, options=options)
    assert by_options == evaluate(train_images, n=1500, seed=2, kid_subsets=5, kid_subset_size=500)
    assert by_options == evaluate(train_images, options=EvalOptions(n=1500), seed=2, kid_subsets=5,
                                  kid_subset_size=500)  # keywords apply over the options
    other_k = evaluate(train_images, options=options, prdc_k=3)  # its own cached reference radii
    assert other_k["fid"] == by_options["fid"] and other_k["precision"] != by_options["precision"]
    only = evaluate(train_images, options=options, metrics=("is", "kid"))
    assert list(only) == ["is_mean", "is_std", "kid_mean", "kid_std", "n"]
    assert only["kid_mean"] == by_options["kid_mean"] and only["is_mean"] == by_options["is_mean"]


@pytest.mark.parametrize("kwargs, message", [
    ({"kid_subset": 5}, r"unknown evaluation option kid_subset; expected one of: n, seed.*kid_subsets"),
    ({"n": 0}, "n must be a positive integer, got 0"),
    ({"reference": "val"}, "unknown reference split 'val'"),
    ({"metrics": ("fid", "lpips")}, "unknown metric 'lpips'"),
    ({"kid_subsets": 2.5}, "kid_subsets must be a positive integer, got 2.5"),
    ({"modes_min_share": 1.5}, r"modes_min_share must be in \[0, 1\]"),
    ({"overrides": {"fid_dims": 3}}, "unknown metric option 'fid_dims'"),
])
def test_bad_options_are_named_before_any_work(kwargs, message) -> None:
    with pytest.raises(WganbenchError, match=message):
        evaluate([1, 2, 3], **kwargs)  # not even the source is looked at


@pytest.mark.parametrize("make, message", [
    (lambda x: scale_images(x)[..., 0], r"shape \(2000, 28, 28\).*add the channel axis"),
    (lambda x: np.repeat(scale_images(x), 3, axis=-1), r"shape \(2000, 28, 28, 3\), expected float \[N, 28, 28, 1\]"),
    (lambda x: scale_images(x).reshape(2000, 784), r"shape \(2000, 784\)"),
    (lambda x: x.astype(np.int64), "dtype int64"),
    (lambda x: x.astype(np.float32)[..., None], r"span \[0, 255\].*looks like \[0, 255\] data"),
    (lambda x: x.astype(np.float32)[..., None] / 255, r"no negative value.*looks like \[0, 1\] data"),
    (lambda x: np.where(x[..., None] > 250, np.nan, scale_images(x)), r"NaN/Inf values"),
    (lambda x: np.where(x[..., None] > 250, np.inf, scale_images(x)), r"NaN/Inf values"),
])
def test_bad_samples_are_named(train_images, make, message) -> None:
    with pytest.raises(WganbenchError, match=message):
        evaluate(make(train_images))


def test_too_few_samples(train_images) -> None:
    with pytest.raises(WganbenchError, match=r"FID needs more samples than feature dimensions.*100 samples"):
        evaluate(train_images, n=100, metrics=("fid",))
    with pytest.raises(WganbenchError, match=r"n=700 samples cannot fill KID's subsets of 1000"):
        evaluate(train_images, n=700)  # refused from the options, before any sample is drawn
    with pytest.raises(WganbenchError, match=r"KID needs at least subset_size=1000.*fake has 700"):
        evaluate(train_images[:700])  # an array holding fewer samples than asked for


def test_paths_without_a_generator(tmp_path) -> None:
    with pytest.raises(WganbenchError, match=r"no generator.keras in this directory; expected a run directory"):
        evaluate(tmp_path)
    with pytest.raises(WganbenchError, match="no such file or directory"):
        evaluate(tmp_path / "missing.keras")
    (tmp_path / "samples.csv").write_text("1,2\n")
    with pytest.raises(WganbenchError, match=r"unsupported file type '.csv'"):
        evaluate(tmp_path / "samples.csv")
    with pytest.raises(WganbenchError, match="cannot evaluate a list"):
        evaluate([1, 2, 3])


def test_damaged_files_say_what_is_wrong(generator, train_images, tmp_path) -> None:
    (tmp_path / "text.npy").write_text("1,2,3\n")
    with pytest.raises(WganbenchError, match=r"text.npy: not a NumPy .npy file") as err:
        evaluate(tmp_path / "text.npy")
    assert "pickle" not in str(err.value)
    (tmp_path / "text.npz").write_text("1,2,3\n")
    with pytest.raises(WganbenchError, match=r"text.npz: not a NumPy .npz file"):
        evaluate(tmp_path / "text.npz")
    np.savez(tmp_path / "two.npz", a=train_images, b=train_images)
    with pytest.raises(WganbenchError, match=r"holds \['a', 'b'\]; expected one array or one named 'samples'"):
        evaluate(tmp_path / "two.npz")
    generator.save(tmp_path / GENERATOR_FILE)
    whole = (tmp_path / GENERATOR_FILE).read_bytes()
    (tmp_path / GENERATOR_FILE).write_bytes(whole[:len(whole) // 2])  # a copy cut short
    for path in (tmp_path, tmp_path / GENERATOR_FILE):
        with pytest.raises(WganbenchError, match=r"generator.keras: truncated or corrupt .keras file.*retrain") as err:
            evaluate(path)
        assert "File not found" not in str(err.value) and "\n" not in str(err.value)
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    with pytest.raises(WganbenchError, match=r"broken.keras: truncated or corrupt .keras file"):
        evaluate(tmp_path / "broken.keras")
