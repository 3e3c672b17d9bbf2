"""What the quality gate prints and writes: a table for people, JSON and JUnit XML for a CI.

The JSON verdict is also a candidate the gate accepts (it carries ``setting``, ``recipe``,
``classifier_hash`` and ``scores``), so a CI can score once and gate the saved verdict again.
The JUnit report has one ``<testcase>`` per gated value (classname ``quality.SETTING``), with a
``<failure>`` on a regression and ``<skipped>`` for a vacuous one (its limit past the value's range); the
values reported without gating have none. A gate that could not run (exit 2) writes one testcase with an
``<error>``.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from studies.gate.limits import RULE, VERDICT_FAIL, VERDICT_INFO, VERDICT_PASS, VERDICT_VACUOUS
from wgan.io import write_text


@dataclass(frozen=True)
class Verdict:
    setting: str
    candidate: str
    baseline: str
    table: pd.DataFrame
    ok: bool
    recipe: dict[str, Any]
    scores: dict[str, float]
    classifier_hash: str
    false_alarm: float
    confidence: float
    warnings: list[str] = field(default_factory=list)
    candidates: int = 1   # fresh seeds whose mean was gated


def _number(x: Any) -> Any:
    """JSON has no NaN: a non-finite score is written as null."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return x
    return x if x == x and abs(x) != float("inf") else None


def to_document(verdict: Verdict) -> dict[str, Any]:
    metrics = [{key: (_number(v) if key not in ("metric", "verdict") else v) for key, v in row.items()}
               for row in verdict.table.to_dict(orient="records")]
    for row in metrics:
        row["seeds"] = int(row["seeds"])
    return {"verdict": "pass" if verdict.ok else "regression", "exit_code": 0 if verdict.ok else 1,
            "setting": verdict.setting, "candidate": verdict.candidate, "candidates": verdict.candidates,
            "baseline": verdict.baseline,
            "rule": RULE, "false_alarm": verdict.false_alarm, "confidence": verdict.confidence, "metrics": metrics,
            "gated": [row["metric"] for row in metrics if row["verdict"] in (VERDICT_PASS, VERDICT_FAIL)],
            "failed": [row["metric"] for row in metrics if row["verdict"] == VERDICT_FAIL],
            "recipe": verdict.recipe, "classifier_hash": verdict.classifier_hash,
            "scores": {k: _number(v) for k, v in verdict.scores.items()}, "warnings": verdict.warnings}


def to_json(verdict: Verdict) -> str:
    return json.dumps(to_document(verdict), indent=2)


def to_text(verdict: Verdict) -> str:
    mean = f"the mean of {verdict.candidates} fresh seeds: " if verdict.candidates > 1 else ""
    head = (f"gate: {verdict.setting} candidate {mean}{verdict.candidate} vs baseline {verdict.baseline} "
            f"(false-alarm rate {verdict.false_alarm:g} per candidate, at {verdict.confidence:g} confidence)")
    shown = verdict.table.astype(object).where(verdict.table.notna(), None)  # no limit: an empty cell, not "nan"
    note = (f"{VERDICT_INFO}: reported, not gated; {VERDICT_VACUOUS}: its limit is past the value's possible range, "
            "so it is not gated either")
    tail = "PASS: sample quality holds" if verdict.ok else "FAIL: sample quality regressed"
    return "\n".join([head, shown.to_markdown(index=False, floatfmt=".4g"), note, tail])


def _suite(name: str, tests: int, failures: int, errors: int, skipped: int = 0) -> ET.Element:
    return ET.Element("testsuite", {"name": name, "tests": str(tests), "failures": str(failures),
                                    "errors": str(errors), "skipped": str(skipped)})


def _write(path: str | os.PathLike, suite: ET.Element) -> None:
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    write_text(path, '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n")


def write_junit(path: str | os.PathLike, verdict: Verdict) -> None:
    rows = [row for row in verdict.table.to_dict(orient="records") if row["verdict"] != VERDICT_INFO]
    failures = sum(row["verdict"] == VERDICT_FAIL for row in rows)
    skipped = sum(row["verdict"] == VERDICT_VACUOUS for row in rows)
    suite = _suite("wganbench gate", len(rows), failures, 0, skipped)
    for row in rows:
        case = ET.SubElement(suite, "testcase", {"classname": f"quality.{verdict.setting}", "name": row["metric"],
                                                 "time": "0"})
        detail = (f"{row['metric']}: candidate {row['candidate']:.6g}, limit {row['limit']:.6g} on the {row['scale']} "
                  f"scale (baseline {row['baseline']:.6g} ± {row['std']:.3g} over {row['seeds']} seeds)")
        if row["verdict"] == VERDICT_FAIL:
            ET.SubElement(case, "failure", {"message": detail, "type": "regression"}).text = detail
        elif row["verdict"] == VERDICT_VACUOUS:
            ET.SubElement(case, "skipped", {"message": f"not gated: the limit is past the value's range; {detail}"})
        else:
            ET.SubElement(case, "system-out").text = detail
    _write(path, suite)


def write_junit_error(path: str | os.PathLike, message: str) -> None:
    suite = _suite("wganbench gate", 1, 0, 1)
    case = ET.SubElement(suite, "testcase", {"classname": "quality", "name": "gate", "time": "0"})
    ET.SubElement(case, "error", {"message": message, "type": "error"}).text = message
    _write(path, suite)
