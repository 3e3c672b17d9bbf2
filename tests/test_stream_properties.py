"""Hypothesis: the training stream visits every image once per epoch, for any seed, batch and n_critic
that fit, and any step can be produced on its own (what a resumed run relies on)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from wgan.stream import training_data


@settings(max_examples=15, deadline=None)  # drawn from the profile's seed (conftest.py)
@given(seed=st.integers(0, 2**31 - 1), batch=st.integers(1, 8), n_critic=st.integers(1, 5),
       start=st.integers(0, 6))
def test_every_image_once_per_epoch(mnist, seed: int, batch: int, n_critic: int, start: int) -> None:
    pool = mnist[0][0][:40]  # 40 distinct real digits
    per_step = batch * n_critic
    steps = max(-(-2 * len(pool) // per_step), start + 1)  # two whole epochs, and the resumed step
    stream = [b.numpy() for b in training_data(pool, batch, n_critic, seed=seed).take(steps)]
    flat = np.rint(np.concatenate([b.reshape(-1, 28 * 28) for b in stream]) * 127.5 + 127.5).astype(np.uint8)
    expected = sorted(map(bytes, pool.reshape(-1, 28 * 28)))
    for epoch in range(2):
        assert sorted(map(bytes, flat[epoch * len(pool):(epoch + 1) * len(pool)])) == expected
    resumed = next(iter(training_data(pool, batch, n_critic, seed=seed, start_step=start))).numpy()
    np.testing.assert_array_equal(resumed, stream[start])
