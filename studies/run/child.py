"""A Dask worker's run process: the child that trains and scores the runs its worker thread is given.

Why a child at all: a Dask worker's event loop draws from Python's global ``random`` while a task runs,
and Keras seeds weight initializers from it, so models built in a worker thread are not reproducible.
The child runs nothing else, starts TensorFlow with the recipe's threads, gets the study's values of the
Nanny's variables (``env``, None = unset), and dies with its worker: a killed worker leaves no orphan
writing a run while Dask retries it elsewhere.

Why one child per worker thread, kept for the study: a process per run paid Python's start,
TensorFlow's import and the classifier's load every run (docs/DESIGN.md §6). The kept child trains its
runs one after another, as a study in one process does, so their scores are the same bitwise
(tests/test_executor.py). A run that raises ends its child (the task fails and Dask retries it in a
fresh one); :func:`stop_children` ends them at the study's end, so a code change between two studies
on one cluster reaches the second.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import subprocess
import sys
import threading
import traceback
from typing import BinaryIO

import pandas as pd

from studies import schema
from studies.run import compare
from studies.run.compare import CompareOptions
from wgan.console import BANNER_SHOWN_ENV, configure_process
from wgan.errors import WganbenchError

PR_SET_PDEATHSIG = 1
DONE = b"."  # the child's reply when a run's rows are all in its scores.csv
STOP_WAIT_S = 30.0


class _Child:
    """A running child, what it was started with, and the pipe its replies come on."""

    def __init__(self, env: dict[str, str | None]) -> None:
        self.env = env
        child_env = {k: v for k, v in os.environ.items() if k not in env}
        child_env.update({k: v for k, v in env.items() if v is not None})
        child_env[BANNER_SHOWN_ENV] = "1"
        read_end, write_end = os.pipe()  # replies on a pipe of their own: the child's stdout stays the worker's
        self.process = subprocess.Popen([sys.executable, "-m", "studies.run.child", str(os.getpid()), str(write_end)],
                                        stdin=subprocess.PIPE, env=child_env, pass_fds=(write_end,))
        os.close(write_end)
        self.replies: BinaryIO = os.fdopen(read_end, "rb", buffering=0)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # end of requests: the child leaves its loop
        try:
            self.process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.replies.close()


_children: dict[int, _Child] = {}  # by worker thread
_lock = threading.Lock()


def run_in_child(setting: str, seed: int, options: CompareOptions, label: str,
                 env: dict[str, str | None]) -> pd.DataFrame:
    """Train and score the rest of one run in this worker thread's child; returns the run's rows."""
    child = _child_for(env)
    try:
        pickle.dump((setting, seed, options, label), child.process.stdin)
        child.process.stdin.flush()
        reply = child.replies.read(len(DONE))
    except OSError:  # the child is gone (killed, or its run raised): its pipes are closed
        reply = b""
    if reply != DONE:
        _forget(threading.get_ident())
        raise WganbenchError(f"{setting} seed {seed}: the run's process exited with {child.process.wait()}")
    return schema.read_scores(schema.run_dir(options.run_root(), setting, seed) / schema.SCORES_FILE)


def stop_children() -> int:
    """End every child of this worker process (at a study's end); returns how many there were."""
    with _lock:
        children = list(_children.values())
        _children.clear()
    for child in children:
        child.stop()
    return len(children)


def _child_for(env: dict[str, str | None]) -> _Child:
    """This thread's child, started anew when it died or was started with other variables."""
    thread = threading.get_ident()
    with _lock:
        child = _children.get(thread)
    if child is not None and (child.process.poll() is not None or child.env != env):
        _forget(thread)
        child = None
    if child is None:
        child = _Child(env)
        with _lock:
            _children[thread] = child
    return child


def _forget(thread: int) -> None:
    with _lock:
        child = _children.pop(thread, None)
    if child is not None:
        child.stop()


def _serve(parent: int, reply_fd: int) -> None:
    """The child: runs pickled on stdin, one after another, each answered with :data:`DONE` once its rows
    are written; leaves at the end of stdin."""
    configure_process()  # before TensorFlow loads (a remote worker's env may lack the study's)
    with contextlib.suppress(OSError, AttributeError):  # Linux: SIGKILL when the worker's thread dies
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the worker died before prctl
        sys.exit(1)
    code = 0
    with os.fdopen(reply_fd, "wb", buffering=0) as replies:
        while True:
            try:
                setting, seed, options, label = pickle.load(sys.stdin.buffer)
            except EOFError:
                break
            try:
                compare.compare_run(setting, seed, options, label=label)
            except BaseException:  # noqa: BLE001 — told to the worker by the missing reply, shown here
                traceback.print_exc()
                code = 1
                break
            sys.stdout.flush()
            sys.stderr.flush()
            replies.write(DONE)
    # Everything a run keeps is written and closed by now (atomic files, closed event writers), so the
    # process leaves without TensorFlow's teardown: under a busy CPU that wait, idle, held the worker
    # 5-30 s (measured: docs/DESIGN.md §6).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
