"""Group ``evaluators``: each metric's cost at the evaluation size, and the whole ``evaluate`` call.

The samples scored are real MNIST training images (a seeded random ``eval_n`` of them: the first
``eval_n`` are not a fair sample, their writers differ), so every result has a
known answer to assert against: real-vs-real scores (FID and KID near 0, all ten modes covered,
PRDC near its same-distribution values), against the cached statistics of the 10,000 test
images that ``evaluate`` uses. Classifier, reference statistics, samples and their features are
built once per module, outside the timed calls; each metric group (FID, IS, mode coverage, KID,
PRDC: the entries of :data:`evaluators.METRICS`) is timed through :func:`evaluators.score` on those
arrays, as ``evaluate`` runs it.
Generation is timed per generator width of the scale (16, the main job's; ``big`` adds the
notebook's 64: its cost does not depend on the weights) on ``eval_n`` latents; the whole
``evaluate`` (generation, classifier pass and every metric) runs on a generator of the main job's width.

Stacked MNIST's 1,000-mode metric (``stacked``) is timed on real Stacked MNIST drawn from the test
digits, at the protocol's 26,000 samples (``quick``: ``eval_n``): as a table entry from the channel
logits, like the others, and whole (`test_stacked_modes_cost`): each of the 78,000 channels through
the classifier, then the count, which is what the metric adds to an ``evaluate`` of Stacked MNIST.

Goal: the whole ``evaluate`` of 10,000 generated samples under 15 s (``goal_s`` in ``extra_info``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pytest

from bench.conftest import Scale, run_benchmark, scale_from
from evaluators import METRICS, ROW_KEYS, EvalOptions, evaluate, score
from evaluators.classifier import Classifier, load_classifier
from evaluators.reference import Reference, reference_stats
from evaluators.stacked_modes import PROTOCOL_SAMPLES
from evaluators.suite import classify, generate
from wgan.data import MNIST, STACKED_MNIST, STACKED_MODES, load_mnist, scale_images, stack_digits, stacked_indices

EVALUATE_GOAL_S = 15.0
CLASSES = 10
# The main job's generator width (the study layer's default); a literal, so the benchmarks of the
# evaluators do not depend on the study layer.
MAIN_JOB_WIDTH = 16
DEFAULTS = EvalOptions()


@dataclass(frozen=True)
class BenchInputs:
    classifier: Classifier
    reference: Reference
    samples: np.ndarray    # float32 [n, 28, 28, 1] in [-1, 1]: real training images
    labels: np.ndarray     # their digit labels
    features: np.ndarray
    logits: np.ndarray


@pytest.fixture(scope="module")
def inputs(bench_scale: Scale) -> BenchInputs:
    classifier = load_classifier()
    reference = reference_stats(classifier=classifier)
    (x_train, y_train), _ = load_mnist()
    pick = np.random.default_rng(DEFAULTS.seed).choice(len(x_train), bench_scale.eval_n, replace=False)
    samples = scale_images(x_train[pick])
    features, logits = classifier.features_and_logits(samples, DEFAULTS.batch_size)
    return BenchInputs(classifier, reference, samples, y_train[pick], features, logits)


@dataclass(frozen=True)
class StackedInputs:
    samples: np.ndarray         # uint8 [m, 28, 28, 3]: real Stacked MNIST drawn from the test digits
    options: EvalOptions        # dataset stacked-mnist, n = eval_n channel images, stacked_samples = m
    features: np.ndarray        # of the first n channel images
    logits: np.ndarray
    stacked_logits: np.ndarray  # [m, 3, 10]


def stacked_count(scale: Scale) -> int:
    """The protocol's 26,000 samples; the quick smoke test's ``eval_n``."""
    return PROTOCOL_SAMPLES if scale.eval_n >= DEFAULTS.n else scale.eval_n


@pytest.fixture(scope="module")
def stacked_inputs(bench_scale: Scale, inputs: BenchInputs) -> StackedInputs:
    m = stacked_count(bench_scale)
    _, (x_test, y_test) = load_mnist()
    samples, _ = stack_digits(x_test, y_test, stacked_indices(len(x_test), m, (DEFAULTS.seed, 1)))
    options = EvalOptions(dataset=STACKED_MNIST, n=bench_scale.eval_n, overrides={"stacked_samples": m})
    features, logits, stacked_logits = classify(samples, inputs.classifier, options)
    return StackedInputs(samples, options, features, logits, stacked_logits)


def record(benchmark, scale: Scale, fn, *args: Any, **kwargs: Any) -> Any:
    """Time ``fn(*args, **kwargs)`` in group ``evaluators``, ``n`` in extra_info; returns its result."""
    benchmark.group = "evaluators"
    benchmark.extra_info["n"] = scale.eval_n
    result, _ = run_benchmark(benchmark, scale, partial(fn, **kwargs), *args)
    return result


def test_classifier_features(benchmark, bench_scale, inputs: BenchInputs) -> None:
    features, logits = record(benchmark, bench_scale, inputs.classifier.features_and_logits, inputs.samples,
                              DEFAULTS.batch_size)
    assert features.shape == (bench_scale.eval_n, inputs.classifier.feature_dim)
    # Real digits: the classifier (≥ 99% test accuracy) names the training labels.
    assert np.mean(np.argmax(logits, axis=1) == inputs.labels) > 0.98


def real_vs_real(row: dict, stacked_n: int = PROTOCOL_SAMPLES) -> bool:
    """Known answers for real training images against the test set's statistics, per metric group (for
    ``stacked``: real Stacked MNIST of ``stacked_n`` test-digit samples)."""
    checks = {
        # Real vs real: ≈ 4 at 10,000 samples in the 576-d features, ≈ 18 at 1,000 (FID's bias grows
        # as 1/n); the main job's generators score 100 and up, uniform noise 690.
        "fid": lambda: 0.0 <= row["fid"] < 10.0 * max(1.0, 10_000 / row["n"]),
        # Ten confident, balanced classes: close to the maximum of 10.
        "is_mean": lambda: 9.0 < row["is_mean"] <= CLASSES,
        "modes_covered": lambda: row["modes_covered"] == CLASSES,
        # Unbiased MMD² of one distribution: zero within its spread over subsets (10k training
        # images: 0.003 ± 0.005; uniform noise 2.9, results/evaluator_sanity.md).
        "kid_mean": lambda: abs(row["kid_mean"]) < 3 * row["kid_std"],
        # Same distribution: precision and recall high, density near 1 (Naeem et al. 2020). Coverage
        # counts real samples with a generated one in their k-NN ball, so it grows with n: only bounds.
        "precision": lambda: 0.8 < row["precision"] <= 1.0 and 0.8 < row["recall"] <= 1.0
        and 0.8 < row["density"] < 1.2 and 0.0 < row["coverage"] <= 1.0,
        # Real Stacked MNIST: m uniform draws fill 1000·(1 − e^(−m/1000)) modes (all at 26,000), and the
        # KL is about its small-sample bias 999/(2m) (0.025 measured, results/evaluator_sanity.md).
        "stacked_modes": lambda: row["stacked_modes"] >= 0.97 * STACKED_MODES * -math.expm1(-stacked_n / STACKED_MODES)
        and (stacked_n < DEFAULTS.n or row["stacked_kl"] < 0.05),
    }
    return all(math.isfinite(float(value)) for value in row.values()) and all(
        check() for key, check in checks.items() if key in row)


@pytest.mark.parametrize("metric", list(METRICS))
def test_metric(benchmark, bench_scale, inputs: BenchInputs, request: pytest.FixtureRequest, metric: str) -> None:
    """One metric group of the table from features and logits, exactly as ``evaluate`` computes it
    (a Stacked-MNIST-only metric from Stacked MNIST's channel logits)."""
    if MNIST in METRICS[metric].datasets:
        row = record(benchmark, bench_scale, score, inputs.features, inputs.logits, inputs.reference,
                     metrics=(metric,), kid_subsets=bench_scale.kid_subsets)
    else:
        stacked: StackedInputs = request.getfixturevalue("stacked_inputs")
        row = record(benchmark, bench_scale, score, stacked.features, stacked.logits, inputs.reference,
                     stacked.options, metrics=(metric,), stacked_logits=stacked.stacked_logits)
        benchmark.extra_info["stacked_samples"] = len(stacked.samples)
    assert list(row) == [*(v.key for v in METRICS[metric].values), "n"]
    assert real_vs_real(row, stacked_count(bench_scale)), row


def test_stacked_modes_cost(benchmark, bench_scale, inputs: BenchInputs, stacked_inputs: StackedInputs) -> None:
    """The 1,000-mode metric whole, at the protocol's sample count: 3 × 26,000 channel images through the
    classifier (features of the first ``n`` kept for the image metrics, logits of all), then the count."""
    stacked = stacked_inputs
    options = dataclasses.replace(stacked.options, metrics=("stacked",))

    def count_modes(samples: np.ndarray) -> dict:
        features, logits, stacked_logits = classify(samples, inputs.classifier, options)
        return score(features, logits, inputs.reference, options, stacked_logits=stacked_logits)

    row = record(benchmark, bench_scale, count_modes, stacked.samples)
    m = len(stacked.samples)
    benchmark.extra_info.update(stacked_samples=m, channel_images=3 * m)
    if benchmark.stats:
        benchmark.extra_info["samples_per_s"] = round(m / benchmark.stats.stats.median, 1)
    assert real_vs_real(row, m), row


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "generator_width" in metafunc.fixturenames:
        widths = scale_from(metafunc.config).generator_widths
        metafunc.parametrize("generator_width", widths, ids=[f"w{w}" for w in widths])


def test_generate(benchmark, bench_scale, generator_width: int) -> None:
    """``eval_n`` samples from a generator of this width through the public call (forward traced once)."""
    from wgan.models import make_generator

    generator = make_generator(width=generator_width)
    images = record(benchmark, bench_scale, generate, generator, bench_scale.eval_n)
    benchmark.extra_info["generator_width"] = generator_width
    assert images.shape == (bench_scale.eval_n, 28, 28, 1)
    assert np.all(np.abs(images) <= 1.0)  # tanh output


def test_evaluate_generator(benchmark, bench_scale, inputs: BenchInputs) -> None:
    """The public call on a generator of the main job's width: generation, classifier pass, every metric.

    (The notebook's 4× wider generator adds the difference of the two ``test_generate`` widths.)
    """
    from wgan.models import make_generator

    width = MAIN_JOB_WIDTH
    row = record(benchmark, bench_scale, evaluate, make_generator(width=width), n=bench_scale.eval_n,
                 kid_subsets=bench_scale.kid_subsets)
    benchmark.extra_info["generator_width"] = width
    assert tuple(row) == ROW_KEYS and all(math.isfinite(float(v)) for v in row.values()), row
    assert row["fid"] > 100  # an untrained generator's blobs are nothing like digits
    benchmark.extra_info["goal_s"] = EVALUATE_GOAL_S
