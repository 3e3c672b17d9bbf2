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
