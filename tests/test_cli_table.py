"""Every bad input is one clear line on stderr and exit 2, before any training or scoring.

One row per case: the command line, the expected exit code, words the message must hold. A new bad
input found later is one new row. ``{tmp}`` is a fresh folder holding the files of ``FILES``.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import numpy as np
import pytest

from studies.cli.app import main

FILES = {
    "text.npy": "this is not an array\n",
    "bad.json": "{not json",
    "list.json": "[1, 2]",
    "nostats.json": json.dumps({"benchmarks": [{"name": "x"}]}),
    "empty.json": "[]",
    "gen.keras": "PK\x03\x04 truncated",
}

CASES = [
    # data
    ("data --data {tmp}/missing.npz", 2, "no such file or folder"),
    ("data --data {tmp}/text.npy", 2, "cannot read as .npz"),
    # train: options are checked before any training
    ("train wgan-xx --out-dir {tmp}/r", 2, "unknown setting 'wgan-xx'"),
    ("train gan --steps 0 --out-dir {tmp}/r", 2, "steps must be a positive integer"),
    ("train gan --steps abc --out-dir {tmp}/r", 2, "expected an integer"),
    ("train gan --budget-seconds nan --out-dir {tmp}/r", 2, "budget_seconds must be a finite positive number"),
    ("train gan --budget-seconds inf --out-dir {tmp}/r", 2, "budget_seconds must be a finite positive number"),
    ("train gan --width -1 --out-dir {tmp}/r", 2, "width must be a non-negative integer"),
    ("train gan --batch-size -8 --out-dir {tmp}/r", 2, "batch_size must be a non-negative integer"),
    ("train gan --threads 0 --out-dir {tmp}/r", 2, "threads must be a positive integer"),
    ("train gan --clip-impl clamp --out-dir {tmp}/r", 2, "invalid choice: 'clamp'"),
    ("train gan --checkpoint-every 0 --out-dir {tmp}/r", 2, "checkpoint_every must be a positive integer"),
    ("train gan --out-dir {tmp}/text.npy", 2, "exists and is not a folder"),
    # evaluate
    ("evaluate {tmp}/missing.npy", 2, "no such file or directory"),
    ("evaluate {tmp}/text.npy", 2, "not a NumPy .npy file"),
    ("evaluate {tmp}/gen.keras", 2, "truncated or corrupt .keras file"),
    ("evaluate {tmp}/text.npy --n 0", 2, "n must be a positive integer"),
    ("evaluate {tmp}/text.npy --kid-subsets 0", 2, "subsets"),
    ("evaluate {tmp}/text.npy --metrics fid,nope", 2, "nope"),
    # compare: every option is checked before the first run trains
    ("compare --settings dcgan --runs-dir {tmp}/c", 2, "unknown setting 'dcgan'"),
    ("compare --steps 3 --budget-seconds 5 --runs-dir {tmp}/c", 2, "not both"),
    ("compare --seeds -1 --runs-dir {tmp}/c", 2, "each seed must be a non-negative integer"),
    ("compare --seeds a,b --runs-dir {tmp}/c", 2, "comma-separated list of int"),
    ("compare --points 0 --runs-dir {tmp}/c", 2, "points must be a positive integer"),
    ("compare --n 600 --runs-dir {tmp}/c", 2, "n=600 samples cannot fill KID's subsets of 1000"),
    ("compare --width -16 --runs-dir {tmp}/c", 2, "width must be a non-negative integer"),
    # gate
    ("gate {tmp}/missing.json --baseline {tmp}/q.json", 2, "no such file or run directory"),
    ("gate {tmp}/bad.json --baseline {tmp}/q.json", 2, "not valid JSON"),
    ("gate {tmp}/bad.json --n 0", 2, "n must be a positive integer"),
    # report
    ("report bench {tmp}/missing.json", 2, "no such benchmark JSON"),
    ("report bench {tmp}/bad.json", 2, "not valid JSON"),
    ("report bench {tmp}/list.json", 2, "not a pytest-benchmark JSON file"),
    ("report bench {tmp}/nostats.json", 2, "benchmark 0 has no name or no stats"),
    ("report bench {tmp}", 2, "a folder, expected a benchmark JSON file"),
    ("report study {tmp}", 2, "is not a study report folder"),
    ("report study {tmp}/missing", 2, "is not a study report folder"),
]


@pytest.fixture()
def tmp(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as stop:  # argparse's own errors exit 2 with their usage line
        return int(stop.code)


@pytest.mark.parametrize(("command", "code", "words"), CASES, ids=[c[0].split(" {")[0] for c in CASES])
def test_bad_input(tmp: Path, capsys, command: str, code: int, words: str) -> None:
    assert run(command.format(tmp=tmp).split()) == code
    captured = capsys.readouterr()
    assert words in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not (tmp / "r" / "config.json").exists()  # nothing half-made for a retry to trip on
    assert not (tmp / "c").exists()


def test_failed_train_can_be_retried_as_its_message_says(tmp: Path, capsys) -> None:
    out = tmp / "run"
    assert run(["train", "gan", "--batch-size", "70000", "--out-dir", str(out), "--quiet"]) == 2
    assert "a step needs 70000 images" in capsys.readouterr().err
    assert not (out / "config.json").exists()
    assert run(["train", "gan", "--steps", "1", "--batch-size", "16", "--width", "8", "--out-dir", str(out),
                "--quiet", "--no-deterministic"]) == 0


def test_run_files_are_readable_by_others(tmp: Path) -> None:
    """Atomic writes keep the usual permissions (0666 less the umask), not mkstemp's 0600."""
    from wgan import io

    path = io.write_json(tmp / "x.json", {"a": 1})
    assert path.stat().st_mode & stat.S_IROTH


def test_samples_as_text_is_not_called_pickled(tmp: Path, capsys) -> None:
    np.save(tmp / "ok.npy", np.zeros((2, 28, 28), np.uint8))
    assert run(["evaluate", str(tmp / "text.npy")]) == 2
    assert "pickle" not in capsys.readouterr().err
