"""The EMA of the generator's weights (``--ema-decay``): its closed form over real training steps, a resumed
run's EMA bitwise equal to an unbroken one's, the files a run writes, and `evaluate --generator ema`.

Runs are tiny (width 8, batch 16, a few steps of `gan` on real MNIST); a decay of 0.5 keeps the average
visibly apart from the last weights after so few steps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from evaluators import evaluate
from evaluators.options import GENERATOR_FILES
from studies.cli import app as cli
from studies.gate.baseline import baseline_entry
from wgan import rundir
from wgan.errors import WganbenchError
from wgan.train_options import TrainOptions
from wgan.trainer import train

DECAY = 0.5
TINY = {"width": 8, "batch_size": 16, "quiet": True, "deterministic": False, "ema_decay": DECAY}
BASELINE = Path(__file__).resolve().parents[1] / "results" / "baseline" / "quality.json"


class Weights(keras.callbacks.Callback):
    """The generator's weights (BatchNorm statistics included) before training and after each step."""

    def on_train_begin(self, logs=None) -> None:
        self.seen = [self.model.generator.get_weights()]

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self.seen.append(self.model.generator.get_weights())

    def on_train_end(self, logs=None) -> None:
        self.gan = self.model


@pytest.fixture(scope="module")
def run(tmp_path_factory, mnist) -> tuple[Path, Weights]:
    """A 4-step `gan` run with the EMA, and the weights it went through."""
    out = tmp_path_factory.mktemp("ema")
    weights = Weights()
    train("gan", steps=4, checkpoint_every=2, seed=1, out_dir=out, data=mnist[0][0], callbacks=[weights], **TINY)
    return out, weights


def test_ema_is_the_closed_form_over_the_recorded_weights(run) -> None:
    _, weights = run
    decay, rest = np.float32(DECAY), np.float32(1 - DECAY)
    expected = weights.seen[0]  # the EMA starts at the initial weights
    for step in weights.seen[1:]:
        expected = [decay * e + rest * w for e, w in zip(expected, step, strict=True)]
    ema = weights.gan.generator_ema.get_weights()
    # The same float32 operations in the same order as TensorFlow's: equal bit for bit.
    for got, want in zip(ema, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    moved = [not np.array_equal(e, w) for e, w in zip(ema, weights.seen[-1], strict=True)]
    assert all(moved), "every weight, BatchNorm statistics included, is averaged, not copied"


def test_run_writes_the_ema_generator_and_a_raw_sample_grid(run, mnist, tmp_path) -> None:
    out, weights = run
    assert json.loads((out / rundir.CONFIG_FILE).read_text())["ema_decay"] == DECAY
    ema = keras.saving.load_model(out / rundir.GENERATOR_EMA_FILE, compile=False)
    for got, want in zip(ema.get_weights(), weights.gan.generator_ema.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    raw = keras.saving.load_model(out / rundir.GENERATOR_FILE, compile=False)
    grid = np.asarray(Image.open(out / rundir.SAMPLES_DIR / rundir.LATEST_GRID))
    np.testing.assert_array_equal(grid, rundir.sample_grid(raw, rundir.fixed_noise(1, 100)))
    assert (rundir.GENERATOR_FILE, rundir.GENERATOR_EMA_FILE) == (GENERATOR_FILES["raw"], GENERATOR_FILES["ema"])
    plain = tmp_path / "plain"
    train("gan", steps=2, checkpoint_every=2, seed=1, out_dir=plain, data=mnist[0][0], **{**TINY, "ema_decay": None})
    assert (plain / rundir.GENERATOR_FILE).is_file() and not (plain / rundir.GENERATOR_EMA_FILE).exists()


def test_evaluate_scores_the_ema_generator(run, capsys) -> None:
    out, _ = run
    small = {"n": 1000, "metrics": ("fid", "modes")}  # FID needs n > its 576 features
    ema = evaluate(out, generator="ema", **small)
    assert ema == evaluate(out / rundir.GENERATOR_EMA_FILE, **small)
    raw = evaluate(out, **small)
    assert raw == evaluate(out / rundir.GENERATOR_FILE, **small) and raw["fid"] != ema["fid"]
    with pytest.raises(WganbenchError, match="picks generator_ema.keras"):
        evaluate(out / rundir.GENERATOR_FILE, generator="ema", **small)
    assert cli.main(["evaluate", str(out / rundir.CHECKPOINT_DIR), "--generator", "ema", "--n", "1000"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no generator_ema.keras" in err and "--ema-decay" in err


@pytest.mark.parametrize("decay", [1.0, -0.1, float("nan"), "0.9"])
def test_bad_decay_is_refused(decay) -> None:
    with pytest.raises(WganbenchError, match="ema_decay must be in"):
        TrainOptions(ema_decay=decay)


def test_a_baseline_recorded_before_the_option_has_no_ema() -> None:
    """The committed wgan-gp entry with its recipe's ema_decay taken out, as entries recorded before the
    option existed were: it reads the option's default (no EMA), and the rest of the entry is unchanged."""
    held = json.loads(BASELINE.read_text())
    entry = held["settings"]["wgan-gp"]
    assert entry["recipe"].pop("ema_decay", None) is None
    read = baseline_entry(held, "wgan-gp", BASELINE)
    assert read["recipe"]["ema_decay"] is None and read["scores"] == entry["scores"]


def wganbench(*args: str) -> list[str]:
    return [sys.executable, "-m", "studies.cli", "train", *args]


def test_resumed_run_keeps_the_ema_bitwise(tmp_path) -> None:
    """6 steps straight vs 3 steps then a resume to 6, in fresh processes (op determinism on): without the
    EMA in the checkpoint the resumed run would restart it at its initial weights. A third run without the
    EMA trains the same raw generator."""
    common = ["gan", "--width", "8", "--batch-size", "16", "--checkpoint-every", "3", "--seed", "2",
              "--ema-decay", str(DECAY), "--quiet", "--threads", "1"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    run = {"timeout": 240, "env": env, "check": True}
    subprocess.run(wganbench(*common, "--steps", "6", "--out-dir", str(tmp_path / "a")), **run)
    subprocess.run(wganbench(*common, "--steps", "3", "--out-dir", str(tmp_path / "b")), **run)
    subprocess.run(wganbench(*common, "--steps", "6", "--out-dir", str(tmp_path / "b"), "--resume"), **run)
    plain = [arg for arg in common if arg not in ("--ema-decay", str(DECAY))]
    subprocess.run(wganbench(*plain, "--steps", "6", "--out-dir", str(tmp_path / "c")), **run)
    # The resumed EMA and raw generators equal the unbroken run's; keeping an EMA leaves the raw one unchanged.
    for name, runs in ((rundir.GENERATOR_EMA_FILE, "ab"), (rundir.GENERATOR_FILE, "abc")):
        first, *others = (keras.saving.load_model(tmp_path / d / name, compile=False).get_weights() for d in runs)
        for other in others:
            for wa, wb in zip(first, other, strict=True):
                np.testing.assert_array_equal(wa, wb)
