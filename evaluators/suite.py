"""`evaluate()`: samples, a generator or a run directory in, one report row of scores out.

The mode is picked from what is given (as in clean-fid's ``compute_fid``): an image array, a Keras
generator (latents z ~ N(0, I) from a seeded NumPy generator), or a path to a run directory,
a ``.keras`` generator or a ``.npy``/``.npz`` of samples. The samples go through the classifier once;
`score` then computes every selected metric of the table (`evaluators.metrics.METRICS`) against the
real split's cached statistics (`evaluators.reference`). docs/DESIGN.md §5 Metrics.

Stacked MNIST samples (``dataset="stacked-mnist"``, [N, 28, 28, 3]) are read channel by channel
(`classify`): the image metrics score the first ``n`` single-channel images (the channels of the
first ⌈n/3⌉ samples) against the MNIST reference, and the ``stacked`` metric counts the three-digit
modes of its own ``stacked_samples`` (26,000) samples, so a generator is asked for as many as the
larger of the two needs.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from evaluators.classifier import Classifier, load_classifier
from evaluators.forward import batched, compiled_forward
from evaluators.metrics import Inputs, row_keys
from evaluators.options import GENERATOR_FILES, EvalOptions, eval_options
from evaluators.reference import Reference, reference_stats
from evaluators.validation import check_samples
from wgan.data import CHANNELS, STACKED_DIGITS, channel_images
from wgan.errors import WganbenchError

# The default (plain MNIST) report row, in order: every value of the table, then the number of images scored.
ROW_KEYS = row_keys()
GENERATOR_FILE = GENERATOR_FILES["raw"]
_SOURCE_HELP = "a run directory holding generator.keras, a .keras generator, or a .npy/.npz of samples"
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


def score(features: np.ndarray, logits: np.ndarray, reference: Reference, options: EvalOptions | None = None,
          *, stacked_logits: np.ndarray | None = None, **kwargs: Any) -> dict:
    """The report row for generated (features, logits) against ``reference``: the values of the selected
    metrics in table order, then ``n``. ``kwargs`` as for `evaluate` (only ``seed``, ``metrics``,
    ``dataset`` and the metric options matter here); ``stacked_logits`` [M, 3, 10] are the channel
    logits Stacked MNIST's mode count needs (see `classify`)."""
    options = eval_options(options, **kwargs)
    inputs = Inputs(features, logits, reference, options.seed, stacked_logits)
    row: dict = {}
    for metric in options.selected():
        out = metric.compute(inputs, options.metric_options(metric.name))
        keys = [v.key for v in metric.values]
        if set(out) != set(keys):
            raise WganbenchError(f"metric {metric.name!r} computed {sorted(out)}; its table entry declares {keys}")
        row.update({key: out[key] for key in keys})
    row["n"] = len(features)
    return row


def _first_bytes(path: Path, n: int = 8) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def _load_array(path: Path) -> np.ndarray:
    head = _first_bytes(path)
    if path.suffix == ".npy":
        if not head.startswith(_NPY_MAGIC):
            raise WganbenchError(f"{path}: not a NumPy .npy file (it does not start with the .npy header); save "
                                 "samples with numpy.save")
        return np.load(path, allow_pickle=False)
    if not head.startswith(_ZIP_MAGIC):
        raise WganbenchError(f"{path}: not a NumPy .npz file (not a zip archive); save samples with numpy.savez")
    with np.load(path, allow_pickle=False) as npz:
        if len(npz.files) == 1 or "samples" in npz.files:
            return npz["samples" if "samples" in npz.files else npz.files[0]]
        raise WganbenchError(f"{path}: .npz holds {sorted(npz.files)}; expected one array or one named 'samples'")


def _load_generator(path: Path):
    import keras

    fix = "retrain the run or pass another generator file"
    if not zipfile.is_zipfile(path):
        raise WganbenchError(f"{path}: truncated or corrupt .keras file (not a complete zip archive); {fix}")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as err:  # noqa: BLE001 — Keras' deserializer raises any type on a damaged or foreign file
        detail = " ".join(f"{type(err).__name__}: {err}".split())
        raise WganbenchError(f"{path}: cannot load as a Keras generator, the file may be truncated or corrupt "
                             f"({detail}); {fix}") from None


def load_source(path: str | os.PathLike, generator: str = EvalOptions.generator):
    """A path → a Keras generator (run directory or .keras file) or a sample array (.npy / .npz); a run
    directory's ``generator`` ("raw" or "ema") is the one loaded."""
    path = Path(path).expanduser()
    name = GENERATOR_FILES[generator]
    if path.is_dir():
        if not (path / name).is_file():
            hint = "; train the run with --ema-decay to keep one" if generator == "ema" else ""
            raise WganbenchError(f"{path}: no {name} in this directory{hint}; expected {_SOURCE_HELP}")
        path = path / name
    elif generator != EvalOptions.generator and path.name != name:
        raise WganbenchError(f"{path}: --generator {generator} picks {name} in a run directory; pass the run "
                             "directory (or that file itself)")
    if not path.is_file():
        raise WganbenchError(f"{path}: no such file or directory; expected {_SOURCE_HELP}")
    if path.suffix == ".keras":
        return _load_generator(path)
    if path.suffix not in (".npy", ".npz"):
        raise WganbenchError(f"{path}: unsupported file type {path.suffix!r}; expected {_SOURCE_HELP}")
    try:
        return _load_array(path)
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:  # a corrupt file
        detail = " ".join(f"{type(err).__name__}: {err}".split())
        raise WganbenchError(f"{path}: cannot load ({detail}); expected {_SOURCE_HELP}") from None


def generate(generator, n: int, *, seed: int = EvalOptions.seed, batch_size: int = EvalOptions.batch_size,
             channels: int = 1) -> np.ndarray:
    """``n`` samples from a Keras generator with latents z ~ N(0, I) drawn by a seeded NumPy generator
    (the first ``k`` of them are the same for every ``n ≥ k``); checked to have ``channels`` channels."""
    shape = generator.input_shape
    if not isinstance(shape, tuple) or len(shape) != 2 or not shape[1]:
        raise WganbenchError(f"generator input shape {shape}; expected one flat latent input (None, dim)")
    z = np.random.default_rng(seed).standard_normal((n, shape[1]), dtype=np.float32)
    (images,) = batched(compiled_forward(generator), z, batch_size)
    return check_samples(images, "generator output", channels=channels)


def samples_needed(options: EvalOptions) -> int:
    """Samples drawn from a generator (or taken from an array): ``n`` on MNIST; on Stacked MNIST enough
    for ``n`` channel images and, when selected, for the ``stacked`` metric's own count."""
    if CHANNELS[options.dataset] == 1:
        return options.n
    needed = math.ceil(options.n / STACKED_DIGITS)
    if any(m.name == "stacked" for m in options.selected()):
        needed = max(needed, options.metric_options("stacked").samples)
    return needed


def classify(samples: np.ndarray, classifier: Classifier, options: EvalOptions
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Samples (checked here, as `evaluate` does) → (features, logits, stacked_logits), what `score` takes.

    MNIST: the classifier's features and logits of the first ``n`` samples, and None. Stacked MNIST:
    each channel is one digit image (sample-major: sample i's R, G, B at rows 3i, 3i+1, 3i+2); the
    first ``n`` channel images give features and logits, and, when the ``stacked`` metric is selected,
    the logits [M, 3, 10] of all channels of its M samples give ``stacked_logits``.
    """
    samples = check_samples(samples, channels=CHANNELS[options.dataset])
    if CHANNELS[options.dataset] == 1:
        features, logits = classifier.features_and_logits(samples[:options.n], options.batch_size)
        return features, logits, None
    images = channel_images(samples)
    features, logits = classifier.features_and_logits(images[:options.n], options.batch_size)
    if not any(m.name == "stacked" for m in options.selected()):
        return features, logits, None
    counted = STACKED_DIGITS * min(len(samples), options.metric_options("stacked").samples)
    parts = [logits[:counted]]
    for start in range(len(features), counted, 10 * options.batch_size):  # logits only: features are not kept
        parts.append(classifier.features_and_logits(images[start:min(counted, start + 10 * options.batch_size)],
                                                    options.batch_size)[1])
    return features, logits, np.concatenate(parts).reshape(-1, STACKED_DIGITS, logits.shape[1])


def evaluate(samples_or_generator, *, options: EvalOptions | None = None, **kwargs: Any) -> dict:
    """Score samples, a Keras generator or a path against a real split; returns one report row.

    ``kwargs`` are `EvalOptions` fields (``n``, ``seed``, ``batch_size``, ``reference``, ``metrics``,
    ``dataset``) or flat metric options (``kid_subsets``, ``prdc_k``, ``stacked_samples``, ...), applied
    over ``options``. An array is scored on its first ``n`` samples (all of them if fewer); a generator
    draws ``n`` (Stacked MNIST: `samples_needed`). The same input and options give identical numbers.
    """
    options = eval_options(options, **kwargs)
    channels, count = CHANNELS[options.dataset], samples_needed(options)
    source = samples_or_generator
    if isinstance(source, (str, os.PathLike)):
        source = load_source(source, options.generator)
    if isinstance(source, np.ndarray):
        samples = check_samples(source[:count], channels=channels)
    elif hasattr(source, "input_shape") and callable(source):
        samples = generate(source, count, seed=options.seed, batch_size=options.batch_size, channels=channels)
    else:
        raise WganbenchError(f"cannot evaluate a {type(source).__name__}; expected a sample array, a Keras "
                             f"generator, or {_SOURCE_HELP}")
    classifier = load_classifier()
    features, logits, stacked_logits = classify(samples, classifier, options)
    # The reference's k-NN radii are those of PRDC's k.
    reference = reference_stats(options.reference, k=options.metric_options("prdc").k, classifier=classifier)
    return score(features, logits, reference, options, stacked_logits=stacked_logits)


def format_row(row: dict) -> str:
    """A two-column text table of a report row."""
    return "\n".join(f"{key:<16} {value:.6g}" if isinstance(value, float) else f"{key:<16} {value}"
                     for key, value in row.items())
