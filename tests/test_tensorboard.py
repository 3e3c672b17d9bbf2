"""TensorBoard: a real (tiny) training run's event files, read back with TensorBoard's own reader."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hparams_metadata

from wgan import rundir, trainer
from wgan.gan import LOGGED
from wgan.tensorboard import (
    SAMPLES_TAG,
    TensorBoardLogger,
    hparams_of,
    log_scores,
    score_tag,
    tensorboard_dir,
    train_tag,
)

pytestmark = pytest.mark.slow


def read_events(log_dir) -> EventAccumulator:
    events = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0, "tensors": 0,
                                                           "histograms": 0, "compressedHistograms": 0,
                                                           "audio": 0})
    return events.Reload()


def scalar_series(events: EventAccumulator, tag: str) -> tuple[list[int], list[float]]:
    """TF2's tf.summary.scalar writes tensor events (the scalars plugin reads them as scalars)."""
    series = events.Tensors(tag)
    return [e.step for e in series], [float(tf.make_ndarray(e.tensor_proto)) for e in series]


def test_hparams_of_flattens_the_run_config_to_plugin_types() -> None:
    config = {"setting": {"name": "wgan-gp", "betas": [0.5, 0.9], "n_critic": 5, "clip_value": None},
              "seed": np.int64(3), "budget_seconds": None, "deterministic": False, "d_lr": np.float32(1e-4)}
    flat = hparams_of(config)
    assert flat == {"setting.name": "wgan-gp", "setting.betas": "0.5, 0.9", "setting.n_critic": 5,
                    "setting.clip_value": "none", "seed": 3, "budget_seconds": "none", "deterministic": False,
                    "d_lr": pytest.approx(1e-4)}
    assert all(type(v) in (str, int, float, bool) for v in flat.values())


def test_a_training_run_writes_step_scalars_sample_images_and_hparams(tmp_path, mnist) -> None:
    """The logger passed as a callback writes to its own folder; where train() runs one itself (into
    the run directory's tensorboard/), that folder is checked the same way."""
    out = tmp_path / "run"
    hparams = {"seed": 0, "batch_size": 16, "width": 8, "deterministic": False}
    logger = TensorBoardLogger(tmp_path / "callback", setting="wgan-gp", hparams=hparams, start_step=0,
                               noise=rundir.fixed_noise(0, 100), every=2)
    trainer.train("wgan-gp", steps=3, batch_size=16, width=8, checkpoint_every=2, quiet=True, deterministic=False,
                  out_dir=str(out), data=mnist[0][0][:1024], callbacks=[logger])
    history = rundir.read_history(out / rundir.HISTORY_FILE, 3)
    folders = [tmp_path / "callback"] + ([tensorboard_dir(out)] if tensorboard_dir(out).is_dir() else [])
    for log_dir in folders:
        events = read_events(log_dir)
        assert {train_tag(name) for name in LOGGED} <= set(events.Tags()["tensors"])
        for name in LOGGED:
            steps, values = scalar_series(events, train_tag(name))
            assert steps == [1, 2, 3]
            np.testing.assert_allclose(values, [row[name] for row in history], rtol=1e-6)

        images = events.Tensors(SAMPLES_TAG)
        assert [e.step for e in images] == [2, 3]  # the checkpoint, then the last step
        width, height, png = tf.make_ndarray(images[0].tensor_proto)
        grid = tf.io.decode_png(png).numpy()
        side = rundir.GRID_SIDE * (28 + rundir.GRID_PAD) + rundir.GRID_PAD
        assert (int(width), int(height)) == (side, side) and grid.shape == (side, side, 1)
        assert grid.std() > 0  # samples, not a blank image

        content = events.PluginTagToContent(hparams_metadata.PLUGIN_NAME)
        start = hparams_metadata.parse_session_start_info_plugin_data(
            content[hparams_metadata.SESSION_START_INFO_TAG])
        assert start.hparams["setting"].string_value == "wgan-gp"
        batch = "batch_size" if log_dir == tmp_path / "callback" else "setting.batch_size"
        assert start.hparams[batch].number_value == 16
        assert start.hparams["deterministic"].bool_value is False


def test_log_scores_writes_every_number_as_a_scores_scalar(tmp_path) -> None:
    log_dir = tensorboard_dir(tmp_path / "run")
    first = {"fid": 190.5, "is_mean": np.float64(2.25), "modes_covered": 9, "status": "ok", "exact": True}
    assert log_scores(log_dir, 150, first) == [score_tag("fid"), score_tag("is_mean"), score_tag("modes_covered")]
    log_scores(log_dir, 300, {"fid": 120.0, "is_mean": 3.5, "modes_covered": 10})
    events = read_events(log_dir)
    assert sorted(events.Tags()["tensors"]) == sorted(score_tag(k) for k in ("fid", "is_mean", "modes_covered"))
    assert scalar_series(events, score_tag("fid")) == ([150, 300], [190.5, 120.0])
    assert scalar_series(events, score_tag("modes_covered")) == ([150, 300], [9.0, 10.0])
