"""The quality gate: tolerances, verdicts, exit codes, and baselines written only on purpose."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from studies import gate
from studies.cli import main
from wgan.errors import WganbenchError

BASE = {"fid": 40.0, "is_mean": 8.0, "modes_covered": 10, "kid_mean": 0.02, "precision": 0.7, "recall": 0.5,
        "coverage": 0.6}


def verdicts(candidate: dict) -> dict:
    table = gate.compare_scores(BASE, candidate)
    return dict(zip(table["metric"], table["verdict"]))


def test_equal_scores_pass():
    assert gate.passed(gate.compare_scores(BASE, dict(BASE)))


@pytest.mark.parametrize(("metric", "value", "ok"), [
    ("fid", 43.9, True),        # +9.75%: within 10%
    ("fid", 44.1, False),       # +10.25%
    ("fid", 10.0, True),        # better is always fine
    ("is_mean", 7.81, True),    # IS may drop by 0.2
    ("is_mean", 7.79, False),
    ("modes_covered", 9, False),  # modes may not drop at all
    ("kid_mean", 0.0249, True),   # +24.5%
    ("kid_mean", 0.0251, False),
    ("recall", 0.44, False),
    ("precision", 0.1, None),      # precision falls as models improve: not gated
    ("fid", math.nan, False),   # a NaN score never passes
])
def test_tolerances(metric, value, ok):
    if ok is None:
        assert metric not in verdicts({**BASE, metric: value})
        return
    assert verdicts({**BASE, metric: value})[metric] == (gate.VERDICT_PASS if ok else gate.VERDICT_FAIL)


def test_fid_absolute_floor_for_small_baselines():
    table = gate.compare_scores({"fid": 2.0}, {"fid": 2.9})  # +45% but under the floor of 1.0
    assert gate.passed(table) and table["allowed"].iloc[0] == 1.0


def test_missing_candidate_metric_is_an_error():
    with pytest.raises(WganbenchError, match="candidate scores lack 'is_mean'"):
        gate.compare_scores(BASE, {"fid": 40.0})


def _write(path: Path, obj: dict) -> str:
    path.write_text(json.dumps(obj))
    return str(path)


def test_cli_exit_codes_and_update(tmp_path: Path, capsys):
    baseline = tmp_path / "quality.json"
    good = _write(tmp_path / "good.json", {"setting": "gan", "scores": BASE})
    worse = _write(tmp_path / "worse.json", {"setting": "gan", "scores": {**BASE, "fid": 60.0}})
    assert main(["gate", good, "--baseline", str(baseline)]) == gate.EXIT_USAGE  # no baseline yet
    assert main(["gate", good, "--baseline", str(baseline), "--update-baseline"]) == gate.EXIT_PASS
    assert json.loads(baseline.read_text())["settings"]["gan"]["scores"] == BASE
    assert main(["gate", good, "--baseline", str(baseline)]) == gate.EXIT_PASS
    capsys.readouterr()
    assert main(["gate", worse, "--baseline", str(baseline)]) == gate.EXIT_REGRESSION
    out = capsys.readouterr().out
    assert "REGRESSION" in out and "| fid" in out and "FAIL" in out
    # another setting's baseline is added beside, never replacing, the first
    other = _write(tmp_path / "gp.json", {"setting": "wgan-gp", "scores": BASE})
    assert main(["gate", other, "--baseline", str(baseline), "--update-baseline"]) == gate.EXIT_PASS
    assert set(json.loads(baseline.read_text())["settings"]) == {"gan", "wgan-gp"}
    assert main(["gate", good, "--baseline", str(baseline), "--setting", "wgan"]) == gate.EXIT_USAGE
    assert main(["gate", str(tmp_path / "missing.json"), "--baseline", str(baseline)]) == gate.EXIT_USAGE
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["gate", str(tmp_path / "bad.json"), "--baseline", str(baseline)]) == gate.EXIT_USAGE


def test_gate_fails_real_samples_made_worse(mnist, tmp_path: Path):
    """Test images as the baseline 'samples'; the same images with pixel noise must fail the gate."""
    _, (x_test, _) = mnist
    clean = x_test[:2000].astype(np.float32) / 127.5 - 1.0
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 0.5, clean.shape).astype(np.float32), -1, 1)
    np.save(tmp_path / "clean.npy", clean[..., None])
    np.save(tmp_path / "noisy.npy", noisy[..., None])
    baseline = str(tmp_path / "quality.json")
    common = ["--baseline", baseline, "--setting", "gan", "--n", "2000"]
    assert main(["gate", str(tmp_path / "clean.npy"), *common, "--update-baseline"]) == gate.EXIT_PASS
    assert main(["gate", str(tmp_path / "clean.npy"), *common]) == gate.EXIT_PASS  # same input, same numbers
    assert main(["gate", str(tmp_path / "noisy.npy"), *common]) == gate.EXIT_REGRESSION
