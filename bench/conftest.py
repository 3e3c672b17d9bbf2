"""Shared benchmark machinery: the size scale, machine info, and timing that warms up first.

Sizes come from ``--bench-scale`` or ``$WGANBENCH_BENCH_SCALE`` (``quick``, ``default``, ``big``):
``quick`` smoke-tests every benchmark on tiny inputs (``make test`` runs it with
``--benchmark-disable``); ``default`` is the full run, within 10 minutes on a 2-core CPU; ``big``
adds batch 1024, samples 50,000 images and times for longer, for a big machine.

Every benchmark warms up outside the timed rounds (the first call traces), then runs as many
rounds as fit its time budget, between the scale's minimum and maximum. A benchmark that compares
against a reference (clipping overhead) times the reference itself in the untimed ``setup`` of
every round, so the two alternate in one process and their ratio is immune to slow drifts of the
machine's load (see :func:`paired_overhead_pct`).
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from wgan.console import configure_process
from wgan.machine import cpuinfo

configure_process()  # the suite's oneDNN setting and quiet console, before anything loads TensorFlow

SCALE_ENV = "WGANBENCH_BENCH_SCALE"
SCALE_OPTION = "--bench-scale"
DEFAULT_SCALE = "default"
LOAD_AT_START = pytest.StashKey[tuple[float, float, float]]()
MATMUL_PEAK = pytest.StashKey[float]()
FLOPS_COUNT_BATCH = 16  # FLOPs per image do not depend on the batch: count on a small, quick trace


@dataclass(frozen=True)
class Scale:
    """How big a benchmark run is. ``seconds`` is each benchmark's budget for its timed rounds."""

    name: str
    batches: tuple[int, ...]   # train_step batch sizes; the last one is the notebook comparison's
    variants: tuple[str, ...]  # train_step variants beside fp32 compiled at the notebook comparison's batch
    clip_settings: tuple[str, ...]  # settings whose clipped steps the clipping group times
    clip_batch: int            # batch of the clipping-overhead steps (the goal is stated at 64)
    eval_n: int                # images per evaluator benchmark (generated and real)
    generator_widths: tuple[int, ...]  # generators whose generation is timed (16: the main job's; 64: the notebook's)
    kid_subsets: int           # KID's cost is subsets × subset size², whatever eval_n is
    seconds: float
    min_rounds: int
    max_rounds: int

    @property
    def notebook_batch(self) -> int:
        return self.batches[-1]

    def rounds(self, seconds_per_round: float, budget: float) -> int:
        """Rounds that fill ``budget`` seconds at ``seconds_per_round``, within [min_rounds, max_rounds]."""
        wanted = math.ceil(budget / max(seconds_per_round, 1e-9))
        return max(self.min_rounds, min(self.max_rounds, wanted))


# The default run keeps to its 10 minutes with the variant the bfloat16 goal is about, XLA bfloat16;
# plain bfloat16 (~6x slower than float32 without native bf16 kernels: ~18 s a step at batch 256
# here) and XLA float32 are timed by ``big`` (and the quick smoke test runs plain bfloat16).
DEFAULT_VARIANTS = ("xla-bfloat16",)
FULL_VARIANTS = ("bfloat16", "xla", *DEFAULT_VARIANTS)
CLIP_SETTINGS = ("wgan-seed", "wgan")
SCALES: dict[str, Scale] = {s.name: s for s in (
    # The smoke test: every benchmark once on tiny inputs, leaving out what only costs more traces of
    # code it already runs: XLA's compiles (~30 s each here) and wgan's clipped steps (n_critic 5).
    Scale("quick", batches=(16,), variants=("bfloat16",), clip_settings=("wgan-seed",), clip_batch=16,
          eval_n=1_000, generator_widths=(16,), kid_subsets=10, seconds=0.0, min_rounds=1, max_rounds=1),
    Scale("default", batches=(64, 256), variants=DEFAULT_VARIANTS, clip_settings=CLIP_SETTINGS, clip_batch=64,
          eval_n=10_000, generator_widths=(16,), kid_subsets=100, seconds=3.0, min_rounds=3, max_rounds=60),
    Scale("big", batches=(64, 256, 1024), variants=FULL_VARIANTS, clip_settings=CLIP_SETTINGS, clip_batch=64,
          eval_n=50_000, generator_widths=(16, 64), kid_subsets=100, seconds=30.0, min_rounds=10, max_rounds=500),
)}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(SCALE_OPTION, choices=sorted(SCALES), default=None,
                     help=f"benchmark sizes (default: ${SCALE_ENV} or {DEFAULT_SCALE!r})")


def scale_from(config: pytest.Config) -> Scale:
    """The option, else the environment variable, else ``default``; an unknown name is an error."""
    name = config.getoption(SCALE_OPTION) or os.environ.get(SCALE_ENV) or DEFAULT_SCALE
    if name not in SCALES:
        raise pytest.UsageError(f"${SCALE_ENV}={name!r}: expected one of {', '.join(SCALES)}")
    return SCALES[name]


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[LOAD_AT_START] = os.getloadavg()


@pytest.fixture(scope="session")
def bench_scale(pytestconfig: pytest.Config) -> Scale:
    return scale_from(pytestconfig)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Add what decides TF's speed here: versions, CPU model and vector flags, threads, load."""
    import keras
    import tensorflow as tf

    from wgan import ONEDNN_ENV

    cpu = cpuinfo()
    machine_info.update({
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "cpu_model": cpu.label,
        "cpu_flags": {flag: flag in cpu.flags for flag in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16",
                                                       "amx_tile")},
        # wganbench turns TensorFlow's oneDNN kernels on (wgan/__init__.py); "0" means Eigen's.
        "tf_enable_onednn_opts": os.environ.get(ONEDNN_ENV),
        "threads": {
            "os_cpu_count": os.cpu_count(),
            "affinity": len(os.sched_getaffinity(0)),
            # 0 means TensorFlow picks (one thread per core).
            "tf_inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
            "tf_intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        },
        # Other processes slow every benchmark: the 1/5/15-minute load averages say how busy it was.
        "loadavg_at_start": list(config.stash.get(LOAD_AT_START, ())),
        "loadavg_at_end": list(os.getloadavg()),
        "bench_scale": scale_from(config).name,
        # The float32 matrix-multiply rate the train_step rows' GFLOP/s are read against (when they ran).
        "matmul_peak_gflops": config.stash.get(MATMUL_PEAK, None),
    })


def max_abs_weight(model) -> float:
    """The largest |w| over a model's trainable weights (clipping must keep it ≤ the clip value)."""
    import numpy as np

    return max(float(np.max(np.abs(v.numpy()))) for v in model.trainable_variables)


def timed_call(fn: Callable[..., Any], *args: Any) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def run_benchmark(benchmark, scale: Scale, fn: Callable[..., Any], *args: Any,
                  reference: Callable[[], Any] | None = None, budget: float | None = None) -> tuple[Any, list[float]]:
    """Warm ``fn`` up, then time it with ``benchmark.pedantic``; returns (last result, reference times).

    The first call traces and compiles (``reference`` is called too); a second, warm call sizes the
    rounds to the scale's budget (or ``budget`` seconds), unless the first already overran it: then
    the minimum rounds it is, without the extra call. pytest-benchmark times neither. With
    ``reference``, every round first runs ``reference()`` in pedantic's untimed setup and records its
    duration, so reference and target alternate call by call. With benchmarks disabled (a smoke
    test) ``fn`` runs once.
    """
    reference_times: list[float] = []

    def setup() -> None:
        if reference is not None:
            reference_times.append(timed_call(reference))

    if benchmark.disabled:
        return benchmark.pedantic(fn, args=args, setup=setup), reference_times
    budget = scale.seconds if budget is None else budget

    def one_round() -> float:
        return timed_call(fn, *args) + (timed_call(reference) if reference is not None else 0.0)

    per_round = one_round()
    if per_round < budget:  # the first call's time includes tracing: size the rounds on a warm call
        per_round = one_round()
    result = benchmark.pedantic(fn, args=args, setup=setup, rounds=scale.rounds(per_round, budget))
    return result, reference_times


def round_times(benchmark) -> list[float]:
    """Seconds of each timed round (empty when benchmarks are disabled)."""
    return list(benchmark.stats.stats.data) if benchmark.stats else []


def paired_overhead_pct(target_times: list[float], reference_times: list[float]) -> float:
    """Overhead of the target over the reference, % of the reference: median of paired differences.

    overhead = median_r(t_r − ref_r) / median_r(ref_r) · 100, where round r timed the reference
    right before the target. Pairing cancels load that drifts slower than one round; the median
    resists the rounds another process disturbed.
    """
    diffs = [t - r for t, r in zip(target_times, reference_times, strict=True)]
    return 100.0 * statistics.median(diffs) / statistics.median(reference_times)


@pytest.fixture(scope="session")
def matmul_peak(pytestconfig: pytest.Config) -> float:
    """This machine's float32 matmul GFLOP/s (:func:`bench.factories.matmul_peak_gflops`), measured once."""
    from bench.factories import matmul_peak_gflops

    pytestconfig.stash[MATMUL_PEAK] = matmul_peak_gflops()
    return pytestconfig.stash[MATMUL_PEAK]


@pytest.fixture(scope="session")
def flops_per_image() -> Callable[[str], float]:
    """``flops_per_image(setting)``: useful FLOPs of an iteration per real image consumed, counted once."""
    from bench.factories import step_flops
    from wgan.settings import get_setting

    cache: dict[str, float] = {}

    def get(setting: str) -> float:
        if setting not in cache:
            images = FLOPS_COUNT_BATCH * get_setting(setting).n_critic
            cache[setting] = step_flops(setting, FLOPS_COUNT_BATCH) / images
        return cache[setting]

    return get


@pytest.fixture(scope="session")
def train_steps() -> Callable[..., tuple[Callable, Any]]:
    """``train_steps(setting, batch, ...)`` → (step, real batch), built once per session.

    Keywords are :func:`wgan.notebook.make_step`'s, or ``notebook=True`` for the notebook's own
    step. The same configuration in two groups (the fused ``wgan-seed`` step at batch 64 in
    ``train_step`` and ``clipping``) is one step object, traced once.
    """
    from bench.factories import make_notebook_step, make_step
    from wgan.lipschitz import DEFAULT_CLIP_IMPL
    from wgan.settings import get_setting

    cache: dict[tuple, tuple[Callable, Any]] = {}

    def get(setting: str, batch: int, *, notebook: bool = False, clip_impl: str | None = None,
            mixed_precision: str | None = None, jit_compile: bool = False) -> tuple[Callable, Any]:
        if get_setting(setting).lipschitz == "clip":
            clip_impl = clip_impl or DEFAULT_CLIP_IMPL
        key = (setting, batch, notebook, clip_impl, mixed_precision, jit_compile)
        if key not in cache:
            cache[key] = (make_notebook_step(batch_size=batch) if notebook else
                          make_step(setting, batch_size=batch, clip_impl=clip_impl,
                                    mixed_precision=mixed_precision, jit_compile=jit_compile))
        return cache[key]

    return get
