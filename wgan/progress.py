"""Training progress that suits where it goes: a live bar on a terminal, a line per checkpoint in a log.

On a terminal (``stream.isatty()``) :class:`Progress` keeps one line up to date, at most about four
times a second: the budget (generator steps, or seconds of training when the budget is time),
how much of it is done, an estimate of what remains, images/s and the step's losses. Anywhere else
(a log file, CI) a redrawn bar is a wall of carriage returns, so it writes exactly one line per
checkpoint (every ``every`` steps) and one when training ends, each complete on its own::

    gan: step 200/1000 (20%), 12.3 s of training, 1950 img/s, critic_loss 0.4102, ...
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

import keras

from wgan.gan import CRITIC_LOSS, GENERATOR_LOSS, PENALTY, WASSERSTEIN

# The step's values each line shows (history.csv and TensorBoard have all of them).
SHOWN_TTY = (CRITIC_LOSS, GENERATOR_LOSS, WASSERSTEIN)
SHOWN_LOG = (CRITIC_LOSS, GENERATOR_LOSS, WASSERSTEIN, PENALTY)
REDRAW_SECONDS = 0.25  # a terminal bar redraws at most ~4 times a second
BAR_WIDTH = 20


def _seconds(value: float) -> str:
    if value < 90:
        return f"{value:.1f} s"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


class Progress(keras.callbacks.Callback):
    """Progress of a training session (see the module docstring); ``fit`` sees it as a callback.

    ``steps`` and ``budget_seconds`` are the run's budget (either may be ``None``; with both,
    whichever ends first); ``wall_before`` is the training time of earlier sessions, which a budget
    in seconds counts. ``training_seconds`` returns this session's seconds of training so far (the
    run recorder's clock, which leaves out saves and tracing, as budgets do); without it the
    session's wall-clock time is shown. ``stream`` defaults to ``sys.stdout``, ``tty`` to
    ``stream.isatty()``; ``clock`` is for tests.
    """

    def __init__(self, start_step: int, steps: int | None, budget_seconds: float | None, images_per_step: int,
                 every: int, *, name: str = "", wall_before: float = 0.0,
                 training_seconds: Callable[[], float] | None = None, stream: TextIO | None = None,
                 tty: bool | None = None, clock: Callable[[], float] = time.perf_counter) -> None:
        super().__init__()
        self.start_step, self.steps, self.budget_seconds = start_step, steps, budget_seconds
        self.images_per_step, self.every, self.wall_before = images_per_step, every, wall_before
        self.training_seconds = training_seconds
        self.prefix = f"{name}: " if name else ""
        self.stream = stream if stream is not None else sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.clock = clock
        self.step = start_step
        self.values: dict[str, float] = {}
        self.t0 = self.t_first = self.last_draw = None
        self.drawn_width = 0

    # -- what the lines say -------------------------------------------------------------------

    def session_seconds(self, now: float) -> float:
        if self.training_seconds is not None:
            return self.training_seconds()
        return now - self.t0 if self.t0 is not None else 0.0

    def seconds_per_step(self, now: float) -> float | None:
        """From the second step on (the first also builds the step: the recorder's clock charges it
        the second's time; the wall clock leaves it out)."""
        done = self.step - self.start_step
        if done < 2:
            return None
        if self.training_seconds is not None:
            return self.session_seconds(now) / done
        return (now - self.t_first) / (done - 1)

    def fraction(self, now: float) -> float | None:
        """The share of the budget used: of steps, of seconds, or the larger of both."""
        shares = []
        if self.steps:
            shares.append(self.step / self.steps)
        if self.budget_seconds:
            shares.append((self.wall_before + self.session_seconds(now)) / self.budget_seconds)
        return min(1.0, max(shares)) if shares else None

    def images_per_second(self, now: float) -> float | None:
        seconds = self.session_seconds(now)
        done = self.step - self.start_step
        return done * self.images_per_step / seconds if done and seconds > 0 else None

    def seconds_left(self, now: float) -> float | None:
        """Estimated seconds of training to the end of the budget."""
        left = []
        if self.budget_seconds:
            left.append(max(0.0, self.budget_seconds - self.wall_before - self.session_seconds(now)))
        if self.steps:
            per_step = self.seconds_per_step(now)
            if self.step >= self.steps:
                left.append(0.0)
            elif per_step is not None:
                left.append((self.steps - self.step) * per_step)
        return min(left) if left else None

    def budget_text(self, now: float) -> str:
        """``step 200/1000`` or ``step 200, 12.3/60 s of training``, with the share when known."""
        training = self.wall_before + self.session_seconds(now)
        step = f"step {self.step}/{self.steps}" if self.steps else f"step {self.step}"
        seconds = (f"{training:.1f}/{self.budget_seconds:g} s of training" if self.budget_seconds
                   else f"{training:.1f} s of training")
        share = self.fraction(now)
        return f"{step}{f' ({share:.0%})' if share is not None else ''}, {seconds}"

    def values_text(self, names: tuple[str, ...], sep: str) -> str:
        return sep.join(f"{name} {self.values[name]:.4g}" for name in names if name in self.values)

    def log_line(self, now: float, *, end: bool = False) -> str:
        rate = self.images_per_second(now)
        parts = [f"{self.prefix}{'ended at ' if end else ''}{self.budget_text(now)}"]
        if rate is not None:
            parts.append(f"{rate:.1f} img/s")
        if self.values:
            parts.append(self.values_text(SHOWN_LOG, ", "))
        return ", ".join(parts)

    def bar_line(self, now: float) -> str:
        share = self.fraction(now)
        filled = round(BAR_WIDTH * share) if share is not None else 0
        parts = [f"{self.prefix}[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {self.budget_text(now)}"]
        left = self.seconds_left(now)
        if left is not None and self.step > self.start_step:
            parts.append(f"~{_seconds(left)} left")
        elif self.step == self.start_step:
            parts.append("building the step")
        rate = self.images_per_second(now)
        if rate is not None:
            parts.append(f"{rate:.0f} img/s")
        if self.values:
            parts.append(self.values_text(SHOWN_TTY, "  "))
        return " | ".join(parts)

    # -- output ---------------------------------------------------------------------------------

    def write_line(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def draw(self, now: float) -> None:
        """Redraw the terminal line in place, cut to the terminal's width so it never wraps."""
        width = max(20, shutil.get_terminal_size(fallback=(100, 24)).columns - 1)
        line = self.bar_line(now)[:width]
        self.stream.write("\r" + line + " " * max(0, self.drawn_width - len(line)))
        self.stream.flush()
        self.drawn_width, self.last_draw = len(line), now

    # -- Keras callback hooks -------------------------------------------------------------------

    def on_train_begin(self, logs=None) -> None:
        self.t0 = self.clock()
        if self.tty:
            self.draw(self.t0)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        now = self.clock()
        self.step = self.start_step + batch + 1
        if self.t_first is None:
            self.t_first = now
        self.values = {name: float(logs[name]) for name in SHOWN_LOG if logs and name in logs}
        if self.tty:
            # The first step also builds the step (its seconds are not yet a training rate): the bar
            # says so until the second.
            if self.step - self.start_step >= 2 and now - self.last_draw >= REDRAW_SECONDS:
                self.draw(now)
        elif self.step % self.every == 0:
            self.write_line(self.log_line(now))

    def on_train_end(self, logs=None) -> None:
        now = self.clock()
        if self.tty:
            self.draw(now)
            self.stream.write("\n")
            self.stream.flush()
        else:
            self.write_line(self.log_line(now, end=True))
