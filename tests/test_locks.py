"""One process at a time in a study folder and in a run directory: two compares started at once on one
folder (one trains, the other exits 2 naming the first's pid, no point twice in scores.csv), `train` on
a run directory a compare holds, and a holder killed with SIGKILL leaving nothing held."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from studies.cli.app import EXIT_BAD_INPUT, main
from studies.schema import KEY, SCORES_FILE, STATUS, STATUS_OK, run_dir
from wgan.errors import WganbenchError
from wgan.lock import LOCK_FILE, hold

HOLDER = ("import sys, time\nfrom wgan.lock import hold\nwith hold(sys.argv[1], 'run directory', 'wait'):\n"
          "    print('held', flush=True)\n    time.sleep(600)\n")


def holder(folder: Path) -> subprocess.Popen:
    """Another process holding ``folder`` until it is killed."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_held_folder_is_refused_naming_its_holder_and_freed_when_the_holder_is_killed(tmp_path):
    process = holder(tmp_path)
    try:
        with pytest.raises(WganbenchError, match=f"is held by process {process.pid} "):
            with hold(tmp_path, "study folder", "wait"):
                pass
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    with hold(tmp_path, "study folder", "wait"):  # the kernel dropped the killed holder's lock
        with hold(tmp_path, "study folder", "wait"):  # and this process may take it again
            assert (tmp_path / LOCK_FILE).read_text() == str(os.getpid())
    assert not (tmp_path / LOCK_FILE).exists()  # a clean release leaves no file


@pytest.mark.slow
def test_train_refuses_a_run_directory_another_process_holds(tmp_path, capsys):
    out = tmp_path / "gan-s0"
    process = holder(out)
    try:
        code = main(["train", "gan", "--steps", "1", "--width", "8", "--batch-size", "16", "--quiet",
                     "--out-dir", str(out)])
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_BAD_INPUT and len(err) == 1 and f"held by process {process.pid}" in err[0]
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]  # nothing trained there


@pytest.mark.slow
def test_two_compares_at_once_on_one_folder(tmp_path):
    runs = tmp_path / "runs"
    flags = ["compare", "--settings", "gan", "--seeds", "0", "--steps", "4", "--points", "2", "--n", "1000",
             "--width", "8", "--batch-size", "16", "--threads", "1", "--workers", "1", "--quiet",
             "--runs-dir", str(runs)]
    both = [subprocess.Popen([sys.executable, "-m", "studies.cli", *flags, "--out-dir", str(tmp_path / f"report{i}")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outcomes = [(p.pid, p.returncode, err) for p in both for _, err in [p.communicate(timeout=900)]]
    codes = sorted(code for _, code, _ in outcomes)
    assert codes == [0, EXIT_BAD_INPUT], outcomes
    (winner,) = [pid for pid, code, _ in outcomes if code == 0]
    (refused,) = [err for _, code, err in outcomes if code == EXIT_BAD_INPUT]
    lines = [line for line in refused.splitlines() if line.startswith("wganbench compare:")]
    assert len(lines) == 1 and f"study folder {runs.resolve()} is held by process {winner} " in lines[0]
    scores = pd.read_csv(run_dir(runs, "gan", 0) / SCORES_FILE)
    assert (scores[STATUS] == STATUS_OK).all() and len(scores) == 2 and not scores.duplicated(list(KEY)).any()
