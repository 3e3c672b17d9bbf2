"""What the quality gate scores: a candidate, its setting and the recipe that made it (docs/DESIGN.md §7).

A candidate is a run directory (or the ``generator.keras`` in one), whose ``config.json`` and
``summary.json`` say what was trained, or a scores JSON that says so itself (``setting``, ``recipe``,
``classifier_hash``, ``scores``: what `wganbench gate --json` prints). Reading one evaluates nothing;
:func:`score` does, and turns any failure inside the evaluation into one `WganbenchError`.
"""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from evaluators.options import EvalOptions
from wgan import rundir
from wgan.data import MNIST
from wgan.errors import WganbenchError, first_line
from wgan.train_options import SETTING, TrainOptions, gate_keys

# The recipe: what must equal the baseline's for a comparison to mean anything. Training keys are the
# GATE options of wgan.train_options (from the run directory), evaluation keys the gate's options (or a
# scores JSON's own recipe): samples, their seed, and which of the run's generators was scored.
TRAIN_KEYS = gate_keys()
EVAL_KEYS = ("n", "eval_seed", "generator")
# An evaluation key recorded after baselines existed reads as what those were scored with.
EVAL_DEFAULTS = {"generator": EvalOptions.generator}
RECIPE_KEYS = (*TRAIN_KEYS, *EVAL_KEYS)
SEED = "seed"  # recorded, never compared: the baseline's spread is over seeds
SEEDS = "seeds"  # a verdict on several seeds' mean records them all instead


@dataclass(frozen=True)
class Candidate:
    path: Path
    recipe: dict[str, Any]                      # RECIPE_KEYS it knows, plus "seed"
    scores: dict[str, float] | None = None      # None until scored (a run directory or generator)
    classifier_hash: str | None = None          # a scores JSON carries the hash it was scored with
    train_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def setting(self) -> str | None:
        return self.recipe.get("setting")

    @property
    def needs_scoring(self) -> bool:
        return self.scores is None

    @property
    def seed(self) -> int | None:
        """The training seed (None: a scores JSON that does not say)."""
        return self.recipe.get(SEED)

    @property
    def seeds(self) -> list[int] | None:
        """The training seeds behind the scores: a run's one, or all those a verdict on a mean pooled (None: a
        scores JSON that does not say)."""
        pooled = self.recipe.get(SEEDS)
        if isinstance(pooled, list):
            return [int(s) for s in pooled]
        return None if self.seed is None else [self.seed]

    def with_evaluation(self, n: int, eval_seed: int, generator: str) -> Candidate:
        """The candidate as it will be scored: a run's recipe gains the evaluation's ``n``, seed and generator
        file (`evaluators.options.GENERATOR_FILES`)."""
        if not self.needs_scoring:
            return self
        return replace(self, recipe={**self.recipe, "n": n, "eval_seed": eval_seed, "generator": generator})


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise WganbenchError(f"{path}: {what} is not valid JSON ({err})") from None
    except UnicodeDecodeError:
        raise WganbenchError(f"{path}: {what} is not a text file") from None


def read_candidate(candidate: str | Path) -> Candidate:
    """The candidate at ``candidate`` (a run directory, a generator file in one, or a scores JSON)."""
    path = Path(candidate)
    if not path.exists():
        raise WganbenchError(f"{path}: no such file or run directory")
    if path.suffix == ".json":
        return _from_json(path)
    return from_run(path if path.is_dir() else path.parent, path)


def recipe_keys(options: type = TrainOptions) -> tuple[str, ...]:
    """The gate's recipe of runs trained with ``options`` (a TrainOptions class)."""
    return (*gate_keys(options), *EVAL_KEYS)


def with_option_defaults(recipe: dict[str, Any], options: type = TrainOptions) -> dict[str, Any]:
    """``recipe`` with each gated option it lacks at that option's default: a recipe recorded before an
    option existed was made with its default (an evaluation key: `EVAL_DEFAULTS`)."""
    keys = gate_keys(options)
    defaults = {f.name: f.default for f in fields(options) if f.name in keys and f.default is not MISSING}
    return {**defaults, **EVAL_DEFAULTS, **recipe}


def train_recipe(config: dict[str, Any], summary: dict[str, Any], options: type = TrainOptions) -> dict[str, Any]:
    """The training part of a run's recipe: the setting's name, the steps done, and each GATE option as
    config.json records it (batch and width inside the setting; an option's default for a run recorded
    before the option existed)."""
    setting = config[SETTING]
    defaults = {f.name: f.default for f in fields(options)}
    recipe = {}
    for key in gate_keys(options):
        if key == SETTING:
            recipe[key] = setting["name"]
        elif key == "steps":
            recipe[key] = summary[rundir.SUMMARY_STEPS]  # steps done, not asked for
        else:
            recipe[key] = config[key] if key in config else setting.get(key, defaults[key])
    return recipe


def from_run(run: Path, source: Path | None = None, options: type = TrainOptions) -> Candidate:
    """A run directory's candidate: setting and recipe from config.json, steps done from summary.json."""
    config_path, summary_path = run / rundir.CONFIG_FILE, run / rundir.SUMMARY_FILE
    if not config_path.is_file():
        raise WganbenchError(f"{run}: no {rundir.CONFIG_FILE}; the gate needs a run directory (or a scores JSON) "
                             "to know what was trained")
    if not summary_path.is_file():
        raise WganbenchError(f"{run}: no {rundir.SUMMARY_FILE}; the run has not finished a training session")
    config, summary = _read_json(config_path, rundir.CONFIG_FILE), _read_json(summary_path, rundir.SUMMARY_FILE)
    try:
        recipe = {**train_recipe(config, summary, options), SEED: config["seed"]}
        seconds = summary.get(rundir.SUMMARY_WALL_SECONDS)
    except (KeyError, TypeError, AttributeError) as err:
        raise WganbenchError(f"{run}: {rundir.CONFIG_FILE} or {rundir.SUMMARY_FILE} lacks {err} (a corrupt or "
                             "foreign run directory)") from None
    if summary.get(rundir.SUMMARY_STATUS) == rundir.STATUS_DIVERGED:
        raise WganbenchError(f"{run}: the run diverged (summary.json status {rundir.STATUS_DIVERGED!r})")
    return Candidate(source or run, recipe, train_seconds=seconds)


def _from_json(path: Path) -> Candidate:
    doc = _read_json(path, "the scores JSON")
    if not isinstance(doc, dict):
        raise WganbenchError(f"{path}: expected a JSON object with 'scores', got {type(doc).__name__}")
    scores = doc.get("scores", doc)
    recipe = doc.get("recipe", {})
    if not isinstance(scores, dict) or not isinstance(recipe, dict):
        raise WganbenchError(f"{path}: 'scores' and 'recipe' must be JSON objects")
    recipe = with_option_defaults(recipe)
    if doc.get("setting") is not None:
        recipe["setting"] = doc["setting"]
    if "n" not in recipe and "n" in scores:
        recipe["n"] = scores["n"]
    return Candidate(path, recipe, scores=numbers(scores, path), classifier_hash=doc.get("classifier_hash"))


def numbers(scores: dict[str, Any], where: Path | str) -> dict[str, float]:
    """The numeric entries of a report row (NaN stays: a NaN score fails the gate, it is not dropped)."""
    out = {}
    for key, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if value is None:
                out[key] = math.nan
            continue
        out[key] = float(value)
    if not out:
        raise WganbenchError(f"{where}: holds no scores")
    return out


def run_dirs(folder: Path) -> list[Path]:
    """The run directories directly under ``folder`` (those holding a config.json), sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and (p / rundir.CONFIG_FILE).is_file())


def score(candidate: Candidate, *, n: int, eval_seed: int) -> dict[str, float]:
    """Evaluate a run's generator (its recipe's ``generator`` file, as `wganbench evaluate --generator` picks
    it): every metric of the table on ``n`` samples drawn with ``eval_seed``.

    Whatever goes wrong inside the evaluation (a corrupt generator, a TensorFlow error, a bug) becomes one
    `WganbenchError` naming the candidate, so the gate exits 2 (never 1, which means a regression).
    """
    from evaluators import evaluate

    try:
        row = evaluate(str(candidate.path), n=n, seed=eval_seed, dataset=candidate.recipe.get("dataset", MNIST),
                       generator=candidate.recipe.get("generator", EvalOptions.generator))
    except WganbenchError as err:
        raise WganbenchError(f"{candidate.path}: cannot score the candidate: {err}") from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as err:  # noqa: BLE001 - any crash in evaluation is an input problem (exit 2), not a regression
        first = first_line(err, "")
        raise WganbenchError(f"{candidate.path}: evaluation failed with {type(err).__name__}"
                             f"{': ' + first if first else ''}") from None
    return numbers(row, candidate.path)
