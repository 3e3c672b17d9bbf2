"""Group ``evaluators``: each metric's cost at the evaluation size, and the whole ``evaluate`` call.

The samples scored are real MNIST training images (the first ``eval_n``), so every result has a
known answer to assert against: real-vs-real scores (FID and KID near 0, all ten modes covered,
PRDC near its same-distribution values), against the cached statistics of the 10,000 test
images that ``evaluate`` uses. Classifier, reference statistics, samples and their features are
built once per module, outside the timed calls; each metric is timed on those arrays exactly as
:func:`evaluators.suite.score` calls it. Generation times the notebook's generator (its cost does
not depend on its weights) on ``eval_n`` latents.

Goal: the whole ``evaluate`` on 10,000 samples under 15 s (``goal_s`` in ``extra_info``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from scipy.special import softmax

from bench.conftest import Scale, run_benchmark, timed_call
from evaluators import DEFAULTS, evaluate, suite
from evaluators.classifier import Classifier, load_classifier
from evaluators.fid import fid_stats, frechet_distance
from evaluators.forward import batched, compiled_forward
from evaluators.inception_score import inception_score
from evaluators.kid import kernel_inception_distance
from evaluators.mode_coverage import MODES_COVERED, mode_coverage
from evaluators.prdc import COVERAGE, DENSITY, PRECISION, RECALL, prdc
from wgan.data import load_mnist, scale_images

EVALUATE_GOAL_S = 15.0
CLASSES = 10


@dataclass(frozen=True)
class Inputs:
    classifier: Classifier
    reference: suite.Reference
    samples: np.ndarray    # float32 [n, 28, 28, 1] in [-1, 1]: real training images
    features: np.ndarray
    logits: np.ndarray


@pytest.fixture(scope="module")
def inputs(bench_scale: Scale) -> Inputs:
    classifier = load_classifier()
    reference = suite.reference_stats(classifier=classifier)
    samples = scale_images(load_mnist()[0][0][:bench_scale.eval_n])
    features, logits = classifier.features_and_logits(samples, DEFAULTS["batch_size"])
    return Inputs(classifier, reference, samples, features, logits)


def record(benchmark, scale: Scale, fn, *args: Any) -> Any:
    """Time ``fn(*args)`` in the ``evaluators`` group with ``n`` in extra_info; returns its result."""
    benchmark.group = "evaluators"
    benchmark.extra_info["n"] = scale.eval_n
    result, _ = run_benchmark(benchmark, scale, fn, *args)
    return result


def test_classifier_features(benchmark, bench_scale, inputs: Inputs) -> None:
    features, logits = record(benchmark, bench_scale, inputs.classifier.features_and_logits, inputs.samples,
                              DEFAULTS["batch_size"])
    assert features.shape == (bench_scale.eval_n, inputs.classifier.feature_dim)
    # Real digits: the classifier (≥ 99% test accuracy) names the training labels.
    labels = load_mnist()[0][1][:bench_scale.eval_n]
    assert np.mean(np.argmax(logits, axis=1) == labels) > 0.98


def test_fid(benchmark, bench_scale, inputs: Inputs) -> None:
    ref = inputs.reference
    fid = record(benchmark, bench_scale, lambda f: frechet_distance(*fid_stats(f), ref.mu, ref.sigma), inputs.features)
    assert 0.0 <= fid < 5.0  # real train vs real test


def test_inception_score(benchmark, bench_scale, inputs: Inputs) -> None:
    mean, std = record(benchmark, bench_scale, inception_score, inputs.logits, DEFAULTS["splits"])
    assert 9.0 < mean <= CLASSES and math.isfinite(std)  # ten confident, balanced classes: close to 10


def test_mode_coverage(benchmark, bench_scale, inputs: Inputs) -> None:
    def modes(logits: np.ndarray) -> dict:
        return mode_coverage(softmax(logits.astype(np.float64), axis=1), DEFAULTS["min_share"],
                             inputs.reference.class_share, DEFAULTS["confident_prob"])

    assert record(benchmark, bench_scale, modes, inputs.logits)[MODES_COVERED] == CLASSES


def test_kid(benchmark, bench_scale, inputs: Inputs) -> None:
    mean, std = record(benchmark, bench_scale, lambda f: kernel_inception_distance(
        inputs.reference.features, f, subsets=bench_scale.kid_subsets, subset_size=DEFAULTS["kid_subset_size"],
        seed=DEFAULTS["seed"]), inputs.features)
    # Unbiased MMD² of one distribution: zero within its spread over subsets (a broken feature set
    # scores hundreds of these units here).
    assert math.isfinite(mean) and abs(mean) < 3 * std, (mean, std)


def test_prdc(benchmark, bench_scale, inputs: Inputs) -> None:
    ref = inputs.reference
    scores = record(benchmark, bench_scale, lambda f: prdc(ref.features, f, k=ref.k, real_sq_radii=ref.sq_radii,
                                                           chunk=DEFAULTS["prdc_chunk"]), inputs.features)
    # Same distribution: precision and recall high, density near 1 (Naeem et al. 2020). Coverage
    # counts real samples with a generated one in their k-NN ball, so it grows with n: only bounds.
    assert all(0.8 < scores[key] <= 1.0 for key in (PRECISION, RECALL)), scores
    assert 0.8 < scores[DENSITY] < 1.2 and 0.0 < scores[COVERAGE] <= 1.0, scores


def test_evaluate(benchmark, bench_scale, inputs: Inputs) -> None:
    """The whole public call on an array: classifier pass, then every metric (caches already warm)."""
    row = record(benchmark, bench_scale, lambda x: evaluate(x, n=bench_scale.eval_n, kid_subsets=bench_scale.kid_subsets), inputs.samples)
    assert all(math.isfinite(float(value)) for value in row.values()), row
    assert row[suite.FID] < 5.0 and row[MODES_COVERED] == CLASSES, row
    benchmark.extra_info["goal_s"] = EVALUATE_GOAL_S


def test_generate(benchmark, bench_scale) -> None:
    """``eval_n`` samples from the notebook's generator in batches, with its forward pass traced once."""
    from wgan.models import make_generator

    generator = make_generator()
    latents = np.random.default_rng(DEFAULTS["seed"]).standard_normal(
        (bench_scale.eval_n, generator.input_shape[1]), dtype=np.float32)
    forward = compiled_forward(generator)
    (images,) = record(benchmark, bench_scale, batched, forward, latents, DEFAULTS["batch_size"])
    assert images.shape == (bench_scale.eval_n, 28, 28, 1)
    assert np.all(np.abs(images) <= 1.0)  # tanh output
    # The public call builds its forward pass anew each time, so it pays one trace per call.
    benchmark.extra_info["public_generate_s"] = timed_call(suite.generate, generator, bench_scale.eval_n)
