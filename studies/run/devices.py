"""Where a study's workers run: this machine's cores and GPUs, and the workers and threads they get.

Measured defaults (docs/DESIGN.md §6 Executors); the executor (:mod:`studies.run.executor`) asks here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from wgan import checks

# Workers per core when nobody says: one run per core, one TensorFlow thread each. Measured on the 2-core
# development machine, steps/s summed over runs, width 16: two runs × 1 thread against one run × 2 threads
# gave 1.37× for gan and 1.03× for wgan-gp (issue 16's table), and a study on a seconds budget runs its
# runs' budgets side by side, halving its wall-clock (results/bench.md, group `study`).
WORKERS_PER_CORE = 1.0
# The notebook's model, trained where it is affordable (a GPU): width 64 at batch 256.
GPU_WIDTH, GPU_BATCH_SIZE = 64, 256
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


def gpus() -> list[str]:
    """Visible GPUs, without importing TensorFlow (seconds) where no NVIDIA driver is loaded."""
    cuda = os.environ.get("CUDA_VISIBLE_DEVICES", "0") not in ("", "-1") and os.path.exists("/dev/nvidiactl")
    return visible_gpus() if cuda or "tensorflow" in sys.modules else []


class PinDevice(WorkerPlugin):
    """Pins a LocalCluster worker (by name: a restarted one keeps it) to its GPU before TensorFlow starts."""

    name = "wganbench-pin-device"

    def __init__(self, devices: dict[Any, str | None]) -> None:
        self.devices = devices

    def setup(self, worker: Any) -> None:
        if worker.name in self.devices:
            os.environ["CUDA_VISIBLE_DEVICES"] = self.devices[worker.name] or ""
