"""A study's progress: one line per scored point (a segment) with segments and runs done and the time left."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from studies import schema

if TYPE_CHECKING:
    from studies.run.compare import CompareOptions

Run = tuple[str, int]


class StudyProgress:
    """The whole study's progress: a line per finished segment with counts and the time left.

    The time left is the segments left times this session's seconds per finished segment, which
    already reflects how many train at once.
    """

    def __init__(self, options: CompareOptions, runs: Sequence[Run]) -> None:
        self.runs, self.targets = list(runs), options.budget.targets()
        self.scored = {run: self._scored(schema.read_scores(schema.run_dir(options.run_root(), *run) /
                                                             schema.SCORES_FILE)) for run in self.runs}
        self.failed: set[Run] = set()
        self.at_start = sum(self.scored.values())
        self.t0 = time.perf_counter()

    def _scored(self, frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        ok = set(frame.loc[frame[schema.STATUS] == schema.STATUS_OK, schema.TARGET])
        return sum(target in ok for target in self.targets)

    def pending(self) -> list[Run]:
        return [run for run in self.runs if self.scored[run] < len(self.targets) and run not in self.failed]

    def label(self, run: Run) -> str:
        return f"[run {self.runs.index(run) + 1}/{len(self.runs)}] "

    def start(self, where: str) -> None:
        total = len(self.runs) * len(self.targets)
        print(f"study: {len(self.runs)} runs × {len(self.targets)} segments, {self.at_start} scored before; "
              f"training {total - self.at_start} {where}", flush=True)

    def record(self, run: Run, frame: pd.DataFrame, *, final: bool = True) -> bool:
        """Take ``run``'s rows as they stand: a line per point scored since the last call, or its failure
        once its task has ended (``final``: a failed row of an earlier study is retried, not a failure yet);
        True while ``run`` has points left."""
        scored = self._scored(frame)
        last = frame.iloc[-1] if not frame.empty else None
        failed = final and last is not None and last.get(schema.STATUS) == schema.STATUS_FAILED
        if failed and run not in self.failed:
            self.failed.add(run)
            self.scored[run] = scored
            self._line(run, f"FAILED: {last.get(schema.ERROR)}")
        elif scored > self.scored[run]:
            ok = frame[frame[schema.STATUS] == schema.STATUS_OK].sort_values(schema.TARGET)
            for _, row in ok.iloc[self.scored[run]:scored].iterrows():
                self.scored[run] += 1
                self._line(run, f"step {row[schema.STEP]:g} FID {row['fid']:.1f}")
        return run in self.pending()

    def _line(self, run: Run, what: str) -> None:
        total = len(self.runs) * len(self.targets)
        done = sum(self.scored.values())
        runs_done = sum(n == len(self.targets) for n in self.scored.values()) + len(self.failed)
        failed = f", {len(self.failed)} failed" if self.failed else ""
        print(f"[{done}/{total} segments, {runs_done}/{len(self.runs)} runs done{failed}] {run[0]} seed {run[1]} "
              f"{what} — {self._left(done)}", flush=True)

    def _left(self, done: int) -> str:
        left = sum(len(self.targets) - self.scored[run] for run in self.pending())
        trained = done - self.at_start
        if not left or trained <= 0:
            return "time left unknown" if left else "done"
        minutes = left * (time.perf_counter() - self.t0) / trained / 60
        return ("under a minute left" if minutes < 1 else f"about {minutes:.0f} min left" if minutes < 90
                else f"about {minutes / 60:.1f} h left")
