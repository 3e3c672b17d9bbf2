"""Checks that turn bad input into one-line `WganbenchError`s naming what was expected."""

from __future__ import annotations

import numpy as np

from wgan.data import IMAGE_SHAPE, scale_images, to_unit_range
from wgan.errors import WganbenchError

CONFIDENT_PROB = 0.9  # a classification is confident at this top-class probability (mode coverage, Stacked MNIST)
_EXPECTED = "float [N, 28, 28, 1] in [-1, 1], or uint8 [N, 28, 28] / [N, 28, 28, 1] in [0, 255]"
_DATASET_HINT = {1: " (three channels: Stacked MNIST samples? evaluate them with dataset='stacked-mnist')",
                 3: " (one channel: plain MNIST samples? evaluate them with dataset='mnist')"}


def _expected(channels: int) -> str:
    if channels == IMAGE_SHAPE[-1]:
        return _EXPECTED
    return f"float [N, 28, 28, {channels}] in [-1, 1], or uint8 [N, 28, 28, {channels}] in [0, 255]"


def _shape_hint(x: np.ndarray, channels: int) -> str:
    """Why a shape failed, when it is a known mistake."""
    if channels == 1 and x.ndim == 4 and x.shape[1:] == (*IMAGE_SHAPE[:2], 3):
        return _DATASET_HINT[1]
    if channels == 3 and x.shape[1:] in (IMAGE_SHAPE[:2], IMAGE_SHAPE):
        return _DATASET_HINT[3]
    if channels == 1 and x.dtype != np.uint8 and x.shape[1:] == IMAGE_SHAPE[:2]:
        return " (add the channel axis: x[..., None])"
    return ""


def check_features(x: np.ndarray, name: str) -> np.ndarray:
    """A finite, real [N, d] array."""
    x = np.asarray(x)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise WganbenchError(f"{name}: got {x.dtype} array of shape {x.shape}, expected real [N, d] features")
    if not np.all(np.isfinite(x)):
        raise WganbenchError(f"{name}: {np.count_nonzero(~np.isfinite(x))} NaN/Inf values, expected finite features")
    return x


def float_features(x: np.ndarray, name: str) -> np.ndarray:
    """``check_features``, cast to float32 when float32 or narrower (the classifier's output), else
    float64. The pairwise metrics (KID, PRDC) run their matrix products in that dtype: float32 features
    carry no more precision than float32 arithmetic keeps, and float32 products cost less."""
    x = check_features(x, name)
    return x.astype(np.result_type(x.dtype, np.float32), copy=False)


def check_feature_pair(real: np.ndarray, fake: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """``float_features`` of real and fake [N, d] features of one d, in one dtype (the wider of the two)."""
    real, fake = float_features(real, f"{metric}: real features"), float_features(fake, f"{metric}: fake features")
    if real.shape[1] != fake.shape[1]:
        raise WganbenchError(f"{metric}: real features have dimension {real.shape[1]}, fake {fake.shape[1]}; "
                             "expected the same")
    dtype = np.result_type(real.dtype, fake.dtype)
    return real.astype(dtype, copy=False), fake.astype(dtype, copy=False)


def check_samples(x: np.ndarray, name: str = "samples", *, channels: int = 1) -> np.ndarray:
    """Validate image samples and return them as float32 [N, 28, 28, channels] in [-1, 1] (docs/DESIGN.md
    §5 Metrics). ``channels`` is 1 for MNIST, 3 for Stacked MNIST.

    uint8 pixels are scaled exactly as the training data are (`wgan.data.scale_images`)."""
    x = np.asarray(x)
    shape = (*IMAGE_SHAPE[:2], channels)
    expected = _expected(channels)
    if x.dtype == np.uint8:
        allowed = (IMAGE_SHAPE[:2], IMAGE_SHAPE) if channels == 1 else (shape,)
        if x.shape[1:] not in allowed or len(x) == 0:
            raise WganbenchError(f"{name}: uint8 array of shape {x.shape}, expected {expected}"
                                 f"{_shape_hint(x, channels)}")
        return scale_images(x) if channels == 1 else to_unit_range(x.astype(np.float32))
    if not np.issubdtype(x.dtype, np.floating):
        raise WganbenchError(f"{name}: dtype {x.dtype}, expected {expected}")
    if x.ndim != 4 or x.shape[1:] != shape or len(x) == 0:
        raise WganbenchError(f"{name}: float array of shape {x.shape}, expected {expected}{_shape_hint(x, channels)}")
    bad = np.count_nonzero(~np.isfinite(x))
    if bad:
        raise WganbenchError(f"{name}: {bad} NaN/Inf values, expected finite pixels in [-1, 1]")
    lo, hi = float(x.min()), float(x.max())
    if lo < -1.0 or hi > 1.0:
        hint = ("; this looks like [0, 255] data: pass it as uint8 or scale it with x / 127.5 - 1"
                if lo >= 0.0 and hi > 1.0 else "")
        raise WganbenchError(f"{name}: float pixels span [{lo:.4g}, {hi:.4g}], expected [-1, 1]{hint}")
    if lo >= 0.0:
        # MNIST in [-1, 1] has a background of -1; all-non-negative floats are almost surely [0, 1] data.
        raise WganbenchError(f"{name}: float pixels span [{lo:.4g}, {hi:.4g}] with no negative value; this looks "
                             "like [0, 1] data: scale it with x * 2 - 1 to [-1, 1]")
    return x.astype(np.float32, copy=False)
