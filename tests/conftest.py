"""Shared fixtures: the real MNIST arrays, loaded once per session (fetched on first use)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from wgan.data import load_mnist


@pytest.fixture(scope="session")
def mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    return load_mnist()
