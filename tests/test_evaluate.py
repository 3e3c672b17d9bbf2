"""`evaluators.evaluate` and `wganbench evaluate`: input modes, determinism, the cache, bad input."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from evaluators import ROW_KEYS, evaluate
from evaluators.fid import frechet_distance
from evaluators.suite import GENERATOR_FILE, generate, reference_stats
from wgan.cli import main
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


def test_cli_prints_the_row_as_json_and_as_a_table(train_images, tmp_path, capsys) -> None:
    np.save(tmp_path / "samples.npy", train_images)
    assert main(["evaluate", str(tmp_path / "samples.npy"), "--n", "1500", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert tuple(row) == ROW_KEYS and row["n"] == 1500
    assert row["fid"] == evaluate(train_images, n=1500, **FAST)["fid"]
    np.savez(tmp_path / "samples.npz", samples=train_images)
    assert main(["evaluate", str(tmp_path / "samples.npz"), "--n", "1500"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == list(ROW_KEYS)


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
        evaluate(train_images, n=100)
    with pytest.raises(WganbenchError, match=r"KID needs at least subset_size=1000.*fake has 700"):
        evaluate(train_images, n=700)


def test_paths_without_a_generator(tmp_path, capsys) -> None:
    with pytest.raises(WganbenchError, match=r"no generator.keras in this directory; expected a run directory"):
        evaluate(tmp_path)
    with pytest.raises(WganbenchError, match="no such file or directory"):
        evaluate(tmp_path / "missing.keras")
    (tmp_path / "samples.csv").write_text("1,2\n")
    with pytest.raises(WganbenchError, match=r"unsupported file type '.csv'"):
        evaluate(tmp_path / "samples.csv")
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    with pytest.raises(WganbenchError, match="broken.keras: cannot load"):
        evaluate(tmp_path / "broken.keras")
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "error:" in capsys.readouterr().err
    with pytest.raises(WganbenchError, match="cannot evaluate a list"):
        evaluate([1, 2, 3])
