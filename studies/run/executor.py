"""Where a study's runs train: one after another in this process, or in parallel on Dask workers.

A task is one run: :func:`studies.run.compare.compare_run` trains it to each target through the
resumable trainer and scores it there, committing the checkpoint and then the scores.csv row at every
point, all in one training session (the GAN is built, traced and kept in memory across its points;
TensorFlow, the classifier and the reference statistics load once per process). Nothing is scheduled
here beyond keeping a run per worker thread in flight in the study's order: Dask distributed places the
tasks, retries them and replaces a worker that dies; a lost worker costs the work since its run's last
point, and the retry resumes the run from there on another worker. A stopped study resumes every run
where it stopped. The study's process prints a line per point as the rows land.

Scores do not depend on the executor: a run's numbers follow from its recipe (config.json records the
TensorFlow threads) and op determinism. On a worker the runs train one after another in a child process
kept for the study (:mod:`studies.run.child` says why), exactly as a study in this process trains them
(docs/DESIGN.md §6 Studies and budgets).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from studies import schema
from studies.run import compare
from studies.run.child import run_in_child, stop_children
from studies.run.compare import CompareOptions
from studies.run.devices import PinDevice, assign_devices, cores, default_threads, default_workers, gpus
from studies.run.progress import Run, StudyProgress
from wgan import checks, io, trainer
from wgan.console import BANNER_SHOWN_ENV
from wgan.errors import WganbenchError

# What a Dask Nanny sets in its own process before it spawns a worker: BLAS threads capped at 1
# (they move FID's round-off in its eigh), malloc trimming and the hash seed. A run's process
# gets the study's values of these instead, as an in-process study would have them; its BLAS threads are then
# the run's threads (wgan.trainer.set_threads), as in an in-process study with --threads.
NANNY_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_", "PYTHONHASHSEED")
# A scheduler that does not answer in this long is not one (a port held by an HTTP server never answers
# Dask's handshake; Client's own timeout does not cover that wait).
CLUSTER_TIMEOUT_S = 10.0
POLL_S = 0.5  # how often the study looks for new rows of the runs in flight


def execute(options: CompareOptions, runs: Sequence[Run]) -> list[pd.DataFrame]:
    """Train every point of ``runs`` that is not scored yet; returns each run's scores.csv rows.

    Workers: ``options.cluster``'s, else a LocalCluster of ``workers`` processes when ``workers`` > 1,
    else this process. Points already scored are never trained again, so a restarted study
    continues where it stopped; a study with nothing left starts no workers. The training share of
    this session (:func:`training_share`) is printed and written to the runs folder's study-cost.json.
    """
    check(options)
    progress = StudyProgress(options, runs)
    pending = progress.pending()
    env = {name: os.environ.get(name) for name in NANNY_ENV}  # before a Nanny changes them
    os.environ[BANNER_SHOWN_ENV] = "1"  # workers and their runs: this process showed TensorFlow's banner
    workers = options.workers
    if workers is None and not options.cluster:
        workers = default_workers(cores(), gpus(), options.per_gpu)
    if not pending:
        print(f"study: nothing to train; all {len(runs)} runs are scored", flush=True)
        return _scores(options, runs)
    before = _scores(options, runs)
    if options.cluster:
        client = connect(options.cluster)
        prepare_evaluation(options)
        t0 = time.perf_counter()
        slots = _on_cluster(client, options, progress, env)
    elif workers is not None and workers > 1:
        # Threads follow the workers asked for, not the runs left: the recipe does not change.
        threads = options.threads or default_threads(cores(), workers)
        prepare_evaluation(options)
        t0, slots = time.perf_counter(), min(workers, len(pending))
        try:
            _on_local_cluster(options, progress, slots, threads, env)
        finally:
            restore_env(env)
    else:
        if options.threads is not None:
            trainer.set_threads(options.threads)  # the recipe's pools, before the classifier starts TensorFlow
        prepare_evaluation(options)
        t0, slots = time.perf_counter(), 1
        progress.start("in this process")
        for run in pending:  # each run in one training session, its progress line at each point
            progress.record(run, compare.compare_run(*run, options, label=progress.label(run),
                                                     after_point=lambda frame, run=run: progress.record(run, frame)))
    after = _scores(options, runs)
    cost = training_share(before, after, slots, time.perf_counter() - t0)
    io.write_json(options.run_root() / schema.STUDY_COST_FILE, cost)
    print(f"study: {cost['training_s']:.0f} s of training on {slots} worker{'s' * (slots > 1)} in "
          f"{cost['wall_s']:.0f} s: {cost['training_share']:.1%} of the workers' time went to training", flush=True)
    return after


def _scores(options: CompareOptions, runs: Sequence[Run]) -> list[pd.DataFrame]:
    return [schema.read_scores(schema.run_dir(options.run_root(), *run) / schema.SCORES_FILE) for run in runs]


def training_share(before: Sequence[pd.DataFrame], after: Sequence[pd.DataFrame], workers: int,
                   wall_s: float) -> dict[str, float]:
    """The runs' training seconds of this session over the workers' time (``workers`` × the study's wall
    time after the classifier is ready): what share of the time bought went to training."""
    def trained(frame: pd.DataFrame) -> float:
        ok = frame[frame[schema.STATUS] == schema.STATUS_OK] if not frame.empty else frame
        return float(ok[schema.WALL_S].max()) if not ok.empty else 0.0

    training = sum(trained(a) - trained(b) for b, a in zip(before, after))
    return {"workers": workers, "wall_s": round(wall_s, 1), "training_s": round(training, 1),
            "training_share": round(training / (workers * wall_s), 3) if wall_s > 0 else 0.0}


def prepare_evaluation(options: CompareOptions) -> None:
    """Train (or load) the classifier and the reference statistics here, once, before workers start:
    otherwise every worker that scores first on a fresh machine would train its own copy at once.
    (Workers on other hosts of a cluster fill their own host's cache.)"""
    from evaluators.classifier import load_classifier
    from evaluators.reference import reference_stats

    eval_options = options.eval_options()
    reference_stats(eval_options.reference, k=eval_options.metric_options("prdc").k, classifier=load_classifier())


def check(options: CompareOptions) -> None:
    """Refuse bad study options before anything is claimed or trained."""
    if options.workers is not None:
        checks.non_negative_int("workers", options.workers)
    checks.positive_int("threads", options.threads, optional=True)
    checks.positive_int("per_gpu", options.per_gpu)
    if options.cluster and options.workers is not None:
        raise WganbenchError("give --workers (started here) or --cluster (a running scheduler's), not both")
    for name, values in (("settings", options.settings), ("seeds", options.seeds)):
        repeated = sorted({str(v) for v in values if list(values).count(v) > 1})
        if repeated:
            raise WganbenchError(f"--{name} names {', '.join(repeated)} more than once; each run is trained once")
    if options.steps is not None and options.points > options.steps:
        raise WganbenchError(f"--points {options.points} exceeds --steps {options.steps}: a run cannot be scored "
                             f"at more points than it has steps; give --points {options.steps} or fewer")
    report = options.report_dir().expanduser().resolve()
    if report.exists() and not report.is_dir():
        raise WganbenchError(f"--out-dir {options.report_dir()} is a file, not a folder; choose another")
    if report == Path(report.anchor) or report == Path.home().resolve():
        raise WganbenchError(f"--out-dir {options.report_dir()} is {report}: the report's files would go among "
                             "yours; give a folder of its own")
    if report == options.run_root().expanduser().resolve():
        raise WganbenchError("--out-dir and --runs-dir are one folder; give the report a folder of its own")


def connect(address: str) -> Any:
    """A Client of the scheduler at ``address``, or a one-line refusal within :data:`CLUSTER_TIMEOUT_S`."""
    from distributed import Client
    from distributed.comm import connect as comm_connect

    async def probe() -> None:
        comm = await asyncio.wait_for(comm_connect(address, timeout=CLUSTER_TIMEOUT_S), CLUSTER_TIMEOUT_S)
        await comm.close()

    try:
        asyncio.run(probe())
    except ValueError:
        raise WganbenchError(f"--cluster {address}: not an address; expected tcp://HOST:PORT of a running Dask "
                             "scheduler") from None
    except (OSError, TimeoutError) as err:
        why = f"no Dask scheduler answered there within {CLUSTER_TIMEOUT_S:g} s (nothing listening, or not a " \
              "scheduler)" if isinstance(err, TimeoutError) else f"cannot reach its scheduler ({err})"
        raise WganbenchError(f"cluster {address}: {why}") from None
    try:
        return Client(address, timeout=CLUSTER_TIMEOUT_S)
    except (OSError, TimeoutError) as err:
        raise WganbenchError(f"cluster {address}: cannot reach its scheduler ({err})") from None


def restore_env(env: dict[str, str | None]) -> None:
    """Put environment variables back as ``env`` holds them (None = unset)."""
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _on_local_cluster(options: CompareOptions, progress: StudyProgress, workers: int, threads: int,
                      env: dict[str, str | None]) -> None:
    """Start ``workers`` worker processes here, each pinned to its GPU where there are GPUs."""
    from distributed import Client, LocalCluster

    visible = gpus()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        if visible:
            devices = assign_devices(workers, visible, options.per_gpu)
            client.register_plugin(PinDevice({name: devices[i] for i, name in enumerate(sorted(cluster.workers))}))
        progress.start(f"on {workers} local workers × {threads} thread{'s' * (threads > 1)}")
        _run_tasks(client, _for_workers(options, threads), progress, env)


def _on_cluster(client: Any, options: CompareOptions, progress: StudyProgress, env: dict[str, str | None]) -> int:
    """Use a running scheduler's workers; threads default to each host's cores over its workers.
    Returns the worker threads the study had."""
    with client:
        try:
            client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            raise WganbenchError(f"cluster {options.cluster}: no worker joined its scheduler in 60 s") from None
        hosts = client.run(_host_cores)
        per_host = {host: sum(h == host for h, _ in hosts.values()) for host, _ in hosts.values()}
        threads = options.threads or min(default_threads(n, per_host[host]) for host, n in hosts.values())
        progress.start(f"on {len(hosts)} workers of {options.cluster} × {threads} thread{'s' * (threads > 1)}")
        _run_tasks(client, _for_workers(options, threads), progress, env)
        return _slots(client)


def _for_workers(options: CompareOptions, threads: int) -> CompareOptions:
    """The options a worker gets: its threads, no progress bars (the study prints one line per point),
    the runs' folder as an absolute path, since a worker's working directory may be another, and the
    study's budget in seconds spelled out: a default read in the run's process would be that process's
    code's (a commit made while a study ran once gave its later runs another budget)."""
    return replace(options, threads=threads, quiet=True, runs_dir=str(options.run_root().resolve()),
                   budget_seconds=options.budget.seconds)


def _host_cores() -> tuple[str, int]:
    return socket.gethostname(), cores()


def _slots(client: Any) -> int:
    return max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))


def _run_tasks(client: Any, options: CompareOptions, progress: StudyProgress, env: dict[str, str | None]) -> None:
    """Keep one run per worker thread in flight, in the study's order; a line per point as its row lands
    in the run's scores.csv (looked for every :data:`POLL_S`). Dask places, retries and reschedules every
    task; a retried run resumes from its last point."""
    futures: dict[Any, Run] = {}
    waiting = progress.pending()

    def top_up() -> None:
        while waiting and len(futures) < _slots(client):
            run = waiting.pop(0)
            futures[client.submit(run_in_child, *run, options, progress.label(run), env, retries=2,
                                  key=f"{run[0]}-s{run[1]}-run-{uuid.uuid4().hex[:8]}")] = run

    top_up()
    try:
        while futures:
            time.sleep(POLL_S)
            for future, run in list(futures.items()):
                path = schema.run_dir(options.run_root(), *run) / schema.SCORES_FILE
                if not future.done():
                    progress.record(run, schema.read_scores(path), final=False)
                    continue
                del futures[future]
                try:
                    frame = future.result()
                except Exception as err:  # noqa: BLE001 — a run whose worker keeps dying fails alone
                    frame = schema.append_score(path, {
                        schema.SETTING: run[0], schema.SEED: run[1], schema.STATUS: schema.STATUS_FAILED,
                        schema.ERROR: f"{type(err).__name__}: {str(err).strip()[:200]}"})
                progress.record(run, frame)
            top_up()
    finally:  # the workers' run processes end with the study: a later study on this cluster starts its own
        with contextlib.suppress(Exception):
            client.run(stop_children)
