"""The metrics mean something: known degradations of real digits score as a person would rank them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluators.sanity import (
    BLUR,
    HALVES,
    NOISE,
    REMOVED,
    REMOVED_CLASSES,
    SINGLE,
    TRAIN,
    UNIFORM,
    inception_score_of_test_set,
    sanity_table,
    write_table,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def table(mnist) -> pd.DataFrame:
    # FID, IS and modes need one classifier pass per row; KID and PRDC are checked in test_metrics/test_evaluate.
    return sanity_table(metrics=("fid", "is", "modes"), mnist=mnist).set_index("case")


def group(table: pd.DataFrame, name: str) -> pd.DataFrame:
    return table[table["group"] == name].sort_values("level")


@pytest.mark.parametrize("name", [NOISE, BLUR, REMOVED])
def test_fid_rises_with_each_degradations_strength(table, name) -> None:
    rows = group(table, name)
    assert len(rows) >= 3
    assert np.all(np.diff(rows["fid"].to_numpy()) > 0), rows[["level", "fid"]]
    assert rows["fid"].iloc[0] > table.loc[table["group"] == TRAIN, "fid"].iloc[0]


def test_removed_classes_and_single_class_set_modes_covered(table) -> None:
    assert group(table, REMOVED)["modes_covered"].tolist() == [10 - k for k in REMOVED_CLASSES]
    assert group(table, SINGLE)["modes_covered"].tolist() == [1]
    assert group(table, TRAIN)["modes_covered"].tolist() == [10]


def test_training_set_scores_best(table, mnist) -> None:
    train = group(table, TRAIN).iloc[0]
    assert train["fid"] == table["fid"].min()
    assert train["fid"] < 0.02 * group(table, UNIFORM).iloc[0]["fid"]
    assert abs(train["is_mean"] - inception_score_of_test_set(mnist)) < 0.3


def test_uniform_noise_scores_worst(table) -> None:
    uniform = group(table, UNIFORM).iloc[0]
    others = table[table["group"] != UNIFORM]
    assert uniform["fid"] > others["fid"].max(), table["fid"]  # worse than 2 px blur and a single class too
    # IS: as low as a single class (≈ 1); the classifier puts noise in one class, often confidently,
    # which is why FID is read on conv features rather than on what the classifier believes.
    assert uniform["is_mean"] < others.loc[others["group"] != SINGLE, "is_mean"].min()


def test_test_halves_show_the_nist_writer_shift(table) -> None:
    """MNIST's first 5,000 test digits (NIST SD-3 writers) differ from the last 5,000 (SD-1)."""
    halves = group(table, HALVES)
    random_split = halves.loc[halves.index.str.contains("random"), "fid"].iloc[0]
    first_last = halves.loc[halves.index.str.contains("first"), "fid"].iloc[0]
    assert first_last > 5 * random_split


def test_the_table_goes_to_the_results_folder(table, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WGANBENCH_RESULTS", str(tmp_path / "results"))
    md, csv = write_table(table.reset_index().head(2))
    assert (md, csv) == (tmp_path / "results" / "evaluator_sanity.md", tmp_path / "results" / "evaluator_sanity.csv")
    assert pd.read_csv(csv)["case"].tolist() == table.index[:2].tolist()
    assert md.read_text().startswith("# Evaluator sanity table")
