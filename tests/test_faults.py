"""Faults at every write: a crash in the middle of any writer leaves the old file (or none) under the
final name, never half of a new one, and no temporary file behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wgan import io, rundir


class Crash(Exception):
    pass


def _crash_midway(tmp: Path) -> None:
    tmp.write_bytes(b"half of a file")
    raise Crash


WRITERS = {
    "history": lambda p: rundir.write_history(p, [{"step": 1, "wall_time": 0.5}], ("step", "wall_time")),
    "sample grid": lambda p: rundir.save_png(p, np.zeros((16, 16), np.uint8)),
    "json (config, summary, budget, baseline)": lambda p: io.write_json(p, {"a": 1}),
    "text (scores.csv, reports)": lambda p: io.write_text(p, "x,y\n1,2\n"),
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_crash_inside_a_writer_keeps_the_old_file(tmp_path: Path, monkeypatch, writer: str) -> None:
    target = tmp_path / "file.out"
    WRITERS[writer](target)
    before = target.read_bytes()

    def crashing(path, write):
        return real(path, _crash_midway)
    real = io.atomic_write
    monkeypatch.setattr(io, "atomic_write", crashing)
    monkeypatch.setattr(rundir, "atomic_write", crashing)
    with pytest.raises(Crash):
        WRITERS[writer](target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.out"]  # no temporary file left


def test_a_crash_before_the_rename_keeps_the_old_generator(tmp_path: Path, monkeypatch) -> None:
    """generator.keras goes through the same atomic writer: a kill inside Keras' save keeps the old one."""
    class Saver:
        def save(self, path):
            Path(path).write_bytes(b"PK new")
    target = tmp_path / rundir.GENERATOR_FILE
    rundir.save_generator(target, Saver())
    monkeypatch.setattr(Saver, "save", lambda self, path: _crash_midway(Path(path)))
    with pytest.raises(Crash):
        rundir.save_generator(target, Saver())
    assert target.read_bytes() == b"PK new" and len(list(tmp_path.iterdir())) == 1


def test_a_truncated_history_row_is_dropped_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / rundir.HISTORY_FILE
    path.write_text("step,wall_time,critic_loss\n1,0.5,0.25\n2,1.0,0.5\n3,1.")  # cut off mid-row by a crash
    assert rundir.read_history(path, 10) == [{"step": 1, "wall_time": 0.5, "critic_loss": 0.25},
                                             {"step": 2, "wall_time": 1.0, "critic_loss": 0.5}]


# The faults a careless user finds (issue 26): each is exit 2 with one line naming the problem, nothing lost.

TINY_COMPARE = ["compare", "--settings", "gan", "--seeds", "0", "--steps", "2", "--points", "1", "--n", "1000",
                "--width", "8", "--batch-size", "16", "--quiet"]
TINY_TRAIN = ["--width", "8", "--batch-size", "16", "--quiet", "--checkpoint-every", "1"]


def refused(capsys, argv: list[str], *needles: str) -> None:
    """`wganbench argv` exits 2 with one line on stderr holding every needle."""
    from studies.cli.app import EXIT_BAD_INPUT, main

    code = main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == EXIT_BAD_INPUT and len(err) == 1, err
    for needle in needles:
        assert needle in err[0], err[0]


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def http_port():
    """A port that accepts connections but speaks HTTP, not Dask."""
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:  # its log would be the test's stderr
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_a_cluster_that_is_not_a_scheduler_fails_in_time_and_claims_nothing(tmp_path, capsys, http_port):
    from studies.run.executor import CLUSTER_TIMEOUT_S

    runs = tmp_path / "runs"
    refused(capsys, [*TINY_COMPARE, "--cluster", f"tcp://127.0.0.1:{http_port}", "--runs-dir", str(runs),
                     "--out-dir", str(tmp_path / "report")],
            f"no Dask scheduler answered there within {CLUSTER_TIMEOUT_S:g} s")
    assert not list(runs.rglob("*"))  # no budget.json, no lock file: the next compare starts clean
    refused(capsys, [*TINY_COMPARE, "--cluster", "foo", "--runs-dir", str(runs)], "--cluster foo: not an address")


@pytest.mark.parametrize("flags, needle", [
    (["--seeds", "0,0"], "--seeds names 0 more than once"),
    (["--settings", "gan,gan"], "--settings names gan more than once"),
    (["--points", "100000"], "--points 100000 exceeds --steps 2"),
    (["--out-dir", "/"], "--out-dir / is /"),
])
def test_study_flags_refused_before_anything_is_written(tmp_path, capsys, flags, needle):
    runs = tmp_path / "runs"
    refused(capsys, [*TINY_COMPARE, "--runs-dir", str(runs), *flags], needle)
    assert not runs.exists()


def test_an_out_dir_that_is_a_file_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "report").write_text("my notes")
    refused(capsys, [*TINY_COMPARE, "--runs-dir", str(tmp_path / "runs"), "--out-dir", str(tmp_path / "report")],
            "is a file, not a folder")
    assert not (tmp_path / "runs").exists() and (tmp_path / "report").read_text() == "my notes"


def test_damaged_scores_are_never_read_as_data(tmp_path, capsys):
    from studies.schema import read_scores

    path = tmp_path / "scores.csv"
    header = "setting,seed,target,step,wall_s,status,error,fid\n"
    path.write_text(header + "gan,0,2,2,0.5,ok,,12.5\ngan,0,2,2,0.5,ok,,12.5\ngan,0,4,4,1.0,ok,,11.2\ngan,0,6,6,1.")
    frame = read_scores(path)
    assert frame["target"].tolist() == [2, 4] and frame["fid"].tolist() == [12.5, 11.2]
    err = capsys.readouterr().err
    assert f"{path}: its last line is cut short" in err and f"{path}: 1 repeated point(s)" in err
    path.write_text(header + "gan,0,2,2,0.5,ok,,12.5\ngan,0,4,4,1.0,ok,,abc\n")
    with pytest.raises(Exception, match=f"{path}: column 'fid' holds 'abc' in row 2, not a number"):
        read_scores(path)


def test_a_point_already_scored_is_not_appended_again(tmp_path):
    from studies.schema import append_score

    row = {"setting": "gan", "seed": 0, "target": 2, "status": "ok", "fid": 12.5}
    append_score(tmp_path / "scores.csv", row)
    assert len(append_score(tmp_path / "scores.csv", {**row, "fid": 3.0})) == 1


def test_force_on_a_folder_without_a_run_deletes_nothing(tmp_path, capsys):
    for name in ("samples", "tensorboard"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "mine.txt").write_text("the user's own")
    before = tree(tmp_path)
    refused(capsys, ["train", "gan", "--steps", "1", *TINY_TRAIN, "--force", "--out-dir", str(tmp_path)],
            "holds samples, tensorboard but no run (no config.json)")
    assert tree(tmp_path) == before


@pytest.mark.slow
def test_resume_without_checkpoints_refuses_and_keeps_the_run(tmp_path, capsys):
    from studies.cli.app import main

    out = tmp_path / "run"
    assert main(["train", "gan", "--steps", "2", *TINY_TRAIN, "--out-dir", str(out)]) == 0
    import shutil

    shutil.rmtree(out / rundir.CHECKPOINT_DIR)
    before = tree(out)
    capsys.readouterr()
    refused(capsys, ["train", "gan", "--steps", "4", *TINY_TRAIN, "--resume", "--out-dir", str(out)],
            "checkpoints/ is missing, so it cannot resume", "--force")
    assert tree(out) == before


@pytest.mark.slow
def test_the_first_steps_tracing_is_not_charged_to_the_budget(tmp_path):
    """On a seconds budget far shorter than a trace, the session still trains past its first step, and
    its first step is charged the second's measured time (history rounds each to 1e-4 s)."""
    import pandas as pd

    from wgan.trainer import train

    out = tmp_path / "run"
    train("gan", budget_seconds=1e-3, out_dir=str(out), width=8, batch_size=16, quiet=True)
    wall = pd.read_csv(out / rundir.HISTORY_FILE)[rundir.WALL_TIME].tolist()
    assert len(wall) >= 2 and abs(2 * wall[0] - wall[1]) <= 1.5e-4


@pytest.mark.slow
def test_restart_recovers_a_run_directory_holding_another_setting(tmp_path, capsys):
    from studies.cli.app import main
    from wgan.trainer import train

    runs = tmp_path / "runs"
    train("wgan-seed", steps=1, out_dir=str(runs / "gan-s0"), width=8, batch_size=16, quiet=True)
    argv = [*TINY_COMPARE, "--runs-dir", str(runs), "--out-dir", str(tmp_path / "report")]
    assert main(argv) == 2  # without --restart the run fails: its folder holds wgan-seed
    assert "was trained without a recorded budget" in capsys.readouterr().err
    assert main([*argv, "--restart"]) == 0
    import json

    assert json.loads((runs / "gan-s0" / rundir.CONFIG_FILE).read_text())["setting"]["name"] == "gan"
