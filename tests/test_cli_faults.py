"""Faults a careless user found (issue 26 §3): each is one line on stderr naming the problem, exit 2, or works.

- the README's "gate in your CI" lines run from another project's folder find the committed baseline;
- a tiny ``--false-alarm`` gives a finite limit (an identical candidate passes), a too tiny one exits 2;
- ``compare``'s KID advice names only a flag that ``compare`` has;
- a ``study.json`` that is not an object is named as such, not as an internal exception.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from studies.cli.app import main
from studies.gate import gate
from wgan.paths import SUITE_ROOT

BASELINE = SUITE_ROOT / "results" / "baseline" / "quality.json"
DEFAULT_STUDY = SUITE_ROOT / "results" / "default-study"


def committed_seed(setting: str, index: int = 0) -> dict:
    """A scores JSON the gate accepts: seed ``index`` of the committed baseline's ``setting``, as it was scored."""
    entry = json.loads(BASELINE.read_text())["settings"][setting]
    scores = {key: spread["values"][index] for key, spread in entry["scores"].items()}
    return {"setting": setting, "recipe": entry["recipe"], "classifier_hash": entry["classifier_hash"],
            "scores": scores}


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as stop:
        code = int(stop.code)
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"wganbench {command}: error: "), err
    return lines[0]


def test_the_gate_finds_the_committed_baseline_from_another_folder(tmp_path: Path) -> None:
    # As in another project's CI: its own folder, no results/ there, the command as installed.
    (tmp_path / "seed0.json").write_text(json.dumps(committed_seed("wgan-gp")))
    env = {k: v for k, v in os.environ.items() if k != "WGANBENCH_RESULTS"}
    done = subprocess.run([sys.executable, "-m", "wganbench", "gate", "seed0.json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == gate.EXIT_PASS, done.stdout + done.stderr
    assert f"vs baseline {BASELINE}" in done.stdout and "PASS" in done.stdout


@pytest.mark.parametrize("false_alarm", ["1e-16", "1e-300"])
def test_a_tiny_false_alarm_keeps_the_limits_finite(tmp_path: Path, capsys, false_alarm: str) -> None:
    (tmp_path / "seed1.json").write_text(json.dumps(committed_seed("wgan-gp", 1)))
    code, out, err = run(["gate", str(tmp_path / "seed1.json"), "--baseline", str(BASELINE), "--json",
                          "--false-alarm", false_alarm], capsys)
    verdict = json.loads(out)
    assert code == gate.EXIT_PASS and verdict["verdict"] == "pass", err
    # every declared gated value keeps a number for its limit (JSON null would be a NaN), even where so tiny a
    # rate widens it past what uniform noise scores and it is shown vacuous
    gated = [row for row in verdict["metrics"] if row["verdict"] in ("pass", "REGRESSION", "vacuous")]
    assert gated and all(row["limit"] is not None for row in gated)


def test_a_false_alarm_too_small_for_t_exits_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "seed1.json").write_text(json.dumps(committed_seed("wgan-gp", 1)))
    code, _, err = run(["gate", str(tmp_path / "seed1.json"), "--baseline", str(BASELINE),
                        "--false-alarm", "5e-324"], capsys)
    assert code == gate.EXIT_USAGE
    assert "too small" in one_line(err, "gate")


def test_compare_kid_advice_names_only_its_own_flags(tmp_path: Path, capsys) -> None:
    code, _, err = run(["compare", "--n", "600", "--runs-dir", str(tmp_path / "c")], capsys)
    line = one_line(err, "compare")
    assert code == 2 and "--n 1000" in line
    assert "--kid-subset-size" not in line and "--metrics" not in line
    assert not (tmp_path / "c").exists()


def test_a_study_json_that_is_a_list_is_named(tmp_path: Path, capsys) -> None:
    study = tmp_path / "study"
    study.mkdir()
    shutil.copy(DEFAULT_STUDY / "curves.csv", study / "curves.csv")
    (study / "study.json").write_text("[1, 2]")
    code, _, err = run(["contrast", str(study), str(DEFAULT_STUDY), "--out-dir", str(tmp_path / "out")], capsys)
    line = one_line(err, "contrast")
    assert code == 2 and "study.json" in line and "JSON object" in line and "AttributeError" not in line
    assert not (tmp_path / "out").exists()
