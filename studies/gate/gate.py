"""Regression gate on sample quality: a candidate's scores against the baseline's spread over seeds.

The baseline (`studies.gate.baseline`, ``results/baseline/quality.json``) holds, per setting, each score of
several seeds of one recipe. A gated metric (the metric table's ``gate`` flag gives which, and its
``better`` direction which way is worse) fails only when the candidate is worse than a one-sided
prediction limit for one more seed of the recipe (:func:`threshold`):

    limit = mean ± k · std · sqrt(1 + 1/n),   k = t.ppf(1 − α/m, n − 1)

with n seeds, sample std, m gated metrics and α = `FALSE_ALARM`: each metric alarms for a fresh seed of
an unchanged recipe with probability α/m, so the candidate as a whole with probability at most α
(Bonferroni, whatever the metrics' correlation). Integer metrics (`INTEGER_METRICS`, the classes
covered) get a floor instead: the worst baseline seed's value. A candidate may cover one class fewer
than the baseline's seeds usually do only when one of those seeds did too.

The candidate must be the baseline's recipe (steps, width, batch, precision, XLA, samples scored,
evaluation seed, setting) and be scored through the same classifier; anything else exits 2 naming what
differs. Versions and hardware only warn. Exit codes: 0 pass, 1 regression, 2 anything else.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from scipy import stats

from evaluators.metrics import value
from studies.gate import baseline as bl
from studies.gate import output as gate_output
from studies.gate.candidate import RECIPE_KEYS, Candidate, read_candidate, run_dirs, score
from wgan import checks
from wgan.data import DATASETS, MNIST
from wgan.errors import WganbenchError
from wgan.options import option

VERDICT_PASS, VERDICT_FAIL = "pass", "REGRESSION"
EXIT_PASS, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2
FALSE_ALARM = 0.01                         # per candidate, over all its gated metrics
# The ten classes covered: t's limit over a few seeds says nothing about a count out of 10. Stacked MNIST's
# modes of 1,000 spread like a continuous score and take the t limit.
INTEGER_METRICS = frozenset({"modes_covered"})
COLUMNS = ["metric", "baseline", "std", "seeds", "candidate", "delta", "limit", "verdict"]
# Keys the candidate may differ in when asked (--allow-changed): the recipe's, and the classifier.
CHANGEABLE = (*RECIPE_KEYS, "classifier_hash")
baseline_path, load_baseline, baseline_entry, gated_keys = (bl.baseline_path, bl.load_baseline, bl.baseline_entry,
                                                           bl.gated_keys)


@dataclass(frozen=True)
class Threshold:
    """The worst value of one metric a candidate may have, and where it comes from."""

    metric: str
    better: str
    mean: float
    std: float
    seeds: int
    k: float
    limit: float

    def passes(self, candidate: float) -> bool:
        if not math.isfinite(candidate):
            return False
        slack = 1e-9 * max(1.0, abs(self.limit))  # float noise of a rerun that reproduces a seed exactly
        return candidate <= self.limit + slack if self.better == "lower" else candidate >= self.limit - slack


def _per_seed(stats_or_value: Any) -> list[float]:
    if isinstance(stats_or_value, dict):
        return [float(v) for v in stats_or_value["values"]]
    return [float(stats_or_value)]  # one number: a baseline without spread allows no worsening


def threshold(metric: str, stats_or_value: Any, *, n_metrics: int, false_alarm: float = FALSE_ALARM) -> Threshold:
    """The one-sided limit of ``metric`` from its per-seed values (see the module docstring)."""
    per_seed = _per_seed(stats_or_value)
    better = value(metric).better
    assert better in ("lower", "higher"), metric  # the metric table allows gating only directed values
    sign = 1.0 if better == "lower" else -1.0
    n = len(per_seed)
    mean = math.fsum(per_seed) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in per_seed) / (n - 1)) if n > 1 else 0.0
    # isf, not ppf(1 − p): 1 − p rounds to 1 below p ≈ 1e-16, and t.ppf(1) is infinite (the limit NaN).
    k = float(stats.t.isf(false_alarm / n_metrics, n - 1)) if n > 1 else 0.0
    if not math.isfinite(k):
        raise WganbenchError(f"false_alarm {false_alarm:g} is too small: t's quantile for it over {n - 1} degrees "
                             "of freedom is not a finite number; give a larger --false-alarm")
    limit = mean + sign * k * std * math.sqrt(1.0 + 1.0 / n)
    if metric in INTEGER_METRICS:  # a count: no worse than the worst baseline seed (t's limit is far looser)
        limit = max(per_seed) if better == "lower" else min(per_seed)
    return Threshold(metric, better, mean, std, n, k, limit)


def compare_scores(baseline: dict[str, Any], candidate: dict[str, float],
                   false_alarm: float = FALSE_ALARM) -> pd.DataFrame:
    """One row per gated metric the baseline holds: baseline mean, std and seeds, candidate, limit, verdict.

    ``baseline`` maps a metric to its spread ``{"values": [...], ...}`` (or to one number: no worsening
    allowed). A gated metric the baseline lacks is skipped; one the candidate lacks is an error.
    """
    keys = [key for key in gated_keys() if key in baseline]
    if not keys:
        raise WganbenchError("the baseline holds none of the gated metrics " + ", ".join(gated_keys()))
    rows = []
    for key in keys:
        if key not in candidate:
            raise WganbenchError(f"candidate scores lack {key!r} (have {sorted(candidate)})")
        limit = threshold(key, baseline[key], n_metrics=len(keys), false_alarm=false_alarm)
        cand = float(candidate[key])
        rows.append({"metric": key, "baseline": limit.mean, "std": limit.std, "seeds": limit.seeds,
                     "candidate": cand, "delta": cand - limit.mean, "limit": limit.limit,
                     "verdict": VERDICT_PASS if limit.passes(cand) else VERDICT_FAIL})
    return pd.DataFrame(rows, columns=COLUMNS)


def passed(table: pd.DataFrame) -> bool:
    return bool((table["verdict"] == VERDICT_PASS).all())


def recipe_differences(base: dict[str, Any], candidate: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{key: (baseline's, candidate's)} for each recipe key that differs ("unknown" when the candidate lacks it)."""
    return {key: (base.get(key), candidate.get(key, "unknown")) for key in RECIPE_KEYS
            if candidate.get(key, "unknown") != base.get(key)}


def environment_differences(base: dict[str, Any], now: dict[str, Any]) -> list[str]:
    return [f"{key} {base.get(key)!r} in the baseline, {now.get(key)!r} here" for key in sorted(set(base) | set(now))
            if base.get(key) != now.get(key)]


def warn(message: str) -> None:
    print(f"wganbench gate: warning: {message}", file=sys.stderr)


@dataclass(frozen=True)
class GateOptions:
    """`wganbench gate CANDIDATE`: every field is a flag."""

    baseline: str | None = option(None, "baseline JSON (default: the suite's committed results/baseline/quality.json, "
                                  "found from any folder; $WGANBENCH_RESULTS/baseline/quality.json when set)")
    setting: str | None = option(None, "which baseline entry to compare with (default: the candidate's own "
                                 "setting from its config.json or JSON)")
    n: int | None = option(None, "samples to score (default: the baseline recipe's)")
    seed: int | None = option(None, "sampling seed of the evaluation (default: the baseline recipe's)")
    allow_changed: tuple[str, ...] = option((), "recipe keys the candidate may differ in, each warned about "
                                            f"(e.g. steps); any of: {', '.join(CHANGEABLE)}")
    false_alarm: float = option(FALSE_ALARM, "chance that a fresh seed of an unchanged recipe fails, over all "
                                "gated metrics (Bonferroni)")
    junit_xml: str | None = option(None, "also write a JUnit XML report here: one testcase per gated metric")
    dataset: str | None = option(None, "data set the candidate must have been trained on (default: the one its "
                                 "config.json names; MNIST for a scores JSON that names none)", choices=DATASETS)
    json: bool = option(False, "print the verdict as JSON (machine-readable) instead of the table")
    update_baseline: bool = option(False, "record CANDIDATE, a folder of runs of one recipe with distinct seeds "
                                   f"(at least {bl.MIN_SEEDS}), as its setting's baseline, on purpose")

    def __post_init__(self) -> None:
        checks.positive_int("n", self.n, optional=True)
        if self.seed is not None:
            checks.non_negative_int("seed", self.seed)
        unknown = [key for key in self.allow_changed if key not in CHANGEABLE]
        if unknown:
            raise WganbenchError(f"allow_changed: unknown key(s) {', '.join(unknown)}; expected some of: "
                                 f"{', '.join(CHANGEABLE)}")
        if not (isinstance(self.false_alarm, float) and 0.0 < self.false_alarm < 1.0):
            raise WganbenchError(f"false_alarm must be in (0, 1), got {self.false_alarm!r}")


def gate(candidate: str, options: GateOptions) -> int:
    """Score ``candidate``, compare it with the baseline and print the verdict; returns the exit code.

    Every failure other than a regression is a `WganbenchError` (exit 2), written to the JUnit report too
    when one is asked for.
    """
    try:
        try:
            if options.update_baseline:
                return record(candidate, options)
            return _gate(candidate, options)
        except (WganbenchError, OSError, KeyboardInterrupt):
            raise
        except Exception as err:  # exit 1 must mean a regression and nothing else: a bug exits 2 too
            first = (str(err).strip().splitlines() or [""])[0]
            raise WganbenchError(f"the gate failed unexpectedly: {type(err).__name__}: {first}") from err
    except (WganbenchError, OSError) as err:
        if options.junit_xml:
            gate_output.write_junit_error(options.junit_xml, str(err))
        raise


def _gate(candidate_path: str, options: GateOptions) -> int:
    verdict = evaluate_candidate(candidate_path, options)
    if options.junit_xml:
        gate_output.write_junit(options.junit_xml, verdict)
    print(gate_output.to_json(verdict) if options.json else gate_output.to_text(verdict))
    return EXIT_PASS if verdict.ok else EXIT_REGRESSION


def evaluate_candidate(candidate_path: str | Path, options: GateOptions) -> gate_output.Verdict:
    """The verdict on ``candidate_path`` (warnings printed to stderr); a `WganbenchError` when it cannot be gated
    (another recipe, a missing baseline, an unreadable candidate): the command and the pytest plugin share it."""
    path = Path(options.baseline) if options.baseline else bl.baseline_path()
    candidate = read_candidate(candidate_path)
    setting = options.setting or candidate.setting
    if not setting:
        raise WganbenchError("cannot tell the candidate's setting; pass --setting NAME")
    # A scores JSON that names no data set takes --dataset's (default MNIST, all there was before Stacked MNIST).
    dataset = candidate.recipe.get("dataset") or options.dataset or MNIST
    if options.dataset and options.dataset != dataset:
        raise WganbenchError(f"{candidate_path} was trained on {dataset}, not on --dataset {options.dataset}")
    candidate = replace(candidate, recipe={**candidate.recipe, "dataset": dataset})
    entry = bl.baseline_entry(bl.load_baseline(path), setting, path, dataset)
    recipe = entry["recipe"]
    n = options.n if options.n is not None else recipe["n"]
    eval_seed = options.seed if options.seed is not None else recipe["eval_seed"]
    candidate = candidate.with_evaluation(n, eval_seed)
    own = {"setting": setting, **candidate.recipe}  # --setting names a candidate that does not say
    classifier = candidate.classifier_hash if not candidate.needs_scoring else bl.current_classifier_hash()
    differences = recipe_differences(recipe, own)
    if classifier != entry["classifier_hash"]:
        differences["classifier_hash"] = (entry["classifier_hash"], classifier or "unknown")
    refused = {k: v for k, v in differences.items() if k not in options.allow_changed}
    if refused:
        shown = "; ".join(f"{k}: baseline {b!r}, candidate {c!r}" for k, (b, c) in refused.items())
        raise WganbenchError(f"the candidate is not the baseline's recipe ({shown}); train and score it as the "
                             "baseline was (`make baseline` shows how), or pass --allow-changed KEY on purpose")
    warnings = [f"allowed change of {k}: baseline {b!r}, candidate {c!r}" for k, (b, c) in differences.items()]
    if candidate.needs_scoring:
        warnings += [f"environment differs: {d}" for d in
                     environment_differences(entry.get("environment", {}), bl.environment())]
    for line in warnings:
        warn(line)
    scores = score(candidate, n=n, eval_seed=eval_seed) if candidate.needs_scoring else candidate.scores or {}
    table = compare_scores(entry["scores"], scores, options.false_alarm)
    return gate_output.Verdict(setting=setting, candidate=str(candidate_path), baseline=str(path), table=table,
                               ok=passed(table), recipe={**own, "n": n, "eval_seed": eval_seed}, scores=scores,
                               classifier_hash=classifier or "", false_alarm=options.false_alarm,
                               warnings=warnings)


def record(folder: str, options: GateOptions) -> int:
    """`--update-baseline`: score every run under ``folder`` and write them as their setting's baseline."""
    path = Path(options.baseline) if options.baseline else bl.baseline_path()
    runs = run_dirs(Path(folder)) if Path(folder).is_dir() else []
    if not runs:
        raise WganbenchError(f"{folder}: not a folder of run directories; --update-baseline records the runs of "
                             f"one recipe with distinct seeds (at least {bl.MIN_SEEDS}) from the folder holding them")
    n = options.n if options.n is not None else bl.DEFAULT_N
    eval_seed = options.seed if options.seed is not None else bl.DEFAULT_EVAL_SEED
    candidates = [read_candidate(run).with_evaluation(n, eval_seed) for run in runs]
    setting = candidates[0].setting
    if options.setting and options.setting != setting:
        raise WganbenchError(f"{folder} holds runs of {setting!r}, not of --setting {options.setting!r}")
    bl.make_entry(candidates, classifier_hash="", env={})  # the recipe checks, before minutes of scoring
    scored = [Candidate(c.path, c.recipe, score(c, n=n, eval_seed=eval_seed), train_seconds=c.train_seconds)
              for c in candidates]
    entry = bl.make_entry(scored, classifier_hash=bl.current_classifier_hash(), env=bl.environment())
    written = bl.update_baseline(path, bl.entry_key(setting or "", entry["recipe"]["dataset"]), entry)
    keys = [k for k in bl.gated_keys() if k in entry["scores"]]
    print(f"baseline for {setting} ({len(scored)} seeds {entry['seeds']}) written to {written}")
    for key in keys:
        limit = threshold(key, entry["scores"][key], n_metrics=len(keys), false_alarm=options.false_alarm)
        print(f"  {key:<14} {limit.mean:10.4g} ± {limit.std:<9.3g} limit {limit.limit:.4g}")
    return EXIT_PASS
