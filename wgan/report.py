"""`wganbench report bench BENCH.json`: pytest-benchmark JSON → pandas tables under results/.

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

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
NOTEBOOK_VARIANT = "notebook"
# extra_info keys written by bench/ that become report columns, in this order.
# speedup_paired: images/s over the notebook step timed alternately in the same rounds (train_step);
# reference_ms: the unclipped step the overhead is relative to (clipping); the quality group's
# steps, gate verdict and FID; goal_s: the evaluators' time goal.
INFO_COLUMNS = ["setting", "variant", "lipschitz", "batch", "precision", "images_per_s", "speedup_paired",
                "overhead_pct", "reference_ms", "steps", "score_fid", "score_modes_covered", "gate", "n", "generator_width",
                "goal_s"]


def bench_frame(bench_json: dict) -> pd.DataFrame:
    """One row per benchmark: group, name, median/IQR in ms, rounds, and the extra_info columns."""
    benchmarks = bench_json.get("benchmarks")
    if not benchmarks:
        raise WganbenchError("benchmark JSON holds no benchmarks; run `pytest bench/ --benchmark-only "
                             "--benchmark-json FILE` first")
    rows = []
    for b in benchmarks:
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


def render(frame: pd.DataFrame, machine: dict) -> str:
    """Markdown: a header naming the machine, then one table per group with the empty columns dropped."""
    lines = ["# wganbench benchmark report", "",
             f"Machine: {machine.get('cpu', {}).get('brand_raw', machine.get('processor', '?'))}, "
             f"{machine.get('cpu', {}).get('count', '?')} CPUs; TensorFlow {machine.get('tensorflow', '?')}, "
             f"Keras {machine.get('keras', '?')}, oneDNN kernels "
             f"{_ONEDNN_STATE.get(str(machine.get('tf_enable_onednn_opts')).lower(), 'at their default')}. "
             "Times in ms (median, IQR); images/s = real images "
             "consumed by the critic per second.", ""]
    for group, table in frame.groupby("group", sort=False):
        table = table.drop(columns="group").dropna(axis=1, how="all")
        lines += [f"## {group}", "", table.to_markdown(index=False, floatfmt=".3g"), ""]
    return "\n".join(lines)


def write_bench_report(bench_path: str | os.PathLike, out_dir: str | os.PathLike = RESULTS_DIR) -> list[Path]:
    try:
        bench_json = json.loads(Path(bench_path).read_text())
    except FileNotFoundError:
        raise WganbenchError(f"{bench_path}: no such benchmark JSON") from None
    except json.JSONDecodeError as err:
        raise WganbenchError(f"{bench_path}: not valid JSON ({err})") from None
    frame = bench_frame(bench_json)
    out_dir = Path(out_dir)
    return [io.write_text(out_dir / "bench.md", render(frame, bench_json.get("machine_info", {}))),
            io.write_text(out_dir / "bench.csv", frame.to_csv(index=False))]


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="what", metavar="WHAT", required=True)
    bench = sub.add_parser("bench", help="tables from pytest-benchmark's JSON (bench.md, bench.csv)")
    bench.add_argument("bench_json", help="the file written by `pytest bench/ --benchmark-json FILE`")
    bench.add_argument("--out-dir", default=str(RESULTS_DIR), help="where to write (default: %(default)s)")


def run(args) -> int:
    for path in write_bench_report(args.bench_json, args.out_dir):
        print(f"wrote {path}")
    return 0
