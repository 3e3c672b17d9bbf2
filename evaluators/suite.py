"""`evaluate()`: samples, a generator or a run directory in, one report row of scores out.

The mode is picked from what is given (as in clean-fid's ``compute_fid``): an image array, a Keras
generator (latents z ~ N(0, I) from a seeded NumPy generator), or a path to a run directory,
a ``.keras`` generator or a ``.npy``/``.npz`` of samples. The samples go through the classifier once;
`score` then computes every selected metric of the table (`evaluators.metrics.METRICS`) against the
real split's cached statistics (`evaluators.reference`). docs/DESIGN.md §5 Metrics.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from evaluators.classifier import load_classifier
from evaluators.forward import batched, compiled_forward
from evaluators.metrics import Inputs, values
from evaluators.options import EvalOptions, eval_options
from evaluators.reference import Reference, reference_stats
from evaluators.validation import check_samples
from wgan.errors import WganbenchError

# The default report row, in order: every value of the table, then the number of samples scored.
ROW_KEYS = (*(v.key for v in values()), "n")
GENERATOR_FILE = "generator.keras"
_SOURCE_HELP = "a run directory holding generator.keras, a .keras generator, or a .npy/.npz of samples"
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


def score(features: np.ndarray, logits: np.ndarray, reference: Reference, options: EvalOptions | None = None,
          **kwargs: Any) -> dict:
    """The report row for generated (features, logits) against ``reference``: the values of the selected
    metrics in table order, then ``n``. ``kwargs`` as for `evaluate` (only ``seed``, ``metrics`` and the
    metric options matter here)."""
    options = eval_options(options, **kwargs)
    inputs = Inputs(features, logits, reference, options.seed)
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


def load_source(path: str | os.PathLike):
    """A path → a Keras generator (run directory or .keras file) or a sample array (.npy / .npz)."""
    path = Path(path).expanduser()
    if path.is_dir():
        if not (path / GENERATOR_FILE).is_file():
            raise WganbenchError(f"{path}: no {GENERATOR_FILE} in this directory; expected {_SOURCE_HELP}")
        path = path / GENERATOR_FILE
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


def generate(generator, n: int, *, seed: int = EvalOptions.seed,
             batch_size: int = EvalOptions.batch_size) -> np.ndarray:
    """``n`` samples from a Keras generator with latents z ~ N(0, I) drawn by a seeded NumPy generator."""
    shape = generator.input_shape
    if not isinstance(shape, tuple) or len(shape) != 2 or not shape[1]:
        raise WganbenchError(f"generator input shape {shape}; expected one flat latent input (None, dim)")
    z = np.random.default_rng(seed).standard_normal((n, shape[1]), dtype=np.float32)
    (images,) = batched(compiled_forward(generator), z, batch_size)
    return check_samples(images, "generator output")


def evaluate(samples_or_generator, *, options: EvalOptions | None = None, **kwargs: Any) -> dict:
    """Score samples, a Keras generator or a path against a real split; returns one report row.

    ``kwargs`` are `EvalOptions` fields (``n``, ``seed``, ``batch_size``, ``reference``, ``metrics``) or
    flat metric options (``kid_subsets``, ``prdc_k``, ...), applied over ``options``. An array is scored on
    its first ``n`` samples (all of them if fewer); a generator draws ``n``. The same input and options
    give identical numbers.
    """
    options = eval_options(options, **kwargs)
    source = samples_or_generator
    if isinstance(source, (str, os.PathLike)):
        source = load_source(source)
    if isinstance(source, np.ndarray):
        samples = check_samples(source[:options.n])
    elif hasattr(source, "input_shape") and callable(source):
        samples = generate(source, options.n, seed=options.seed, batch_size=options.batch_size)
    else:
        raise WganbenchError(f"cannot evaluate a {type(source).__name__}; expected a sample array, a Keras "
                             f"generator, or {_SOURCE_HELP}")
    classifier = load_classifier()
    features, logits = classifier.features_and_logits(samples, options.batch_size)
    # The reference's k-NN radii are those of PRDC's k.
    reference = reference_stats(options.reference, k=options.metric_options("prdc").k, classifier=classifier)
    return score(features, logits, reference, options)


def format_row(row: dict) -> str:
    """A two-column text table of a report row."""
    return "\n".join(f"{key:<16} {value:.6g}" if isinstance(value, float) else f"{key:<16} {value}"
                     for key, value in row.items())
