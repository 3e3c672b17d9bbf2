"""`python -m studies.gate.characteristics`: how often the gate fails a good run, and how often it catches a bad one.

For each baseline entry (``--setting`` one of them; the tables always cover all), this trains ``--fresh`` seeds of
the entry's exact recipe (seeds from one past the entry's largest, so none is a baseline seed) and
``--regression-seeds`` seeds of each known regression (`REGRESSIONS`, on the first fresh seeds), each count rounded
up to whole candidates of the entry (one seed, or the several an entry asks for). Each run is scored as `wganbench
gate` scores one (`studies.gate.candidate.score`); each candidate is judged by the gate's own limits
(`studies.gate.plans`).

Written beside the baseline (``--output``): ``characteristics.csv``, one row per candidate, and
``characteristics.md``: per entry, the false alarms and each regression's detections with exact (Clopper–Pearson)
95% intervals (`studies.gate.operating`), and every candidate's record (`studies.gate.records`), so the measurement
grows across sessions and machines. Runs train under ``--runs-dir`` (outside the repository); a rerun trains only
what is not scored yet, and ``--no-train`` writes the tables from what is. Runs train in this process
(``--workers 1``) or in ``--workers`` child processes, one run each (the study executor is out of reach: the layer
contract keeps the gate apart from the study runner).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from studies.gate import baseline as bl
from studies.gate import operating, records
from studies.gate.candidate import SEED, read_candidate, score
from studies.gate.gate import environment_differences
from studies.gate.limits import thresholds
from studies.gate.plans import DIVERGED, FRESH, REGRESSIONS, Plan, candidates, judge, plans
from wgan import checks, io, rundir
from wgan.console import configure_process
from wgan.data import MNIST
from wgan.errors import WganbenchError
from wgan.machine import cpuinfo
from wgan.options import HELP, option


def default_runs_dir() -> Path:
    """``$WGANBENCH_HOME/characteristics`` when that is set, else ``~/wganbench-runs/characteristics``."""
    home = os.environ.get("WGANBENCH_HOME")
    return Path(home).expanduser() / "characteristics" if home else Path.home() / "wganbench-runs" / "characteristics"


@dataclass(frozen=True)
class CharacteristicsOptions:
    baseline: str | None = option(None, "baseline JSON (default: the suite's committed results/baseline/quality.json)")
    setting: str | None = option(None, "the baseline entry whose candidates train (e.g. wgan-gp; default: every "
                                "entry's); the tables cover every entry, each with what is scored")
    fresh: int = option(20, "fresh seeds of each entry's unchanged recipe: its false alarms")
    regression_seeds: int = option(3, "seeds of each regression (" + "; ".join(REGRESSIONS.values()) + ")")
    runs_dir: str | None = option(None, "where the runs train (default: $WGANBENCH_HOME/characteristics, else "
                                  "~/wganbench-runs/characteristics); a rerun skips the runs already scored there")
    output: str | None = option(None, "folder for characteristics.csv and .md (default: the baseline's folder)")
    workers: int = option(1, "runs training at once, each in a child process of its own beyond 1")
    threads: int | None = option(None, "TensorFlow threads of each run (unset: TensorFlow's choice, as the "
                                 "baseline trained; with --workers N give at most cores ÷ N)")
    no_train: bool = option(False, "train nothing: write the tables from the candidates already scored under "
                            "--runs-dir, each entry saying how many of its planned candidates that is")

    def __post_init__(self) -> None:
        checks.positive_int("fresh", self.fresh)
        checks.non_negative_int("regression_seeds", self.regression_seeds)
        checks.positive_int("workers", self.workers)
        checks.positive_int("threads", self.threads, optional=True)


DEFAULTS = CharacteristicsOptions()


def run_plan(plan: Plan, runs: Path, threads: int | None = None) -> dict[str, Any]:
    """Train ``plan``'s run from its start (what a killed tool left there is started over), score it as the gate
    does and write its record; a diverged run is recorded as such (the gate refuses one: exit 2). ``threads``
    is no part of the plan: it moves round-off, not the recipe the gate compares."""
    from wgan import trainer

    out = plan.run_dir(runs)
    started = time.monotonic()
    record: dict[str, Any] = {"plan": plan.as_json(), "threads": threads, "cpu": cpuinfo().label}
    try:
        summary = trainer.train(plan.setting, seed=plan.seed, out_dir=str(out), force=True, threads=threads,
                                **plan.train)
    except trainer.TrainingDiverged as err:
        record.update(diverged=str(err), steps=None, seconds=time.monotonic() - started)
        io.write_json(out / records.RECORD_FILE, record)
        return record
    candidate = read_candidate(out).with_evaluation(plan.n, plan.eval_seed, plan.generator)
    record.update(steps=summary[rundir.SUMMARY_STEPS], train_seconds=summary[rundir.SUMMARY_WALL_SECONDS],
                  recipe={k: v for k, v in candidate.recipe.items() if k != SEED},
                  scores=score(candidate, n=plan.n, eval_seed=plan.eval_seed))
    record["seconds"] = time.monotonic() - started  # training, saving and scoring
    io.write_json(out / records.RECORD_FILE, record)
    return record


def _run_in_child(plan: Plan, runs: Path, threads: int | None) -> dict[str, Any]:
    configure_process()  # a fresh process: the suite's oneDNN setting before TensorFlow loads
    return run_plan(plan, runs, threads)


def load_entries(options: CharacteristicsOptions) -> dict[str, dict[str, Any]]:
    """Every baseline entry, each checked as the gate checks it and scored through this classifier."""
    path = Path(options.baseline) if options.baseline else bl.baseline_path()
    held = bl.load_baseline(path)
    classifier, here = bl.current_classifier_hash(), bl.environment()
    entries = {}
    keys = list(held["settings"])  # every entry: the tables cover them all, --setting only chooses what trains
    if options.setting and options.setting not in keys:
        raise WganbenchError(f"{path}: no baseline entry {options.setting!r} to measure (has {', '.join(keys)})")
    for key in keys:
        setting, _, dataset = key.partition("@")
        entries[key] = entry = bl.baseline_entry(held, setting, path, dataset or MNIST)
        if entry["classifier_hash"] != classifier:
            raise WganbenchError(f"{path}: entry {key!r} was scored through another classifier; its limits do not "
                                 "apply to scores measured here (refresh it with `make baseline`)")
        for line in environment_differences(entry.get("environment", {}), here):
            print(f"characteristics: warning: {key}: environment differs: {line}", file=sys.stderr)
    return entries


def measure(options: CharacteristicsOptions, entries: dict[str, dict[str, Any]], folder: Path
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """Train and score every candidate that neither the runs nor ``folder``'s committed records hold (none with
    ``no_train``); returns every scored candidate's row, every record (the committed ones of other plans or
    entries too) and each entry's count of planned candidates."""
    runs = Path(options.runs_dir).expanduser() if options.runs_dir else default_runs_dir()
    others = replace(options, fresh=DEFAULTS.fresh, regression_seeds=DEFAULTS.regression_seeds)
    everything: list[Plan] = []
    for key, entry in entries.items():  # --fresh and --regression-seeds size the measured entry only
        sized = options if options.setting in (None, key) else others
        everything += plans(key, entry, sized.fresh, sized.regression_seeds)
    kept = records.committed(folder)
    held = {p.key: r for p in everything
            if (r := records.run_record(p.run_dir(runs), p.as_json()) or kept.get(records.plan_key(p.as_json())))}
    planned = {key: sum(p.entry == key for p in everything) // bl.required_candidates(entry)  # in candidates
               for key, entry in entries.items()}
    pending = [] if options.no_train else [p for p in everything if p.key not in held
                                           and options.setting in (None, p.entry)]
    print(f"characteristics: {len(everything)} candidates, {len(held)} already scored (in {runs} or "
          f"{folder / records.RECORDS_FILE}); training {len(pending)} with {options.workers} worker(s)", flush=True)
    started, done = time.monotonic(), 0

    def finished(plan: Plan, record: dict[str, Any]) -> None:
        nonlocal done
        held[plan.key], done = record, done + 1
        left = (time.monotonic() - started) / done * (len(pending) - done)
        entry = entries[plan.entry]
        alone = bl.required_candidates(entry) == 1  # else the verdict waits for the candidate's other seeds
        row = judge([plan], held, entry) if alone else {}
        values = ", ".join(f"{k} {record.get('scores', {}).get(k, math.nan):.4g}" for k in thresholds(entry["scores"]))
        print(f"characteristics: [{done}/{len(pending)}] {plan.entry} {plan.kind} seed {plan.seed}: "
              f"{row.get('verdict', DIVERGED if DIVERGED in record else 'scored')} ({values}) in "
              f"{record['seconds']:.0f} s; about {left / 60:.0f} min left", flush=True)

    if options.workers == 1:
        for plan in pending:
            finished(plan, run_plan(plan, runs, options.threads))
    else:
        context = multiprocessing.get_context("spawn")  # TensorFlow does not survive a fork
        with ProcessPoolExecutor(options.workers, mp_context=context, max_tasks_per_child=1) as pool:
            futures = {pool.submit(_run_in_child, plan, runs, options.threads): plan for plan in pending}
            try:
                while futures:
                    ready, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for future in ready:
                        finished(futures.pop(future), future.result())
            except BaseException:
                pool.shutdown(cancel_futures=True)  # the runs in flight finish and keep their records; no new one
                raise
    if not held:
        raise WganbenchError(f"no candidate is scored under {runs} yet: nothing to write (drop --no-train)")
    scored = [plan for plan in everything if plan.key in held]
    kept = records.committed(folder)  # again: another measurement may have written its records since this one began
    kept.update((records.plan_key(plan.as_json()), held[plan.key]) for plan in scored)
    rows = [judge(group, held, entries[group[0].entry]) for group in candidates(scored, entries)]
    return rows, list(kept.values()), planned


def parser() -> argparse.ArgumentParser:
    """One flag per `CharacteristicsOptions` field (studies.cli.flags sits above the gate in the layer contract,
    so these few int and str flags are built here)."""
    made = argparse.ArgumentParser(prog=operating.COMMAND, description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in fields(CharacteristicsOptions):
        if f.type == "bool":
            made.add_argument("--" + f.name.replace("_", "-"), dest=f.name, action="store_true",
                              default=argparse.SUPPRESS, help=f.metadata[HELP].replace("%", "%%"))
            continue
        shown = "" if f.default is None else f" (default: {f.default})"
        made.add_argument("--" + f.name.replace("_", "-"), dest=f.name, default=argparse.SUPPRESS,
                          type=int if "int" in str(f.type) else str, help=(f.metadata[HELP] + shown).replace("%", "%%"))
    return made


def main(argv: list[str] | None = None) -> int:
    """Measure and write the tables; 0 done, 2 anything that stopped it (one line on stderr)."""
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    configure_process()
    try:
        options = CharacteristicsOptions(**vars(args))
        if options.workers == 1 and options.threads is not None:
            from wgan.trainer import set_threads

            set_threads(options.threads)  # before the entries' environment check starts TensorFlow's pools
        entries = load_entries(options)
        folder = Path(options.output) if options.output else (Path(options.baseline) if options.baseline
                                                               else bl.baseline_path()).parent
        rows, kept, planned = measure(options, entries, folder)
        written = operating.write(folder, rows, entries, {FRESH: "fresh seeds (unchanged recipe)", **REGRESSIONS},
                                  argv, planned)
        written.append(io.write_json(folder / records.RECORDS_FILE, kept))
    except (WganbenchError, OSError) as err:
        print(f"characteristics: error: {err}", file=sys.stderr)
        return 2
    print(f"characteristics: wrote {', '.join(map(str, written))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
