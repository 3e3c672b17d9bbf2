"""The quality gate's rule: one-sided normal tolerance limits from the baseline's spread over seeds, on each
gated value's scale, verdicts per value (studies.gate.limits)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from studies import schema
from studies.gate import limits
from studies.gate.baseline import spread
from wgan.errors import WganbenchError
from wgan.paths import SUITE_ROOT

FID_KEY = "fid"

SEEDS = {"fid": [150.0, 160.0, 170.0], "is_mean": [6.0, 6.2, 6.4], "modes_covered": [10, 10, 10],
         "kl_uniform": [0.10, 0.12, 0.14], "kid_mean": [0.10, 0.12, 0.14], "precision": [0.7, 0.72, 0.74],
         "recall": [0.30, 0.31, 0.32], "coverage": [0.50, 0.52, 0.54]}
BASE = {key: spread(values) for key, values in SEEDS.items()}
MEAN = {key: stats_["mean"] for key, stats_ in BASE.items()}
GATED = ["fid", "kl_uniform"]


def verdicts(candidate: dict, base: dict = BASE) -> dict:
    table = limits.compare_scores(base, candidate)
    return dict(zip(table["metric"], table["verdict"]))


def log_limit(values: list[float], k: float) -> float:
    y = np.log(values)
    return float(np.exp(y.mean() + k * y.std(ddof=1)))


# Published one-sided normal tolerance factors (Natrella, Experimental Statistics, NBS Handbook 91, Table A-7;
# the NIST/SEMATECH e-Handbook's one-sided factors): (n, share beyond the limit, confidence) -> k.
@pytest.mark.parametrize(("n", "tail", "confidence", "k"), [
    (5, 0.01, 0.95, 5.741), (5, 0.05, 0.95, 4.203), (5, 0.10, 0.95, 3.407), (10, 0.01, 0.95, 3.981)])
def test_tolerance_factor_is_the_published_one(n, tail, confidence, k):
    assert limits.tolerance_factor(n, tail, confidence) == pytest.approx(k, abs=5e-4)


def test_tolerance_limit_holds_with_its_confidence_monte_carlo():
    """Over many 5-seed baselines of a normal value, the limit x̄ + k·s covers at least 99 % of a fresh seed's
    distribution in a share 0.95 of them, within 4 binomial standard errors."""
    baselines, n, tail, confidence = 40_000, 5, 0.01, 0.95
    k = limits.tolerance_factor(n, tail, confidence)
    draws = np.random.default_rng(0).normal(size=(baselines, n))
    content = stats.norm.cdf(draws.mean(axis=1) + k * draws.std(axis=1, ddof=1))
    held = float(np.mean(content >= 1 - tail))
    assert abs(held - confidence) < 4 * math.sqrt(confidence * (1 - confidence) / baselines)


def test_the_gate_keeps_its_stated_rate_over_two_values_monte_carlo():
    """Two independent gated values, Bonferroni in share and confidence: the chance that a fresh seed fails
    (given the baseline) is at most α = 1 % in at least 95 % of the baselines."""
    baselines, n, m = 40_000, 5, 2
    k = limits.tolerance_factor(n, limits.FALSE_ALARM / m, 1 - (1 - limits.CONFIDENCE) / m)
    draws = np.random.default_rng(1).normal(size=(m, baselines, n))
    inside = stats.norm.cdf(draws.mean(axis=2) + k * draws.std(axis=2, ddof=1))  # each value's pass chance
    false_alarm = 1 - inside.prod(axis=0)
    held = float(np.mean(false_alarm <= limits.FALSE_ALARM))
    assert held >= limits.CONFIDENCE - 4 * math.sqrt(limits.CONFIDENCE * (1 - limits.CONFIDENCE) / baselines)


def test_the_limit_for_a_mean_of_seeds_holds_with_its_confidence_monte_carlo():
    """c candidate seeds gated by their mean (c = 4 over a 28-seed baseline, `wgan-seed`'s entry): the mean of c
    standard normals is N(0, 1/c), so the limit x̄ + k·s covers a share Φ((x̄ + k·s)·√c) of it, at least 99 % in a
    share 0.95 of the baselines (4 binomial standard errors). One seed (c = 1) is the published factor's case."""
    baselines, n, c, tail, confidence = 40_000, 28, 4, 0.01, 0.95
    k = limits.tolerance_factor(n, tail, confidence, candidates=c)
    assert k < limits.tolerance_factor(n, tail, confidence) and limits.tolerance_factor(5, 0.01, 0.95, 1) == (
        limits.tolerance_factor(5, 0.01, 0.95))
    draws = np.random.default_rng(2).normal(size=(baselines, n))
    content = stats.norm.cdf((draws.mean(axis=1) + k * draws.std(axis=1, ddof=1)) * math.sqrt(c))
    held = float(np.mean(content >= 1 - tail))
    assert abs(held - confidence) < 4 * math.sqrt(confidence * (1 - confidence) / baselines)


def test_several_seeds_pool_on_each_gated_values_scale():
    """The gate's candidate of several seeds: FID's and the KL's geometric means (their log scale; a KL of 0 at
    its floor, `studies.schema.SCALES`), every other value's plain mean; a non-finite value stays non-finite."""
    seeds = [{"fid": 300.0, "kl_uniform": 0.2, "is_mean": 2.0}, {"fid": 500.0, "kl_uniform": 0.0, "is_mean": 3.0}]
    pooled = limits.pool(seeds)
    floor = schema.SCALES["kl_uniform"][2]
    assert pooled["fid"] == pytest.approx(stats.gmean([300.0, 500.0]), rel=1e-12)
    assert pooled["kl_uniform"] == pytest.approx(stats.gmean([0.2, floor]), rel=1e-12)
    assert pooled["is_mean"] == pytest.approx(2.5, rel=1e-12)
    assert math.isnan(limits.pool([*seeds, {"fid": math.nan, "kl_uniform": 0.1, "is_mean": 2.0}])["fid"])
    assert limits.pool(seeds[:1]) == pytest.approx(seeds[0], rel=1e-12)


def test_two_values_are_gated_each_on_the_log_scale():
    assert limits.gated_scales() == {"fid": "log", "kl_uniform": "log", "stacked_kl": "log"}
    limit = limits.threshold("fid", BASE["fid"], n_metrics=2)
    k = limits.tolerance_factor(3, 0.01 / 2, 1 - 0.05 / 2)  # Bonferroni over the two in share and confidence
    assert (limit.mean, limit.std, limit.seeds, limit.scale) == (160.0, 10.0, 3, "log")
    assert limit.k == pytest.approx(k) and limit.limit == pytest.approx(log_limit(SEEDS["fid"], k))
    table = limits.compare_scores(BASE, MEAN).set_index("metric")
    assert list(table.index[:2]) == GATED and set(table["verdict"].iloc[2:]) == {limits.VERDICT_INFO}
    assert table.loc["kl_uniform", "limit"] == pytest.approx(log_limit(SEEDS["kl_uniform"], k))
    assert math.isnan(table.loc["is_mean", "limit"]) and table.loc["is_mean", "seeds"] == 3


def test_more_seeds_tighten_the_limit():
    few = limits.threshold("fid", spread([150.0, 160.0, 170.0]), n_metrics=2)
    many = limits.threshold("fid", spread([150.0, 160.0, 170.0] * 3), n_metrics=2)
    assert many.limit < few.limit and many.k < few.k


def test_baseline_seeds_and_their_mean_pass():
    assert limits.passed(limits.compare_scores(BASE, MEAN))
    for i in range(3):
        assert limits.passed(limits.compare_scores(BASE, {key: values[i] for key, values in SEEDS.items()}))


@pytest.mark.parametrize(("metric", "value", "verdict"), [
    ("fid", 60.0, limits.VERDICT_PASS),         # better is always fine: one-sided
    ("fid", 1e4, limits.VERDICT_FAIL),
    ("fid", math.nan, limits.VERDICT_FAIL),     # a NaN score never passes
    ("kl_uniform", 0.0, limits.VERDICT_PASS),
    ("kl_uniform", 2.3, limits.VERDICT_FAIL),    # near its maximum, log 10: all in one class
    ("is_mean", 1.0, limits.VERDICT_INFO),      # reported, never failing
    ("modes_covered", 1, limits.VERDICT_INFO),
    ("precision", 0.0, limits.VERDICT_INFO),
])
def test_one_sided_verdicts(metric, value, verdict):
    assert verdicts({**MEAN, metric: value})[metric] == verdict
    assert limits.passed(limits.compare_scores(BASE, {**MEAN, metric: value})) == (verdict != limits.VERDICT_FAIL)


def test_the_limit_sits_where_the_rule_puts_it():
    fid = limits.threshold("fid", BASE["fid"], n_metrics=2).limit
    assert verdicts({**MEAN, "fid": fid * (1 - 1e-6)})["fid"] == limits.VERDICT_PASS
    assert verdicts({**MEAN, "fid": fid * (1 + 1e-6)})["fid"] == limits.VERDICT_FAIL


def test_a_kl_of_exactly_zero_keeps_the_limit_finite():
    """log(0) is floored at the range's unit (studies.schema.SCALES): a finite limit, but so wide a spread
    that it passes the KL's maximum, log 10: the value is then not gated."""
    limit = limits.threshold("kl_uniform", spread([0.0, 0.12, 0.14]), n_metrics=2)
    assert math.isfinite(limit.limit) and limit.limit > math.log(10) and limit.vacuous
    assert not limits.threshold("kl_uniform", spread([0.1, 0.12, 0.14]), n_metrics=2).vacuous


def test_a_limit_past_the_values_range_is_never_gated(monkeypatch):
    """IS cannot fall below 1 nor recall below 0: a limit there passes anything, so the value is not gated."""
    monkeypatch.setattr(limits, "gated_scales", lambda: {"fid": "log", "is_mean": "linear", "recall": "linear"})
    wide = {**BASE, "is_mean": spread([4.14, 3.26, 3.62, 3.58, 4.21]), "recall": spread([0.05, 0.0001, 0.015])}
    table = limits.compare_scores(wide, {**MEAN, "is_mean": 1.0, "recall": 0.0}).set_index("metric")
    assert table.loc["is_mean", "limit"] < 1 and table.loc["recall", "limit"] < 0
    assert set(table.loc[["is_mean", "recall"], "verdict"]) == {limits.VERDICT_VACUOUS}
    assert limits.passed(table.reset_index())
    tight = {**BASE, "is_mean": spread([4.39, 4.38, 4.49, 4.39, 4.41])}
    assert verdicts({**MEAN, "is_mean": 1.0}, tight)["is_mean"] == limits.VERDICT_FAIL


def test_the_design_doc_quotes_the_committed_baselines_normality():
    """DESIGN §7 gives Shapiro–Wilk's p for every committed entry's gated values, as they are and on the log
    scale the gate uses (fixed in advance, not chosen by these p): recomputed here with SciPy, row by row."""
    design = (SUITE_ROOT / "docs" / "DESIGN.md").read_text()
    entries = json.loads((SUITE_ROOT / "results" / "baseline" / "quality.json").read_text())["settings"]
    for setting, entry in entries.items():
        for key in (key for key in limits.gated_keys() if key in entry["scores"]):
            values = np.array(entry["scores"][key]["values"])
            row = (f"| `{setting}` | `{key}` | {len(values)} | {stats.shapiro(values).pvalue:.2f} | "
                   f"{stats.shapiro(np.log(values)).pvalue:.2f} |")
            assert row in design, row


def test_a_single_number_allows_no_worsening():
    table = limits.compare_scores({"fid": 40.0, "kl_uniform": 0.1}, {"fid": 40.0 + 1e-6, "kl_uniform": 0.1})
    assert not limits.passed(table)
    assert limits.passed(limits.compare_scores({"fid": 40.0, "kl_uniform": 0.1}, {"fid": 40.0, "kl_uniform": 0.1}))


def test_missing_candidate_values():
    with pytest.raises(WganbenchError, match="candidate scores lack 'kl_uniform'"):
        limits.compare_scores(BASE, {"fid": 40.0})
    table = limits.compare_scores(BASE, {"fid": 150.0, "kl_uniform": 0.1})  # a reported one it lacks: left out
    assert list(table["metric"]) == GATED


def test_baseline_without_gated_metrics_is_an_error():
    with pytest.raises(WganbenchError, match="none of the gated metrics"):
        limits.compare_scores({"precision": BASE["precision"]}, MEAN)


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
    assert limits.passed(limits.compare_scores(base, rows[3]))
    noisy = np.clip(chunks[3] + np.random.default_rng(0).normal(0, 0.5, chunks[3].shape), -1, 1).astype(np.float32)
    table = limits.compare_scores(base, evaluate(noisy, n=2000, kid_subsets=20))
    assert not limits.passed(table) and "fid" in set(table.loc[table["verdict"] == limits.VERDICT_FAIL, "metric"])
    assert load_classifier().hash == current_classifier_hash()  # the hash the gate checks is the loaded one


def test_a_limit_that_uniform_noise_passes_is_never_gated():
    """An MNIST FID limit above what uniform noise scores (the committed sanity table) passes a generator that
    learned nothing: vacuous, as the 5-seed `gan` entry's raw 1,468 against noise's 704 was."""
    noise = schema.noise_scores()[FID_KEY]
    wide = spread([204.6, 348.5, 259.1, 234.9, 191.8])  # the committed gan entry's FIDs
    assert limits.threshold(FID_KEY, wide, n_metrics=2).limit > noise  # past noise, yet inside FID's range
    assert limits.thresholds({FID_KEY: wide, "kl_uniform": spread([0.25, 0.31, 0.19, 0.49, 0.24])})[FID_KEY].vacuous
    stacked = limits.thresholds({FID_KEY: wide, "stacked_kl": spread([0.5, 0.6, 0.55])}, dataset="stacked-mnist")
    assert not stacked[FID_KEY].vacuous  # noise's row is MNIST's: another data set keeps the range rule only
    tight = spread([167.3, 188.1, 167.3, 170.4, 169.4])  # wgan-gp's
    kl = spread([0.19, 0.21, 0.16, 0.17, 0.17])
    assert not limits.thresholds({FID_KEY: tight, "kl_uniform": kl})[FID_KEY].vacuous
