"""The suite's MNIST classifier: accuracy on the real test set, its cache, its two heads."""

from __future__ import annotations

import importlib
import os
from dataclasses import replace

import numpy as np
import pytest

from evaluators.classifier import MODEL_FILE, Classifier, ClassifierConfig, cache_dir, classifier_hash, load_classifier
from wgan import ONEDNN_ENV
from wgan.data import scale_images

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return load_classifier()  # trains once (a few minutes) when $WGANBENCH_HOME has no cached copy


def test_test_accuracy_is_at_least_99_2_percent(classifier: Classifier, mnist) -> None:
    _, (x_test, y_test) = mnist
    accuracy = classifier.accuracy(x_test, y_test)
    assert accuracy >= 0.992
    assert classifier.meta["test_accuracy"] == pytest.approx(accuracy, abs=1e-9)  # what training recorded


def test_heads_are_relu_features_and_logits_independent_of_batch_size(classifier: Classifier, mnist) -> None:
    _, (x_test, _) = mnist
    images = scale_images(x_test[:700])
    features, logits = classifier.features_and_logits(images, batch_size=1000)
    assert classifier.feature_dim == 3 * 3 * 64  # the last conv block, flattened
    assert features.shape == (700, classifier.feature_dim) and logits.shape == (700, 10)
    assert features.min() >= 0.0  # taken after the ReLU
    small_f, small_l = classifier.features_and_logits(images, batch_size=64)
    np.testing.assert_allclose(small_f, features, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(small_l, logits, rtol=1e-5, atol=1e-5)
    # The logits are a linear function of the features (the last layer), so the features carry the class.
    w, b = classifier.model.get_layer("logits").get_weights()
    np.testing.assert_allclose(features @ w + b, logits, rtol=1e-4, atol=1e-4)


def test_second_load_uses_the_cache(classifier: Classifier, mnist) -> None:
    model_file = cache_dir(ClassifierConfig()) / MODEL_FILE
    mtime = model_file.stat().st_mtime_ns
    load_classifier.cache_clear()
    reloaded = load_classifier(verbose=False)
    assert reloaded is not classifier and model_file.stat().st_mtime_ns == mtime  # loaded, not retrained
    images = scale_images(mnist[1][0][:256])
    np.testing.assert_array_equal(reloaded.features_and_logits(images)[1], classifier.features_and_logits(images)[1])


def test_hash_covers_architecture_and_training_config() -> None:
    base = ClassifierConfig()
    assert classifier_hash(base) == classifier_hash(ClassifierConfig())
    variants = [replace(base, conv_filters=(32, 64, 32)), replace(base, epochs=base.epochs + 1), replace(base, seed=1)]
    assert len({classifier_hash(c) for c in [base, *variants]}) == 4


def test_hash_covers_the_onednn_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    # oneDNN and Eigen kernels round differently and train different weights.
    assert os.environ[ONEDNN_ENV] == "1"  # the suite's default (wgan.configure_process, tests/conftest.py)
    base = classifier_hash(ClassifierConfig())
    monkeypatch.setenv(ONEDNN_ENV, "0")
    assert classifier_hash(ClassifierConfig()) != base


@pytest.mark.parametrize("module", ["tensorflow", "keras"])
def test_hash_covers_the_tensorflow_and_keras_versions(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    # Another version may train other weights: its classifier is another cache entry, and the gate
    # refuses (exit 2) to compare scores measured through it with a baseline scored through this one.
    base = classifier_hash(ClassifierConfig())
    monkeypatch.setattr(importlib.import_module(module), "__version__", "0.0.0")
    assert classifier_hash(ClassifierConfig()) != base
