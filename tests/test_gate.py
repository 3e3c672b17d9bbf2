"""The quality gate's rule: one-sided limits from the baseline's spread over seeds, verdicts per metric."""

from __future__ import annotations

import math

import numpy as np
import pytest

from studies.gate import gate
from studies.gate.baseline import spread
from wgan.errors import WganbenchError

T_99_2DOF = 6.964557  # t.ppf(0.99, 2): one metric, three seeds, 1 % false alarms
SEEDS = {"fid": [150.0, 160.0, 170.0], "is_mean": [6.0, 6.2, 6.4], "modes_covered": [10, 10, 10],
         "kid_mean": [0.10, 0.12, 0.14], "precision": [0.7, 0.72, 0.74], "recall": [0.30, 0.31, 0.32],
         "coverage": [0.50, 0.52, 0.54]}
BASE = {key: spread(values) for key, values in SEEDS.items()}
MEAN = {key: stats["mean"] for key, stats in BASE.items()}
GATED = ["fid", "is_mean", "modes_covered", "kid_mean", "recall", "coverage"]


def verdicts(candidate: dict) -> dict:
    table = gate.compare_scores(BASE, candidate)
    return dict(zip(table["metric"], table["verdict"]))


def test_prediction_limit_over_seeds():
    limit = gate.threshold("fid", BASE["fid"], n_metrics=1)
    assert (limit.mean, limit.std, limit.seeds) == (160.0, 10.0, 3)
    assert limit.k == pytest.approx(T_99_2DOF, rel=1e-6)
    assert limit.limit == pytest.approx(160.0 + T_99_2DOF * 10.0 * math.sqrt(1 + 1 / 3))


def test_bonferroni_over_gated_metrics():
    """m gated metrics: each gets α/m, so the candidate alarms with probability at most α."""
    table = gate.compare_scores(BASE, MEAN)
    assert list(table["metric"]) == GATED  # precision is not gated
    k = gate.threshold("fid", BASE["fid"], n_metrics=len(GATED)).k
    assert k == pytest.approx(17.2772, rel=1e-4)  # t.ppf(1 − 0.01/6, 2)
    assert table.set_index("metric").loc["fid", "limit"] == pytest.approx(160.0 + k * 10.0 * math.sqrt(4 / 3))
    assert gate.threshold("fid", BASE["fid"], n_metrics=6, false_alarm=0.06).k == pytest.approx(T_99_2DOF)


def test_more_seeds_tighten_the_limit():
    few = gate.threshold("fid", spread([150.0, 160.0, 170.0]), n_metrics=6)
    many = gate.threshold("fid", spread([150.0, 160.0, 170.0] * 3), n_metrics=6)
    assert many.limit < few.limit and many.k < few.k


def test_baseline_seeds_and_their_mean_pass():
    assert gate.passed(gate.compare_scores(BASE, MEAN))
    for i in range(3):
        assert gate.passed(gate.compare_scores(BASE, {key: values[i] for key, values in SEEDS.items()}))


# Limits with 3 seeds and 6 gated metrics: mean ± 17.28·std·sqrt(4/3).
@pytest.mark.parametrize(("metric", "value", "ok"), [
    ("fid", 60.0, True),           # better is always fine: one-sided
    ("fid", 359.0, True),          # limit 160 + 199.5 = 359.5
    ("fid", 360.0, False),
    ("is_mean", 11.0, True),
    ("is_mean", 2.3, True),        # limit 6.2 − 3.99 = 2.21
    ("is_mean", 2.1, False),
    ("recall", 0.12, True),        # limit 0.31 − 0.1995 = 0.1105
    ("recall", 0.10, False),
    ("precision", 0.0, None),      # not gated: precision falls as models improve
    ("fid", math.nan, False),      # a NaN score never passes
])
def test_one_sided_verdicts(metric, value, ok):
    if ok is None:
        assert metric not in verdicts({**MEAN, metric: value})
        return
    assert verdicts({**MEAN, metric: value})[metric] == (gate.VERDICT_PASS if ok else gate.VERDICT_FAIL)


def test_integer_metric_floor_is_the_worst_seed():
    """Classes covered: one fewer only when a baseline seed covered one fewer too."""
    assert verdicts({**MEAN, "modes_covered": 10})["modes_covered"] == gate.VERDICT_PASS
    assert verdicts({**MEAN, "modes_covered": 9})["modes_covered"] == gate.VERDICT_FAIL
    shown = {**BASE, "modes_covered": spread([9, 10, 10])}
    table = gate.compare_scores(shown, {**MEAN, "modes_covered": 9}).set_index("metric")
    assert table.loc["modes_covered", "verdict"] == gate.VERDICT_PASS and table.loc["modes_covered", "limit"] == 9
    table = gate.compare_scores(shown, {**MEAN, "modes_covered": 8}).set_index("metric")
    assert table.loc["modes_covered", "verdict"] == gate.VERDICT_FAIL


def test_a_single_number_allows_no_worsening():
    table = gate.compare_scores({"fid": 40.0}, {"fid": 40.0 + 1e-6})
    assert not gate.passed(table)
    assert gate.passed(gate.compare_scores({"fid": 40.0}, {"fid": 40.0}))


def test_missing_candidate_metric_is_an_error():
    with pytest.raises(WganbenchError, match="candidate scores lack 'is_mean'"):
        gate.compare_scores(BASE, {"fid": 40.0})


def test_baseline_without_gated_metrics_is_an_error():
    with pytest.raises(WganbenchError, match="none of the gated metrics"):
        gate.compare_scores({"precision": BASE["precision"]}, MEAN)


@pytest.mark.slow
def test_fresh_real_samples_pass_and_noisy_ones_fail(mnist):
    """Disjoint chunks of real training images as three 'seeds': a fourth chunk passes (it differs only by
    sampling), the same chunk with pixel noise fails."""
    from evaluators import evaluate
    from evaluators.classifier import load_classifier
    from studies.gate.baseline import current_classifier_hash

    (x_train, _), _ = mnist
    chunks = x_train[:8000].astype(np.float32).reshape(4, 2000, 28, 28, 1) / 127.5 - 1.0
    rows = [evaluate(chunk, n=2000, kid_subsets=20) for chunk in chunks]
    base = {key: spread([row[key] for row in rows[:3]]) for key in rows[0]}
    assert gate.passed(gate.compare_scores(base, rows[3]))
    noisy = np.clip(chunks[3] + np.random.default_rng(0).normal(0, 0.5, chunks[3].shape), -1, 1).astype(np.float32)
    table = gate.compare_scores(base, evaluate(noisy, n=2000, kid_subsets=20))
    assert not gate.passed(table) and "fid" in set(table.loc[table["verdict"] == gate.VERDICT_FAIL, "metric"])
    assert load_classifier().hash == current_classifier_hash()  # the hash the gate checks is the loaded one
