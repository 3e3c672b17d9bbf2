"""A whole study: every run's budget claimed up front, then the runs trained by the executor."""

from __future__ import annotations

import pandas as pd

from studies.run import executor
from studies.run.compare import CompareOptions, claim_budget
from studies.schema import run_dir


def run_study(options: CompareOptions) -> pd.DataFrame:
    """Run (or reuse) every setting × seed; returns every run's scores.csv rows.

    Every run's budget is claimed before any trains, so a refused run stops the study before it
    costs anything. :mod:`studies.run.executor` then trains the segments left: in this process, or in
    parallel on Dask workers (``workers``, ``cluster``); the scores do not depend on which.
    """
    executor.check(options)
    runs = [(s, seed) for seed in options.seeds for s in options.settings]
    for setting, seed in runs:
        claim_budget(run_dir(options.run_root(), setting, seed), options.budget, restart=options.restart)
    return pd.concat(executor.execute(options, runs), ignore_index=True)
