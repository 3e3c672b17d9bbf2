"""train()'s points: one session commits and reports each point as a session ending there would.

Real MNIST and real training (width 8, batch 8, a few steps). Steps points must give bitwise the
weights of one resumed session per point (op determinism on); a point's report is off the training
clock; a point committed but not reported (killed in between) is reported from the checkpoint, not
retrained; and the generator in memory scores exactly as the generator.keras written at its point.
"""

from __future__ import annotations

import time

import keras
import numpy as np
import pandas as pd
import pytest

from evaluators import evaluate
from evaluators.metrics import cheap_metrics
from wgan.data import MNIST
from wgan.errors import WganbenchError
from wgan.rundir import GENERATOR_FILE, HISTORY_FILE, SUMMARY_STEPS, SUMMARY_WALL_SECONDS
from wgan.trainer import train

TINY = {"width": 8, "batch_size": 8, "checkpoint_every": 100, "quiet": True, "deterministic": True, "seed": 3}
SLOW_POINT = 2.0  # seconds each report sleeps: far more than a tiny step, so on the clock it would show


@pytest.fixture(scope="module")
def x_train(mnist) -> np.ndarray:
    return mnist[0][0][:2048]


class Reports:
    """An on_point that keeps what each point saw (step, summary, the generator's weights)."""

    def __init__(self, fail_at: int | None = None, sleep: float = 0.0) -> None:
        self.seen: list[tuple[int, dict, list[np.ndarray]]] = []
        self.fail_at, self.sleep = fail_at, sleep

    def __call__(self, step: int, summary: dict, generator: keras.Model) -> None:
        time.sleep(self.sleep)
        self.seen.append((step, summary, [w.copy() for w in generator.get_weights()]))
        if step == self.fail_at:
            raise RuntimeError("killed after the point's commit")


def assert_same_weights(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for wa, wb in zip(a, b, strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_steps_points_equal_a_session_per_point_off_the_clock(tmp_path, x_train) -> None:
    segments = []
    for target in (2, 4):
        train("gan", steps=target, out_dir=tmp_path / "segments", resume=True, data=x_train, **TINY)
        segments.append(keras.saving.load_model(tmp_path / "segments" / GENERATOR_FILE).get_weights())
    reports = Reports(sleep=SLOW_POINT)
    summary = train("gan", steps=4, out_dir=tmp_path / "one", data=x_train, points=[2, 4], on_point=reports, **TINY)
    assert [step for step, _, _ in reports.seen] == [2, 4]
    for (_, _, weights), expected in zip(reports.seen, segments, strict=True):
        assert_same_weights(weights, expected)
    assert summary[SUMMARY_WALL_SECONDS] < SLOW_POINT  # two slow reports, none of it training time
    assert reports.seen[0][1][SUMMARY_STEPS] == 2
    one, seg = (pd.read_csv(tmp_path / d / HISTORY_FILE) for d in ("one", "segments"))
    pd.testing.assert_frame_equal(one.drop(columns="wall_time"), seg.drop(columns="wall_time"), check_exact=True)


def test_a_point_committed_but_not_reported_is_reported_not_retrained(tmp_path, x_train) -> None:
    killed = Reports(fail_at=2)
    with pytest.raises(RuntimeError):
        train("gan", steps=4, out_dir=tmp_path, data=x_train, points=[2, 4], on_point=killed, **TINY)
    resumed = Reports()
    train("gan", steps=4, out_dir=tmp_path, resume=True, data=x_train, points=[2, 4], on_point=resumed, **TINY)
    assert [step for step, _, _ in resumed.seen] == [2, 4]
    assert_same_weights(resumed.seen[0][2], killed.seen[0][2])  # the checkpoint's generator, reported again
    assert len(pd.read_csv(tmp_path / HISTORY_FILE)) == 4


def test_seconds_points_stop_at_the_first_step_reaching_them(tmp_path, x_train) -> None:
    reports = Reports()
    train("gan", budget_seconds=1.0, out_dir=tmp_path, data=x_train, points=[0.5, 1.0], on_point=reports,
          **{k: v for k, v in TINY.items() if k != "deterministic"})
    wall = pd.read_csv(tmp_path / HISTORY_FILE).set_index("step")["wall_time"]
    for (step, summary, _), target in zip(reports.seen, (0.5, 1.0), strict=True):
        assert summary[SUMMARY_WALL_SECONDS] >= target
        assert step == 1 or wall[step - 1] < target


def test_bad_points_are_refused(tmp_path) -> None:
    with pytest.raises(WganbenchError, match="ascending, the last one the budget"):
        train("gan", steps=4, out_dir=tmp_path, points=[2, 3], **TINY)


def test_the_generator_in_memory_scores_as_its_saved_file(tmp_path, x_train) -> None:
    options = {"n": 1000, "metrics": cheap_metrics(MNIST)}
    pairs: list[tuple[dict, dict]] = []

    def score_both(step: int, summary: dict, generator: keras.Model) -> None:
        pairs.append((evaluate(generator, **options), evaluate(str(tmp_path), **options)))

    train("gan", steps=4, out_dir=tmp_path, data=x_train, points=[2, 4], on_point=score_both, **TINY)
    assert len(pairs) == 2
    for in_memory, from_disk in pairs:
        assert in_memory == from_disk
