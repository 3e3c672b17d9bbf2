"""Regression gate on sample quality: a candidate's scores against the baseline's spread over seeds.

The baseline (`studies.gate.baseline`, ``results/baseline/quality.json``) holds, per setting, each score of
several seeds of one recipe. The gated values (FID and the class shares' KL to uniform, on the log scale)
fail only past a one-sided normal tolerance limit over those seeds (`studies.gate.limits`): with
``--confidence`` (95%) over the baseline's seeds, a fresh seed of an unchanged recipe fails with probability
at most ``--false-alarm`` (1%). The other scores are reported beside them and never fail. Several fresh
seeds given together are gated by their mean, against limits for that mean (tighter); an entry may require
several (its ``candidates``: `wgan-seed`'s one-seed limits would pass uniform noise).

The candidate must be the baseline's recipe (steps, width, batch, precision, XLA, EMA, samples scored,
evaluation seed, generator file, setting) and be scored through the same classifier, and its training
seed must be none of the baseline's (a rerun of one is no fresh draw); anything else exits 2 naming what
differs. Versions and hardware only warn. Exit codes: 0 pass, 1 regression, 2 anything else.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from evaluators.options import GENERATOR_FILES
from studies.gate import baseline as bl
from studies.gate import output as gate_output
from studies.gate.candidate import EVAL_DEFAULTS, RECIPE_KEYS, SEED, SEEDS, Candidate, read_candidate, run_dirs, score
from studies.gate.limits import CONFIDENCE, FALSE_ALARM, compare_scores, passed, pool, thresholds
from wgan import checks, rundir
from wgan.data import DATASETS, MNIST
from wgan.errors import WganbenchError
from wgan.options import option

EXIT_PASS, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2
# Keys the candidate may differ in when asked (--allow-changed): the recipe's, and the classifier.
CHANGEABLE = (*RECIPE_KEYS, "classifier_hash")
GUARANTEE = (f"with the defaults, with {CONFIDENCE:.0%} confidence over the baseline's seeds, a fresh seed of an "
             "unchanged recipe (or the mean of the fresh seeds given together, as many as the entry asks) fails with "
             f"probability at most {FALSE_ALARM:.0%}")


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
    candidates: int | None = option(None, "with --update-baseline: the fewest fresh seeds a candidate of the entry "
                                    "must bring, their mean gated (default 1); for a recipe whose one-seed limits "
                                    "would pass uniform noise")

    def __post_init__(self) -> None:
        checks.positive_int("n", self.n, optional=True)
        checks.positive_int("candidates", self.candidates, optional=True)
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


def gate(candidates: str | Sequence[str], options: GateOptions) -> int:
    """Score the candidate (one, or several fresh seeds gated by their mean), compare it with the baseline and
    print the verdict; returns the exit code.

    Every failure other than a regression is a `WganbenchError` (exit 2), written to the JUnit report too
    when one is asked for.
    """
    try:
        try:
            paths = [candidates] if isinstance(candidates, str) else list(candidates)
            if options.update_baseline:
                if len(paths) != 1:
                    raise WganbenchError(f"--update-baseline records one folder of runs, got {len(paths)} paths")
                return record(paths[0], options)
            if options.candidates is not None:
                raise WganbenchError("--candidates is what --update-baseline records; to gate several fresh seeds, "
                                     "give their runs as candidates")
            return _gate(paths, options)
        except (WganbenchError, OSError, KeyboardInterrupt):
            raise
        except Exception as err:  # exit 1 must mean a regression and nothing else: a bug exits 2 too
            first = (str(err).strip().splitlines() or [""])[0]
            raise WganbenchError(f"the gate failed unexpectedly: {type(err).__name__}: {first}") from err
    except (WganbenchError, OSError) as err:
        if options.junit_xml:
            gate_output.write_junit_error(options.junit_xml, str(err))
        raise


def _gate(candidates: Sequence[str], options: GateOptions) -> int:
    verdict = evaluate_candidate(candidates, options)
    if options.junit_xml:
        gate_output.write_junit(options.junit_xml, verdict)
    print(gate_output.to_json(verdict) if options.json else gate_output.to_text(verdict))
    return EXIT_PASS if verdict.ok else EXIT_REGRESSION


def seed_check(candidate: Candidate, entry: dict[str, Any], allow: bool) -> list[str]:
    """Refuse a candidate trained with one of the baseline's seeds (its scores are no fresh draw of the recipe);
    the warnings when that cannot be checked, or is allowed."""
    seeds, own = bl.baseline_seeds(entry), candidate.seeds
    if seeds is None or own is None:
        what = "the baseline entry records no seeds" if seeds is None else f"{candidate.path} names no training seed"
        return [f"{what}: cannot check that the candidate is a fresh seed of the recipe"]
    reused = [s for s in own if s in seeds]
    if not reused:
        return []
    if allow:
        return [f"seed {reused[0]} is one of the baseline's seeds ({bl.seeds_text(seeds)}): a reproduction check, not "
                "a fresh draw (the false-alarm rate does not apply)"]
    raise WganbenchError(f"the candidate's training seed {reused[0]} is one of the baseline's seeds "
                         f"({bl.seeds_text(seeds)}): its "
                         "scores are no fresh draw of the recipe, and the limits are for a fresh seed; train it with "
                         "another --seed, or pass --allow-baseline-seed to check that it reproduces")


def _as_recipe(candidate: Candidate, setting: str, entry: dict[str, Any], options: GateOptions
               ) -> tuple[Candidate, dict[str, Any], str, list[str]]:
    """One candidate checked against the entry's recipe and classifier: (the candidate as it is scored, its
    recipe, the classifier hash it is scored through, the warnings); exit 2 when the recipe differs unasked."""
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
        raise WganbenchError(f"{candidate.path} is not the baseline's recipe ({shown}); train and score it as the "
                             "baseline was (`make baseline` shows how), or pass --allow-changed KEY on purpose")
    warnings = [f"allowed change of {k}: baseline {b!r}, candidate {c!r}" for k, (b, c) in differences.items()]
    return candidate, {**own, "n": n, "eval_seed": eval_seed}, classifier or "", warnings


def _fresh_seeds(candidates: list[Candidate], entry: dict[str, Any], setting: str) -> int:
    """How many fresh seeds the candidates bring, checked: distinct, and at least the entry's `candidates`."""
    if len(candidates) > 1 and any(len(c.seeds or []) > 1 for c in candidates):
        raise WganbenchError("a verdict on a mean of seeds is gated alone: its scores are pooled already")
    seeds = [s for c in candidates for s in (c.seeds or [])]
    if len(set(seeds)) != len(seeds):
        raise WganbenchError(f"the candidates' training seeds {seeds} repeat: their mean is over distinct fresh seeds")
    count = sum(len(c.seeds) if c.seeds else 1 for c in candidates)
    required = bl.required_candidates(entry)
    if count < required:
        raise WganbenchError(f"the baseline entry {setting!r} gates the mean of {required} fresh seeds (one seed's "
                             f"limits would catch nothing at its spread), and {count} seed(s) were given; train "
                             f"{required - count} more with other --seed values and gate all the runs together")
    return count


def _runs_in(path: Path) -> list[Path]:
    """A folder of run directories stands for its runs (fresh seeds gated together); anything else for itself."""
    if path.is_dir() and not (path / rundir.CONFIG_FILE).exists():
        return run_dirs(path) or [path]
    return [path]


def evaluate_candidate(candidate_paths: str | Path | Sequence[str | Path], options: GateOptions
                       ) -> gate_output.Verdict:
    """The verdict on one candidate, or on the mean of several fresh seeds of one recipe (warnings printed to
    stderr); a `WganbenchError` when it cannot be gated (another recipe, a baseline seed, too few seeds, a missing
    baseline, an unreadable candidate): the command and the pytest plugin share it."""
    given = [candidate_paths] if isinstance(candidate_paths, (str, Path)) else list(candidate_paths)
    paths = [run for p in given for run in _runs_in(Path(p))]
    if not paths:
        raise WganbenchError("no candidate to gate")
    path = Path(options.baseline) if options.baseline else bl.baseline_path()
    candidates = [read_candidate(p) for p in paths]
    setting = options.setting or candidates[0].setting
    if not setting:
        raise WganbenchError("cannot tell the candidate's setting; pass --setting NAME")
    # A scores JSON that names no data set takes --dataset's (default MNIST, all there was before Stacked MNIST).
    dataset = candidates[0].recipe.get("dataset") or options.dataset or MNIST
    if options.dataset and options.dataset != dataset:
        raise WganbenchError(f"{paths[0]} was trained on {dataset}, not on --dataset {options.dataset}")
    candidates = [replace(c, recipe={**c.recipe, "dataset": c.recipe.get("dataset") or dataset}) for c in candidates]
    entry = bl.baseline_entry(bl.load_baseline(path), setting, path, dataset)
    checked = [_as_recipe(c, setting, entry, options) for c in candidates]
    candidates = [c for c, *_ in checked]
    warnings = list(dict.fromkeys(line for *_, lines in checked for line in lines))  # each change said once
    for candidate in candidates:  # a baseline seed is named before a count of seeds falls short
        warnings += seed_check(candidate, entry, options.allow_baseline_seed)
    count = _fresh_seeds(candidates, entry, setting)
    thresholds(entry["scores"], options.false_alarm, options.confidence, dataset, count)  # finite: before scoring
    if any(c.needs_scoring for c in candidates):
        warnings += [f"environment differs: {d}" for d in
                     environment_differences(entry.get("environment", {}), bl.environment())]
    for line in warnings:
        warn(line)
    recipe = checked[0][1]  # each candidate's is the entry's, up to --allow-changed keys
    each = [score(c, n=recipe["n"], eval_seed=recipe["eval_seed"]) if c.needs_scoring else c.scores or {}
            for c in candidates]
    scores = pool(each) if len(each) > 1 else each[0]
    table = compare_scores(entry["scores"], scores, options.false_alarm, options.confidence, dataset, count)
    if len(candidates) > 1:  # the verdict is on the mean: it names every seed behind it (and gates again as such)
        seeds = [s for c in candidates for s in c.seeds or []]
        recipe = {k: v for k, v in recipe.items() if k != SEED} | {SEEDS: seeds}
    return gate_output.Verdict(setting=setting, candidate=", ".join(map(str, paths)), baseline=str(path), table=table,
                               ok=passed(table), recipe=recipe, scores=scores, classifier_hash=checked[0][2],
                               false_alarm=options.false_alarm, confidence=options.confidence, warnings=warnings,
                               candidates=count)


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
    required = options.candidates or 1
    bl.make_entry(candidates, classifier_hash="", env={}, required=required)  # the checks, before minutes of scoring
    scored = [Candidate(c.path, c.recipe, score(c, n=n, eval_seed=eval_seed), train_seconds=c.train_seconds)
              for c in candidates]
    entry = bl.make_entry(scored, classifier_hash=bl.current_classifier_hash(), env=bl.environment(),
                          required=required)
    written = bl.update_baseline(path, bl.entry_key(setting or "", entry["recipe"]["dataset"]), entry)
    each = f", a candidate gated by the mean of {required} fresh seeds" if required > 1 else ""
    print(f"baseline for {setting} ({len(scored)} seeds {entry['seeds']}{each}) written to {written}")
    for key, limit in thresholds(entry["scores"], options.false_alarm, options.confidence,
                                 candidates=required).items():
        print(f"  {key:<14} {limit.mean:10.4g} ± {limit.std:<9.3g} limit {limit.limit:.4g} ({limit.scale} scale)")
    return EXIT_PASS
