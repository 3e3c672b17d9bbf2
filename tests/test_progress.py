"""The console of a training run: progress that suits its output, and TensorFlow's noise (wgan.console).

Progress: a live bar on a terminal, one line per checkpoint (and one at the end) anywhere else; the
callback's hooks are called directly with fake logs, a fake clock and a StringIO stream.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys

import pytest

from wgan.console import LOG_LEVEL_ENV, REPEATED_LINES, UNKNOWN_ATTRIBUTE_LINE, keep_first, quiet_tensorflow
from wgan.gan import CRITIC_LOSS, GENERATOR_GRAD_NORM, GENERATOR_LOSS, PENALTY, WASSERSTEIN
from wgan.progress import REDRAW_SECONDS, Progress


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch) -> None:
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=None: os.terminal_size((200, 24)))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def logs(step: int) -> dict[str, float]:
    return {CRITIC_LOSS: -1.5 + step / 1000, GENERATOR_LOSS: 0.25, WASSERSTEIN: 2.0, PENALTY: 0.125,
            GENERATOR_GRAD_NORM: 3.0}


def run(progress: Progress, clock: Clock, batches: int, seconds_per_batch: float) -> None:
    progress.on_train_begin()
    for batch in range(batches):
        clock.now += seconds_per_batch
        progress.on_train_batch_end(batch, logs(batch))
    progress.on_train_end()


def test_log_mode_writes_one_line_per_checkpoint_and_one_at_the_end() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(0, 1000, None, 320, 200, name="gan", stream=out, tty=False, clock=clock)
    run(progress, clock, 1000, 0.01)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len(lines) == 1000 // 200 + 1
    assert lines[0] == ("gan: step 200/1000 (20%), 2.0 s of training, 32000.0 img/s, critic_loss -1.301, "
                        "generator_loss 0.25, wasserstein 2, penalty 0.125")
    assert [re.match(r"gan: (?:ended at )?step (\d+)/1000", line).group(1) for line in lines] == [
        "200", "400", "600", "800", "1000", "1000"]
    assert lines[-1].startswith("gan: ended at step 1000/1000 (100%), 10.0 s of training, 32000.0 img/s")
    assert "grad_norm" not in out.getvalue()  # the norms are in history.csv and TensorBoard


def test_log_mode_with_a_time_budget_on_a_resumed_run_counts_earlier_training() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(300, None, 60.0, 64, 100, name="wgan-gp", wall_before=30.0, stream=out, tty=False,
                        clock=clock)
    run(progress, clock, 150, 0.1)  # steps 301..450, 15 s of this session
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 + 1  # step 400, then the end (450 is no checkpoint)
    assert lines[0].startswith("wgan-gp: step 400 (67%), 40.0/60 s of training, 640.0 img/s")
    assert lines[1].startswith("wgan-gp: ended at step 450 (75%), 45.0/60 s of training, 640.0 img/s")


def test_terminal_mode_redraws_one_line_at_most_four_times_a_second() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(0, 1000, None, 320, 200, name="gan", stream=out, tty=True, clock=clock)
    run(progress, clock, 1000, 0.01)  # 10 s of training in 1000 batches
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")  # one line, ended when training ends
    draws = text.split("\r")[1:]
    # the start, then at most one redraw per REDRAW_SECONDS, then the end
    assert len(draws) <= 1 + 10 / REDRAW_SECONDS + 1
    assert len(draws) >= 10 / REDRAW_SECONDS
    assert "building the step" in draws[0] and "[--------------------] step 0/1000 (0%)" in draws[0]
    last = draws[-1].rstrip()
    assert last.startswith("gan: [####################] step 1000/1000 (100%), 10.0 s of training")
    assert "~0.0 s left" in last and "32000 img/s" in last and "critic_loss -0.501" in last
    assert "penalty" not in last  # the bar shows the three headline values


def test_terminal_mode_shows_the_budget_and_what_remains() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(0, None, 120.0, 64, 100, stream=out, tty=True, clock=clock)
    progress.on_train_begin()
    clock.now += 5.0  # the first step builds the graph
    progress.on_train_batch_end(0, logs(0))
    assert out.getvalue().count("\r") == 1 and "building the step" in out.getvalue()  # until the second step
    for batch in range(1, 51):
        clock.now += 0.5
        progress.on_train_batch_end(batch, logs(batch))
    line = out.getvalue().split("\r")[-1].rstrip()
    assert line.startswith("[#####---------------] step 51 (25%), 30.0/120 s of training")
    assert "~1 min 30 s left" in line

    out, clock = io.StringIO(), Clock()
    progress = Progress(0, 200, None, 64, 100, stream=out, tty=True, clock=clock)
    progress.on_train_begin()
    clock.now += 5.0
    progress.on_train_batch_end(0, logs(0))
    for batch in range(1, 51):
        clock.now += 0.5
        progress.on_train_batch_end(batch, logs(batch))
    line = out.getvalue().split("\r")[-1].rstrip()
    assert line.startswith("[#####---------------] step 51/200 (26%), 30.0 s of training")
    assert "~74.5 s left" in line  # 149 steps at 0.5 s, the first (building) step not counted


def test_terminal_line_never_wraps(monkeypatch) -> None:
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=None: os.terminal_size((40, 24)))
    out, clock = io.StringIO(), Clock()
    progress = Progress(0, 10, None, 64, 5, name="wgan-gp", stream=out, tty=True, clock=clock)
    run(progress, clock, 10, 1.0)
    assert all(len(draw.rstrip("\n")) <= 39 for draw in out.getvalue().split("\r")[1:])


def test_the_recorders_training_clock_is_what_the_lines_count() -> None:
    """With the recorder's clock (saves and tracing left out), seconds and img/s match history.csv."""
    out, clock = io.StringIO(), Clock()
    trained = {"seconds": 0.0}
    progress = Progress(0, 400, None, 320, 100, name="gan", stream=out, tty=False, clock=clock,
                        training_seconds=lambda: trained["seconds"])
    progress.on_train_begin()
    for batch in range(400):
        clock.now += 0.5  # wall clock: training, and a save now and then
        trained["seconds"] += 0.25
        progress.on_train_batch_end(batch, logs(batch))
    progress.on_train_end()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("gan: step 100/400 (25%), 25.0 s of training, 1280.0 img/s")
    assert progress.seconds_left(clock.now) == 0.0
    progress.step, trained["seconds"] = 200, 50.0  # halfway: 200 steps at 0.25 s of training each
    assert progress.seconds_left(clock.now) == 200 * 0.25


BANNER = "oneDNN custom operations are on"


def test_keep_first_drops_only_the_repeated_tensorflow_lines() -> None:
    text = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            b"I0000 00:00:1.1 1 port.cc:153] oneDNN custom operations are on. You may see ...\n"
            b"a warning of our own\n"
            b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            b"I0000 00:00:2.2 1 port.cc:153] oneDNN custom operations are on. You may see ...\n"
            b"a warning of our own\n")
    assert keep_first(text).decode().splitlines() == [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1.1 1 port.cc:153] oneDNN custom operations are on. You may see ...",
        "a warning of our own", "a warning of our own"]
    # A study's workers drop them all; the harmless unknown-attribute ERROR goes wherever it is asked to.
    assert keep_first(text, dropped=REPEATED_LINES).decode().splitlines() == ["a warning of our own"] * 2
    attr = b"E0000 node_def_util.cc:682] NodeDef " + UNKNOWN_ATTRIBUTE_LINE + b": Op<...>\n"
    assert keep_first(attr + b"ok\n", dropped=(UNKNOWN_ATTRIBUTE_LINE,)) == b"ok\n"


@pytest.mark.slow
@pytest.mark.parametrize("level, most", [("1", 1), ("0", 2)])
def test_import_tensorflow_prints_the_onednn_banner_once(level: str, most: int) -> None:
    """TensorFlow loads two copies of the code that prints it; with TF_CPP_MIN_LOG_LEVEL=0 both show."""
    env = {**os.environ, LOG_LEVEL_ENV: level, "TF_ENABLE_ONEDNN_OPTS": "1"}
    code = ("import sys; from wgan.console import install_banner_filter; install_banner_filter(); "
            "import tensorflow as tf; print('after', file=sys.stderr); print(tf.constant(2) * 3)")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "tf.Tensor(6" in run.stdout and "after" in run.stderr  # stderr still reaches the console
    assert run.stderr.count(BANNER) <= most
    # absl's WARNING preamble is dropped wherever the filter runs (level 1); level 0 shows everything.
    assert run.stderr.count("before absl::InitializeLog()") == (0 if level == "1" else run.stderr.count(BANNER))


@pytest.mark.slow
def test_training_inside_quiet_tensorflow_logs_no_remapper_error(tmp_path, mnist, capfd) -> None:
    import tensorflow as tf

    from wgan import trainer

    with quiet_tensorflow():
        assert tf.config.optimizer.get_experimental_options()["remapping"] is False
        trainer.train("wgan-gp", steps=2, batch_size=16, width=8, checkpoint_every=2, quiet=True,
                      deterministic=False, out_dir=str(tmp_path / "run"), data=mnist[0][0][:512])
    assert tf.config.optimizer.get_experimental_options()["remapping"] is True  # the evaluators keep it
    assert "remapper failed" not in capfd.readouterr().err
