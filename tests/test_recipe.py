"""A recipe declared once: an option's roles on its field reach config.json, the resume rule, the gate's
recipe check and the contrast, with nothing else edited."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

import pytest

from studies.gate.candidate import EVAL_KEYS, RECIPE_KEYS, from_run, recipe_keys
from studies.report.contrast import RECIPE
from studies.run.compare import CompareOptions
from wgan.errors import WganbenchError
from wgan.options import GATE, RESUME, SOURCE, option
from wgan.options import RECIPE as RECIPE_ROLE
from wgan.paths import SUITE_ROOT
from wgan.rundir import CONFIG_FILE, RESUME_KEYS
from wgan.train_options import TrainOptions, resume_keys
from wgan.trainer import train

TINY = {"width": 8, "batch_size": 16, "quiet": True, "deterministic": False, "checkpoint_every": 1}


@dataclass(frozen=True)
class LabelledOptions(TrainOptions):
    """Training options with one more recipe option, declared as any other."""

    label: str = option("plain", "a new training option", roles=(RECIPE_ROLE, RESUME, GATE))


def test_a_new_option_is_in_config_resume_and_the_gate(tmp_path, mnist) -> None:
    data = mnist[0][0][:512]
    train("gan", options=LabelledOptions(steps=1, out_dir=str(tmp_path), label="mine", **TINY), data=data)
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    assert config["label"] == "mine"
    assert "label" in resume_keys(LabelledOptions) and "label" not in RESUME_KEYS
    with pytest.raises(WganbenchError, match="differs in label"):
        train("gan", options=LabelledOptions(steps=2, out_dir=str(tmp_path), label="other", resume=True, **TINY),
              data=data)
    assert "label" in recipe_keys(LabelledOptions) and "label" not in RECIPE_KEYS
    candidate = from_run(tmp_path, options=LabelledOptions)
    assert candidate.recipe["label"] == "mine" and candidate.recipe["steps"] == 1
    # The run read as a plain TrainOptions run has exactly the gate's usual recipe.
    assert set(from_run(tmp_path).recipe) == {*RECIPE_KEYS, "seed"} - set(EVAL_KEYS)


def test_the_derived_keys_are_the_committed_formats() -> None:
    """Deriving the lists changed none of them: the committed baseline's recipe and the old resume rule."""
    baseline = json.loads((SUITE_ROOT / "results" / "baseline" / "quality.json").read_text())
    # ema_decay, digits and generator came after the baseline: its entries read them as their defaults (none,
    # none, raw).
    assert all(set(entry["recipe"]) | {"ema_decay", "digits", "generator"} == set(RECIPE_KEYS)
               for entry in baseline["settings"].values())
    assert set(RESUME_KEYS) == {"setting", "seed", "mixed_precision", "clip_impl", "dataset", "ema_decay",
                                "digits"}
    assert set(RECIPE) == {"dataset", "width", "budget_seconds", "steps", "batch_size", "n", "points",
                           "mixed_precision", "jit_compile", "ema_decay"}


def test_a_study_forwards_its_training_options_without_listing_them() -> None:
    options = CompareOptions(steps=4, width=8, batch_size=32, jit_compile=True, threads=1)
    run = options.train_options(Path("runs/x"), 2, seed=3)
    assert (run.width, run.batch_size, run.jit_compile, run.threads, run.seed, run.steps) == (8, 32, True, 1, 3, 2)
    assert run.out_dir == str(Path("runs/x")) and run.resume
    inherited = {f.name for f in fields(CompareOptions) if f.metadata.get(SOURCE) is TrainOptions}
    assert inherited == {"width", "batch_size", "jit_compile", "mixed_precision", "dataset", "quiet", "threads"}
