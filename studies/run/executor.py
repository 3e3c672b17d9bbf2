"""Where a study's segments train: one after another in this process, or in parallel on Dask workers.

A task is one run's next segment (:func:`studies.run.compare.compare_run` with ``segments=1``): train to
the next target through the resumable trainer, score, append the row to the run's scores.csv. A
run's next segment is submitted when its previous one finishes (``as_completed``), so each run's
segments stay in order while different runs train at once. Nothing is scheduled here beyond that:
Dask distributed places the tasks, retries them and replaces a worker that dies; a lost worker
costs the segment since the run's last checkpoint and the retry resumes it on another worker.

Scores do not depend on the executor: a run's numbers follow from its recipe (config.json records
the TensorFlow threads) and op determinism. On a worker each segment runs in a child process of
its own (:func:`run_segment` says why), so it trains exactly as a study in this process would
(docs/DESIGN.md §6 Studies and budgets).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd
from distributed.diagnostics.plugin import WorkerPlugin

from studies import schema
from studies.run import compare
from studies.run.compare import CompareOptions
from studies.run.progress import Run, StudyProgress
from wgan import checks
from wgan.console import BANNER_SHOWN_ENV, configure_process
from wgan.errors import WganbenchError

# Workers per core when nobody says: one run per core, one TensorFlow thread each. Measured on the 2-core
# development machine, steps/s summed over runs, width 16: two runs × 1 thread against one run × 2 threads
# gave 1.37× for gan and 1.03× for wgan-gp (issue 16's table), and a study on a seconds budget runs its
# runs' budgets side by side, halving its wall-clock (results/bench.md, group `study`).
WORKERS_PER_CORE = 1.0
# The notebook's model, trained where it is affordable (a GPU): width 64 at batch 256.
GPU_WIDTH, GPU_BATCH_SIZE = 64, 256
# What a Dask Nanny sets in its own process before it spawns a worker: BLAS threads capped at 1
# (they move FID's round-off: scipy's sqrtm), malloc trimming and the hash seed. A segment's process
# gets the study's values of these instead, as an in-process study would have them.
NANNY_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_", "PYTHONHASHSEED")
PR_SET_PDEATHSIG = 1


def cores() -> int:
    """CPU cores this process may run on (its affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0))


def visible_gpus() -> list[str]:
    """GPU ids this process may use: ``CUDA_VISIBLE_DEVICES``'s entries when set, else TensorFlow's list."""
    held = os.environ.get("CUDA_VISIBLE_DEVICES")
    if held is not None:
        return [d.strip() for d in held.split(",") if d.strip() and d.strip() != "-1"]
    import tensorflow as tf  # listing physical devices leaves the thread pools settable

    return [str(i) for i in range(len(tf.config.list_physical_devices("GPU")))]


def default_workers(n_cores: int, gpus: Sequence[str] = (), per_gpu: int = 1) -> int:
    """One worker per ``per_gpu`` slot of every GPU; without GPUs, the measured best for the cores."""
    if gpus:
        return len(gpus) * per_gpu
    return max(1, round(n_cores * WORKERS_PER_CORE))


def default_threads(n_cores: int, workers: int) -> int:
    """TensorFlow threads per worker: the cores shared out, so workers do not fight over them."""
    return max(1, n_cores // max(1, workers))


def assign_devices(n_runs: int, gpus: Sequence[str], per_gpu: int) -> list[str | None]:
    """The GPU each of ``n_runs`` workers sees (its ``CUDA_VISIBLE_DEVICES``), spread round-robin.

    Worker i gets ``gpus[i % len(gpus)]`` while every GPU holds fewer than ``per_gpu`` workers, so
    runs share GPUs evenly; workers beyond ``len(gpus) * per_gpu`` get ``None``: no GPU, they train
    on the CPU (an empty ``CUDA_VISIBLE_DEVICES``). Without GPUs every worker gets ``None``.
    """
    checks.non_negative_int("n_runs", n_runs)
    checks.positive_int("per_gpu", per_gpu)
    slots = len(gpus) * per_gpu
    return [gpus[i % len(gpus)] if i < slots else None for i in range(n_runs)]


def model_defaults(gpus: Sequence[Any] | None = None) -> dict[str, int | None]:
    """CompareOptions overrides for this machine's model size: the notebook's on a GPU, else none.

    ``gpus`` defaults to ``tf.config.list_physical_devices("GPU")``. With a GPU the notebook's model
    (width 64, batch 256) is affordable, so it is what a study should compare; bfloat16 is offered
    there through ``mixed_precision`` (not switched on: it changes the numbers). On a CPU,
    CompareOptions' own width 16 and each setting's batch stay: {} is returned.
    """
    if gpus is None:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
    return {"width": GPU_WIDTH, "batch_size": GPU_BATCH_SIZE} if gpus else {}


def execute(options: CompareOptions, runs: Sequence[Run]) -> list[pd.DataFrame]:
    """Train every segment of ``runs`` that is not scored yet; returns each run's scores.csv rows.

    Workers: ``options.cluster``'s, else a LocalCluster of ``workers`` processes when ``workers`` > 1,
    else this process. Segments already scored are never trained again, so a restarted study
    continues where it stopped; a study with nothing left starts no workers.
    """
    check(options)
    progress = StudyProgress(options, runs)
    pending = progress.pending()
    env = {name: os.environ.get(name) for name in NANNY_ENV}  # before a Nanny changes them
    os.environ[BANNER_SHOWN_ENV] = "1"  # workers and their segments: this process showed TensorFlow's banner
    workers = options.workers
    if workers is None and not options.cluster:
        workers = default_workers(cores(), _gpus(), options.per_gpu)
    if not pending:
        print(f"study: nothing to train; all {len(runs)} runs are scored", flush=True)
    elif options.cluster:
        prepare_evaluation(options)
        _on_cluster(options, progress, env)
    elif workers is not None and workers > 1:
        # Threads follow the workers asked for, not the runs left: the recipe does not change.
        threads = options.threads or default_threads(cores(), workers)
        prepare_evaluation(options)
        try:
            _on_local_cluster(options, progress, min(workers, len(pending)), threads, env)
        finally:
            restore_env(env)
    else:
        progress.start("in this process")
        for run in pending:
            while progress.record(run, compare.compare_run(*run, options, label=progress.label(run), segments=1)):
                pass
    return [schema.read_scores(schema.run_dir(options.run_root(), *run) / schema.SCORES_FILE) for run in runs]


def prepare_evaluation(options: CompareOptions) -> None:
    """Train (or load) the classifier and the reference statistics here, once, before workers start:
    otherwise every worker that scores first on a fresh machine would train its own copy at once.
    (Workers on other hosts of a cluster fill their own host's cache.)"""
    from evaluators.classifier import load_classifier
    from evaluators.reference import reference_stats

    eval_options = options.eval_options()
    reference_stats(eval_options.reference, k=eval_options.metric_options("prdc").k, classifier=load_classifier())


def check(options: CompareOptions) -> None:
    """Refuse bad executor options before anything is claimed or trained."""
    if options.workers is not None:
        checks.non_negative_int("workers", options.workers)
    checks.positive_int("threads", options.threads, optional=True)
    checks.positive_int("per_gpu", options.per_gpu)
    if options.cluster and options.workers is not None:
        raise WganbenchError("give --workers (started here) or --cluster (a running scheduler's), not both")


def restore_env(env: dict[str, str | None]) -> None:
    """Put environment variables back as ``env`` holds them (None = unset)."""
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _gpus() -> list[str]:
    """Visible GPUs, without importing TensorFlow (seconds) where no NVIDIA driver is loaded."""
    cuda = os.environ.get("CUDA_VISIBLE_DEVICES", "0") not in ("", "-1") and os.path.exists("/dev/nvidiactl")
    return visible_gpus() if cuda or "tensorflow" in sys.modules else []


def _on_local_cluster(options: CompareOptions, progress: StudyProgress, workers: int, threads: int,
                      env: dict[str, str | None]) -> None:
    """Start ``workers`` worker processes here, each pinned to its GPU where there are GPUs."""
    from distributed import Client, LocalCluster

    gpus = _gpus()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        if gpus:
            devices = assign_devices(workers, gpus, options.per_gpu)
            client.register_plugin(PinDevice({name: devices[i] for i, name in enumerate(sorted(cluster.workers))}))
        progress.start(f"on {workers} local workers × {threads} thread{'s' * (threads > 1)}")
        _run_tasks(client, _for_workers(options, threads), progress, env)


def _on_cluster(options: CompareOptions, progress: StudyProgress, env: dict[str, str | None]) -> None:
    """Use a running scheduler's workers; threads default to each host's cores over its workers."""
    from distributed import Client

    try:
        client = Client(options.cluster, timeout=30)
    except (OSError, TimeoutError) as err:
        raise WganbenchError(f"cluster {options.cluster}: cannot reach its scheduler ({err})") from None
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


def _for_workers(options: CompareOptions, threads: int) -> CompareOptions:
    """The options a worker gets: its threads, no progress bars (the study prints one line per segment),
    and the runs' folder as an absolute path, since a worker's working directory may be another."""
    return replace(options, threads=threads, quiet=True, runs_dir=str(options.run_root().resolve()))


def _host_cores() -> tuple[str, int]:
    return socket.gethostname(), cores()


def _run_tasks(client: Any, options: CompareOptions, progress: StudyProgress, env: dict[str, str | None]) -> None:
    """Keep one segment per worker thread in flight, runs in the study's order: when a segment finishes,
    its run's next goes in, then the next runs' first ones up to the workers there are now. So runs finish
    one after another and a study stopped half-way leaves whole runs; Dask places, retries and
    reschedules every task."""
    from distributed import as_completed

    futures: dict[Any, Run] = {}
    queue = as_completed()
    waiting = progress.pending()

    def submit(run: Run) -> None:
        future = client.submit(run_segment, *run, options, progress.label(run), env, retries=2,
                               key=f"{run[0]}-s{run[1]}-segment{progress.scored[run] + 1}-{uuid.uuid4().hex[:8]}")
        futures[future] = run
        queue.add(future)

    def top_up() -> None:
        slots = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
        while waiting and len(futures) < max(1, slots):
            submit(waiting.pop(0))

    top_up()
    for future in queue:
        run = futures.pop(future)
        try:
            frame = future.result()
        except Exception as err:  # noqa: BLE001 — a run whose worker keeps dying fails alone
            frame = schema.append_score(schema.run_dir(options.run_root(), *run) / schema.SCORES_FILE, {
                schema.SETTING: run[0], schema.SEED: run[1], schema.STATUS: schema.STATUS_FAILED,
                schema.ERROR: f"{type(err).__name__}: {str(err).strip()[:200]}"})
        if progress.record(run, frame):
            submit(run)
        top_up()


def run_segment(setting: str, seed: int, options: CompareOptions, label: str,
                env: dict[str, str | None]) -> pd.DataFrame:
    """Train and score one run's next segment in a child process of this worker; returns the run's rows.

    Why a child: a Dask worker's event loop draws from Python's global ``random`` while a task runs,
    and Keras seeds weight initializers from it, so models built in a worker thread are not
    reproducible. The child runs nothing else, starts TensorFlow with the recipe's threads, gets the
    study's values of :data:`NANNY_ENV` (``env``, None = unset), and dies with the worker: a killed
    worker leaves no orphan writing the run while Dask retries the segment elsewhere.
    """
    child_env = {k: v for k, v in os.environ.items() if k not in env}
    child_env.update({k: v for k, v in env.items() if v is not None})
    child_env[BANNER_SHOWN_ENV] = "1"
    payload = pickle.dumps((setting, seed, options, label, os.getpid()))
    done = subprocess.run([sys.executable, "-m", "studies.run.executor"], input=payload, env=child_env, check=False)
    if done.returncode:
        raise WganbenchError(f"{setting} seed {seed}: the segment's process exited with {done.returncode}")
    return schema.read_scores(schema.run_dir(options.run_root(), setting, seed) / schema.SCORES_FILE)


def _segment_process() -> None:
    """The child of :func:`run_segment`: arguments pickled on stdin, the result in the run's scores.csv."""
    configure_process()  # before the segment's TensorFlow loads (a remote worker's env may lack the study's)
    setting, seed, options, label, parent = pickle.loads(sys.stdin.buffer.read())
    with contextlib.suppress(OSError, AttributeError):  # Linux: SIGKILL when the worker dies
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the worker died before prctl
        sys.exit(1)
    compare.compare_run(setting, seed, options, label=label, segments=1)


class PinDevice(WorkerPlugin):
    """Pins a LocalCluster worker (by name: a restarted one keeps it) to its GPU before TensorFlow starts."""

    name = "wganbench-pin-device"

    def __init__(self, devices: dict[Any, str | None]) -> None:
        self.devices = devices

    def setup(self, worker: Any) -> None:
        if worker.name in self.devices:
            os.environ["CUDA_VISIBLE_DEVICES"] = self.devices[worker.name] or ""


if __name__ == "__main__":
    _segment_process()
