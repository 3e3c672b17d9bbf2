"""A study's executors: the same scores in this process and on Dask workers (a kept run process per worker),
a killed worker survived, a second study that trains nothing, a progress line per point, and the GPU
assignment (no GPU here).

The in-process study runs in a fresh process (the CLI): TensorFlow's thread pools can only be set
before it starts, and the recipe says 1 thread.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from studies.run import compare as cmp
from studies.run import devices, executor
from studies.run.study import run_study
from wgan import rundir
from wgan.errors import WganbenchError

TINY = {"settings": ("gan", "wgan-gp"), "seeds": (0,), "steps": 4, "points": 2, "n": 1000, "width": 8,
        "batch_size": 16, "threads": 1, "quiet": True}
RUNS = [(s, seed) for seed in TINY["seeds"] for s in TINY["settings"]]
TIMING = [cmp.WALL_S, cmp.IMAGES_PER_S, cmp.SCORE_S, cmp.POINT_S]  # seconds: the only columns allowed to differ


def cli_flags(options: dict) -> list[str]:
    flags = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            flags.append(flag)
        else:
            flags += [flag, ",".join(map(str, value)) if isinstance(value, tuple) else str(value)]
    return flags


def scores(runs: Path) -> dict[tuple[str, int], pd.DataFrame]:
    return {run: pd.read_csv(cmp.run_dir(runs, *run) / cmp.SCORES_FILE) for run in RUNS}


def study(**kwargs) -> str:
    """Run a study in this process's client; returns what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_study(cmp.CompareOptions(**{**TINY, **kwargs}))
    return out.getvalue()


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> tuple[Path, Path, str]:
    """The tiny study in a fresh process (1 worker: no Dask) and, meanwhile, on a 2-worker LocalCluster."""
    root = tmp_path_factory.mktemp("executors")
    alone, parallel = root / "in_process", root / "local_cluster"
    log_path = root / "in_process.log"
    with log_path.open("w") as log:
        cli = subprocess.Popen([sys.executable, "-m", "studies.cli", "compare", *cli_flags(TINY), "--workers", "1",
                                "--runs-dir", str(alone), "--out-dir", str(root / "report")],
                               stdout=log, stderr=subprocess.STDOUT)
        printed = study(workers=2, runs_dir=str(parallel))
        cli.wait(timeout=900)
    log = log_path.read_text()
    assert cli.returncode == 0, log
    assert "in this process" in log
    # one training session per run in the process too, still a progress line at each of its points
    assert sum("runs done]" in line for line in log.splitlines()) == len(RUNS) * TINY["points"], log
    return alone, parallel, printed


@pytest.mark.slow
def test_scores_do_not_depend_on_the_executor(studies):
    alone, parallel, _ = studies
    for run, frame in scores(alone).items():
        other = scores(parallel)[run]
        assert (frame[cmp.STATUS] == cmp.STATUS_OK).all() and len(frame) == TINY["points"]
        pd.testing.assert_frame_equal(frame.drop(columns=TIMING), other.drop(columns=TIMING), check_exact=True)
        for runs in (alone, parallel):
            config = json.loads((cmp.run_dir(runs, *run) / rundir.CONFIG_FILE).read_text())
            assert config["threads"] == 1


@pytest.mark.slow
def test_progress_has_a_line_per_segment(studies):
    _, _, printed = studies
    assert "study: 2 runs × 2 segments, 0 scored before; training 4 on 2 local workers × 1 thread" in printed
    lines = [line for line in printed.splitlines() if " segments, " in line and "runs done]" in line]
    assert len(lines) == 4
    assert lines[-1].startswith("[4/4 segments, 2/2 runs done]") and lines[-1].endswith("— done")
    assert any(line.endswith("left") for line in lines[:-1])
    assert all(" FID " in line for line in lines)


@pytest.mark.slow
def test_second_study_trains_nothing(studies):
    _, parallel, _ = studies
    before = {run: (path.read_bytes(), path.stat().st_mtime_ns) for run in RUNS
              for path in [cmp.run_dir(parallel, *run) / name for name in (cmp.SCORES_FILE, rundir.SUMMARY_FILE)]}
    printed = study(workers=2, runs_dir=str(parallel))
    assert "nothing to train; all 2 runs are scored" in printed
    after = {run: (path.read_bytes(), path.stat().st_mtime_ns) for run in RUNS
             for path in [cmp.run_dir(parallel, *run) / name for name in (cmp.SCORES_FILE, rundir.SUMMARY_FILE)]}
    assert after == before


def training_run(runs: Path) -> tuple[str, int] | None:
    """A run training past its first point: one session trains them all, so a run with some of its
    points' rows in scores.csv but not all is training (or scoring) the next one."""
    for run in RUNS:
        if 0 < len(cmp.read_scores(cmp.run_dir(runs, *run) / cmp.SCORES_FILE)) < TINY["points"]:
            return run
    return None


@pytest.mark.slow
def test_a_workers_run_process_trains_its_runs_in_turn(studies, tmp_path):
    """One kept child trains both runs, one after another, to the in-process scores bit for bit, and ends
    when the study stops it."""
    from studies.run import child

    alone, _, _ = studies
    options = executor._for_workers(cmp.CompareOptions(**{**TINY, "runs_dir": str(tmp_path)}), threads=1)
    env = {name: os.environ.get(name) for name in executor.NANNY_ENV}
    pids = []
    try:
        for run in RUNS:
            child.run_in_child(*run, options, "", env)
            pids.append(child._children[threading.get_ident()].process.pid)
    finally:
        assert child.stop_children() == 1
    assert len(pids) == 2 and pids[0] == pids[1]
    assert child.stop_children() == 0
    for run, frame in scores(tmp_path).items():
        pd.testing.assert_frame_equal(frame.drop(columns=TIMING), scores(alone)[run].drop(columns=TIMING),
                                      check_exact=True)


@pytest.mark.slow
def test_killed_worker_costs_the_work_since_the_runs_last_point(studies, tmp_path):
    from distributed import Client, LocalCluster

    _, parallel, _ = studies
    runs = tmp_path / "runs"
    study_env = {name: os.environ.get(name) for name in executor.NANNY_ENV}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        executor.restore_env(study_env)  # a Nanny sets its workers' BLAS threads in its own process: this one
        printed: list[str] = []
        worker = threading.Thread(target=lambda: printed.append(study(cluster=cluster.scheduler_address,
                                                                      runs_dir=str(runs))))
        worker.start()
        killed = None
        deadline = time.monotonic() + 900
        while killed is None and worker.is_alive() and time.monotonic() < deadline:
            run = training_run(runs)
            busy = {addr: keys for addr, keys in client.processing().items()
                    if run is not None and any(str(k).startswith(f"{run[0]}-s{run[1]}-run-") for k in keys)}
            if busy:
                addr = next(iter(busy))
                killed = client.run(os.getpid, workers=[addr])[addr]
                os.kill(killed, signal.SIGKILL)
            time.sleep(0.02)
        worker.join(timeout=900)
        assert killed is not None, "no run was seen training past its first point"
        assert killed not in client.run(os.getpid).values()  # the nanny started a new worker
    executor.restore_env(study_env)
    assert printed and "FAILED" not in printed[0] and "2/2 runs done" in printed[0]
    for run, frame in scores(runs).items():
        pd.testing.assert_frame_equal(frame.drop(columns=TIMING), scores(parallel)[run].drop(columns=TIMING),
                                      check_exact=True)


def test_assign_devices_spreads_workers_over_gpus():
    assert devices.assign_devices(4, ["0", "1"], 2) == ["0", "1", "0", "1"]
    assert devices.assign_devices(3, ["0", "1"], 1) == ["0", "1", None]  # the third trains on the CPU
    assert devices.assign_devices(2, ["3"], 4) == ["3", "3"]
    assert devices.assign_devices(2, [], 1) == [None, None]
    assert devices.assign_devices(0, ["0"], 1) == []
    with pytest.raises(WganbenchError, match="per_gpu"):
        devices.assign_devices(2, ["0"], 0)


def test_defaults_follow_the_machine():
    assert devices.default_workers(8, ["0", "1"], 2) == 4
    assert devices.default_workers(2) == max(1, round(2 * devices.WORKERS_PER_CORE))
    assert [devices.default_threads(2, w) for w in (0, 1, 2, 4)] == [2, 2, 1, 1]
    assert devices.model_defaults(["GPU:0"]) == {"width": 64, "batch_size": 256}
    assert devices.model_defaults([]) == {}


def test_pin_device_sets_the_workers_gpu(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    plugin = devices.PinDevice({0: "1", 1: None})
    plugin.setup(type("Worker", (), {"name": 0})())
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "1"
    plugin.setup(type("Worker", (), {"name": 1})())
    assert os.environ["CUDA_VISIBLE_DEVICES"] == ""
    assert devices.visible_gpus() == []
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 5")
    assert devices.visible_gpus() == ["2", "5"]


def test_bad_executor_options_fail_before_any_training(tmp_path):
    for bad, match in (({"workers": -1}, "workers"), ({"threads": 0}, "threads"), ({"per_gpu": 0}, "per_gpu"),
                       ({"workers": 2, "cluster": "tcp://127.0.0.1:1"}, "not both"),
                       ({"seeds": (0, 0)}, "seeds names 0 more than once"),
                       ({"points": 5}, "--points 5 exceeds --steps 4")):
        with pytest.raises(WganbenchError, match=match):
            run_study(cmp.CompareOptions(**{**TINY, **bad}, runs_dir=str(tmp_path)))
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("given", [{}, {"budget_seconds": 42.0}, {"steps": 10}])
def test_a_worker_gets_the_studys_budget_spelled_out(given: dict) -> None:
    """The default budget is resolved in the study's process: a run's process with other code (a commit
    made while the study ran, a cluster worker's install) would read its own default."""
    options = cmp.CompareOptions(**given)
    sent = executor._for_workers(options, threads=1)
    assert sent.budget == options.budget
    assert sent.budget_seconds == (None if "steps" in given else given.get("budget_seconds",
                                                                          cmp.DEFAULT_BUDGET_SECONDS))
