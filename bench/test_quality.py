"""Group `quality`: train `gan` and `wgan-gp` on the baseline's fixed-seed recipe, score, and gate.

Each benchmark is one round (training is the cost being timed); the scores go to ``extra_info`` and
the test fails when :mod:`studies.gate` finds a regression against ``results/baseline/quality.json``.
So ``pytest bench/ --benchmark-only`` catches a change that makes the samples worse. The budget is
the baseline's own recipe times ``WGANBENCH_QUALITY_STEPS_SCALE`` (default 1): 4 trains a larger
budget (which must still pass), 0.1 trains a tenth of it (a worse candidate: the test then fails).

At the ``quick`` bench scale (``make test``, CI) the group checks the gate itself, cheaply: it trains
a tenth of the recipe and asserts that the gate *does* flag that candidate as a regression.
"""

from __future__ import annotations

import math
import os

import pytest

from evaluators import evaluate
from studies import gate
from wgan import trainer

QUALITY_SETTINGS = ("gan", "wgan-gp")
STEPS_SCALE = float(os.environ.get("WGANBENCH_QUALITY_STEPS_SCALE", "1"))
QUICK_FRACTION = 0.1


@pytest.fixture(scope="module")
def baseline() -> dict:
    return gate.load_baseline()


@pytest.mark.parametrize("setting", QUALITY_SETTINGS)
def test_quality(benchmark, baseline, setting, tmp_path_factory, bench_scale):
    entry = gate.baseline_entry(baseline, setting, gate.baseline_path())
    recipe = entry["recipe"]
    quick = bench_scale.name == "quick"
    steps = max(1, round(recipe["steps"] * (QUICK_FRACTION if quick else STEPS_SCALE)))
    out_dir = tmp_path_factory.mktemp(f"quality-{setting}")

    # The quick check skips XLA: its compile would cost more than the tenth of a recipe it trains.
    jit_compile = bool(recipe.get("jit_compile")) and not quick

    def train_and_score() -> dict:
        trainer.train(setting, steps=steps, seed=recipe["seed"], out_dir=out_dir, quiet=True, checkpoint_every=steps,
                      deterministic=True, width=recipe.get("width"), batch_size=recipe.get("batch_size"),
                      mixed_precision=recipe.get("mixed_precision"), jit_compile=jit_compile)
        return evaluate(str(out_dir), n=recipe["n"], seed=recipe["eval_seed"])

    benchmark.group = "quality"
    scores = benchmark.pedantic(train_and_score, rounds=1, iterations=1, warmup_rounds=0)
    table = gate.compare_scores(entry["scores"], scores)
    benchmark.extra_info.update({"setting": setting, "steps": steps, "seed": recipe["seed"],
                                 "n": recipe["n"], **{f"score_{k}": float(v) for k, v in scores.items()},
                                 "gate": "pass" if gate.passed(table) else "regression"})
    assert all(math.isfinite(float(v)) for v in scores.values())
    if quick:
        assert not gate.passed(table), "the gate missed a generator trained for a tenth of the baseline's steps"
    else:
        assert gate.passed(table), "sample quality regressed:\n" + table.to_markdown(index=False)
