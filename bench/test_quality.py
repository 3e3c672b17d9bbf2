"""Group `quality`: train the baseline's recipe of a setting, score it, and gate it.

Each benchmark is one round (training is the cost being timed); the scores go to ``extra_info`` and the
test fails when :mod:`studies.gate.gate` finds a regression against ``results/baseline/quality.json``, whose
thresholds come from the spread over the baseline's seeds. The run is the recipe's first seed, so an
unchanged code base on the baseline's machine reproduces that seed's scores and passes. So
``pytest bench/ --benchmark-only`` catches a change that makes the samples worse.

Settings: ``gan`` and ``wgan-gp`` at the default scale; ``big`` adds every other setting the baseline
holds. ``WGANBENCH_QUALITY_STEPS_SCALE`` (default 1) scales the recipe's steps: 2 trains twice the recipe
(which must still pass), 0.25 a quarter of it (a worse candidate: the test then fails).

At the ``quick`` scale (``make test``, CI) the group checks the gate itself, cheaply: it trains
`QUICK_FRACTION` of the recipe and asserts that the gate *does* flag that candidate as a regression. An
entry whose every gated limit is vacuous (past its value's range: `studies.gate.limits.Threshold.vacuous`)
can flag nothing, so there the check is skipped, naming the entry and its limits.
"""

from __future__ import annotations

import math
import os

import pytest

from evaluators import evaluate
from studies.gate import baseline as bl
from studies.gate import gate
from studies.gate.limits import thresholds
from wgan import trainer

QUALITY_SETTINGS = ("gan", "wgan-gp")
MORE_SETTINGS = ("wgan-seed", "wgan")  # at the big scale, where the baseline holds them
STEPS_SCALE = float(os.environ.get("WGANBENCH_QUALITY_STEPS_SCALE", "1"))
QUICK_FRACTION = 0.05


@pytest.fixture(scope="module")
def baseline() -> dict:
    return bl.load_baseline()


@pytest.mark.parametrize("setting", QUALITY_SETTINGS + MORE_SETTINGS)
def test_quality(benchmark, baseline, setting, tmp_path_factory, bench_scale):
    if setting in MORE_SETTINGS and bench_scale.name != "big":
        pytest.skip(f"{setting}: gated at --bench-scale big only")
    if setting not in baseline["settings"]:
        pytest.skip(f"{setting}: the baseline holds no recipe for it (`make baseline`)")
    path = bl.baseline_path()
    entry = bl.baseline_entry(baseline, setting, path)
    recipe, seed = entry["recipe"], entry["seeds"][0]
    quick = bench_scale.name == "quick"
    limits = thresholds(entry["scores"])
    if quick and all(limit.vacuous for limit in limits.values()):
        shown = ", ".join(f"{key} {limit.limit:.4g}" for key, limit in limits.items())
        pytest.skip(f"{setting}: every gated limit of its baseline entry is vacuous ({shown}, each past its value's "
                    "range or past what uniform noise scores), so the gate can flag no short run")
    steps = max(1, round(recipe["steps"] * (QUICK_FRACTION if quick else STEPS_SCALE)))
    out_dir = tmp_path_factory.mktemp(f"quality-{setting}")
    assert bl.current_classifier_hash() == entry["classifier_hash"], (
        f"{path} was scored through another classifier; refresh it with `make baseline`")

    def train_and_score() -> dict:
        trainer.train(setting, steps=steps, seed=seed, out_dir=out_dir, quiet=True, checkpoint_every=steps,
                      deterministic=True, width=recipe["width"], batch_size=recipe["batch_size"],
                      mixed_precision=recipe["mixed_precision"], jit_compile=recipe["jit_compile"],
                      ema_decay=recipe["ema_decay"], digits=recipe["digits"])
        return evaluate(str(out_dir), n=recipe["n"], seed=recipe["eval_seed"], generator=recipe["generator"])

    benchmark.group = "quality"
    scores = benchmark.pedantic(train_and_score, rounds=1, iterations=1, warmup_rounds=0)
    table = gate.compare_scores(entry["scores"], scores)
    benchmark.extra_info.update({"setting": setting, "steps": steps, "seed": seed, "n": recipe["n"],
                                 **{f"score_{k}": float(v) for k, v in scores.items()},
                                 "gate": "pass" if gate.passed(table) else "regression"})
    assert all(math.isfinite(float(v)) for v in scores.values())
    if quick:
        assert not gate.passed(table), (f"the gate missed a generator trained for {QUICK_FRACTION:.0%} of the "
                                        "baseline's steps:\n" + table.to_markdown(index=False))
    else:
        assert gate.passed(table), "sample quality regressed:\n" + table.to_markdown(index=False)
