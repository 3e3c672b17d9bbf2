"""The quality baseline: its file, its checks, and how it is recorded from several seeds of one recipe.

``results/baseline/quality.json`` holds, per setting, the recipe (`studies.gate.candidate.RECIPE_KEYS`), the
seeds it was trained with, every score of each seed's run (``scores``: per report-row key its ``mean``,
sample ``std`` and per-seed ``values``), the classifier hash the scores were measured through, and the
environment that measured them (TensorFlow and Keras versions, CPU, GPUs, oneDNN), and optionally
``candidates``: the fewest fresh seeds a candidate must bring (their mean is gated; 1 when absent), for an
entry whose one-seed limits would catch nothing. The gate's limits follow from the per-seed values
(`studies.gate.limits`); a candidate trained with one of the recorded seeds is no fresh draw of the recipe
(`baseline_seeds`). docs/DESIGN.md §7.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from pathlib import Path
from typing import Any

from studies.gate.candidate import EVAL_KEYS, RECIPE_KEYS, SEED, Candidate, with_option_defaults
from studies.gate.limits import gated_keys
from wgan import ONEDNN_ENV, io, versions
from wgan.data import MNIST
from wgan.errors import WganbenchError
from wgan.machine import cpuinfo
from wgan.paths import committed_results_dir

FORMAT = 2
MIN_SEEDS = 3          # the spread of fewer seeds says too little (t with 1 degree of freedom: k ≈ 32)
DEFAULT_N = 10_000     # samples scored per run when no baseline says otherwise
DEFAULT_EVAL_SEED = 0
REFRESH = "refresh it on purpose with `make baseline`"


def baseline_path() -> Path:
    """The committed baseline: ``baseline/quality.json`` under `wgan.paths.committed_results_dir` (not the
    current folder's: the gate finds it from any folder)."""
    return committed_results_dir() / "baseline" / "quality.json"


def load_baseline(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """The baseline file, checked to be ``{"settings": {name: entry, ...}}`` with at least one entry."""
    path = Path(path) if path is not None else baseline_path()
    baseline = _read(path)
    if not baseline["settings"]:
        raise WganbenchError(f"{path}: the baseline holds no setting; {REFRESH}")
    return baseline


def _read(path: Path) -> dict[str, Any]:
    try:
        baseline = json.loads(path.read_text())
    except FileNotFoundError:
        raise WganbenchError(f"{path}: no baseline; pass --baseline FILE, or record one with `make baseline` (or "
                             "`wganbench gate RUNS_FOLDER --update-baseline`)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise WganbenchError(f"{path}: the baseline is not valid JSON ({err})") from None
    if not isinstance(baseline, dict) or not isinstance(baseline.get("settings"), dict):
        raise WganbenchError(f"{path}: expected a baseline object {{'settings': {{SETTING: {{'recipe': ..., "
                             f"'scores': ...}}}}}}, got {type(baseline).__name__}; {REFRESH}")
    return baseline


def entry_key(setting: str, dataset: str = MNIST) -> str:
    """A baseline entry's name: the setting on MNIST, ``SETTING@DATASET`` on another data set."""
    return setting if dataset == MNIST else f"{setting}@{dataset}"


def baseline_entry(baseline: dict[str, Any], setting: str, path: str | os.PathLike,
                   dataset: str = MNIST) -> dict[str, Any]:
    """One setting's entry, checked: a recipe, a classifier hash, and per-seed values of the gated scores."""
    key = entry_key(setting, dataset)
    try:
        entry = baseline["settings"][key]
    except KeyError:
        raise WganbenchError(f"{path}: no baseline for setting {key!r} (has {sorted(baseline['settings'])}); "
                             "pass --setting, or record it with --update-baseline") from None
    where = f"{path}: baseline entry {key!r}"
    if not isinstance(entry, dict):
        raise WganbenchError(f"{where} is not an object; {REFRESH}")
    scores, recipe = entry.get("scores"), entry.get("recipe")
    if isinstance(recipe, dict):
        recipe = entry["recipe"] = with_option_defaults(recipe)
    if not isinstance(scores, dict) or not scores:
        raise WganbenchError(f"{where} has no 'scores'; {REFRESH}")
    if not isinstance(recipe, dict) or not isinstance(entry.get("classifier_hash"), str):
        raise WganbenchError(f"{where} lacks its 'recipe' or 'classifier_hash'; {REFRESH}")
    missing = [key for key in RECIPE_KEYS if key not in recipe]
    if missing:
        raise WganbenchError(f"{where}: its recipe lacks {', '.join(missing)}; {REFRESH}")
    gated = [key for key in gated_keys() if key in scores]
    if not gated:
        raise WganbenchError(f"{where} holds none of the gated metrics {', '.join(gated_keys())}; {REFRESH}")
    for key in gated:
        per_seed = scores[key].get("values") if isinstance(scores[key], dict) else None
        if not isinstance(per_seed, list) or not all(_is_number(v) for v in per_seed):
            raise WganbenchError(f"{where}: scores[{key!r}] must hold per-seed 'values' (a list of numbers), got "
                                 f"{scores[key]!r}; {REFRESH}")
        if len(per_seed) < MIN_SEEDS:
            raise WganbenchError(f"{where}: {key} has {len(per_seed)} seed(s); the gate needs at least {MIN_SEEDS} "
                                 f"to measure the spread; {REFRESH}")
    required_candidates(entry, where)
    return entry


def required_candidates(entry: dict[str, Any], where: str = "the baseline entry") -> int:
    """The fewest fresh seeds whose mean a candidate of ``entry`` is gated by (its ``candidates``; 1 if absent)."""
    count = entry.get("candidates", 1)
    if not (isinstance(count, int) and not isinstance(count, bool) and count >= 1):
        raise WganbenchError(f"{where}: 'candidates' must be a whole number of at least 1, got {count!r}; {REFRESH}")
    return count


def baseline_seeds(entry: dict[str, Any]) -> list[int] | None:
    """The training seeds of an entry's runs (`make_entry` records them); None for an entry that does not say."""
    seeds = entry.get("seeds")
    return [int(s) for s in seeds] if isinstance(seeds, list) and all(_is_number(s) for s in seeds) else None


def seeds_text(seeds: list[int] | Any) -> str:
    """Seeds as a reader scans them: sorted, a contiguous run as ``first–last`` (``0–27``), else listed."""
    seeds = sorted(seeds)
    if not seeds:
        return ""
    contiguous = seeds == list(range(seeds[0], seeds[-1] + 1))
    return f"{seeds[0]}–{seeds[-1]}" if contiguous and len(seeds) > 1 else ", ".join(map(str, seeds))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def spread(per_seed: list[float]) -> dict[str, Any]:
    """``{"mean", "std" (sample, n − 1), "values"}`` of one score over seeds."""
    return {"mean": statistics.fmean(per_seed), "std": statistics.stdev(per_seed) if len(per_seed) > 1 else 0.0,
            "values": list(per_seed)}


def cpu_name() -> str:
    """The CPU's model name (/proc/cpuinfo), else what `platform` knows."""
    return cpuinfo().model


def environment() -> dict[str, Any]:
    """What may change the numbers without changing the recipe: versions, CPU, GPUs, oneDNN kernels."""
    import tensorflow as tf

    gpus = [tf.config.experimental.get_device_details(d).get("device_name", d.name)
            for d in tf.config.list_physical_devices("GPU")]
    return {**versions(), "cpu": cpu_name(), "gpu": gpus, "onednn": os.environ.get(ONEDNN_ENV)}


def current_classifier_hash() -> str:
    """The hash of the classifier `evaluate` loads (`load_classifier().hash`), without loading or training it."""
    from evaluators.classifier import ClassifierConfig, classifier_hash

    return classifier_hash(ClassifierConfig())


def make_entry(candidates: list[Candidate], *, classifier_hash: str, env: dict[str, Any],
               required: int = 1) -> dict[str, Any]:
    """A baseline entry from scored runs of one recipe with distinct seeds (at least `MIN_SEEDS`); ``required``
    fresh seeds make one candidate of it (recorded as ``candidates`` when more than one)."""
    if len(candidates) < MIN_SEEDS:
        raise WganbenchError(f"a baseline needs at least {MIN_SEEDS} seeds of its recipe to measure the spread, got "
                             f"{len(candidates)} run(s)")
    first = candidates[0]
    for other in candidates[1:]:
        differ = [k for k in RECIPE_KEYS if other.recipe.get(k) != first.recipe.get(k)]
        if differ:
            raise WganbenchError(f"{other.path} differs from {first.path} in {', '.join(differ)}: a baseline is one "
                                 "recipe over several seeds")
    missing = [k for k in RECIPE_KEYS if k not in first.recipe]
    if missing:
        raise WganbenchError(f"{first.path}: the recipe lacks {', '.join(missing)}")
    seeds = [c.recipe.get(SEED) for c in candidates]
    if len(set(seeds)) != len(seeds):
        raise WganbenchError(f"the runs' seeds {seeds} repeat; a baseline's spread is over distinct seeds")
    scored = [c.scores or {} for c in candidates]
    keys = [k for k in scored[0] if k not in EVAL_KEYS and all(k in s for s in scored)]
    entry = {"recipe": {k: first.recipe[k] for k in RECIPE_KEYS}, "seeds": seeds,
             "scores": {k: spread([s[k] for s in scored]) for k in keys},
             "train_seconds": [c.train_seconds for c in candidates], "runs": [str(c.path) for c in candidates],
             "classifier_hash": classifier_hash, "environment": env}
    if required > 1:
        entry["candidates"] = required
    return entry


def update_baseline(path: str | os.PathLike, setting: str, entry: dict[str, Any]) -> Path:
    """Replace one setting's entry in the baseline file, atomically; other settings are kept."""
    path = Path(path)
    baseline = _read(path) if path.exists() else {"settings": {}}
    baseline["format"] = FORMAT
    baseline["settings"][setting] = entry
    return io.write_json(path, baseline)
