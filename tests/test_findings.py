"""The report's sentences follow the evidence (docs/DESIGN.md §6): "beats" exactly where the simultaneous
interval of the FID ratio excludes 1; bounded scores stay in their range; a target no seed reached is a
censored "median > budget"; failed runs are counted; two settings near noise are not ranked; the loss is
judged by its changes, not its trend. Tables are built by hand; every number the words carry is
recomputed here with SciPy."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from studies.report import power, timing
from studies.report.findings import (
    NOISE_FID,
    comparison_line,
    correlation_line,
    headline,
    modes_line,
    noise_fid,
)
from studies.report.report import rerender
from studies.report.rundata import FID_BOOT_STD, eval_spread, loss_correlation, loss_points
from studies.report.tables import comparisons, comparisons_shown, final_rows, final_scores
from studies.run import compare as cmp
from wgan import rundir

NOISE = 700.0


def curves_of(fids: dict[str, list[list[float]]], *, wall: float = 100.0) -> pd.DataFrame:
    """scores.csv rows: per setting, per seed, the FID at each scored point (the last one is final)."""
    rows = []
    for setting, seeds in fids.items():
        for seed, curve in enumerate(seeds):
            for k, fid in enumerate(curve, 1):
                rows.append({cmp.SETTING: setting, cmp.SEED: seed, cmp.TARGET: 10 * k, cmp.STEP: 10 * k,
                             cmp.WALL_S: wall * k + seed, cmp.IMAGES_PER_S: 500.0, cmp.STATUS: cmp.STATUS_OK,
                             "fid": fid, "is_mean": 5.0, "modes_covered": 10, "n": 5000})
    return pd.DataFrame(rows)


def words(curves: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    pairs = comparisons(final_rows(curves), noise=NOISE)
    return " ".join(comparison_line(row) for _, row in pairs.iterrows()), pairs


def test_the_interval_and_the_verdict_agree_on_log_fid() -> None:
    gan, gp = [170.0, 180.0, 176.0], [90.0, 95.0, 92.0]
    text, pairs = words(curves_of({"gan": [[f] for f in gan], "wgan-gp": [[f] for f in gp]}))
    row = pairs.iloc[0]
    oracle = sps.ttest_ind(np.log(gp), np.log(gan), equal_var=False)
    ci = oracle.confidence_interval(0.95)  # one pair: the Bonferroni level is 95 %
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((math.exp(ci.low), math.exp(ci.high)), rel=1e-10)
    assert row["p_adj"] == pytest.approx(oracle.pvalue, rel=1e-10) and row["winner"] == "wgan-gp"
    assert "`wgan-gp` beats `gan` (FID `wgan-gp` 92.3 vs `gan` 175.3, ratio 0.527; 95% simultaneous CI [" in text
    text, pairs = words(curves_of({"gan": [[100.0], [140.0], [120.0]], "wgan-gp": [[110.0], [150.0], [105.0]]}))
    assert pairs.iloc[0]["ci_low"] < 1 < pairs.iloc[0]["ci_high"] and pairs.iloc[0]["p_adj"] >= 0.05
    assert "no difference detected with 3 seeds" in text and "beats" not in text


def test_a_win_one_test_alone_would_claim_is_withheld_by_the_family() -> None:
    """Five comparisons: wgan-gp / gan has p < 0.05 alone, but its 99 % interval holds 1, and the words agree."""
    fids = {"gan": [[100.0], [104.0], [102.0]], "wgan-gp": [[94.0], [97.0], [96.5]],
            "wgan-seed": [[100.0], [130.0], [80.0]], "wgan": [[90.0], [140.0], [110.0]]}
    text, pairs = words(curves_of(fids))
    row = pairs.set_index(["a", "b"]).loc[("wgan-gp", "gan")]
    assert row["p"] < 0.05 <= row["p_adj"] and row["ci_low"] < 1 < row["ci_high"] and row["level"] == 0.99
    assert all((lo > 1 or hi < 1) == (p < 0.05) for lo, hi, p in zip(pairs["ci_low"], pairs["ci_high"],
                                                                       pairs["p_adj"]))
    assert "beats" not in text and text.count("no difference detected with 3 seeds") == 5
    assert comparisons_shown(pairs).columns[3] == "99% simultaneous CI"


def test_two_settings_near_noise_get_no_verdict() -> None:
    text, pairs = words(curves_of({"gan": [[600.0], [610.0], [605.0]], "wgan": [[690.0], [695.0], [692.0]]}))
    row = pairs.iloc[0]
    assert row["ci_low"] > 1 and row["both_near_noise"] and row["winner"] == ""  # excludes 1, yet no verdict
    assert "no verdict, both are near noise" in text
    assert comparisons_shown(pairs)["verdict"].tolist() == ["no verdict: both near noise"]


def test_one_seed_has_no_interval_and_no_verdict() -> None:
    text, _ = words(curves_of({"gan": [[175.0]], "wgan-gp": [[90.0]]}))
    assert "no difference detected with 1 seed" in text and "one seed gives no interval" in text
    _, shown = final_scores(final_rows(curves_of({"gan": [[175.0]]})))
    assert shown["fid"].tolist() == ["175 [n/a (1 seed)]"]


def test_bounded_scores_near_their_bound_stay_inside_their_range() -> None:
    curves = curves_of({"gan": [[300.0], [310.0], [305.0]]})
    curves["modes_covered"] = [7, 9, 9]
    curves["precision"] = [1.0, 0.999, 0.998]
    curves["recall"] = [0.0, 0.0004, 0.0]
    stats, shown = final_scores(final_rows(curves))
    row = stats.iloc[0]
    for column, (low, high) in {"modes_covered": (0, 10), "precision": (0, 1), "recall": (0, 1)}.items():
        assert low < row[f"{column}_ci_low"] <= row[f"{column}_ci_high"] < high, column
    assert shown["modes_covered"].iloc[0].startswith("8.333 (7, 9, 9) [")
    curves["modes_covered"] = 10
    assert final_scores(final_rows(curves))[1]["modes_covered"].iloc[0] == "10, 10, 10 over 3 seeds"


def test_a_target_no_seed_reaches_is_censored_at_the_budget() -> None:
    curves = curves_of({"gan": [[600.0, 500.0], [650.0, 550.0], [640.0, 520.0]],
                        "wgan-gp": [[400.0, 150.0], [300.0, 100.0], [500.0, 400.0]]})
    runs = timing.events(curves, 210.0, 200.0)
    table = timing.time_to_target(runs).set_index(cmp.SETTING)
    assert table.loc["gan", "reached"] == "0 of 3" and table.loc["gan", "time to target"] == "median > 200 s"
    gp = runs[runs[cmp.SETTING] == "wgan-gp"].set_index(cmp.SEED)["seconds"]
    # Seed 0 crosses 210 between (100 s, 400) and (200 s, 150), linear in log FID.
    share = math.log(400 / 210) / math.log(400 / 150)
    assert gp[0] == pytest.approx(100 + 100 * share) and gp[2] == 200.0  # seed 2 censored
    assert table.loc["wgan-gp", "reached"] == "2 of 3"
    assert "Time to FID ≤ 210 (30% of uniform noise's" in timing.time_line(table.reset_index(), 210.0)


def test_a_failed_run_is_counted_not_dropped() -> None:
    curves = curves_of({"gan": [[300.0, 280.0], [310.0, 290.0]], "wgan": [[500.0], [520.0]]})
    curves.loc[(curves[cmp.SETTING] == "gan") & (curves[cmp.SEED] == 1) & (curves[cmp.STEP] == 20),
               [cmp.STATUS, "fid"]] = [cmp.STATUS_FAILED, np.nan]
    lost = pd.DataFrame([{cmp.SETTING: "wgan", cmp.SEED: 2, cmp.TARGET: 10, cmp.STATUS: cmp.STATUS_FAILED}])
    curves = pd.concat([curves, lost], ignore_index=True)
    final = final_rows(curves, NOISE).set_index([cmp.SETTING, cmp.SEED])
    assert final.loc[("gan", 1), "fid"] == 310.0 and final.loc[("gan", 1), "failed"]  # its last good point
    assert final.loc[("wgan", 2), "fid"] == NOISE  # no good point: counted at noise
    table = timing.failures(curves, noise_counted=True).set_index(cmp.SETTING)
    low, high = sps.binomtest(1, 3).proportion_ci(method="exact")
    assert table.loc["wgan", "shown"] == f"1 of 3 [{100 * low:.0f}%, {100 * high:.0f}%]"
    assert "Failed runs: 2 of 5" in timing.failure_line(table.reset_index())


def test_variance_components_and_power() -> None:
    curves = curves_of({"gan": [[100.0], [140.0], [120.0]], "wgan-gp": [[90.0], [91.0], [92.0]]})
    curves[FID_BOOT_STD] = 3.0
    final = final_rows(curves)
    table = power.noise_sources(final, eval_spread(final, None), 5000).set_index(cmp.SETTING)
    assert table.loc["gan", "fid_between_std"] == pytest.approx(math.sqrt(400 - 9))
    assert table.loc["gan", "recommend"].startswith("more seeds")
    assert table.loc["wgan-gp", "fid_between_std"] == 0 and table.loc["wgan-gp", "recommend"].startswith("more samples")
    strength = power.power_table(final, 1).iloc[0]
    logs = [np.log([100, 140, 120]), np.log([90, 91, 92])]
    pooled = math.sqrt(sum(((g - g.mean()) ** 2).sum() for g in logs) / 4)
    assert strength["log_fid_sd"] == pytest.approx(pooled, rel=1e-12)
    assert "detecting 1.25× needs" in power.power_line(power_table := power.power_table(final, 1))
    assert power_table["seeds_needed"].iloc[0] >= 3


def history(runs: Path, setting: str, seed: int, w: np.ndarray) -> None:
    out = runs / f"{setting}-s{seed}"
    out.mkdir(parents=True)
    steps = np.arange(1, len(w) + 1)
    pd.DataFrame({rundir.STEP: steps, rundir.WALL_TIME: steps * 0.1, "critic_loss": -w, "generator_loss": w,
                  "wasserstein": w}).to_csv(out / rundir.HISTORY_FILE, index=False)


def test_a_loss_that_only_trends_with_time_is_not_said_to_track_fid(tmp_path: Path) -> None:
    fid = [[400.0, 360.0, 345.0, 300.0, 290.0, 240.0, 235.0, 200.0]] * 2
    curves = curves_of({"wgan-gp": fid, "gan": [[300.0, 250.0, 200.0, 180.0]] * 2})
    step = np.arange(1, 81)
    for seed in (0, 1):  # W falls steadily with a wiggle of its own: both monotone, their changes unrelated
        history(tmp_path, "wgan-gp", seed, 5.0 - 0.05 * step + 0.04 * np.sin(step + seed))
        history(tmp_path, "gan", seed, np.linspace(1.0, 2.0, 40))
    runs, table = loss_correlation(loss_points(curves, tmp_path))
    run = runs.set_index([cmp.SETTING, cmp.SEED]).loc[("wgan-gp", 0)]
    assert run["rho"] == pytest.approx(1.0) and run["p"] == pytest.approx(2 / 40320)  # levels: confounded
    table = table.set_index(cmp.SETTING)
    assert table.loc["wgan-gp", "p_fisher"] == pytest.approx(
        sps.combine_pvalues(runs.loc[runs[cmp.SETTING] == "wgan-gp", "p_changes"], method="fisher").pvalue)
    assert table.loc["gan", "shown"] == "too few points (4 < 8)"
    line = correlation_line(table.reset_index())
    detected = table.loc["wgan-gp", "p_fisher"] < 0.05
    assert ("its changes move with FID's" in line) == detected and "tracks FID" not in line


def test_stacked_modes_beside_what_of_them_is_read() -> None:
    curves = curves_of({"gan": [[300.0], [310.0], [305.0]], "wgan-gp": [[200.0], [210.0], [205.0]]})
    curves["stacked_modes"] = [90.0, 110.0, 100.0, 600.0, 620.0, 640.0]
    curves["stacked_kl"] = [3.0, 3.2, 3.1, 0.5, 0.6, 0.7]
    old, _ = final_scores(final_rows(curves))  # a study scored before the confident count existed
    assert "not in this study's tables" in modes_line(old, final_rows(curves))
    curves["stacked_confident_share"] = [0.01, 0.02, 0.03, 0.25, 0.25, 0.25]
    curves["stacked_modes_confident"] = [5.0, 6.0, 7.0, 300.0, 310.0, 320.0]
    curves["stacked_modes_independent"] = [120.0, 130.0, 140.0, 900.0, 910.0, 920.0]
    final = final_rows(curves)
    stats, _ = final_scores(final)
    line = modes_line(stats, final)
    assert line.startswith("Stacked MNIST modes covered of 1,000 (mean, 95% CI over seeds) and KL from uniform: "
                           "`wgan-gp` 620 (600, 620, 640), 95% CI [")
    assert ("25% of stacks read with all three channels confident, 310 (300, 310, 320), 95% CI [" in line
            and "910 expected from independent channels (mean over seeds)" in line
            and "`gan` 100 (90, 110, 100)" in line and "130 expected" in line and "not in this study" not in line)
    assert modes_line(final_scores(final_rows(curves_of({"gan": [[3.0]]})))[0]) == ""


def test_a_committed_study_is_rebuilt_from_its_own_tables(tmp_path: Path) -> None:
    curves = curves_of({"gan": [[650.0, 500.0], [640.0, 520.0], [660.0, 480.0]],
                        "wgan-gp": [[400.0, 150.0], [300.0, 120.0], [500.0, 160.0]]})
    curves.to_csv(tmp_path / "curves.csv", index=False)
    meta = {"settings": ["gan", "wgan-gp"], "seeds": [0, 1, 2], "steps": None, "budget_seconds": 200.0,
            "batch_size": 64, "width": 16, "points": 2, "n": 5000, "mixed_precision": "float32",
            "jit_compile": False, "dataset": "mnist"}
    (tmp_path / "study.json").write_text(json.dumps(meta))
    pd.DataFrame({cmp.SETTING: ["gan", "wgan-gp"], "fid_eval_std": [1.0, 2.0]}).to_csv(tmp_path / "noise.csv")
    (tmp_path / "samples.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # a committed figure of the run directories
    written = {p.name for p in rerender(tmp_path)}
    assert {"report.md", "report.html", "comparisons.csv", "time_to_target.csv", "sections.csv"} <= written
    assert "samples.png" not in written  # kept, not redrawn
    text = (tmp_path / "report.md").read_text()
    assert "Final fixed-noise samples (kept as committed" in text
    assert "not re-read here, the critic's estimate at each scored point is not in this study's committed" in text
    assert "`gan` 0 of 3 seeds, median > 200 s" in text and "`wgan-gp` beats `gan`" in text
    assert headline(final_scores(final_rows(curves))[0]).startswith("`wgan-gp` has the lowest mean final FID")
    sections = pd.read_csv(tmp_path / "sections.csv")
    assert "Time to FID ≤ 211" in " ".join(sections["title"]) or noise_fid() != pytest.approx(703.8, abs=1)
    assert noise_fid(tmp_path / "missing.csv") == NOISE_FID
