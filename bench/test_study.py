"""Group `study`: a small study timed in this process and on a Dask LocalCluster, runs per hour and speed-up.

The study trains a fixed amount of work (a steps budget), so the two executors do the same training and
scoring and their times compare throughput: in this process the runs go one after another with
TensorFlow's own threads; on the cluster :func:`studies.run.devices.default_workers` workers train at once,
one thread each (the main job's default). The cluster's row records the speed-up over the in-process
row when both ran in this session, and each row its training share: the runs' training seconds over
workers × the study's wall time after the classifier is ready (study-cost.json). Each is one round: a study
is minutes, not microseconds.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from studies.run import compare, devices
from studies.run.study import run_study

# (settings, seeds, steps, points, n) per scale: the default study is 4 runs of fixed work.
STUDIES = {
    "quick": (("gan",), (0,), 2, 1, 1000),
    "default": (("gan", "wgan-gp"), (0, 1), 100, 1, 2000),
    "big": (("gan", "wgan-gp"), (0, 1, 2, 3), 300, 2, 5000),
}
SECONDS: dict[str, float] = {}  # executor → the study's wall-clock, for the speed-up


@pytest.mark.parametrize("where", ["in-process", "local-cluster"])
def test_study(benchmark, bench_scale, tmp_path, where):
    settings, seeds, steps, points, n = STUDIES[bench_scale.name]
    workers = 1 if where == "in-process" else max(2, devices.default_workers(devices.cores()))
    options = compare.CompareOptions(settings=settings, seeds=seeds, steps=steps, points=points, n=n, width=16,
                                     batch_size=64, workers=workers, runs_dir=str(tmp_path / "runs"), quiet=True)
    runs = len(settings) * len(seeds)

    def study() -> None:
        with contextlib.redirect_stdout(io.StringIO()):  # a line per segment; the benchmark table says enough
            run_study(options)

    benchmark.group = "study"
    benchmark.pedantic(study, rounds=1, iterations=1, warmup_rounds=0)
    frames = [compare.read_scores(compare.run_dir(options.run_root(), *run) / compare.SCORES_FILE)
              for run in [(s, seed) for seed in seeds for s in settings]]
    assert all(len(f) == len(compare.Budget(steps, None, points).targets()) for f in frames)
    assert all((f[compare.STATUS] == compare.STATUS_OK).all() for f in frames)
    if benchmark.disabled:
        return
    seconds = benchmark.stats.stats.median
    SECONDS[where] = seconds
    cost = json.loads((options.run_root() / compare.STUDY_COST_FILE).read_text())
    benchmark.extra_info.update({"runs": runs, "workers": workers, "steps": steps, "points": points,
                                 "runs_per_hour": round(runs * 3600 / seconds, 1),
                                 "training_share": cost["training_share"]})
    if where == "local-cluster" and "in-process" in SECONDS:
        benchmark.extra_info["speedup_vs_in_process"] = round(SECONDS["in-process"] / seconds, 3)
