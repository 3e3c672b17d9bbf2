"""Shared fixtures: the real MNIST arrays, loaded once per session (fetched on first use); Hypothesis profiles."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
from hypothesis import settings

from wgan.console import configure_process
from wgan.data import load_mnist

configure_process()  # the suite's oneDNN setting and quiet console, before anything loads TensorFlow

# Property tests draw from a fixed seed unless asked to explore, so CI and `make test` never fail on a
# random draw: `derandomize` derives each test's examples from the test itself. Explore (fresh random
# examples, more of them) on purpose with HYPOTHESIS_PROFILE=explore.
settings.register_profile("fixed", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, database=None, max_examples=300, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))



@pytest.fixture(scope="session")
def mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    return load_mnist()
