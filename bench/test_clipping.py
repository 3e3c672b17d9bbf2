"""Group ``clipping``: what each way of clipping the critic's weights adds to a training step.

How the overhead is measured, honestly: every clipped step is timed by pytest-benchmark while the
*unclipped* step of the same setting and batch runs, timed by us, in the untimed setup of every
round, so the two alternate call by call in one process. ``overhead_pct`` is the median of the
per-round differences over the median unclipped step (:func:`bench.conftest.paired_overhead_pct`):
drifting load from other processes hits both halves of a pair alike. The ``none`` row pairs the
unclipped step with itself: its ``overhead_pct`` is the method's noise floor, and a clipped row
whose overhead lies within that floor of zero costs nothing measurable.

The clipping call alone (on the notebook's critic, initialised outside the clip range so there is
work to do) is timed the same way against the unclipped ``wgan-seed`` step; its ``overhead_pct`` is
the call's median as a share of that step's median (one clip per critic update; ``wgan`` makes five
per iteration over a step about five times as long, so the share is about the same).
"""

from __future__ import annotations

import math
import statistics
from functools import partial

import pytest

from bench.conftest import max_abs_weight, paired_overhead_pct, round_times, run_benchmark, scale_from
from wgan.lipschitz import CLIP_IMPLS, clipping_call, critic_constraint
from wgan.models import make_critic
from wgan.notebook import NOTEBOOK_CLIP
from wgan.settings import SETTINGS

CALL_REFERENCE = "wgan-seed"
STEP_CLIP_IMPLS = ["none", *(impl for impl in CLIP_IMPLS if impl != "none")]  # the noise floor first
CALL_CLIP_IMPLS = STEP_CLIP_IMPLS[1:]
# Sub-percent differences need more pairs than the scale's budget for one benchmark buys.
BUDGET_FACTOR = 2


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.function is test_clipped_step:
        cases = [(setting, impl) for setting in scale_from(metafunc.config).clip_settings
                 for impl in STEP_CLIP_IMPLS]
        metafunc.parametrize(("setting", "impl"), cases, ids=[f"{s}-{i}" for s, i in cases])


def test_clipped_step(benchmark, bench_scale, train_steps, setting: str, impl: str) -> None:
    unclipped, batch = train_steps(setting, bench_scale.clip_batch, clip_impl="none")
    step, _ = train_steps(setting, bench_scale.clip_batch, clip_impl=impl)
    benchmark.group = "clipping"
    logs, reference_times = run_benchmark(benchmark, bench_scale, step, batch, reference=partial(unclipped, batch),
                                          budget=BUDGET_FACTOR * bench_scale.seconds)

    assert logs and all(math.isfinite(v) for v in logs.values()), logs
    # Clipping keeps every trainable critic weight in range; without it, Adam/RMSprop leave it.
    within = max_abs_weight(step.gan.critic) <= SETTINGS[setting].clip_value
    assert within == (impl != "none")
    info = {"setting": setting, "variant": "step", "clip_impl": impl, "batch": bench_scale.clip_batch,
            "precision": "float32"}
    times = round_times(benchmark)
    if times:
        info["images_per_s"] = bench_scale.clip_batch * SETTINGS[setting].n_critic / statistics.median(times)
        info["overhead_pct"] = paired_overhead_pct(times, reference_times)
        info["reference_ms"] = 1e3 * statistics.median(reference_times)
    benchmark.extra_info.update(info)


@pytest.mark.parametrize("impl", CALL_CLIP_IMPLS)
def test_clip_call(benchmark, bench_scale, train_steps, impl: str) -> None:
    critic = make_critic(constraint=critic_constraint(impl, NOTEBOOK_CLIP))
    assert max_abs_weight(critic) > NOTEBOOK_CLIP  # fresh weights exceed the range: the call has work to do
    call = clipping_call(critic, impl, NOTEBOOK_CLIP)
    unclipped, batch = train_steps(CALL_REFERENCE, bench_scale.clip_batch, clip_impl="none")
    benchmark.group = "clipping"
    _, reference_times = run_benchmark(benchmark, bench_scale, call, reference=partial(unclipped, batch))

    assert max_abs_weight(critic) <= NOTEBOOK_CLIP
    info = {"setting": CALL_REFERENCE, "variant": "call", "clip_impl": impl, "batch": bench_scale.clip_batch,
            "precision": "float32"}
    times = round_times(benchmark)
    if times:
        info["overhead_pct"] = 100.0 * statistics.median(times) / statistics.median(reference_times)
        info["reference_ms"] = 1e3 * statistics.median(reference_times)
    benchmark.extra_info.update(info)
