"""The committed studies under results/ follow the report's rules (docs/DESIGN.md §6), read from their
own tables: every interval inside its quantity's range, every comparison's interval agreeing with its
verdict, no zero-width interval printed, and one comparison recomputed independently with SciPy."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from studies.report.tables import SCALES, final_rows
from studies.schema import SETTING

RESULTS = Path(__file__).resolve().parents[1] / "results"
# The committed studies (results/main/ and the like are git-ignored outputs of `make report`).
STUDIES = [RESULTS / name for name in ("default-study", "default-study-5seeds", "default-study-xeon",
                                          "default-study-200s", "default-study-zen4", "study-w64", "study-stacked")]
ALPHA = 0.05


def test_the_committed_studies_are_there() -> None:
    assert all((p / "comparisons.csv").is_file() for p in STUDIES)


@pytest.mark.parametrize("study", STUDIES, ids=lambda p: p.name)
def test_every_interval_is_inside_its_quantitys_range(study: Path) -> None:
    table = pd.read_csv(study / "final_scores.csv")
    checked = 0
    for key, (low, high, _) in SCALES.items():
        if f"{key}_ci_low" not in table.columns:
            continue
        for lo, hi in zip(table[f"{key}_ci_low"], table[f"{key}_ci_high"]):
            if not math.isnan(lo):
                assert low <= lo <= hi <= high, (study.name, key, lo, hi)
                checked += 1
    assert checked > 0
    report = (study / "report.md").read_text()
    assert not re.search(r"\[(-?[\d.]+), \1\]", report), "a zero-width interval is printed"


@pytest.mark.parametrize("study", STUDIES, ids=lambda p: p.name)
def test_every_comparison_interval_agrees_with_its_verdict(study: Path) -> None:
    pairs = pd.read_csv(study / "comparisons.csv", keep_default_na=False, na_values=[""])
    pairs["winner"] = pairs["winner"].fillna("")
    for _, row in pairs.iterrows():
        excludes = row["ci_low"] > 1 or row["ci_high"] < 1
        assert excludes == (row["p_adj"] < ALPHA), row.to_dict()
        assert bool(row["winner"]) == (excludes and not row["both_near_noise"]), row.to_dict()
    report = (study / "report.md").read_text()
    assert report.count(" beats ") == int((pairs["winner"] != "").sum())


def test_one_committed_comparison_recomputed_with_scipy() -> None:
    """default-study, `wgan-gp` / `gan`: Welch on log final FID from curves.csv, at 1 − 0.05/5."""
    study = RESULTS / "default-study"
    final = final_rows(pd.read_csv(study / "curves.csv"))
    a = np.log(final.loc[final[SETTING] == "wgan-gp", "fid"].to_numpy())
    b = np.log(final.loc[final[SETTING] == "gan", "fid"].to_numpy())
    pairs = pd.read_csv(study / "comparisons.csv").set_index(["a", "b"])
    m = len(pairs)
    res = sps.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(1 - ALPHA / m)
    row = pairs.loc[("wgan-gp", "gan")]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((math.exp(ci.low), math.exp(ci.high)), rel=1e-9)
    assert row["p_adj"] == pytest.approx(min(1.0, m * res.pvalue), rel=1e-9)


def test_the_width_contrast_names_a_change_only_where_an_interaction_is_detected() -> None:
    folder = RESULTS / "study-widths"
    inter = pd.read_csv(folder / "interactions.csv")
    text = (folder / "contrast.md").read_text()
    for _, row in inter.iterrows():
        excludes = row["ci_low"] > 1 or row["ci_high"] < 1
        assert excludes == bool(row["detected"]) == (row["p_adj"] < ALPHA)
        line = next(x for x in text.splitlines() if x.startswith(f"- {row['comparison']}: "))
        assert ("changes with" in line) == (excludes and not row["both_near_noise"]), line
