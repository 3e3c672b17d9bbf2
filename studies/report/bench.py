"""The benchmark report: pytest-benchmark JSON → pandas tables (`wganbench report bench BENCH.json`).

Per group: median and IQR of each benchmark, images/s, the speed-up over the notebook's own step
(``extra_info['variant'] == 'notebook'`` at the same batch size), and clipping overhead in percent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from wgan import io
from wgan.errors import WganbenchError
from wgan.paths import results_dir

NOTEBOOK_VARIANT = "notebook"
# extra_info keys written by bench/ that become report columns, in this order.
# speedup_paired: images/s over the notebook step timed alternately in the same rounds (train_step);
# reference_ms: the unclipped step the overhead is relative to (clipping); the quality group's
# steps, gate verdict and FID; goal_s: the evaluators' time goal.
INFO_COLUMNS = ["setting", "variant", "clip_impl", "batch", "precision", "images_per_s", "gflop_per_image",
                "gflops", "pct_of_peak", "speedup_paired",
                "overhead_pct", "reference_ms", "steps", "score_fid", "score_modes_covered", "gate", "n",
                "generator_width", "goal_s"]


def bench_frame(bench_json: dict) -> pd.DataFrame:
    """One row per benchmark: group, name, median/IQR in ms, rounds, and the extra_info columns."""
    benchmarks = bench_json.get("benchmarks") if isinstance(bench_json, dict) else None
    if not benchmarks or not isinstance(benchmarks, list):
        raise WganbenchError("not a pytest-benchmark JSON file (no 'benchmarks' list); write one with "
                             "`pytest bench/ --benchmark-only --benchmark-json FILE`")
    rows = []
    for i, b in enumerate(benchmarks):
        stats = b.get("stats") if isinstance(b, dict) else None
        if not isinstance(stats, dict) or not {"median", "iqr", "rounds"} <= set(stats) or "name" not in b:
            raise WganbenchError(f"benchmark {i} has no name or no stats (median, iqr, rounds); not a "
                                 "pytest-benchmark JSON file")
        info = b.get("extra_info", {})
        row = {"group": b.get("group") or "(none)", "name": b["name"].removeprefix("test_"),
               "median_ms": b["stats"]["median"] * 1e3, "iqr_ms": b["stats"]["iqr"] * 1e3,
               "rounds": b["stats"]["rounds"]}
        row.update({k: info.get(k) for k in INFO_COLUMNS})
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.assign(speedup_vs_notebook=_speedups(frame))


def _speedups(frame: pd.DataFrame) -> pd.Series:
    """images/s over the notebook step's images/s at the same batch size (NaN where there is none)."""
    notebook = frame[frame["variant"] == NOTEBOOK_VARIANT].groupby("batch")["images_per_s"].first()
    return frame["images_per_s"] / frame["batch"].map(notebook)


# TF_ENABLE_ONEDNN_OPTS as the benchmark run recorded it (bench/conftest.py); unset means TF's default.
_ONEDNN_STATE = {"1": "on", "true": "on", "0": "off", "false": "off"}


def _peak(machine: dict) -> str:
    peak = machine.get("matmul_peak_gflops")
    return f"{peak:.0f} GFLOP/s" if isinstance(peak, (int, float)) else "not measured"


def render(frame: pd.DataFrame, machine: dict) -> str:
    """Markdown: a header naming the machine, then one table per group with the empty columns dropped."""
    lines = ["# wganbench benchmark report", "",
             f"Machine: {machine.get('cpu', {}).get('brand_raw', machine.get('processor', '?'))}, "
             f"{machine.get('cpu', {}).get('count', '?')} CPUs; TensorFlow {machine.get('tensorflow', '?')}, "
             f"Keras {machine.get('keras', '?')}, oneDNN kernels "
             f"{_ONEDNN_STATE.get(str(machine.get('tf_enable_onednn_opts')).lower(), 'at their default')}. "
             f"Float32 matrix-multiply rate {_peak(machine)}. Times in ms (median, IQR); images/s = real images "
             "consumed by the critic per second; gflops = the step's useful FLOPs per second, pct_of_peak = "
             "that over the matrix-multiply rate.", ""]
    for group, table in frame.groupby("group", sort=False):
        table = table.drop(columns="group").dropna(axis=1, how="all")
        lines += [f"## {group}", "", table.to_markdown(index=False, floatfmt=".3g"), ""]
    return "\n".join(lines)


def write_bench_report(bench_path: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> list[Path]:
    """results/bench.md and bench.csv from a pytest-benchmark JSON file."""
    try:
        bench_json = json.loads(Path(bench_path).read_text())
    except FileNotFoundError:
        raise WganbenchError(f"{bench_path}: no such benchmark JSON") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise WganbenchError(f"{bench_path}: not valid JSON ({err})") from None
    except IsADirectoryError:
        raise WganbenchError(f"{bench_path}: a folder, expected a benchmark JSON file") from None
    frame = bench_frame(bench_json)
    out_dir = Path(out_dir) if out_dir is not None else results_dir()
    return [io.write_text(out_dir / "bench.md", render(frame, bench_json.get("machine_info", {}))),
            io.write_text(out_dir / "bench.csv", frame.to_csv(index=False))]
