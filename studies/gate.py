"""Regression gate on sample quality: a candidate's scores against the committed baseline.

The baseline (``results/baseline/quality.json``) holds, per setting, the scores of a fixed-seed,
op-deterministic run and the recipe that produced it. A candidate passes when no gated metric is worse
than the baseline by more than its tolerance in ``TOLERANCES``. Exit codes: 0 pass, 1 regression,
2 usage or input error.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evaluators.metrics import value, values
from wgan import checks, io, rundir
from wgan.errors import WganbenchError
from wgan.options import option
from wgan.paths import results_dir


def baseline_path() -> Path:
    """The committed baseline: ``<results>/baseline/quality.json``."""
    return results_dir() / "baseline" / "quality.json"


VERDICT_PASS, VERDICT_FAIL = "pass", "REGRESSION"
EXIT_PASS, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class Tolerance:
    """How much worse a metric may get: by at most ``max(abs_, rel * |baseline|)``."""

    abs_: float
    rel: float = 0.0

    def allowed(self, baseline: float) -> float:
        return max(self.abs_, self.rel * abs(baseline))


# The one place where the gate's strictness is set; which metrics are gated, and which way is worse,
# comes from the metric table (evaluators.metrics). A gated metric without an entry gets STRICT.
STRICT = Tolerance(0.0)
TOLERANCES: dict[str, Tolerance] = {
    "fid": Tolerance(abs_=1.0, rel=0.10),
    "is_mean": Tolerance(abs_=0.2),
    "modes_covered": Tolerance(abs_=0.0),
    "kid_mean": Tolerance(abs_=0.002, rel=0.25),
    "recall": Tolerance(abs_=0.05),
    "coverage": Tolerance(abs_=0.05),
}


def gated_keys() -> list[str]:
    return [v.key for v in values() if v.gate]

COLUMNS = ["metric", "baseline", "candidate", "delta", "allowed", "verdict"]


def compare_scores(baseline: dict[str, float], candidate: dict[str, float],
                   tolerances: dict[str, Tolerance] = TOLERANCES) -> pd.DataFrame:
    """One row per gated metric: baseline, candidate, delta, the allowed worsening and the verdict."""
    rows = []
    for metric in gated_keys():
        tol = tolerances.get(metric, STRICT)
        if metric not in baseline:
            continue  # a baseline recorded before this metric existed gates only what it has
        if metric not in candidate:
            raise WganbenchError(f"candidate scores lack {metric!r} (have {sorted(candidate)})")
        base, cand = float(baseline[metric]), float(candidate[metric])
        worsening = (base - cand) if value(metric).better == "higher" else (cand - base)
        ok = math.isfinite(cand) and worsening <= tol.allowed(base) + 1e-12
        rows.append({"metric": metric, "baseline": base, "candidate": cand, "delta": cand - base,
                     "allowed": tol.allowed(base), "verdict": VERDICT_PASS if ok else VERDICT_FAIL})
    if not rows:
        raise WganbenchError("the baseline holds none of the gated metrics " + ", ".join(gated_keys()))
    return pd.DataFrame(rows, columns=COLUMNS)


def passed(table: pd.DataFrame) -> bool:
    return bool((table["verdict"] == VERDICT_PASS).all())


def load_baseline(path: str | os.PathLike | None = None) -> dict[str, Any]:
    path = Path(path) if path is not None else baseline_path()
    try:
        baseline = json.loads(path.read_text())
    except FileNotFoundError:
        raise WganbenchError(f"{path}: no baseline; create one with `wganbench gate CANDIDATE "
                             "--update-baseline`") from None
    except json.JSONDecodeError as err:
        raise WganbenchError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(baseline.get("settings"), dict):
        raise WganbenchError(f"{path}: expected {{'settings': {{name: {{'scores': ...}}}}}}")
    return baseline


def baseline_entry(baseline: dict[str, Any], setting: str, path: Path) -> dict[str, Any]:
    try:
        return baseline["settings"][setting]
    except KeyError:
        raise WganbenchError(f"{path}: no baseline for setting {setting!r} (has "
                             f"{sorted(baseline['settings'])}); pass --setting or --update-baseline") from None


def update_baseline(path: str | os.PathLike, setting: str, entry: dict[str, Any]) -> Path:
    """Replace one setting's entry in the baseline file, atomically; other settings are kept."""
    path = Path(path)
    baseline = load_baseline(path) if path.exists() else {"settings": {}}
    baseline["settings"][setting] = entry
    return io.write_json(path, baseline)


def candidate_scores(candidate: str, *, n: int, seed: int) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    """Setting name, scores and recipe (what was trained and how it was scored) of a candidate:
    a scores JSON, a run directory or a generator file."""
    path = Path(candidate)
    if not path.exists():
        raise WganbenchError(f"{path}: no such file or run directory")
    if path.suffix == ".json":
        try:
            doc = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise WganbenchError(f"{path}: not valid JSON ({err})") from None
        return doc.get("setting"), doc.get("scores", doc), doc.get("recipe", {})
    from evaluators import evaluate

    run = path if path.is_dir() else path.parent
    config = json.loads((run / rundir.CONFIG_FILE).read_text()) if (run / rundir.CONFIG_FILE).exists() else {}
    summary = json.loads((run / rundir.SUMMARY_FILE).read_text()) if (run / rundir.SUMMARY_FILE).exists() else {}
    setting = config.get("setting", {}).get("name")
    recipe = {"seed": config.get("seed"), "steps": summary.get(rundir.SUMMARY_STEPS),
              "width": config.get("setting", {}).get("width"),
              "batch_size": config.get("setting", {}).get("batch_size"),
              "mixed_precision": config.get("mixed_precision"), "jit_compile": config.get("jit_compile", False),
              "n": n, "eval_seed": seed}
    return setting, evaluate(str(path), n=n, seed=seed), recipe


@dataclass(frozen=True)
class GateOptions:
    """`wganbench gate CANDIDATE`: every field is a flag."""

    baseline: str | None = option(None, "baseline JSON (default: <results>/baseline/quality.json)")
    setting: str | None = option(None, "which baseline entry to compare with (default: the candidate's own "
                                 "setting from its config.json or JSON)")
    n: int = option(10_000, "samples to score")
    seed: int = option(0, "sampling seed")
    update_baseline: bool = option(False, "write the candidate's scores as the new baseline for its setting, "
                                   "on purpose")

    def __post_init__(self) -> None:
        checks.positive_int("n", self.n)
        checks.non_negative_int("seed", self.seed)


def gate(candidate: str, options: GateOptions) -> int:
    """Score ``candidate``, compare it with the baseline and print the verdict; returns the exit code."""
    path = Path(options.baseline) if options.baseline else baseline_path()
    setting, scores, recipe = candidate_scores(candidate, n=options.n, seed=options.seed)
    setting = options.setting or setting
    if not setting:
        raise WganbenchError("cannot tell the candidate's setting; pass --setting NAME")
    if options.update_baseline:
        entry = {"scores": scores, "recipe": recipe, "candidate": str(candidate)}
        print(f"baseline for {setting} written to {update_baseline(path, setting, entry)}")
        return EXIT_PASS
    table = compare_scores(baseline_entry(load_baseline(path), setting, path)["scores"], scores)
    print(f"gate: {setting} candidate {candidate} vs baseline {path}")
    print(table.to_markdown(index=False, floatfmt=".4g"))
    ok = passed(table)
    print("PASS: sample quality holds" if ok else "FAIL: sample quality regressed")
    return EXIT_PASS if ok else EXIT_REGRESSION
