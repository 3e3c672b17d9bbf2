"""Where the gate's operating characteristics keep what they scored (`studies.gate.characteristics`).

Each candidate's run directory holds its record (``characteristics.json``: the plan it was trained for, the CPU and
threads that trained it, its scores), written atomically when it is scored. Beside the tables the measurement also
writes every record it holds (``characteristics-records.json``, committed), so a measurement too long for one
session continues in the next, on whatever machine that session gets: a candidate is trained only when neither
its run directory nor the committed list holds a record of exactly its plan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wgan.errors import WganbenchError

RECORD_FILE = "characteristics.json"  # in each run directory
RECORDS_FILE = "characteristics-records.json"  # beside the tables


def plan_key(plan: dict[str, Any]) -> str:
    """A plan's identity: its JSON with sorted keys."""
    return json.dumps(plan, sort_keys=True)


def run_record(run_dir: Path, plan: dict[str, Any]) -> dict[str, Any] | None:
    """The record in ``run_dir`` when it was scored for exactly ``plan``; None otherwise (a run a killed tool left
    unscored, or one trained for another plan)."""
    try:
        record = json.loads((run_dir / RECORD_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("plan") == plan else None


def committed(folder: Path) -> dict[str, dict[str, Any]]:
    """The records an earlier measurement wrote into ``folder``, by `plan_key` (none when there is no such file)."""
    path = folder / RECORDS_FILE
    try:
        records = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise WganbenchError(f"{path}: unreadable ({err}); move it aside to measure from the runs alone") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) and "plan" in r for r in records):
        raise WganbenchError(f"{path}: not a list of candidate records; move it aside to measure from the runs alone")
    return {plan_key(r["plan"]): r for r in records}
