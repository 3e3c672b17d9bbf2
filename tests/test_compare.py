"""`compare` end to end on a tiny budget: curves, reuse, failure isolation and every report file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from studies.report.findings import headline
from studies.report.report import write_report
from studies.report.tables import ranking
from studies.run import compare as cmp
from studies.run.study import run_study
from wgan import rundir, trainer
from wgan.errors import WganbenchError

TINY = {"settings": ("gan", "wgan-gp"), "seeds": (0,), "steps": 4, "points": 2, "n": 1000, "quiet": True,
        "batch_size": 16}


def compare(**kwargs) -> list[Path]:
    """What `wganbench compare` does: run the study, then write its report."""
    options = cmp.CompareOptions(**kwargs)
    return write_report(run_study(options), cmp.study_meta(options), out_dir=options.report_dir(),
                        runs_dir=options.run_root())


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> tuple[Path, Path, list[Path]]:
    root = tmp_path_factory.mktemp("compare")
    out, runs = root / "report", root / "runs"
    # A run directory that holds another setting's run: training `gan` there fails, the others go on.
    blocker = trainer.train("wgan-seed", steps=1, out_dir=runs / "wgan-s0", quiet=True)
    assert blocker[rundir.SUMMARY_STEPS] == 1
    (runs / "wgan-s0" / cmp.BUDGET_FILE).write_text(json.dumps(cmp.CompareOptions(**TINY).budget.record()))
    written = compare(**{**TINY, "settings": (*TINY["settings"], "wgan")}, out_dir=str(out), runs_dir=str(runs))
    return out, runs, written


def test_curves_have_a_row_per_checkpoint(compared):
    out, runs, _ = compared
    curves = pd.read_csv(out / "curves.csv")
    ok = curves[curves[cmp.STATUS] == cmp.STATUS_OK]
    assert sorted(ok[cmp.STEP]) == [2, 2, 4, 4]
    assert set(ok[cmp.SETTING]) == {"gan", "wgan-gp"}
    assert (ok["fid"] > 0).all() and (ok[cmp.WALL_S] > 0).all() and (ok[cmp.IMAGES_PER_S] > 0).all()
    assert (ok["n"] == TINY["n"]).all()
    # Intermediate points are scored with the cheap metrics only, the last with the whole table; each
    # row carries its cost, the scoring a part of the point's wall-clock.
    final = ok[cmp.STEP] == TINY["steps"]
    assert ok.loc[~final, "kid_mean"].isna().all() and ok.loc[final, "kid_mean"].notna().all()
    assert ok["fid"].notna().all() and ok["modes_covered"].notna().all()
    assert (ok[cmp.SCORE_S] > 0).all() and (ok[cmp.POINT_S] > ok[cmp.SCORE_S]).all()
    config = json.loads((runs / "gan-s0" / rundir.CONFIG_FILE).read_text())
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
    assert {"report.md", "report.html", "final_scores.csv", "comparisons.csv", "cost.csv", "ranking.csv",
            "noise.csv", "loss_correlation.csv", "loss_correlation_runs.csv", "curves.csv", "class_shares.csv",
            "fid_vs_step.png", "fid_vs_wallclock.png", "samples_over_training.png", "losses.png", "w_and_fid.png",
            "samples.png", "class_histograms.png", "study.json"} <= names
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text()
    assert "## What the numbers show" in report and "![FID versus generator step](fid_vs_step.png)" in report
    # One seed: scores without an interval, a comparison without a verdict, too few points for a correlation.
    assert "[n/a (1 seed)]" in report and "no difference detected with 1 seed" in report and " beats " not in report
    assert "Time to FID ≤ " in report and "too few points (2 < 8)" in report
    pairs = pd.read_csv(out / "comparisons.csv")
    # The failed `wgan` (no good point) is counted at noise's FID, not dropped: it is compared too.
    assert pairs[["a", "b"]].values.tolist() == [["wgan-gp", "gan"], ["wgan", "gan"], ["wgan-gp", "wgan"]]
    assert pairs["p"].isna().all()
    noise = pd.read_csv(out / "noise.csv").set_index(cmp.SETTING)
    assert noise["fid_seed_std"].isna().all()  # one seed
    # Bootstrapped from the final samples; the failed `wgan`, counted at noise, has none to resample.
    assert (noise.loc[["gan", "wgan-gp"], "fid_eval_std"] > 0).all() and noise["fid_eval_std"].isna()["wgan"]
    html = (out / "report.html").read_text()
    assert "<code>gan</code>" in html and "`" not in html  # Markdown code spans rendered, not left raw
    assert html.index('id="findings"') < html.index("<table") and 'src="data:image/png;base64,' in html
    assert '<td class="num best">' in html  # the best final score of a column is marked
    shares = pd.read_csv(out / "class_shares.csv").set_index(cmp.SETTING)
    assert shares.sum(axis=1).round(6).eq(1.0).all()


def test_second_compare_reuses_finished_runs(compared):
    out, runs, _ = compared
    before = (runs / "gan-s0" / cmp.SCORES_FILE).read_text()
    summary = json.loads((runs / "gan-s0" / rundir.SUMMARY_FILE).read_text())
    shutil.rmtree(runs / "wgan-s0")  # the blocker is gone: only `wgan` trains now
    compare(**{**TINY, "settings": (*TINY["settings"], "wgan")}, out_dir=str(out), runs_dir=str(runs))
    assert (runs / "gan-s0" / cmp.SCORES_FILE).read_text() == before
    assert json.loads((runs / "gan-s0" / rundir.SUMMARY_FILE).read_text()) == summary
    assert pd.read_csv(out / "failures.csv").empty
    assert set(pd.read_csv(out / "ranking.csv")[cmp.SETTING]) == {"gan", "wgan-gp", "wgan"}


def test_findings_are_computed_from_the_numbers():
    stats = pd.DataFrame({cmp.SETTING: ["gan", "wgan-seed"], "seeds": [1, 1], "fid_mean": [30.0, 60.0],
                          "is_mean_mean": [8.0, 5.0], "modes_covered_mean": [10.0, 9.0],
                          "recall_mean": [0.5, 0.3]})
    text = headline(stats)
    assert "`gan` has the lowest mean final FID (30, no interval from 1 seed, 10 of 10 digit classes covered)" in text
    assert "`wgan-seed` the highest (60, no interval from 1 seed); over 1 seed per setting" in text
    assert ranking(stats)[cmp.SETTING].tolist() == ["gan", "wgan-seed"]


def test_bad_budgets_and_settings():
    with pytest.raises(WganbenchError, match="unknown setting 'dcgan'"):
        cmp.CompareOptions(settings=("dcgan",), steps=2)
    with pytest.raises(WganbenchError, match="batch_size must be a non-negative integer"):
        cmp.CompareOptions(steps=2, batch_size=-8)
    with pytest.raises(WganbenchError, match="not both"):
        cmp.CompareOptions(steps=3, budget_seconds=5.0)
    with pytest.raises(WganbenchError, match="steps must be a positive integer"):
        cmp.CompareOptions(steps=-1)
    assert cmp.Budget(10, None, 3).targets() == [3, 7, 10]
    assert cmp.Budget(2, None, 4).targets() == [1, 2]  # unique targets when steps < points


def test_another_budget_is_refused_not_mixed(compared):
    out, runs, _ = compared
    with pytest.raises(WganbenchError, match=r"gan-s0 was trained under another budget.*--restart"):
        compare(**{**TINY, "steps": 6}, out_dir=str(out), runs_dir=str(runs))


def test_the_main_job_is_the_four_settings_on_five_seeds_in_its_own_folders(monkeypatch, tmp_path):
    """The default study: every setting, 5 seeds (from power), 8 points (the loss–FID correlation needs 8), each at its
    own batch, reported under <results>/main: never a committed study's folder."""
    monkeypatch.setenv("WGANBENCH_RESULTS", str(tmp_path))
    options = cmp.CompareOptions()
    assert options.settings == ("gan", "wgan-seed", "wgan", "wgan-gp") and options.seeds == (0, 1, 2, 3, 4)
    assert options.points >= 8 and options.batch_size is None
    assert options.budget.record() == {"unit": "s", "total": cmp.DEFAULT_BUDGET_SECONDS, "points": 8}
    assert options.report_dir() == tmp_path / "main" and options.run_root() == tmp_path / "runs" / "main"
    stacked = cmp.CompareOptions(dataset="stacked-mnist")
    assert stacked.report_dir() == tmp_path / "main-stacked-mnist"
    assert stacked.eval_options().dataset == "stacked-mnist"
    assert stacked.train_options(tmp_path, 10.0).dataset == "stacked-mnist"
