"""The gate's operating characteristics as tables: ``characteristics.csv`` and ``characteristics.md``.

`studies.gate.characteristics` measures them: one row per candidate (a fresh seed of a baseline entry's recipe,
or a seed of a known regression) with its gated values and the gate's verdict. Here each kind's count of
flagged candidates (failed, exit 1, or diverged, which the gate refuses with exit 2: a CI stops either way)
gets its exact Clopper–Pearson 95% interval (`scipy.stats.binomtest`): over fresh seeds that is the false-alarm
rate, to set beside the stated `studies.gate.limits.FALSE_ALARM`; over a regression's seeds, its detection rate.
"""

from __future__ import annotations

import datetime
import os
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from scipy import stats

from studies.gate import baseline as bl
from studies.gate.limits import CONFIDENCE, FALSE_ALARM, thresholds
from wgan import io

CSV_FILE, MD_FILE = "characteristics.csv", "characteristics.md"
LEVEL = 0.95  # of each rate's interval
PASS = "pass"
COMMAND = "python -m studies.gate.characteristics"


def interval(flagged: int, total: int) -> tuple[float, float]:
    """The exact (Clopper–Pearson) ``LEVEL`` interval of a rate of ``flagged`` in ``total``."""
    ci = stats.binomtest(flagged, total).proportion_ci(confidence_level=LEVEL, method="exact")
    return float(ci.low), float(ci.high)


def rates(rows: pd.DataFrame) -> pd.DataFrame:
    """Per entry and kind (in the rows' order): candidates, flagged, the rate and its exact interval."""
    out = []
    for (entry, kind), group in rows.groupby(["setting", "kind"], sort=False):
        flagged, total = int((group["verdict"] != PASS).sum()), len(group)
        low, high = interval(flagged, total)
        held = group["seeds"] if "seeds" in group else group["seed"]  # a candidate of several seeds lists them all
        seeds = [int(seed) for each in held for seed in str(each).split(";")]
        out.append({"setting": entry, "kind": kind, "seeds": bl.seeds_text(seeds), "flagged": flagged,
                    "total": total, "rate": flagged / total, "low": low, "high": high})
    return pd.DataFrame(out)


def _limits(entry: dict[str, Any]) -> str:
    return ", ".join(f"{key} {t.limit:.4g} ({t.scale} scale{', vacuous: never fails' if t.vacuous else ''})"
                     for key, t in _thresholds(entry).items())


def _thresholds(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry's limits for one of its candidates (the mean of its required fresh seeds)."""
    return thresholds(entry["scores"], candidates=bl.required_candidates(entry))


def _each(entry: dict[str, Any]) -> str:
    count = bl.required_candidates(entry)
    return "" if count == 1 else (f" A candidate of this entry is the mean of {count} fresh seeds (consecutive "
                                  "seeds, on each gated value's scale) and its limits are for that mean; the "
                                  "rows count candidates.")


def _recipe(entry: dict[str, Any]) -> str:
    recipe = entry["recipe"]
    return ", ".join(f"{key} {recipe[key]}" for key in recipe if key != "setting")


def _ranges(rows: pd.DataFrame, entry: str, kind: str, gated: Sequence[str]) -> str:
    """Each gated value's lowest and highest over one kind of candidate (what a pass or a fail was made of)."""
    mine = rows[(rows["setting"] == entry) & (rows["kind"] == kind)]
    values = {key: mine[key].dropna() for key in gated if key in mine}
    return "; ".join(f"{key} {v.min():.4g}" + (f"–{v.max():.4g}" if v.max() > v.min() else "")
                     for key, v in values.items() if len(v)) or "—"


def _progress(scored: int, planned: int | None) -> str:
    return "" if planned is None or scored >= planned else (
        f" **In progress: {scored} of its {planned} planned candidates scored so far**; the rest are not trained yet.")


def markdown(rows: pd.DataFrame, entries: dict[str, dict[str, Any]], what: dict[str, str], *, command: str,
             cpu: str, date: str, planned: dict[str, int] | None = None) -> str:
    """The table a user reads before trusting the gate: per entry, the false alarms and each regression's
    detections, each with its exact interval. ``what`` names each kind (``fresh`` and the regressions);
    ``planned``, each entry's planned candidates, where fewer may be scored yet."""
    lines = ["# The quality gate's operating characteristics", "",
             f"Written {date} by `{command}`. The CPUs that trained the candidates (each row's `cpu` names its own): "
             f"{cpu}. Each candidate is trained "
             "as its row says, scored as `wganbench gate` scores one (the entry's samples, evaluation seed and "
             "generator file) and judged by the gate's limits; it is flagged when the gate fails it (exit 1) or "
             "refuses it as diverged (exit 2). The gate states: with "
             f"{CONFIDENCE:.0%} confidence over the baseline's seeds, a fresh seed of an unchanged recipe (or, where "
             "an entry asks for several, their mean) fails "
             f"with probability at most {FALSE_ALARM:.0%}. Intervals: exact (Clopper–Pearson) {LEVEL:.0%}. "
             f"One row per candidate: `{CSV_FILE}`."]
    table = rates(rows)
    for entry, group in table.groupby("setting", sort=False):
        held = entries[entry]
        idle = all(t.vacuous for t in _thresholds(held).values())
        lines += ["", f"## `{entry}`", "", f"Recipe: {_recipe(held)}; baseline seeds "
                  f"{bl.seeds_text(bl.baseline_seeds(held) or [])}. Limits: {_limits(held)}."
                  + (" Every gated limit is vacuous: this entry flags only a diverged run." if idle else "")
                  + _each(held)
                  + _progress(int(group["total"].sum()), (planned or {}).get(entry)), "",
                  "| candidates | seeds | flagged | rate | exact 95% interval | gated values, lowest–highest |",
                  "|:--|:--|--:|--:|:--|:--|"]
        for r in group.itertuples():
            lines.append(f"| {what[r.kind]} | {r.seeds} | {r.flagged} of {r.total} | {r.rate:.1%} | "
                         f"{r.low:.1%}–{r.high:.1%} | {_ranges(rows, entry, r.kind, thresholds(held['scores']))} |")
        fresh = group[group["kind"] == "fresh"]
        for r in fresh.itertuples():
            verdict = ("consistent with" if r.low <= FALSE_ALARM else "above") + f" the stated {FALSE_ALARM:.0%}"
            unit = "fresh seeds" if bl.required_candidates(held) == 1 else "candidates"
            lines += ["", f"False alarms: {r.flagged} of {r.total} {unit}, {r.low:.1%}–{r.high:.1%}: "
                      f"{verdict}" + (f" (at least 20 {unit} are needed to say much of a {FALSE_ALARM:.0%} "
                                      "rate)" if r.total < 20 else "") + "."]
    for entry in [key for key in (planned or {}) if key not in set(table["setting"])]:
        lines += ["", f"## `{entry}`", "", f"Recipe: {_recipe(entries[entry])}. **Not measured yet: none of its "
                  f"{planned[entry]} planned candidates is scored.**"]
    return "\n".join(lines) + "\n"


def write(folder: str | os.PathLike, rows: list[dict[str, Any]], entries: dict[str, dict[str, Any]],
          what: dict[str, str], argv: Sequence[str], planned: dict[str, int] | None = None) -> list[Path]:
    """Write ``characteristics.csv`` and ``characteristics.md`` into ``folder``, atomically; returns their paths.
    ``planned``: each entry's planned candidates, so a table of fewer says it is in progress."""
    frame = pd.DataFrame(rows)
    folder = Path(folder)
    csv = io.write_text(folder / CSV_FILE, frame.to_csv(index=False))
    text = markdown(frame, entries, what, command=" ".join([COMMAND, *map(shlex.quote, argv)]),
                    cpu=" and ".join(dict.fromkeys(frame["cpu"])), date=datetime.date.today().isoformat(),
                    planned=planned)
    return [csv, io.write_text(folder / MD_FILE, text)]
