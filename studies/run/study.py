"""A whole study: the study folder held, every run's budget checked up front, then the runs trained."""

from __future__ import annotations

import pandas as pd

from studies.run import executor
from studies.run.compare import CompareOptions, claim_budget
from studies.schema import run_dir
from wgan.lock import hold


def run_study(options: CompareOptions) -> pd.DataFrame:
    """Run (or reuse) every setting × seed; returns every run's scores.csv rows.

    The study folder (``runs_dir``) is held by this process until the study ends: a second compare
    there is refused naming this one's pid. Every run's budget is checked before any trains, so a
    refused run stops the study before it costs anything; each is written only when its run starts
    (a study that fails to start leaves no budget.json). :mod:`studies.run.executor` then trains the
    points left: in this process, or in parallel on Dask workers (``workers``, ``cluster``); the scores
    do not depend on which.
    """
    executor.check(options)
    runs = [(s, seed) for seed in options.seeds for s in options.settings]
    with hold(options.run_root(), "study folder", "wait for that compare to finish, or give this one another "
              "--runs-dir"):
        for setting, seed in runs:
            claim_budget(run_dir(options.run_root(), setting, seed), options.budget, restart=options.restart,
                         write=False)
        return pd.concat(executor.execute(options, runs), ignore_index=True)
