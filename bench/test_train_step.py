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
