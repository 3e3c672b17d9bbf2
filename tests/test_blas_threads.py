"""A run's thread count reaches NumPy's BLAS: `wgan.trainer.set_threads` limits OpenBLAS as it pins
TensorFlow's pools (in a fresh process: TensorFlow's pools are set once per process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, numpy, threadpoolctl
before = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
from wgan.trainer import set_threads
set_threads(1)
after = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
print(json.dumps([before, after]))
"""


def test_set_threads_limits_blas_to_the_runs_threads() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "2"})
    assert done.returncode == 0, done.stderr[-2000:]
    before, after = json.loads(done.stdout.strip().splitlines()[-1])
    assert before and all(n == 2 for n in before)  # NumPy's OpenBLAS is seen, at the environment's 2
    assert after == [1] * len(before)
