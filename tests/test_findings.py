"""The report's sentences follow the evidence: "beats" only with an interval that excludes zero and a
Holm-corrected p < 0.05; otherwise "no difference detected with N seeds"; seeds that reached a target
are counted; a setting near noise is named with its reason; the noise and loss tables are computed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from studies.report.findings import NOISE_FID, findings, noise_fid
from studies.report.rundata import FID_BOOT_STD, loss_correlation, noise_sources
from studies.report.tables import comparisons, comparisons_shown, cost_table, final_rows, final_scores
from studies.run import compare as cmp
from wgan import rundir

TARGET = 150.0


def curves_of(fids: dict[str, list[list[float]]], *, wall: float = 100.0) -> pd.DataFrame:
    """scores.csv rows: per setting, per seed, the FID at each scored point (the last one is final)."""
    rows = []
    for setting, seeds in fids.items():
        for seed, curve in enumerate(seeds):
            for k, fid in enumerate(curve, 1):
                rows.append({cmp.SETTING: setting, cmp.SEED: seed, cmp.TARGET: 10 * k, cmp.STEP: 10 * k,
                             cmp.WALL_S: wall * k + seed, cmp.IMAGES_PER_S: 500.0, cmp.STATUS: cmp.STATUS_OK,
                             "fid": fid, "is_mean": 5.0, "modes_covered": 10})
    return pd.DataFrame(rows)


def text_of(curves: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    final = final_rows(curves)
    stats, _ = final_scores(final)
    pairs = comparisons(final)
    return " ".join(findings(stats, cost_table(curves, final, TARGET), TARGET, pairs=pairs)), pairs


def test_overlapping_intervals_detect_no_difference() -> None:
    text, pairs = text_of(curves_of({"gan": [[100.0], [140.0], [120.0]], "wgan-gp": [[110.0], [150.0], [105.0]]}))
    row = pairs.iloc[0]
    assert (row["a"], row["b"]) == ("wgan-gp", "gan") and row["ci_low"] < 0 < row["ci_high"]
    assert "The gradient-penalty WGAN versus the cross-entropy GAN: no difference detected with 3 seeds" in text
    assert "beats" not in text and row["winner"] == ""
    assert comparisons_shown(pairs)["verdict"].tolist() == ["no difference detected"]


def test_separated_intervals_name_the_winner() -> None:
    text, pairs = text_of(curves_of({"gan": [[170.0], [180.0], [176.0]], "wgan-gp": [[90.0], [95.0], [92.0]]}))
    row = pairs.iloc[0]
    assert row["ci_high"] < 0 and row["p_holm"] < 0.05 and row["winner"] == "wgan-gp"
    assert "`wgan-gp` beats `gan` (FID `wgan-gp` 92.3 vs `gan` 175.3, difference -83.0; 95% CI [" in text
    assert "`wgan-gp` has the lowest mean final FID (92.33, 95% CI [86.1, 98.6]" in text
    assert "over 3 seeds per setting" in text


def test_holm_withholds_a_win_that_one_test_alone_would_claim() -> None:
    # Four settings → five comparisons; only wgan-gp − gan is near significance on its own.
    fids = {"gan": [[100.0], [104.0], [102.0]], "wgan-gp": [[94.0], [97.0], [96.5]],
            "wgan-seed": [[100.0], [130.0], [80.0]], "wgan": [[90.0], [140.0], [110.0]]}
    text, pairs = text_of(curves_of(fids))
    row = pairs.set_index(["a", "b"]).loc[("wgan-gp", "gan")]
    assert row["p"] < 0.05 and row["p_holm"] >= 0.05 and row["ci_high"] < 0
    assert set(zip(pairs["a"], pairs["b"])) == {("wgan-seed", "gan"), ("wgan", "gan"), ("wgan-gp", "gan"),
                                                ("wgan", "wgan-seed"), ("wgan-gp", "wgan")}
    assert "beats" not in text and text.count("no difference detected with 3 seeds") == 5


def test_one_seed_has_no_interval_and_no_verdict() -> None:
    text, pairs = text_of(curves_of({"gan": [[175.0]], "wgan-gp": [[90.0]]}))
    assert "no difference detected with 1 seed (FID `wgan-gp` 90.0 vs `gan` 175.0, difference -85.0; one seed " \
           "gives no interval)" in text
    _, shown = final_scores(final_rows(curves_of({"gan": [[175.0]]})))
    assert shown["fid"].tolist() == ["175 [n/a (1 seed)]"]
    assert comparisons_shown(pairs)[["95% CI", "p (Holm)"]].values.tolist() == [["n/a (1 seed)", "n/a (1 seed)"]]


def test_time_to_quality_counts_the_seeds_that_got_there() -> None:
    curves = curves_of({"wgan-gp": [[300.0, 140.0], [200.0, 149.0, 120.0], [400.0, 300.0, 200.0]]}, wall=150.0)
    cost = cost_table(curves, final_rows(curves), TARGET)
    assert cost["reached_fid_150"].tolist() == ["2 of 3"]
    assert cost["s_to_fid_150"].tolist() == [pytest.approx(np.median([300.0, 301.0]))]
    text, _ = text_of(curves)
    assert "Time to FID ≤ 150: `wgan-gp` 2 of 3 seeds (median 300 s of training)." in text
    text, _ = text_of(curves_of({"gan": [[400.0]]}))
    assert "`gan` 0 of 1 seeds." in text


def test_a_setting_near_noise_is_named_with_its_reason(tmp_path: Path) -> None:
    text, _ = text_of(curves_of({"gan": [[300.0], [310.0]], "wgan": [[650.0], [660.0]]}))
    assert "`wgan` stays near noise: final FID 655, 95% CI [591, 719], above 60% of uniform noise's 698 " \
           "(RMSprop at 5e-5 learns slowly)." in text
    assert "`gan` stays near noise" not in text
    sanity = tmp_path / "evaluator_sanity.csv"
    sanity.write_text("case,group,level,fid\nblur,blur,1.0,186.7\nuniform noise,uniform noise,0.0,701.5\n")
    assert noise_fid(sanity) == 701.5 and noise_fid(tmp_path / "missing.csv") == NOISE_FID


def test_noise_sources_recommend_what_dominates() -> None:
    curves = curves_of({"gan": [[100.0], [140.0], [120.0]], "wgan-gp": [[90.0], [91.0], [92.0]]})
    curves[FID_BOOT_STD] = 3.0  # as if the scores carried the evaluation's own spread
    table = noise_sources(final_rows(curves), samples=None).set_index(cmp.SETTING)
    assert table.loc["gan", "fid_seed_std"] == pytest.approx(20.0) and table.loc["gan", "recommend"] == "more seeds"
    assert table.loc["wgan-gp", "fid_eval_std"] == 3.0 and table.loc["wgan-gp", "recommend"] == "more samples"
    one = noise_sources(final_rows(curves_of({"gan": [[100.0]]})), samples=None)
    assert math.isnan(one["fid_seed_std"].iloc[0]) and one["recommend"].iloc[0].startswith("more seeds")


def history(runs: Path, setting: str, seed: int, w: np.ndarray) -> None:
    out = runs / f"{setting}-s{seed}"
    out.mkdir(parents=True)
    steps = np.arange(1, len(w) + 1)
    pd.DataFrame({rundir.STEP: steps, rundir.WALL_TIME: steps * 0.1, "critic_loss": -w, "generator_loss": w,
                  "wasserstein": w}).to_csv(out / rundir.HISTORY_FILE, index=False)


def test_loss_correlation_per_run_and_over_seeds(tmp_path: Path) -> None:
    fid = [[400.0 - 30 * k for k in range(8)], [390.0 - 28 * k for k in range(8)]]
    curves = curves_of({"wgan-gp": fid, "gan": [[300.0, 250.0, 200.0, 180.0]] * 2})
    for seed in (0, 1):
        history(tmp_path, "wgan-gp", seed, np.linspace(5.0, 1.0, 80) + 0.01 * seed)  # W falls as FID falls
        history(tmp_path, "gan", seed, np.linspace(1.0, 2.0, 40))
    runs, table = loss_correlation(curves, tmp_path)
    table = table.set_index(cmp.SETTING)
    assert runs.set_index([cmp.SETTING, cmp.SEED]).loc[("wgan-gp", 0), "rho"] == pytest.approx(1.0)
    assert table.loc["wgan-gp", "w_estimate"] == "wasserstein" and table.loc["gan", "w_estimate"] == "critic_loss"
    assert table.loc["wgan-gp", "rho_mean"] == pytest.approx(1.0) and table.loc["wgan-gp", "shown"] == "1 [1, 1]"
    assert table.loc["gan", "shown"] == "too few points (4 < 8)" and math.isnan(table.loc["gan", "rho_mean"])
    final = final_rows(curves)
    lines = findings(final_scores(final)[0], cost_table(curves, final, TARGET), TARGET, correlation=table.reset_index())
    assert "`wgan-gp`'s W estimate ρ = 1 [1, 1]: tracks FID; `gan` too few points (4 < 8)" in " ".join(lines)


def test_stacked_mnist_findings_give_each_settings_modes_with_its_interval() -> None:
    curves = curves_of({"gan": [[300.0], [310.0], [305.0]], "wgan-gp": [[200.0], [210.0], [205.0]]})
    curves["stacked_modes"] = [90.0, 110.0, 100.0, 600.0, 620.0, 640.0]
    curves["stacked_kl"] = [3.0, 3.2, 3.1, 0.5, 0.6, 0.7]
    final = final_rows(curves)
    stats, _ = final_scores(final)
    line = next(x for x in findings(stats, cost_table(curves, final, TARGET), TARGET) if "modes covered" in x)
    half = 4.302653 * 20.0 / math.sqrt(3)  # t_{0.975, 2} · s / √n with s = 20 over seeds
    assert line.startswith(f"Stacked MNIST modes covered of 1,000 (mean, 95% CI over seeds) and KL from uniform: "
                           f"`wgan-gp` 620, 95% CI [{620 - half:.3g}, {620 + half:.3g}] modes, KL 0.6; `gan` 100")
    assert "DCGAN under the VEEGAN (PacGAN Table 2) covers 99 modes, KL 3.40" in line
    assert "modes covered of 1,000" not in text_of(curves_of({"gan": [[300.0], [310.0]]}))[0]  # MNIST: none
