"""`compare` end to end on a tiny budget: curves, reuse, failure isolation and every report file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evaluators import suite as keys
from wgan import compare as cmp
from wgan import trainer
from wgan.compare_report import findings, ranking
from wgan.errors import WganbenchError

# Batch 16 without XLA: the defaults' XLA compiles would cost more than the tiny runs themselves.
TINY = {"settings": ["gan", "wgan-gp"], "seeds": [0], "steps": 4, "points": 2, "n": 1000, "quiet": True,
        "batch_size": 16, "jit_compile": False}


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> tuple[Path, Path, list[Path]]:
    root = tmp_path_factory.mktemp("compare")
    out, runs = root / "report", root / "runs"
    # A run directory that holds another setting's run: training `gan` there fails, the others go on.
    blocker = trainer.train("wgan-seed", steps=1, out_dir=runs / "wgan-s0", quiet=True)
    assert blocker[trainer.SUMMARY_STEPS] == 1
    written = cmp.compare(settings=[*TINY["settings"], "wgan"], seeds=TINY["seeds"], steps=TINY["steps"],
                          points=TINY["points"], n=TINY["n"], batch_size=TINY["batch_size"],
                          jit_compile=TINY["jit_compile"], out_dir=out, runs_dir=runs, quiet=True)
    return out, runs, written


def test_curves_have_a_row_per_checkpoint(compared):
    out, runs, _ = compared
    curves = pd.read_csv(out / "curves.csv")
    ok = curves[curves[cmp.STATUS] == cmp.STATUS_OK]
    assert sorted(ok[cmp.STEP]) == [2, 2, 4, 4]
    assert set(ok[cmp.SETTING]) == {"gan", "wgan-gp"}
    assert (ok[keys.FID] > 0).all() and (ok[cmp.WALL_S] > 0).all() and (ok[cmp.IMAGES_PER_S] > 0).all()
    assert (ok[keys.N] == TINY["n"]).all()
    config = json.loads((runs / "gan-s0" / trainer.CONFIG_FILE).read_text())
    assert config["setting"]["batch_size"] == TINY["batch_size"] and config["jit_compile"] is False


def test_failing_run_is_reported_not_fatal(compared):
    out, _, _ = compared
    failures = pd.read_csv(out / "failures.csv")
    assert failures[cmp.SETTING].tolist() == ["wgan"]
    assert "holds a run of setting 'wgan-seed' that differs in setting" in failures[cmp.ERROR].iloc[0]
    assert "Failed runs" in (out / "report.md").read_text()


def test_report_files(compared):
    out, _, written = compared
    names = {p.name for p in written}
    assert {"report.md", "report.html", "final_scores.csv", "cost.csv", "ranking.csv", "curves.csv",
            "class_shares.csv", "fid_vs_step.png", "fid_vs_wallclock.png", "samples.png",
            "class_histograms.png"} <= names
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text()
    assert "## What the numbers show" in report and "![FID versus generator step](fid_vs_step.png)" in report
    html = (out / "report.html").read_text()
    assert "<code>gan</code>" in html and "`" not in html  # Markdown code spans rendered, not left raw
    shares = pd.read_csv(out / "class_shares.csv").set_index(cmp.SETTING)
    assert shares.sum(axis=1).round(6).eq(1.0).all()


def test_second_compare_reuses_finished_runs(compared):
    out, runs, _ = compared
    before = (runs / "gan-s0" / cmp.SCORES_FILE).read_text()
    summary = json.loads((runs / "gan-s0" / trainer.SUMMARY_FILE).read_text())
    shutil.rmtree(runs / "wgan-s0")  # the blocker is gone: only `wgan` trains now
    cmp.compare(settings=[*TINY["settings"], "wgan"], seeds=TINY["seeds"], steps=TINY["steps"],
                points=TINY["points"], n=TINY["n"], batch_size=TINY["batch_size"], jit_compile=TINY["jit_compile"],
                out_dir=out, runs_dir=runs, quiet=True)
    assert (runs / "gan-s0" / cmp.SCORES_FILE).read_text() == before
    assert json.loads((runs / "gan-s0" / trainer.SUMMARY_FILE).read_text()) == summary
    assert pd.read_csv(out / "failures.csv").empty
    assert set(pd.read_csv(out / "ranking.csv")[cmp.SETTING]) == {"gan", "wgan-gp", "wgan"}


def test_findings_are_computed_from_the_numbers():
    stats = pd.DataFrame({cmp.SETTING: ["gan", "wgan-seed"], f"{keys.FID}_mean": [30.0, 60.0],
                          f"{keys.IS_MEAN}_mean": [8.0, 5.0], f"{keys.MODES_COVERED}_mean": [10.0, 9.0],
                          f"{keys.RECALL}_mean": [0.5, 0.3]})
    cost = pd.DataFrame({cmp.SETTING: ["gan", "wgan-seed"], "images_per_s": [400.0, 380.0],
                         "s_to_fid_50": [120.0, float("nan")]})
    text = " ".join(findings(stats, cost, 50.0))
    assert "`gan` reaches the lowest final FID (30.0" in text
    assert "`wgan-seed` trails `gan` on FID (60.0 vs 30.0, +100%)" in text
    assert "`gan` after 120s" in text
    assert ranking(stats)[cmp.SETTING].tolist() == ["gan", "wgan-seed"]


def test_bad_budgets_and_settings():
    with pytest.raises(WganbenchError, match="unknown setting 'dcgan'"):
        cmp.compare(settings=["dcgan"], steps=2)
    with pytest.raises(WganbenchError, match="batch_size must be a non-negative integer"):
        cmp.compare(steps=2, batch_size=-8)
    with pytest.raises(WganbenchError, match="exactly one budget"):
        cmp.Budget(None, None, 2)
    with pytest.raises(WganbenchError, match="positive"):
        cmp.Budget(-1, None, 2)
    assert cmp.Budget(10, None, 3).targets() == [3, 7, 10]
