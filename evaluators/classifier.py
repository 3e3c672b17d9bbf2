"""The suite's own MNIST classifier: trained once with a fixed seed, cached, then a feature extractor.

Every score in wganbench is measured through this network (docs/DESIGN.md §5 Metrics): its
penultimate layer gives the features for FID, KID and PRDC, its last layer the logits for the
inception score and mode coverage. The penultimate layer is the flattened last conv block
(3×3×64 = 576 values after ReLU and max-pooling), not a dense layer: a dense ReLU layer maps
whatever it does not recognise (uniform noise, blobs) toward the origin, near the mean of real
digits, so FID ranked pixel noise better than a single digit class. Spatial conv features keep
"strokes everywhere" far from digits (results/evaluator_sanity.md). It is trained on the 60,000
real training images and cached under ``$WGANBENCH_HOME/classifier/<hash>/``, where the hash covers
the architecture, the training config and the SHA-256 of the MNIST files, so any change to one of
them trains a new classifier.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from evaluators.forward import batched, compiled_forward
from wgan import ONEDNN_ENV, versions
from wgan.console import UNKNOWN_ATTRIBUTE_LINE, repeats_dropped
from wgan.data import FILES, IMAGE_SHAPE, load_mnist, scale_images
from wgan.errors import WganbenchError
from wgan.io import atomic_write
from wgan.paths import wganbench_home

FEATURES_LAYER = "features"
LOGITS_LAYER = "logits"
MODEL_FILE = "classifier.keras"
META_FILE = "meta.json"


@dataclass(frozen=True)
class ClassifierConfig:
    """Architecture and training recipe; every field enters the cache hash."""

    conv_filters: tuple[int, ...] = (32, 64, 64)  # 3×3 conv → ReLU → 2×2 max-pool, per entry: 28 → 14 → 7 → 3
    dropout: float = 0.3                          # between the features and the logits
    epochs: int = 5
    batch_size: int = 128
    learning_rate: float = 2e-3               # Adam, cosine-decayed to 0 over the run
    seed: int = 0


def build_model(config: ClassifierConfig):
    """The CNN: [N, 28, 28, 1] in [-1, 1] → 10 logits, with named ``features`` and ``logits`` layers."""
    import keras

    layers = keras.layers
    model = keras.Sequential(name="mnist_classifier")
    model.add(keras.Input(IMAGE_SHAPE, name="image"))
    for i, filters in enumerate(config.conv_filters):
        model.add(layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{i}"))
        model.add(layers.MaxPooling2D(name=f"pool{i}"))
    model.add(layers.Flatten(name=FEATURES_LAYER))
    model.add(layers.Dropout(config.dropout, name="dropout"))
    model.add(layers.Dense(10, name=LOGITS_LAYER))
    return model


def classifier_hash(config: ClassifierConfig) -> str:
    """SHA-256 over the model's Keras config, the training config, the MNIST files' checksums, whether
    TensorFlow's oneDNN kernels are on and the TensorFlow and Keras versions (either may train different
    weights, and scores through different weights are not comparable)."""
    payload = {
        "architecture": build_model(config).get_config(),
        "training": asdict(config),
        "data": {key: spec.sha256 for key, spec in FILES.items()},
        "kernels": {ONEDNN_ENV: os.environ.get(ONEDNN_ENV)},
        "versions": {key: versions()[key] for key in ("tensorflow", "keras")},  # not Python's: it trains the same
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class Classifier:
    """A trained classifier with a compiled forward pass that returns (features, logits)."""

    def __init__(self, model, digest: str, meta: dict):
        import keras

        self.model = model
        self.hash = digest
        self.meta = meta
        self._two_heads = keras.Model(model.inputs, [model.get_layer(FEATURES_LAYER).output,
                                                     model.get_layer(LOGITS_LAYER).output])
        self._forward = compiled_forward(self._two_heads)  # cached weakly: self keeps the model alive

    @property
    def feature_dim(self) -> int:
        return int(self.model.get_layer(FEATURES_LAYER).output.shape[-1])

    def features_and_logits(self, images: np.ndarray, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
        """float32 [N, 28, 28, 1] in [-1, 1] → (features [N, feature_dim], logits [N, 10]), float32."""
        features, logits = batched(self._forward, images, batch_size)
        return features, logits

    def accuracy(self, x_uint8: np.ndarray, labels: np.ndarray) -> float:
        _, logits = self.features_and_logits(scale_images(x_uint8))
        return float(np.mean(np.argmax(logits, axis=1) == labels))


def cache_dir(config: ClassifierConfig) -> Path:
    return wganbench_home() / "classifier" / classifier_hash(config)[:16]


def train(config: ClassifierConfig, *, verbose: bool = True) -> tuple[object, dict]:
    """Train the classifier on the real training set; returns (model, meta with test accuracy and time).

    Op determinism makes every machine of one kind train the same weights (measured: bit-identical in
    two processes), so a quality baseline scored here reproduces on a fresh CI machine. It is
    process-wide and one-way, as the trainer's default is.
    """
    import keras
    import tensorflow as tf

    (x_train, y_train), (x_test, y_test) = load_mnist(verbose=verbose)
    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(config.seed)
    model = build_model(config)
    steps = config.epochs * -(-len(x_train) // config.batch_size)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(config.learning_rate, steps)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    start = time.perf_counter()

    def report(epoch: int, logs: dict) -> None:
        if verbose:
            print(f"  classifier epoch {epoch + 1}/{config.epochs}: loss {logs['loss']:.4f}, train accuracy "
                  f"{logs['accuracy']:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)

    if verbose:
        print(f"training the MNIST classifier for the metrics ({config.epochs} epochs, once: later runs load it "
              "from the cache) ...", flush=True)
    with repeats_dropped(dropped=(UNKNOWN_ATTRIBUTE_LINE,)):  # a harmless TensorFlow ERROR line (wgan.console)
        model.fit(scale_images(x_train), y_train, batch_size=config.batch_size, epochs=config.epochs,
                  shuffle=True, verbose=0, callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=report)])
    seconds = time.perf_counter() - start
    test_accuracy = Classifier(model, "", {}).accuracy(x_test, y_test)
    if verbose:
        print(f"  classifier test accuracy {test_accuracy:.4f} after {seconds:.0f} s", flush=True)
    return model, {"config": asdict(config), "test_accuracy": test_accuracy, "train_seconds": round(seconds, 1)}


@functools.cache
def load_classifier(config: ClassifierConfig = ClassifierConfig(), *, verbose: bool = True) -> Classifier:
    """The cached classifier for ``config``, trained (and cached atomically) on first use.

    A lock file makes a second process wait for the first one's training instead of repeating it.
    """
    import keras

    digest = classifier_hash(config)
    folder = cache_dir(config)
    model_path, meta_path = folder / MODEL_FILE, folder / META_FILE
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if model_path.is_file() and meta_path.is_file():
            try:
                return Classifier(keras.saving.load_model(model_path, compile=False), digest,
                                  json.loads(meta_path.read_text()))
            except (OSError, ValueError) as err:
                raise WganbenchError(f"{model_path}: cannot load the cached classifier ({err}); delete {folder} "
                                     "to retrain it") from None
        model, meta = train(config, verbose=verbose)
        atomic_write(model_path, model.save)
        atomic_write(meta_path, lambda p: p.write_text(json.dumps(meta, indent=2)))
    return Classifier(model, digest, meta)
