"""Group ``train_step``: one training iteration (n_critic critic updates + one generator update).

Every setting runs compiled at every batch of the scale. At the notebook's batch (256 by default)
the ``wgan-seed`` recipe also runs as the notebook's own eager step with per-layer NumPy clipping
(variant ``notebook``, the baseline of the report's speed-ups; it is also timed at the other
batches), and with XLA (``jit_compile``) in float32 and bfloat16 mixed precision (the scale's
``variants``). bfloat16 without XLA is in the ``quick`` and ``big`` scales only: on a CPU without
AVX-512 BF16 or AMX, TensorFlow has no fast bfloat16 kernels and that step is many times slower
than float32.

images/s counts real images the critic consumes: batch × n_critic per iteration. Each row also
reports the iteration's useful FLOPs per such image (counted from the traced graph by
:func:`bench.factories.step_flops`), the GFLOP/s achieved, and that as a percentage of this
machine's float32 matrix-multiply rate (``matmul_peak_gflops`` in the machine info). The report's
speed-up divides images/s by the notebook row's at the same batch; the ``wgan-seed`` variants also
carry ``speedup_paired``, measured against the notebook step run in the setup of every round.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from functools import partial

import pytest

from bench.conftest import Scale, max_abs_weight, round_times, run_benchmark, scale_from
from studies.report.bench import NOTEBOOK_VARIANT
from wgan.lipschitz import DEFAULT_CLIP_IMPL
from wgan.settings import SETTINGS

NOTEBOOK_SETTING = "wgan-seed"  # the notebook's recipe: Adam 1e-4, clip 0.01, one critic step
# variant → (mixed_precision, jit_compile) of the compiled step
COMPILED = {"compiled": (None, False), "bfloat16": ("bfloat16", False), "xla": (None, True),
            "xla-bfloat16": ("bfloat16", True)}
# Variants also timed against the notebook step round by round (speedup_paired): the two that the
# goals name, float32 and bfloat16; each pairing costs a notebook step per round.
PAIRED_VARIANTS = ("compiled", "xla-bfloat16")


@dataclass(frozen=True)
class Case:
    setting: str
    batch: int
    variant: str

    @property
    def id(self) -> str:
        return f"{self.setting}-b{self.batch}-{self.variant}"

    @property
    def precision(self) -> str:
        return "bfloat16" if self.variant != NOTEBOOK_VARIANT and COMPILED[self.variant][0] else "float32"

    @property
    def clip_impl(self) -> str:
        if self.variant == NOTEBOOK_VARIANT:
            return "numpy"
        clipping = SETTINGS[self.setting].lipschitz
        return DEFAULT_CLIP_IMPL if clipping == "clip" else clipping


def cases(scale: Scale) -> list[Case]:
    out = []
    for batch in scale.batches:
        out.append(Case(NOTEBOOK_SETTING, batch, NOTEBOOK_VARIANT))
        out += [Case(name, batch, "compiled") for name in SETTINGS]
    return out + [Case(NOTEBOOK_SETTING, scale.notebook_batch, variant) for variant in scale.variants]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        all_cases = cases(scale_from(metafunc.config))
        metafunc.parametrize("case", all_cases, ids=[c.id for c in all_cases])


def test_train_step(benchmark, bench_scale, train_steps, flops_per_image, matmul_peak, case: Case) -> None:
    if case.variant == NOTEBOOK_VARIANT:
        step, batch = train_steps(case.setting, case.batch, notebook=True)
    else:
        mixed_precision, jit_compile = COMPILED[case.variant]
        step, batch = train_steps(case.setting, case.batch, mixed_precision=mixed_precision,
                                  jit_compile=jit_compile)
    benchmark.group = "train_step"
    # The notebook's recipe, compiled, also alternates with the notebook's own step round by round:
    # its speed-up then holds even while other processes load the machine unevenly.
    reference = None
    if case.setting == NOTEBOOK_SETTING and case.variant in PAIRED_VARIANTS:
        notebook_step, notebook_batch = train_steps(case.setting, case.batch, notebook=True)
        reference = partial(notebook_step, notebook_batch)
    logs, reference_times = run_benchmark(benchmark, bench_scale, step, batch, reference=reference)

    assert logs and all(math.isfinite(v) for v in logs.values()), logs
    setting = SETTINGS[case.setting]
    if case.variant != NOTEBOOK_VARIANT and setting.lipschitz == "clip":
        assert max_abs_weight(step.gan.critic) <= setting.clip_value
    images = case.batch * (setting.n_critic if case.variant != NOTEBOOK_VARIANT else 1)
    benchmark.extra_info.update(setting=case.setting, variant=case.variant, clip_impl=case.clip_impl,
                                batch=case.batch, precision=case.precision)
    times = round_times(benchmark)
    if times:
        rate = images / statistics.median(times)
        # The notebook's step does the wgan-seed step's arithmetic; bfloat16 does the same FLOPs.
        flops = flops_per_image(case.setting)
        benchmark.extra_info.update(images_per_s=rate, gflop_per_image=flops / 1e9, gflops=rate * flops / 1e9,
                                    pct_of_peak=100 * rate * flops / 1e9 / matmul_peak)
    if times and reference:
        benchmark.extra_info["speedup_paired"] = statistics.median(reference_times) / statistics.median(times)


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512_BF16 or AMX): only then is plain bfloat16 timed."""
    from wgan.machine import cpuinfo

    return bool({"avx512_bf16", "amx_bf16"} & cpuinfo().flags)


def test_bfloat16_paired(benchmark, bench_scale, train_steps) -> None:
    """Plain (oneDNN, no XLA) mixed_bfloat16 against float32 on the same step, alternating round by round:
    ``speedup_paired`` is float32's median step time over bfloat16's (above 1: bfloat16 is faster)."""
    if not native_bfloat16():
        pytest.skip("no native bfloat16 on this CPU (avx512_bf16 or amx_bf16): TensorFlow emulates it, many times "
                    "slower")
    from wgan.machine import cpuinfo

    batch = bench_scale.notebook_batch
    step, images = train_steps(NOTEBOOK_SETTING, batch, mixed_precision="bfloat16")
    float32_step, float32_images = train_steps(NOTEBOOK_SETTING, batch)
    benchmark.group = "train_step_pairs"
    logs, reference_times = run_benchmark(benchmark, bench_scale, step, images,
                                          reference=partial(float32_step, float32_images))
    assert logs and all(math.isfinite(v) for v in logs.values()), logs
    benchmark.extra_info.update(setting=NOTEBOOK_SETTING, batch=batch, variant="bfloat16 vs float32",
                                cpu_model=cpuinfo().label)
    times = round_times(benchmark)
    if times:
        benchmark.extra_info["speedup_paired"] = statistics.median(reference_times) / statistics.median(times)


# A child process times the step with op determinism on or off: TensorFlow can only switch it on, for
# the whole process, so each side of the pair is a process of its own.
DETERMINISM_CHILD = """
import json, statistics, sys, time
from wgan.console import configure_process
configure_process()
import tensorflow as tf
if sys.argv[1] == "on":
    tf.config.experimental.enable_op_determinism()
from bench.factories import make_step
step, images = make_step(sys.argv[2], batch_size=int(sys.argv[3]))
step(images)
times = []
for _ in range(int(sys.argv[4])):
    t0 = time.perf_counter()
    step(images)
    times.append(time.perf_counter() - t0)
print(json.dumps(statistics.median(times)))
"""
DETERMINISM_STEPS = 20  # timed steps per process, after one that traces


def test_op_determinism_paired(benchmark, bench_scale) -> None:
    """The step with op determinism on against off, each in a fresh process, the two alternating per round:
    ``determinism_cost`` is the median on/off ratio of the per-process median step times."""
    import json
    import subprocess
    import sys

    from wgan.machine import cpuinfo

    batch = bench_scale.batches[0]
    ratios: list[float] = []

    def pair() -> None:
        medians = {}
        for mode in ("on", "off"):
            done = subprocess.run([sys.executable, "-c", DETERMINISM_CHILD, mode, NOTEBOOK_SETTING, str(batch),
                                   str(DETERMINISM_STEPS)], capture_output=True, text=True, check=True)
            medians[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        ratios.append(medians["on"] / medians["off"])

    benchmark.group = "train_step_pairs"
    benchmark.pedantic(pair, rounds=max(1, min(3, bench_scale.min_rounds)), iterations=1, warmup_rounds=0)
    assert ratios and all(r > 0 for r in ratios)
    benchmark.extra_info.update(setting=NOTEBOOK_SETTING, batch=batch, variant="op determinism on vs off",
                                determinism_cost=statistics.median(ratios), cpu_model=cpuinfo().label)
