"""A metric added through the table alone reaches the comparison report and the gate (the evaluate()
side is in tests/test_metric_table.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from evaluators.metrics import METRICS, Metric, Value
from studies.gate import limits
from studies.report.tables import score_columns


@pytest.fixture()
def toy_table(monkeypatch):
    toy = Metric("toy", (Value("toy_mean", "higher", "toy ↑", gate="linear"), Value("toy_std", None, "toy σ")),
                 lambda inputs, options: {"toy_mean": 1.0, "toy_std": 0.0})
    monkeypatch.setitem(METRICS, "toy", toy)
    return toy


def test_toy_metric_is_a_report_column(toy_table) -> None:
    assert "toy_mean" in score_columns() and "toy_std" not in score_columns()  # spreads are not scores


def test_toy_metric_is_gated_in_its_direction(toy_table) -> None:
    base = {"fid": 40.0, "is_mean": 8.0, "modes_covered": 10, "kid_mean": 0.02, "recall": 0.5, "coverage": 0.6,
            "toy_mean": 3.0}
    table = limits.compare_scores(base, {**base, "toy_mean": 2.0})  # higher is better: a drop fails
    verdicts = dict(zip(table["metric"], table["verdict"]))
    assert verdicts["toy_mean"] == limits.VERDICT_FAIL and not limits.passed(table)
    assert limits.passed(limits.compare_scores(base, {**base, "toy_mean": 4.0}))


def test_toy_metric_in_a_written_report(toy_table, tmp_path) -> None:
    """final_scores, the table the report prints, carries the toy column."""
    from studies.report.tables import final_scores

    rows = pd.DataFrame({"setting": ["gan", "gan"], "seed": [0, 1], "target": [2, 2], "status": ["ok", "ok"],
                         **{c: [1.0, 2.0] for c in score_columns()}})
    stats, shown = final_scores(rows)
    assert "toy_mean" in shown.columns and stats["toy_mean_mean"].iloc[0] == 1.5
