"""Regression gate on sample quality: a candidate's scores against the baseline's spread over seeds.

The baseline (`studies.gate.baseline`, ``results/baseline/quality.json``) holds, per setting, each score of
several seeds of one recipe. The gated values (FID and the class shares' KL to uniform, on the log scale)
fail only past a one-sided normal tolerance limit over those seeds (`studies.gate.limits`): with
``--confidence`` (95%) over the baseline's seeds, a fresh seed of an unchanged recipe fails with probability
at most ``--false-alarm`` (1%). The other scores are reported beside them and never fail.

The candidate must be the baseline's recipe (steps, width, batch, precision, XLA, EMA, samples scored,
evaluation seed, generator file, setting) and be scored through the same classifier, and its training
seed must be none of the baseline's (a rerun of one is no fresh draw); anything else exits 2 naming what
differs. Versions and hardware only warn. Exit codes: 0 pass, 1 regression, 2 anything else.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from evaluators.options import GENERATOR_FILES
from studies.gate import baseline as bl
from studies.gate import output as gate_output
from studies.gate.candidate import EVAL_DEFAULTS, RECIPE_KEYS, Candidate, read_candidate, run_dirs, score
from studies.gate.limits import CONFIDENCE, FALSE_ALARM, compare_scores, passed, thresholds
from wgan import checks
from wgan.data import DATASETS, MNIST
from wgan.errors import WganbenchError
from wgan.options import option

EXIT_PASS, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2
# Keys the candidate may differ in when asked (--allow-changed): the recipe's, and the classifier.
CHANGEABLE = (*RECIPE_KEYS, "classifier_hash")
GUARANTEE = (f"with the defaults, with {CONFIDENCE:.0%} confidence over the baseline's seeds, a fresh seed of an "
             f"unchanged recipe fails with probability at most {FALSE_ALARM:.0%}")


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
    generator: str | None = option(None, "generator of a run directory to score: raw (generator.keras) or ema "
                                   "(generator_ema.keras, as `evaluate --generator`); part of the recipe (default: "
                                   "the baseline recipe's; raw when recording one)", choices=tuple(GENERATOR_FILES))
    allow_changed: tuple[str, ...] = option((), "recipe keys the candidate may differ in, each warned about "
                                            f"(e.g. steps); any of: {', '.join(CHANGEABLE)}")
    allow_baseline_seed: bool = option(False, "gate a candidate trained with one of the baseline's own seeds (a "
                                       "reproduction check, warned about: its scores are no fresh draw, so the "
                                       "false-alarm rate does not apply)")
    false_alarm: float = option(FALSE_ALARM, "chance that a fresh seed of an unchanged recipe fails, over all gated "
                                f"values (Bonferroni): {GUARANTEE}")
    confidence: float = option(CONFIDENCE, "confidence, over the baseline's seeds, that --false-alarm holds "
                               "(one-sided normal tolerance limits)")
    junit_xml: str | None = option(None, "also write a JUnit XML report here: one testcase per gated value")
    dataset: str | None = option(None, "data set the candidate must have been trained on (default: the one its "
                                 "config.json names; MNIST for a scores JSON that names none)", choices=DATASETS)
    json: bool = option(False, "print the verdict as JSON (machine-readable) instead of the table")
    update_baseline: bool = option(False, "record CANDIDATE, a folder of runs of one recipe with distinct seeds "
                                   f"(at least {bl.MIN_SEEDS}), as its setting's baseline, on purpose")

    def __post_init__(self) -> None:
        checks.positive_int("n", self.n, optional=True)
        if self.seed is not None:
            checks.non_negative_int("seed", self.seed)
        if self.generator is not None:
            checks.one_of("generator", self.generator, GENERATOR_FILES)
        unknown = [key for key in self.allow_changed if key not in CHANGEABLE]
        if unknown:
            raise WganbenchError(f"allow_changed: unknown key(s) {', '.join(unknown)}; expected some of: "
                                 f"{', '.join(CHANGEABLE)}")
        for name in ("false_alarm", "confidence"):
            rate = getattr(self, name)
            if not (isinstance(rate, float) and 0.0 < rate < 1.0):
                raise WganbenchError(f"{name} must be in (0, 1), got {rate!r}")


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


def seed_check(candidate: Candidate, entry: dict[str, Any], allow: bool) -> list[str]:
    """Refuse a candidate trained with one of the baseline's seeds (its scores are no fresh draw of the recipe);
    the warnings when that cannot be checked, or is allowed."""
    seeds, own = bl.baseline_seeds(entry), candidate.seed
    if seeds is None or own is None:
        what = "the baseline entry records no seeds" if seeds is None else f"{candidate.path} names no training seed"
        return [f"{what}: cannot check that the candidate is a fresh seed of the recipe"]
    if own not in seeds:
        return []
    if allow:
        return [f"seed {own} is one of the baseline's seeds {seeds}: a reproduction check, not a fresh draw "
                "(the false-alarm rate does not apply)"]
    raise WganbenchError(f"the candidate's training seed {own} is one of the baseline's seeds {seeds}: its scores "
                         "are no fresh draw of the recipe, and the limits are for a fresh seed; train it with another "
                         "--seed, or pass --allow-baseline-seed to check that it reproduces")


def evaluate_candidate(candidate_path: str | Path, options: GateOptions) -> gate_output.Verdict:
    """The verdict on ``candidate_path`` (warnings printed to stderr); a `WganbenchError` when it cannot be gated
    (another recipe, a baseline seed, a missing baseline, an unreadable candidate): the command and the pytest
    plugin share it."""
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
    candidate = candidate.with_evaluation(n, eval_seed, options.generator or recipe["generator"])
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
    thresholds(entry["scores"], options.false_alarm, options.confidence, dataset)  # no finite limits: before scoring
    warnings = [f"allowed change of {k}: baseline {b!r}, candidate {c!r}" for k, (b, c) in differences.items()]
    warnings += seed_check(candidate, entry, options.allow_baseline_seed)
    if candidate.needs_scoring:
        warnings += [f"environment differs: {d}" for d in
                     environment_differences(entry.get("environment", {}), bl.environment())]
    for line in warnings:
        warn(line)
    scores = score(candidate, n=n, eval_seed=eval_seed) if candidate.needs_scoring else candidate.scores or {}
    table = compare_scores(entry["scores"], scores, options.false_alarm, options.confidence, dataset)
    return gate_output.Verdict(setting=setting, candidate=str(candidate_path), baseline=str(path), table=table,
                               ok=passed(table), recipe={**own, "n": n, "eval_seed": eval_seed}, scores=scores,
                               classifier_hash=classifier or "", false_alarm=options.false_alarm,
                               confidence=options.confidence, warnings=warnings)


def record(folder: str, options: GateOptions) -> int:
    """`--update-baseline`: score every run under ``folder`` and write them as their setting's baseline."""
    path = Path(options.baseline) if options.baseline else bl.baseline_path()
    runs = run_dirs(Path(folder)) if Path(folder).is_dir() else []
    if not runs:
        raise WganbenchError(f"{folder}: not a folder of run directories; --update-baseline records the runs of "
                             f"one recipe with distinct seeds (at least {bl.MIN_SEEDS}) from the folder holding them")
    n = options.n if options.n is not None else bl.DEFAULT_N
    eval_seed = options.seed if options.seed is not None else bl.DEFAULT_EVAL_SEED
    generator = options.generator or EVAL_DEFAULTS["generator"]
    candidates = [read_candidate(run).with_evaluation(n, eval_seed, generator) for run in runs]
    setting = candidates[0].setting
    if options.setting and options.setting != setting:
        raise WganbenchError(f"{folder} holds runs of {setting!r}, not of --setting {options.setting!r}")
    bl.make_entry(candidates, classifier_hash="", env={})  # the recipe checks, before minutes of scoring
    scored = [Candidate(c.path, c.recipe, score(c, n=n, eval_seed=eval_seed), train_seconds=c.train_seconds)
              for c in candidates]
    entry = bl.make_entry(scored, classifier_hash=bl.current_classifier_hash(), env=bl.environment())
    written = bl.update_baseline(path, bl.entry_key(setting or "", entry["recipe"]["dataset"]), entry)
    print(f"baseline for {setting} ({len(scored)} seeds {entry['seeds']}) written to {written}")
    for key, limit in thresholds(entry["scores"], options.false_alarm, options.confidence).items():
        print(f"  {key:<14} {limit.mean:10.4g} ± {limit.std:<9.3g} limit {limit.limit:.4g} ({limit.scale} scale)")
    return EXIT_PASS
