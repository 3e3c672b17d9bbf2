"""Group ``evaluators``: each metric's cost at the evaluation size, and the whole ``evaluate`` call.

The samples scored are real MNIST training images (a seeded random ``eval_n`` of them: the first
``eval_n`` are not a fair sample, their writers differ), so every result has a
known answer to assert against: real-vs-real scores (FID and KID near 0, all ten modes covered,
PRDC near its same-distribution values), against the cached statistics of the 10,000 test
images that ``evaluate`` uses. Classifier, reference statistics, samples and their features are
built once per module, outside the timed calls; each metric group (FID, IS, mode coverage, KID,
PRDC) is timed through :func:`evaluators.suite.score` on those arrays, as ``evaluate`` runs it.
Generation is timed per generator width of the scale (16, the main job's; ``big`` adds the
notebook's 64: its cost does not depend on the weights) on ``eval_n`` latents; the whole
``evaluate`` (generation, classifier pass and every metric) runs on a generator of the main job's width.

Goal: the whole ``evaluate`` of 10,000 generated samples under 15 s (``goal_s`` in ``extra_info``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pytest

from bench.conftest import Scale, run_benchmark, scale_from
from evaluators import DEFAULTS, evaluate, suite
from evaluators.classifier import Classifier, load_classifier
from evaluators.mode_coverage import MODES_COVERED
from evaluators.prdc import COVERAGE, DENSITY, PRECISION, RECALL
from wgan.data import load_mnist, scale_images

EVALUATE_GOAL_S = 15.0
CLASSES = 10


@dataclass(frozen=True)
class Inputs:
    classifier: Classifier
    reference: suite.Reference
    samples: np.ndarray    # float32 [n, 28, 28, 1] in [-1, 1]: real training images
    labels: np.ndarray     # their digit labels
    features: np.ndarray
    logits: np.ndarray


@pytest.fixture(scope="module")
def inputs(bench_scale: Scale) -> Inputs:
    classifier = load_classifier()
    reference = suite.reference_stats(classifier=classifier)
    (x_train, y_train), _ = load_mnist()
    pick = np.random.default_rng(DEFAULTS["seed"]).choice(len(x_train), bench_scale.eval_n, replace=False)
    samples = scale_images(x_train[pick])
    features, logits = classifier.features_and_logits(samples, DEFAULTS["batch_size"])
    return Inputs(classifier, reference, samples, y_train[pick], features, logits)


def record(benchmark, scale: Scale, fn, *args: Any, **kwargs: Any) -> Any:
    """Time ``fn(*args, **kwargs)`` in group ``evaluators``, ``n`` in extra_info; returns its result."""
    benchmark.group = "evaluators"
    benchmark.extra_info["n"] = scale.eval_n
    result, _ = run_benchmark(benchmark, scale, partial(fn, **kwargs), *args)
    return result


def test_classifier_features(benchmark, bench_scale, inputs: Inputs) -> None:
    features, logits = record(benchmark, bench_scale, inputs.classifier.features_and_logits, inputs.samples,
                              DEFAULTS["batch_size"])
    assert features.shape == (bench_scale.eval_n, inputs.classifier.feature_dim)
    # Real digits: the classifier (≥ 99% test accuracy) names the training labels.
    assert np.mean(np.argmax(logits, axis=1) == inputs.labels) > 0.98


def real_vs_real(row: dict) -> bool:
    """Known answers for real training images against the test set's statistics, per metric group."""
    checks = {
        # Real vs real: ≈ 4 at 10,000 samples in the 576-d features, ≈ 18 at 1,000 (FID's bias grows
        # as 1/n); the main job's generators score 100 and up, uniform noise 690.
        suite.FID: lambda: 0.0 <= row[suite.FID] < 10.0 * max(1.0, 10_000 / row[suite.N]),
        # Ten confident, balanced classes: close to the maximum of 10.
        suite.IS_MEAN: lambda: 9.0 < row[suite.IS_MEAN] <= CLASSES,
        MODES_COVERED: lambda: row[MODES_COVERED] == CLASSES,
        # Unbiased MMD² of one distribution: zero within its spread over subsets (10k training
        # images: 0.003 ± 0.005; uniform noise 2.9, results/evaluator_sanity.md).
        suite.KID_MEAN: lambda: abs(row[suite.KID_MEAN]) < 3 * row[suite.KID_STD],
        # Same distribution: precision and recall high, density near 1 (Naeem et al. 2020). Coverage
        # counts real samples with a generated one in their k-NN ball, so it grows with n: only bounds.
        PRECISION: lambda: 0.8 < row[PRECISION] <= 1.0 and 0.8 < row[RECALL] <= 1.0
        and 0.8 < row[DENSITY] < 1.2 and 0.0 < row[COVERAGE] <= 1.0,
    }
    return all(math.isfinite(float(value)) for value in row.values()) and all(
        check() for key, check in checks.items() if key in row)


@pytest.mark.parametrize("metric", suite.METRICS)
def test_metric(benchmark, bench_scale, inputs: Inputs, metric: str) -> None:
    """One metric group from features and logits, exactly as ``evaluate`` computes it."""
    row = record(benchmark, bench_scale, suite.score, inputs.features, inputs.logits, inputs.reference,
                 metrics=(metric,), kid_subsets=bench_scale.kid_subsets)
    assert real_vs_real(row), row


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "generator_width" in metafunc.fixturenames:
        widths = scale_from(metafunc.config).generator_widths
        metafunc.parametrize("generator_width", widths, ids=[f"w{w}" for w in widths])


def test_generate(benchmark, bench_scale, generator_width: int) -> None:
    """``eval_n`` samples from a generator of this width through the public call (forward traced once)."""
    from wgan.models import make_generator

    generator = make_generator(width=generator_width)
    images = record(benchmark, bench_scale, suite.generate, generator, bench_scale.eval_n)
    benchmark.extra_info["generator_width"] = generator_width
    assert images.shape == (bench_scale.eval_n, 28, 28, 1)
    assert np.all(np.abs(images) <= 1.0)  # tanh output


def test_evaluate_generator(benchmark, bench_scale, inputs: Inputs) -> None:
    """The public call on a generator of the main job's width: generation, classifier pass, every metric.

    (The notebook's 4× wider generator adds the difference of the two ``test_generate`` widths.)
    """
    from wgan.compare import DEFAULTS as COMPARE_DEFAULTS
    from wgan.models import make_generator

    width = COMPARE_DEFAULTS["width"]
    row = record(benchmark, bench_scale, evaluate, make_generator(width=width), n=bench_scale.eval_n,
                 kid_subsets=bench_scale.kid_subsets)
    benchmark.extra_info["generator_width"] = width
    assert set(row) == set(suite.ROW_KEYS) and all(math.isfinite(float(v)) for v in row.values()), row
    assert row[suite.FID] > 100  # an untrained generator's blobs are nothing like digits
    benchmark.extra_info["goal_s"] = EVALUATE_GOAL_S
