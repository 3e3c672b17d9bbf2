"""`evaluate()`: samples, a generator or a run directory in, one report row of scores out.

The mode is picked from what is given (as in clean-fid's ``compute_fid``): an image array, a Keras
generator (latents z ~ N(0, I) from a seeded NumPy generator), or a path to a run directory,
a ``.keras`` generator or a ``.npy``/``.npz`` of samples. Real-data statistics (features, their mean
and covariance, class shares and k-NN radii) are computed once per split and classifier and cached
as ``.npz`` under ``$WGANBENCH_HOME/reference/``. Also the `wganbench evaluate` subcommand.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import softmax

from evaluators.classifier import Classifier, load_classifier
from evaluators.defaults import DEFAULTS
from evaluators.fid import fid_stats, frechet_distance
from evaluators.forward import batched, compiled_forward
from evaluators.inception_score import inception_score
from evaluators.kid import kernel_inception_distance
from evaluators.mode_coverage import (CONFIDENT_SHARE, KL_TEST, KL_UNIFORM, MODES_COVERED, class_counts,
                                      mode_coverage)
from evaluators.prdc import COVERAGE, DENSITY, PRECISION, RECALL, knn_sq_radii, prdc
from evaluators.validation import check_samples
from wgan.data import load_mnist, scale_images, wganbench_home
from wgan.errors import WganbenchError

FID = "fid"
IS_MEAN = "is_mean"
IS_STD = "is_std"
KID_MEAN = "kid_mean"
KID_STD = "kid_std"
N = "n"
# The report row, in order.
ROW_KEYS = (FID, IS_MEAN, IS_STD, MODES_COVERED, KL_UNIFORM, KL_TEST, CONFIDENT_SHARE, KID_MEAN, KID_STD,
            PRECISION, RECALL, DENSITY, COVERAGE, N)
# Metric groups `score` can compute; the classifier pass is shared, KID and PRDC cost the most.
METRICS = ("fid", "is", "modes", "kid", "prdc")
GENERATOR_FILE = "generator.keras"
SPLITS = ("test", "train")
_SOURCE_HELP = "a run directory holding generator.keras, a .keras generator, or a .npy/.npz of samples"


@dataclass(frozen=True)
class Reference:
    """Statistics of a real image set, as the metrics need them."""

    features: np.ndarray     # [N, d] classifier features
    mu: np.ndarray           # FID mean [d], float64
    sigma: np.ndarray        # FID covariance [d, d], float64, unbiased
    class_share: np.ndarray  # argmax class shares [10]
    sq_radii: np.ndarray     # squared k-NN radii [N] for PRDC
    k: int


def reference_from_images(images: np.ndarray, *, classifier: Classifier | None = None,
                          k: int = DEFAULTS["prdc_k"], batch_size: int = DEFAULTS["batch_size"]) -> Reference:
    """Reference statistics of any real image set (uint8 or float in [-1, 1]), uncached."""
    classifier = classifier or load_classifier()
    features, logits = classifier.features_and_logits(check_samples(images, "reference images"), batch_size)
    mu, sigma = fid_stats(features, "reference features")
    return Reference(features, mu, sigma, class_counts(logits) / len(logits), knn_sq_radii(features, k), k)


# Bumped when the cached statistics are computed differently (2: k-NN radii from float32 distances).
_REFERENCE_VERSION = 2


@functools.cache
def _cached_reference(split: str, k: int, classifier: Classifier) -> Reference:
    path = wganbench_home() / "reference" / f"{split}-{classifier.hash[:16]}-k{k}-v{_REFERENCE_VERSION}.npz"
    if path.is_file():
        with np.load(path) as npz:
            return Reference(**{key: npz[key] for key in ("features", "mu", "sigma", "class_share", "sq_radii")}, k=k)
    (x_train, _), (x_test, _) = load_mnist()
    ref = reference_from_images(x_test if split == "test" else x_train, classifier=classifier, k=k)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}-{os.getpid()}.npz")
    try:
        np.savez(tmp, features=ref.features, mu=ref.mu, sigma=ref.sigma, class_share=ref.class_share,
                 sq_radii=ref.sq_radii)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return ref


def reference_stats(split: str = DEFAULTS["reference"], *, k: int = DEFAULTS["prdc_k"],
                    classifier: Classifier | None = None) -> Reference:
    """Statistics of a whole MNIST split, cached as .npz keyed by split, classifier hash and k."""
    if split not in SPLITS:
        raise WganbenchError(f"unknown reference split {split!r}; expected one of {', '.join(SPLITS)}")
    return _cached_reference(split, k, classifier or load_classifier())


def score(features: np.ndarray, logits: np.ndarray, reference: Reference, *,
          metrics: Collection[str] = METRICS, seed: int = DEFAULTS["seed"], splits: int = DEFAULTS["splits"],
          min_share: float = DEFAULTS["min_share"], confident_prob: float = DEFAULTS["confident_prob"],
          kid_subsets: int = DEFAULTS["kid_subsets"], kid_subset_size: int = DEFAULTS["kid_subset_size"],
          prdc_chunk: int = DEFAULTS["prdc_chunk"]) -> dict:
    """The report row for generated (features, logits) against ``reference``; only the ``metrics`` groups."""
    unknown = set(metrics) - set(METRICS)
    if unknown:
        raise WganbenchError(f"unknown metrics {sorted(unknown)}; expected some of {', '.join(METRICS)}")
    row: dict = {}
    if "fid" in metrics:
        row[FID] = frechet_distance(*fid_stats(features, "generated features"), reference.mu, reference.sigma)
    if "is" in metrics:
        row[IS_MEAN], row[IS_STD] = inception_score(logits, splits)
    if "modes" in metrics:
        coverage = mode_coverage(softmax(logits.astype(np.float64), axis=1), min_share, reference.class_share,
                                 confident_prob)
        row.update({key: coverage[key] for key in (MODES_COVERED, KL_UNIFORM, KL_TEST, CONFIDENT_SHARE)})
    if "kid" in metrics:
        row[KID_MEAN], row[KID_STD] = kernel_inception_distance(reference.features, features, subsets=kid_subsets,
                                                                subset_size=kid_subset_size, seed=seed)
    if "prdc" in metrics:
        row.update(prdc(reference.features, features, k=reference.k, real_sq_radii=reference.sq_radii,
                        chunk=prdc_chunk))
    row[N] = len(features)
    return row


def load_source(path: str | os.PathLike):
    """A path → a Keras generator (run directory or .keras file) or a sample array (.npy / .npz)."""
    import keras

    path = Path(path).expanduser()
    if path.is_dir():
        if not (path / GENERATOR_FILE).is_file():
            raise WganbenchError(f"{path}: no {GENERATOR_FILE} in this directory; expected {_SOURCE_HELP}")
        path = path / GENERATOR_FILE
    if not path.is_file():
        raise WganbenchError(f"{path}: no such file or directory; expected {_SOURCE_HELP}")
    try:
        if path.suffix == ".keras":
            return keras.saving.load_model(path, compile=False)
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                if len(npz.files) == 1 or "samples" in npz.files:
                    return npz["samples" if "samples" in npz.files else npz.files[0]]
                raise WganbenchError(f"{path}: .npz holds {sorted(npz.files)}; expected one array or one named "
                                     "'samples'")
    except WganbenchError:
        raise
    except Exception as err:  # Keras/zip/NumPy errors from a corrupt or foreign file
        raise WganbenchError(f"{path}: cannot load ({type(err).__name__}: {err}); expected {_SOURCE_HELP}") from None
    raise WganbenchError(f"{path}: unsupported file type {path.suffix!r}; expected {_SOURCE_HELP}")


def generate(generator, n: int, *, seed: int = DEFAULTS["seed"],
             batch_size: int = DEFAULTS["batch_size"]) -> np.ndarray:
    """``n`` samples from a Keras generator with latents z ~ N(0, I) drawn by a seeded NumPy generator."""
    shape = generator.input_shape
    if not isinstance(shape, tuple) or len(shape) != 2 or not shape[1]:
        raise WganbenchError(f"generator input shape {shape}; expected one flat latent input (None, dim)")
    z = np.random.default_rng(seed).standard_normal((n, shape[1]), dtype=np.float32)
    (images,) = batched(compiled_forward(generator), z, batch_size)
    return check_samples(images, "generator output")


def evaluate(samples_or_generator, *, n: int = DEFAULTS["n"], seed: int = DEFAULTS["seed"],
             batch_size: int = DEFAULTS["batch_size"], reference: str = DEFAULTS["reference"],
             splits: int = DEFAULTS["splits"], min_share: float = DEFAULTS["min_share"],
             confident_prob: float = DEFAULTS["confident_prob"], kid_subsets: int = DEFAULTS["kid_subsets"],
             kid_subset_size: int = DEFAULTS["kid_subset_size"], prdc_k: int = DEFAULTS["prdc_k"]) -> dict:
    """Score samples, a Keras generator or a path against a real split; returns one row keyed by ROW_KEYS.

    An array is scored on its first ``n`` samples (all of them if fewer); a generator draws ``n``. The
    same input and seed give identical numbers.
    """
    if n < 1:
        raise WganbenchError(f"n must be a positive number of samples, got {n}")
    source = samples_or_generator
    if isinstance(source, (str, os.PathLike)):
        source = load_source(source)
    if isinstance(source, np.ndarray):
        samples = check_samples(source[:n])
    elif hasattr(source, "input_shape") and callable(source):
        samples = generate(source, n, seed=seed, batch_size=batch_size)
    else:
        raise WganbenchError(f"cannot evaluate a {type(source).__name__}; expected a sample array, a Keras "
                             f"generator, or {_SOURCE_HELP}")
    classifier = load_classifier()
    features, logits = classifier.features_and_logits(samples, batch_size)
    return score(features, logits, reference_stats(reference, k=prdc_k, classifier=classifier), seed=seed,
                 splits=splits, min_share=min_share, confident_prob=confident_prob, kid_subsets=kid_subsets,
                 kid_subset_size=kid_subset_size)


def format_row(row: dict) -> str:
    """A two-column text table of a report row."""
    return "\n".join(f"{key:<16} {value:.6g}" if isinstance(value, float) else f"{key:<16} {value}"
                     for key, value in row.items())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help=f"what to score: {_SOURCE_HELP} (float [N,28,28,1] in [-1,1] or uint8)")
    parser.add_argument("--n", type=int, default=DEFAULTS["n"],
                        help="samples to score (drawn from a generator; the first N of an array) (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"],
                        help="seed of the latent draws and the KID subsets (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"],
                        help="batch size of the generator and classifier passes (default: %(default)s)")
    parser.add_argument("--reference", choices=SPLITS, default=DEFAULTS["reference"],
                        help="real MNIST split to score against (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the row as JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    row = evaluate(args.path, n=args.n, seed=args.seed, batch_size=args.batch_size, reference=args.reference)
    print(json.dumps(row, indent=2) if args.json else format_row(row))
    return 0
