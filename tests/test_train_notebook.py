"""The notebook baseline step and the prepared steps the benchmarks time."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bench.factories import make_clip_call, make_notebook_step, make_step
from wgan.errors import WganbenchError
from wgan.notebook import NOTEBOOK_CLIP
from wgan.settings import SETTINGS


def test_notebook_step_trains_and_clips() -> None:
    step, batch = make_notebook_step(batch_size=16)
    assert batch.shape == (16, 28, 28, 1) and float(batch.numpy().min()) == -1.0
    logs = [step(batch) for _ in range(2)]
    assert all(np.isfinite(v) for log in logs for v in log.values())
    assert logs[0] != logs[1]  # the models moved
    critic = step.critic
    weights = np.concatenate([w.ravel() for w in critic.get_weights()])
    assert np.abs(weights).max() <= NOTEBOOK_CLIP  # the round trip clipped every critic weight
    assert np.isclose(np.abs(weights).max(), NOTEBOOK_CLIP)  # and some weight sits on the bound


def test_prepared_steps_agree_across_clipping_implementations() -> None:
    logs = {}
    narrow = dataclasses.replace(SETTINGS["wgan-seed"], width=8)  # the architecture is not under test
    for impl in ("fused", "numpy"):
        step, batch = make_step(narrow, batch_size=16, clip_impl=impl)
        assert batch.shape == (16, 1, 28, 28, 1)
        logs[impl] = [step(batch) for _ in range(2)]
    for fused, numpy in zip(logs["fused"], logs["numpy"]):
        assert numpy == pytest.approx(fused, rel=1e-5, abs=1e-7)


def test_clip_call_needs_a_known_implementation() -> None:
    assert callable(make_clip_call("numpy"))
    with pytest.raises(WganbenchError, match="unknown clipping implementation"):
        make_clip_call("clamp")


def test_bfloat16_step_keeps_float32_variables_and_losses() -> None:
    step, batch = make_step(dataclasses.replace(SETTINGS["gan"], width=8), batch_size=8, mixed_precision="bfloat16")
    logs = step(batch)
    assert all(np.isfinite(v) for v in logs.values())
    gan = step.gan
    for model in (gan.generator, gan.critic):
        assert {v.dtype for v in model.trainable_variables} == {"float32"}  # variables stay float32
        assert any(layer.compute_dtype == "bfloat16" for layer in model.layers)  # hidden layers compute in bf16
    assert gan.generator(np.zeros((2, 100), np.float32)).dtype == "float32"  # images, so losses, are float32
    assert gan.critic(np.zeros((2, 28, 28, 1), np.float32)).dtype == "float32"
