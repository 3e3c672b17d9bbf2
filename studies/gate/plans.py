"""What the gate's operating characteristics train, and how each of their candidates is judged.

A `Plan` is one run: a baseline entry's unchanged recipe on a fresh seed (seeds from one past the entry's largest,
so none is a baseline seed), or one of the known regressions (`REGRESSIONS`) of it. A candidate is one plan, or the
entry's required number of consecutive fresh seeds (`studies.gate.baseline.required_candidates`), pooled as the gate
pools them (`studies.gate.limits.pool`) and judged by the gate's own limits (`judge`). The recipe-equality check is
bypassed on purpose, since each regression changes the recipe; a fresh seed is checked to be the entry's recipe, so
a bug cannot pass off another recipe as fresh. `studies.gate.characteristics` trains the plans.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from studies.gate import baseline as bl
from studies.gate.candidate import TRAIN_KEYS
from studies.gate.gate import recipe_differences
from studies.gate.limits import VERDICT_FAIL, compare_scores, passed, pool, thresholds
from wgan import rundir
from wgan.data import MNIST
from wgan.errors import WganbenchError
from wgan.settings import FIXED, Setting, get_setting, with_fields
from wgan.train_options import SETTING

FRESH = "fresh"
DIVERGED = "diverged"
REGRESSIONS = {  # name: what it breaks
    "quarter-steps": "a quarter of the steps",
    "critic-lr-x10": "the critic's learning rate × 10",
    "no-g-batchnorm": "the generator without BatchNorm",
    "digits-0-6": "training on digits 0–6 only",
}



@dataclass(frozen=True)
class Plan:
    """One candidate: what trains (setting and `trainer.train` keywords) and how it is scored."""

    entry: str
    kind: str
    seed: int
    setting: str
    train: dict[str, Any]
    n: int
    eval_seed: int
    generator: str

    @property
    def key(self) -> tuple[str, str, int]:
        return self.entry, self.kind, self.seed

    def run_dir(self, runs: Path) -> Path:
        return runs / rundir.dirname(self.entry) / self.kind / f"s{self.seed}"

    def as_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))  # tuples as lists, as the record reads back


def with_changes(name: str, changes: dict[str, Any]) -> str:
    """The canonical name of setting ``name`` with ``changes`` on top of its own bracketed ones (one bracket)."""
    base = name.split("[", 1)[0].strip()
    held, root = get_setting(name), get_setting(base)
    own = {f.name: getattr(held, f.name) for f in fields(Setting)
           if f.name not in FIXED and getattr(held, f.name) != getattr(root, f.name)}
    return with_fields(root, {**own, **changes}).name


def regression(kind: str, setting: Setting, train: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(setting name, train keywords) of regression ``kind`` of a recipe."""
    if kind == "quarter-steps":
        return setting.name, {**train, "steps": max(1, train["steps"] // 4)}
    if kind == "critic-lr-x10":
        return with_changes(setting.name, {"d_lr": setting.d_lr * 10}), train
    if kind == "no-g-batchnorm":
        return with_changes(setting.name, {"g_batchnorm": False}), train
    if kind == "digits-0-6":
        return setting.name, {**train, "digits": list(range(7))}
    raise WganbenchError(f"unknown regression {kind!r}; known: {', '.join(REGRESSIONS)}")


def plans(key: str, entry: dict[str, Any], fresh: int, regression_seeds: int) -> list[Plan]:
    """``fresh`` seeds of one baseline entry's unchanged recipe, then ``regression_seeds`` of each regression; each
    count rounded up to whole candidates of the entry's `studies.gate.baseline.required_candidates` seeds."""
    recipe, seeds = entry["recipe"], bl.baseline_seeds(entry)
    if not seeds:
        raise WganbenchError(f"baseline entry {key!r} records no seeds: cannot choose fresh ones")
    first, each = max(seeds) + 1, bl.required_candidates(entry)
    train = {k: recipe[k] for k in TRAIN_KEYS if k != SETTING}
    train.update(checkpoint_every=recipe["steps"], quiet=True, deterministic=True)
    setting = get_setting(recipe[SETTING])
    evaluation = {"n": recipe["n"], "eval_seed": recipe["eval_seed"], "generator": recipe["generator"]}
    fresh, regressed = (math.ceil(count / each) * each for count in (fresh, regression_seeds))
    out = [Plan(key, FRESH, seed, setting.name, train, **evaluation) for seed in range(first, first + fresh)]
    for kind in REGRESSIONS:
        name, changed = regression(kind, setting, train)
        out += [Plan(key, kind, seed, name, changed, **evaluation) for seed in range(first, first + regressed)]
    assert not {p.seed for p in out} & set(seeds), "a fresh candidate must not reuse a baseline seed"
    return out


def candidates(scored: list[Plan], entries: dict[str, dict[str, Any]]) -> list[list[Plan]]:
    """The scored plans as the gate's candidates: per entry and kind, the blocks of the entry's required fresh seeds
    that `plans` laid out (one seed each for most entries); a block not yet whole is left out."""
    out: list[list[Plan]] = []
    for key, entry in entries.items():
        each, first = bl.required_candidates(entry), max(bl.baseline_seeds(entry) or [-1]) + 1
        for kind in (FRESH, *REGRESSIONS):
            blocks: dict[int, list[Plan]] = {}
            for plan in sorted((p for p in scored if p.entry == key and p.kind == kind), key=lambda p: p.seed):
                blocks.setdefault((plan.seed - first) // each, []).append(plan)
            out += [block for block in blocks.values() if len(block) == each]
    return out


def judge(group: list[Plan], held: dict[tuple[str, str, int], dict[str, Any]], entry: dict[str, Any]
          ) -> dict[str, Any]:
    """The CSV row of one candidate (one plan, or the entry's required fresh seeds): its gated values (the
    seeds' `studies.gate.limits.pool`) and the gate's verdict on them."""
    first, found = group[0], [held[p.key] for p in group]
    row: dict[str, Any] = {"setting": first.entry, "kind": first.kind, "seed": first.seed,
                           "seeds": ";".join(str(p.seed) for p in group),
                           "steps": found[0]["steps"], "cpu": " and ".join(dict.fromkeys(r.get("cpu", "unrecorded")
                                                                                         for r in found))}
    dataset = entry["recipe"].get("dataset", MNIST)
    gated = list(thresholds(entry["scores"], dataset=dataset))
    if any(DIVERGED in r for r in found):
        return {**row, **dict.fromkeys(gated, math.nan), "verdict": DIVERGED, "failed": "", "changed": ""}
    differences = recipe_differences(entry["recipe"], found[0]["recipe"])
    for plan, record in zip(group, found):
        wrong = recipe_differences(entry["recipe"], record["recipe"]) if plan.kind == FRESH else {}
        if wrong:
            raise WganbenchError(f"{plan.entry} fresh seed {plan.seed} was not trained as the entry's recipe: {wrong}")
    scores = pool([r["scores"] for r in found]) if len(found) > 1 else found[0]["scores"]
    table = compare_scores(entry["scores"], scores, dataset=dataset, candidates=len(group))
    failed = table.loc[table["verdict"] == VERDICT_FAIL, "metric"].tolist()
    return {**row, **{k: scores[k] for k in gated}, "verdict": "pass" if passed(table) else VERDICT_FAIL,
            "failed": ";".join(failed), "changed": "; ".join(f"{k} {b}→{c}" for k, (b, c) in differences.items())}
