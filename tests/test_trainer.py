"""Training runs: every setting trains and writes its run directory; runs resume, refuse bad input,
stop on NaN, and a killed run resumes to the same generator as an unbroken one.

Runs here are short (a few steps, batch 32) and skip op determinism (a process-wide switch) except
in subprocesses; the kill-and-resume and MirroredStrategy checks run in their own processes.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from studies.cli import app as cli
from wgan.errors import WganbenchError
from wgan.gan import CRITIC_LOSS, GENERATOR_LOSS, LOGGED, PENALTY, WASSERSTEIN
from wgan.recorder import HISTORY_COLUMNS
from wgan.rundir import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    GENERATOR_FILE,
    HISTORY_FILE,
    SAMPLES_DIR,
    STATUS_BUDGET,
    STATUS_COMPLETE,
    STATUS_DIVERGED,
    SUMMARY_FILE,
    SUMMARY_STATUS,
    SUMMARY_STEPS,
)
from wgan.settings import SETTINGS
from wgan.stream import training_data
from wgan.trainer import TrainingDiverged, train

STEPS = 3
BATCH = 32
FAST = {"batch_size": BATCH, "checkpoint_every": 2, "quiet": True, "deterministic": False}


class Capture(keras.callbacks.Callback):
    """Keeps the trained GAN (a caller's callback sees .generator and .critic)."""

    def on_train_end(self, logs=None) -> None:
        self.gan = self.model


@pytest.fixture(scope="module")
def x_train(mnist) -> np.ndarray:
    return mnist[0][0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, x_train) -> dict:
    """Each setting trained for 3 steps: name → (summary, GAN, run dir)."""
    out = {}
    for name in SETTINGS:
        capture = Capture()
        run_dir = tmp_path_factory.mktemp(name)
        summary = train(name, steps=STEPS, seed=1, out_dir=run_dir, data=x_train, callbacks=[capture], **FAST)
        out[name] = (summary, capture.gan, run_dir)
    return out


def read_history(run_dir: Path) -> list[dict]:
    with (run_dir / HISTORY_FILE).open() as f:
        return list(csv.DictReader(f))


def snapshot(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}


def test_training_data_visits_each_image_once_per_epoch(x_train) -> None:
    pool = x_train[:60]  # real MNIST digits, all distinct
    assert len({img.tobytes() for img in pool}) == 60
    stream = [b.numpy() for b in training_data(pool, 5, 2, seed=4).take(12)]  # 2 epochs
    assert stream[0].shape == (5, 2, 28, 28, 1) and stream[0].dtype == np.float32
    assert stream[0].min() == -1.0 and stream[0].max() == 1.0
    as_uint8 = [np.rint(b * 127.5 + 127.5).astype(np.uint8).reshape(-1, 28, 28) for b in stream]
    first, second = np.concatenate(as_uint8[:6]), np.concatenate(as_uint8[6:])
    for epoch in (first, second):
        assert sorted(img.tobytes() for img in epoch) == sorted(img.tobytes() for img in pool)
    assert not np.array_equal(first, second)  # a new order each epoch
    resumed = next(iter(training_data(pool, 5, 2, seed=4, start_step=7))).numpy()
    np.testing.assert_array_equal(resumed, stream[7])
    with pytest.raises(WganbenchError, match="uint8"):
        training_data(pool.astype(np.float32), 5, 2, seed=4)
    with pytest.raises(WganbenchError, match="a step needs 120 images"):
        training_data(pool, 60, 2, seed=4)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_each_setting_writes_its_run_directory(runs, name: str) -> None:
    summary, gan, run_dir = runs[name]
    assert summary[SUMMARY_STATUS] == STATUS_COMPLETE and summary[SUMMARY_STEPS] == STEPS
    assert json.loads((run_dir / SUMMARY_FILE).read_text()) == summary
    config = json.loads((run_dir / CONFIG_FILE).read_text())
    assert config["setting"]["name"] == name and config["setting"]["batch_size"] == BATCH and config["seed"] == 1
    rows = read_history(run_dir)
    assert list(rows[0]) == list(HISTORY_COLUMNS) and [int(r["step"]) for r in rows] == [1, 2, 3]
    assert all(np.isfinite(float(r[m])) for r in rows for m in LOGGED)
    assert all((float(r[PENALTY]) > 0) == (name == "wgan-gp") for r in rows)
    for png in ("step_000002.png", "step_000003.png", "latest.png"):
        grid = np.asarray(Image.open(run_dir / SAMPLES_DIR / png))
        assert grid.shape == (8 * 30 + 2, 8 * 30 + 2) and grid.dtype == np.uint8
    generator = keras.saving.load_model(run_dir / GENERATOR_FILE)
    for a, b in zip(generator.get_weights(), gan.generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert (run_dir / CHECKPOINT_DIR / "checkpoint").is_file()
    critic_updates = sum(gan.setting.critic_updates(t) for t in range(STEPS))  # wgan: 100 per warm-up step
    assert gan.step == STEPS and int(gan.d_optimizer.iterations.numpy()) == critic_updates
    assert critic_updates == (300 if name == "wgan" else STEPS * gan.setting.n_critic)


def test_wgan_clips_every_critic_weight(runs) -> None:
    """Clipping reaches every trainable critic weight, and only those (the critic has no BatchNorm; the
    generator's moving statistics are not the critic's and are never clipped)."""
    _, gan, _ = runs["wgan"]
    weights = np.concatenate([v.numpy().ravel() for v in gan.critic.trainable_variables])
    assert np.abs(weights).max() <= 0.01 and np.isclose(np.abs(weights).max(), 0.01)
    assert not gan.critic.non_trainable_variables or all(
        "seed" in v.path for v in gan.critic.non_trainable_variables)  # only Dropout seed states
    _, unclipped, _ = runs["gan"]
    assert np.abs(np.concatenate([v.numpy().ravel() for v in unclipped.critic.trainable_variables])).max() > 0.01


def test_existing_runs_are_never_overwritten(runs, x_train) -> None:
    _, _, run_dir = runs["gan"]
    before = snapshot(run_dir)
    with pytest.raises(WganbenchError, match="holds a run of setting 'gan'.*--resume.*--force"):
        train("wgan", steps=STEPS, seed=1, out_dir=run_dir, data=x_train, **FAST)
    with pytest.raises(WganbenchError, match="already holds a run of setting 'gan'"):
        train("gan", steps=STEPS, seed=1, out_dir=run_dir, data=x_train, **FAST)
    with pytest.raises(WganbenchError, match="differs in setting"):
        train("wgan", steps=STEPS, seed=1, out_dir=run_dir, data=x_train, resume=True, **FAST)
    assert snapshot(run_dir) == before


def test_finished_run_resumes_as_complete(runs, x_train) -> None:
    _, _, run_dir = runs["wgan-seed"]
    before = snapshot(run_dir)
    summary = train("wgan-seed", steps=STEPS, seed=1, out_dir=run_dir, data=x_train, resume=True, **FAST)
    assert summary[SUMMARY_STATUS] == STATUS_COMPLETE and summary[SUMMARY_STEPS] == STEPS
    assert snapshot(run_dir) == before


def test_corrupt_checkpoints_fall_back_then_are_refused(runs, x_train, tmp_path, capsys) -> None:
    import shutil

    def corrupt(run_dir: Path, number: int) -> None:
        data_file = next((run_dir / CHECKPOINT_DIR).glob(f"ckpt-{number}.data-*"))
        data_file.write_bytes(data_file.read_bytes()[:1000])

    run_dir = tmp_path / "run"
    shutil.copytree(runs["gan"][2], run_dir)  # checkpoints at steps 2 and 3
    corrupt(run_dir, 3)
    summary = train("gan", steps=4, seed=1, out_dir=run_dir, data=x_train, resume=True, **FAST)
    warning = capsys.readouterr().err
    assert "cannot restore" in warning and "ckpt-3" in warning and "resumed from" in warning and "ckpt-2" in warning
    assert summary[SUMMARY_STEPS] == 4 and [int(r["step"]) for r in read_history(run_dir)] == [1, 2, 3, 4]

    broken = tmp_path / "broken"
    shutil.copytree(runs["gan"][2], broken)
    corrupt(broken, 2)
    corrupt(broken, 3)
    before = snapshot(broken)
    with pytest.raises(WganbenchError, match="cannot restore .*ckpt-3.*nor .*ckpt-2.*--force"):
        train("gan", steps=5, seed=1, out_dir=broken, data=x_train, resume=True, **FAST)
    assert snapshot(broken) == before
    summary = train("gan", steps=1, seed=1, out_dir=broken, data=x_train, force=True, **FAST)
    assert summary[SUMMARY_STEPS] == 1 and len(read_history(broken)) == 1
    assert sorted(p.name for p in (broken / SAMPLES_DIR).iterdir()) == ["latest.png", "step_000001.png"]


@pytest.mark.parametrize("kwargs, message", [
    ({"steps": 0}, "steps must be a positive int"),
    ({"steps": -5}, "steps must be a positive int"),
    ({"batch_size": -1}, "batch_size must be a non-negative int"),  # 0 = the setting's own, on every command
    ({"width": -16}, "width must be a non-negative int"),
    ({"budget_seconds": -1.0}, "budget_seconds must be a finite positive number"),
    ({"budget_seconds": float("nan")}, "budget_seconds must be a finite positive number"),
    ({"budget_seconds": float("inf")}, "budget_seconds must be a finite positive number"),
    ({"batch_size": 70_000}, "a step needs 70000 images"),
    ({"clip_impl": "clamp"}, "unknown clipping implementation"),
    ({"mixed_precision": "float16"}, "unknown mixed precision"),
    ({"strategy": "tpu"}, "unknown strategy"),
])
def test_bad_arguments(tmp_path, kwargs: dict, message: str) -> None:
    args = {"steps": 1, **FAST, **kwargs}
    with pytest.raises(WganbenchError, match=message):
        train("wgan-seed", out_dir=tmp_path / "run", **args)
    assert not (tmp_path / "run" / CONFIG_FILE).exists()


def test_cli_reports_bad_input_in_one_line(tmp_path, capsys) -> None:
    assert cli.main(["train", "wgan-xx", "--out-dir", str(tmp_path)]) == 2
    assert "unknown setting 'wgan-xx'; known settings: gan, wgan-seed, wgan, wgan-gp" in capsys.readouterr().err
    assert cli.main(["train", "gan", "--steps", "0", "--out-dir", str(tmp_path)]) == 2
    assert "steps must be a positive int" in capsys.readouterr().err


def test_digits_trains_on_those_labels_only(tmp_path, mnist, monkeypatch, capsys) -> None:
    """``--digits 1,0``: the stream is built from exactly MNIST's training images of labels 0 and 1, in their
    order; config.json records the digits, so the gate's recipe differs; a digit outside 0-9 is exit 2."""
    from studies.gate import candidate, gate
    from wgan import trainer

    streamed = []

    def spy(images, *args, **kwargs):
        streamed.append(images)
        return training_data(images, *args, **kwargs)

    monkeypatch.setattr(trainer, "training_data", spy)
    flags = ["--steps", "2", "--width", "8", "--batch-size", "16", "--checkpoint-every", "2", "--no-deterministic",
             "--quiet", "--out-dir", str(tmp_path / "run")]
    assert cli.main(["train", "gan", "--digits", "1,0", *flags]) == 0
    (x, y), _ = mnist
    np.testing.assert_array_equal(streamed[0], x[(y == 0) | (y == 1)])
    assert json.loads((tmp_path / "run" / CONFIG_FILE).read_text())["digits"] == [0, 1]
    recipe = candidate.from_run(tmp_path / "run").recipe
    assert recipe["digits"] == [0, 1]
    assert gate.recipe_differences({**recipe, "digits": None}, recipe)["digits"] == (None, [0, 1])
    assert cli.main(["train", "gan", "--digits", "0,10", *flags]) == 2
    assert "digits must be distinct labels among 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, got 0, 10" in capsys.readouterr().err


class PoisonCritic(keras.callbacks.Callback):
    """After step 1 (once its checkpoint is written) sets one critic weight to NaN."""

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if batch == 0:
            kernel = self.model.critic.trainable_variables[0]
            kernel.assign(np.where(np.arange(kernel.shape[-1]) == 0, np.nan, kernel.numpy()).astype("float32"))


def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, x_train) -> None:
    with pytest.raises(TrainingDiverged, match="became nan at step 2.*last good checkpoint .step 1."):
        train(dataclasses.replace(SETTINGS["gan"], width=16), steps=5, out_dir=tmp_path, data=x_train,
              callbacks=[PoisonCritic()],
              **{**FAST, "checkpoint_every": 1})
    assert [int(r["step"]) for r in read_history(tmp_path)] == [1]
    assert json.loads((tmp_path / SUMMARY_FILE).read_text())[SUMMARY_STATUS] == STATUS_DIVERGED
    assert sorted(p.name for p in (tmp_path / CHECKPOINT_DIR).glob("*.index")) == ["ckpt-1.index"]
    generator = keras.saving.load_model(tmp_path / GENERATOR_FILE)
    assert all(np.isfinite(w).all() for w in generator.get_weights())


def test_budget_and_progress(tmp_path, x_train, capsys) -> None:
    summary = train(dataclasses.replace(SETTINGS["gan"], width=16), budget_seconds=0.5, out_dir=tmp_path, data=x_train,
                    **{**FAST, "quiet": False, "batch_size": 16})
    assert summary[SUMMARY_STATUS] == STATUS_BUDGET and summary[SUMMARY_STEPS] >= 1
    assert len(read_history(tmp_path)) == summary[SUMMARY_STEPS]
    shown = capsys.readouterr().out  # not a terminal: one line per checkpoint and at the end, no bar
    assert f"{CRITIC_LOSS} " in shown and "img/s" in shown and "budget" in shown and "\r" not in shown
    assert (tmp_path / "tensorboard").is_dir()


# --------------------------------------------------------------------------------------------
# subprocesses: op determinism and logical devices are process-wide


def test_kill_inside_a_save_resumes_with_a_complete_history(tmp_path, x_train, monkeypatch) -> None:
    """A crash after history.csv and the generator are written but before the checkpoint (the commit
    point) resumes from the previous checkpoint with every row and the right training time."""
    from wgan import recorder

    train("gan", steps=2, out_dir=tmp_path, data=x_train, **{**FAST, "checkpoint_every": 2})
    real_save = recorder.rundir.save_generator

    def crash_at_step_4(path, generator):
        real_save(path, generator)
        if len(read_history(tmp_path)) == 4:
            raise KeyboardInterrupt  # killed between the generator and the checkpoint
    monkeypatch.setattr(recorder.rundir, "save_generator", crash_at_step_4)
    with pytest.raises(KeyboardInterrupt):
        train("gan", steps=4, out_dir=tmp_path, data=x_train, resume=True, **{**FAST, "checkpoint_every": 2})
    assert len(read_history(tmp_path)) == 4 and tf.train.latest_checkpoint(tmp_path / CHECKPOINT_DIR).endswith("-2")
    monkeypatch.undo()
    summary = train("gan", steps=4, out_dir=tmp_path, data=x_train, resume=True, **{**FAST, "checkpoint_every": 2})
    rows = read_history(tmp_path)
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4] and summary[SUMMARY_STEPS] == 4
    times = [float(r["wall_time"]) for r in rows]
    assert times == sorted(times) and summary["wall_seconds"] == pytest.approx(times[-1], abs=1e-3)


def test_tracing_and_saving_are_not_training_time(tmp_path, x_train, monkeypatch) -> None:
    """Slow tracing (Python in the step runs only while tracing) and slow saves stay off the clock."""
    from wgan import recorder
    from wgan.gan import GAN

    slow = 3.0
    real_updates, real_png = GAN.updates, recorder.rundir.save_png

    def slow_trace(self, real, noise):
        time.sleep(slow)
        return real_updates(self, real, noise)

    def slow_png(path, grid):
        time.sleep(slow)
        real_png(path, grid)
    monkeypatch.setattr(GAN, "updates", slow_trace)
    monkeypatch.setattr(recorder.rundir, "save_png", slow_png)
    summary = train("gan", steps=3, out_dir=tmp_path, data=x_train, width=8,
                    **{**FAST, "batch_size": 8, "checkpoint_every": 1})
    assert summary["total_seconds"] > 3 * 2 * slow  # two grids per checkpoint, three checkpoints
    assert summary["wall_seconds"] < slow  # tiny steps: far less than one slow call
    assert float(read_history(tmp_path)[-1]["wall_time"]) == pytest.approx(summary["wall_seconds"], abs=1e-3)


def wganbench(*args: str) -> list[str]:
    return [sys.executable, "-m", "studies.cli", "train", *args]


def test_killed_run_resumes_to_the_same_generator(tmp_path) -> None:
    steps, every = 14, 2
    common = ["wgan-seed", "--steps", str(steps), "--checkpoint-every", str(every), "--batch-size", "32",
              "--seed", "5", "--quiet"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    unbroken = subprocess.Popen(wganbench(*common, "--out-dir", str(tmp_path / "a")), env=env)
    killed = subprocess.Popen(wganbench(*common, "--out-dir", str(tmp_path / "b")), env=env)
    first_checkpoint_done = tmp_path / "b" / CHECKPOINT_DIR / "checkpoint"  # written last at each save
    deadline = time.monotonic() + 240
    while not first_checkpoint_done.exists() and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert unbroken.wait(timeout=180) == 0
    assert not (tmp_path / "b" / SUMMARY_FILE).exists()  # it really died mid-run
    done = int(tf.train.latest_checkpoint(tmp_path / "b" / CHECKPOINT_DIR).rsplit("-", 1)[1])
    assert every <= done < steps
    subprocess.run(wganbench(*common, "--out-dir", str(tmp_path / "b"), "--resume"), env=env, check=True,
                   timeout=180)
    a, b = (keras.saving.load_model(tmp_path / d / GENERATOR_FILE) for d in "ab")
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    history_a, history_b = read_history(tmp_path / "a"), read_history(tmp_path / "b")
    assert [{k: r[k] for k in LOGGED} for r in history_a] == [{k: r[k] for k in LOGGED} for r in history_b]


MIRRORED_SCRIPT = r"""
import dataclasses, json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from wgan.data import load_mnist
from wgan.settings import SETTINGS
from wgan.gan import build_gan, resolve_strategy
from wgan.stream import training_data
from wgan.trainer import train

x = load_mnist()[0][0]
# One step of wgan without critic dropout (synchronized BatchNorm, fused clipping) on the same
# global batch and noise.
setting = dataclasses.replace(SETTINGS["wgan"], batch_size=32, n_critic=2, critic_dropout=0.0, width=16,
                              critic_schedule="constant")
data = tf.data.Dataset.from_tensors((next(iter(training_data(x, 32, 2, seed=0))),
                                     tf.random.stateless_normal((32, 2, 100), seed=(1, 2))))
out, weights = {}, None
for strategy in ("default", "mirrored"):
    dist = resolve_strategy(strategy)
    gan = build_gan(setting, seed=0, strategy=dist)
    if weights:
        gan.generator.set_weights(weights[0]); gan.critic.set_weights(weights[1])
    weights = gan.generator.get_weights(), gan.critic.get_weights()
    history = gan.fit(data, epochs=1, steps_per_epoch=1, verbose=0).history
    out[strategy] = {"replicas": dist.num_replicas_in_sync, **{k: float(v[-1]) for k, v in history.items()}}
# A short mirrored run of wgan-gp (the penalty's double backward on each replica).
out["run"] = train(dataclasses.replace(SETTINGS["wgan-gp"], n_critic=2, width=16), steps=2, batch_size=32,
                   checkpoint_every=1, strategy="mirrored", quiet=True, out_dir=sys.argv[1], data=x,
                   deterministic=False)
print("RESULT" + json.dumps(out))
"""


def test_mirrored_strategy_on_two_logical_cpus(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT, str(tmp_path / "run")], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.split("RESULT", 1)[1])
    default, mirrored = result["default"], result["mirrored"]
    assert default["replicas"] == 1 and mirrored["replicas"] == 2
    for key in (CRITIC_LOSS, GENERATOR_LOSS, WASSERSTEIN):  # gradient norms are per replica
        assert mirrored[key] == pytest.approx(default[key], rel=1e-4, abs=1e-6), key
    assert result["run"][SUMMARY_STATUS] == STATUS_COMPLETE and result["run"][SUMMARY_STEPS] == 2
    assert len(read_history(tmp_path / "run")) == 2 and (tmp_path / "run" / GENERATOR_FILE).is_file()
