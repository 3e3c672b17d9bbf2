"""`wganbench contrast`: studies that differ in a recipe field, set side by side. The shift of a setting
between studies is Welch's test on log FID (SciPy's ttest_ind is the oracle) with Bonferroni over the
shifts; "the comparison changes" only where the interaction (difference of log-FID differences) is
detected, one that is not says so even where the labels differ, and studies that differ in two fields
are flagged as confounded. Bad folders are refused with the reason; studies of one recipe (a
replication) are named by their folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from studies import stats
from studies.cli.app import main
from studies.report.contrast import ContrastOptions, differing, labelled, load_study, shifts, write_contrast
from studies.report.report import META_FILE
from tests.test_findings import curves_of
from wgan.errors import WganbenchError

GAN = [[300.0], [320.0], [310.0]]
GP = [[200.0], [210.0], [205.0]]


def study(tmp: Path, name: str, fids: dict[str, list[list[float]]], **recipe: object) -> Path:
    folder = tmp / name
    folder.mkdir()
    curves_of(fids).to_csv(folder / "curves.csv", index=False)
    meta = {"dataset": "mnist", "width": 16, "budget_seconds": 600.0, "steps": None, "batch_size": 64,
            "n": 5000, "points": 8, "mixed_precision": "float32", "jit_compile": False, **recipe}
    (folder / META_FILE).write_text(json.dumps(meta))
    return folder


def test_a_detected_interaction_is_named_and_the_shift_is_welch_with_bonferroni(tmp_path: Path) -> None:
    narrow = study(tmp_path, "w16", {"gan": GAN, "wgan-gp": GP})
    wide = study(tmp_path, "w64", {"gan": [[150.0], [155.0], [152.0]], "wgan-gp": [[240.0], [250.0], [245.0]]},
                 width=64)
    written = write_contrast([narrow, wide], ContrastOptions(out_dir=str(tmp_path / "out")))
    text = (tmp_path / "out" / "contrast.md").read_text()
    assert {p.name for p in written} >= {"contrast.md", "contrast.html", "final_fid.png", "shifts.csv"}
    assert "`wgan-gp` / `gan`: the difference changes with width and so does the ranking" in text
    assert "differ in" not in text  # one field differs: no confounding caveat
    inter = pd.read_csv(tmp_path / "out" / "interactions.csv").iloc[0]
    assert inter["ci_low"] > 1 and inter["p_adj"] < 0.05 and inter["detected"]
    table = pd.read_csv(tmp_path / "out" / "shifts.csv")
    gan = table[table["setting"] == "gan"].iloc[0]
    oracle = sps.ttest_ind(np.log([150.0, 155.0, 152.0]), np.log([300.0, 320.0, 310.0]), equal_var=False)
    assert gan["p"] == pytest.approx(oracle.pvalue, rel=1e-9)
    ci = oracle.confidence_interval(1 - 0.05 / 2)  # two shifts: each interval at the Bonferroni level 97.5 %
    assert (gan["ci_low"], gan["ci_high"]) == pytest.approx((np.exp(ci.low), np.exp(ci.high)), rel=1e-9)
    assert table["p_adj"].tolist() == pytest.approx(stats.adjust(table["p"].to_numpy()).tolist())
    assert gan["verdict"] == "better at width 64"


def test_the_same_verdicts_say_the_ranking_does_not_change(tmp_path: Path) -> None:
    narrow = study(tmp_path, "a", {"gan": GAN, "wgan-gp": GP})
    wide = study(tmp_path, "b", {"gan": [[302.0], [318.0], [309.0]], "wgan-gp": [[199.0], [212.0], [204.0]]},
                 width=64)
    write_contrast([narrow, wide], ContrastOptions(out_dir=str(tmp_path / "out")))
    text = (tmp_path / "out" / "contrast.md").read_text()
    assert "`wgan-gp` / `gan`: no interaction detected: the comparison does not change with width" in text
    assert "`gan` at width 64 vs width 16" in text and "no difference detected" in text


def test_labels_that_differ_without_a_detected_interaction_are_not_a_change(tmp_path: Path) -> None:
    """A win at width 16 (p just under the bar) and none at width 64, but the difference barely moves."""
    narrow = study(tmp_path, "a", {"gan": [[300.0], [320.0], [310.0]], "wgan-gp": [[240.0], [250.0], [245.0]]})
    wide = study(tmp_path, "b", {"gan": [[300.0], [360.0], [280.0]], "wgan-gp": [[230.0], [290.0], [240.0]]},
                 width=64)
    write_contrast([narrow, wide], ContrastOptions(out_dir=str(tmp_path / "out")))
    inter = pd.read_csv(tmp_path / "out" / "interactions.csv").iloc[0]
    assert inter["winner_1"] == "wgan-gp" and pd.isna(inter["winner_2"]) and not inter["detected"]
    text = (tmp_path / "out" / "contrast.md").read_text()
    assert "no interaction detected: the comparison does not change with width" in text
    assert "changes with width" not in text


def test_two_differing_fields_are_flagged_as_confounded(tmp_path: Path) -> None:
    studies = [load_study(study(tmp_path, "a", {"gan": GAN})),
               load_study(study(tmp_path, "b", {"gan": GAN}, width=64, budget_seconds=150.0))]
    assert sorted(differing(studies)) == ["budget_seconds", "width"]  # in the recipe's field order
    assert [set(s.label.split(", ")) for s in labelled(studies)] == [{"width 16", "600 s"}, {"width 64", "150 s"}]
    lines = " ".join(shifts(labelled(studies))["verdict"])
    assert lines == "no difference detected"


def test_at_a_target_each_run_is_read_at_that_point_and_the_budget_is_no_difference(tmp_path: Path) -> None:
    """Studies of 600 s and 150 s set at an equal 10: the point at target 10, not the last one."""
    long = study(tmp_path, "long", {"gan": [[300.0, 100.0], [310.0, 110.0], [305.0, 105.0]]})
    short = study(tmp_path, "short", {"gan": [[200.0], [210.0], [205.0]]}, width=64, budget_seconds=150.0)
    studies = labelled([load_study(long, 10), load_study(short, 10)], 10)
    assert [s.label for s in studies] == ["width 16", "width 64"]
    assert studies[0].final["fid"].tolist() == [300.0, 310.0, 305.0]
    write_contrast([long, short], ContrastOptions(out_dir=str(tmp_path / "out"), at=10))
    text = (tmp_path / "out" / "contrast.md").read_text()
    assert "point scored at target 10" in text and "differ in" not in text
    assert "`gan` at width 64 vs width 16: FID ratio 0.672" in text  # 205 / 305 in geometric means
    with pytest.raises(WganbenchError, match="no finished run scored at target 15"):
        load_study(long, 15)


def test_bad_folders_are_refused_and_replications_named_by_folder(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    good = study(tmp_path, "a", {"gan": GAN})
    (tmp_path / "empty").mkdir()
    with pytest.raises(WganbenchError, match="not a compare report folder"):
        load_study(tmp_path / "empty")
    replication = labelled([load_study(good), load_study(study(tmp_path, "b", {"gan": GAN}))])
    assert [s.label for s in replication] == ["a", "b"]  # the same recipe twice: named by folder
    with pytest.raises(WganbenchError, match="give each study once"):
        labelled([load_study(good), load_study(good)])
    assert main(["contrast", str(good), str(tmp_path / "empty"), "--out-dir", str(tmp_path / "o")]) == 2
    assert "not a compare report folder" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing written on bad input
    assert np.isfinite(load_study(good).final["fid"]).all()
