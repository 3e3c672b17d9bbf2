"""`wganbench report bench`: pytest-benchmark JSON → per-group tables with speed-ups and overheads."""

from __future__ import annotations

import json

import pytest

from studies.report.bench import bench_frame, write_bench_report
from wgan.errors import WganbenchError


def _bench(name: str, group: str, median_s: float, **info) -> dict:
    return {"name": name, "group": group, "stats": {"median": median_s, "iqr": median_s / 10, "rounds": 5},
            "extra_info": info}


BENCH_JSON = {
    "machine_info": {"cpu": {"brand_raw": "Test CPU", "count": 2}, "tensorflow": "2.21.0", "keras": "3.15.1"},
    "benchmarks": [
        _bench("test_train_step[wgan-seed-b256-notebook]", "train_step", 2.0, setting="wgan-seed",
               variant="notebook", batch=256, images_per_s=128.0),
        _bench("test_train_step[wgan-seed-b256-compiled]", "train_step", 1.0, setting="wgan-seed",
               variant="compiled", batch=256, images_per_s=256.0, speedup_paired=1.9),
        _bench("test_train_step[gan-b64-compiled]", "train_step", 0.4, setting="gan", variant="compiled",
               batch=64, images_per_s=160.0),
        _bench("test_clip_call[fused]", "clipping", 0.002, lipschitz="fused", overhead_pct=0.5, reference_ms=400.0),
    ],
}


def test_speedup_is_images_per_s_over_the_notebook_step_at_the_same_batch() -> None:
    frame = bench_frame(BENCH_JSON).set_index("name")
    assert frame.loc["train_step[wgan-seed-b256-compiled]", "speedup_vs_notebook"] == pytest.approx(2.0)
    assert frame.loc["train_step[wgan-seed-b256-notebook]", "speedup_vs_notebook"] == pytest.approx(1.0)
    assert frame["speedup_vs_notebook"].isna()["train_step[gan-b64-compiled]"]  # no notebook row at batch 64
    assert frame.loc["train_step[wgan-seed-b256-compiled]", "median_ms"] == pytest.approx(1000.0)
    assert frame.loc["clip_call[fused]", "overhead_pct"] == pytest.approx(0.5)


def test_report_files_hold_one_table_per_group(tmp_path) -> None:
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(BENCH_JSON))
    md, csv = write_bench_report(path, tmp_path / "out")
    text = md.read_text()
    assert "## train_step" in text and "## clipping" in text and "Test CPU" in text
    assert "speedup_paired" in text and "reference_ms" in text
    assert len(csv.read_text().splitlines()) == 1 + len(BENCH_JSON["benchmarks"])


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such benchmark JSON"), ("{not json", "not valid JSON"),
    ('{"benchmarks": []}', "no 'benchmarks' list"), ("[1, 2]", "not a pytest-benchmark JSON file"),
    ('{"benchmarks": [{"name": "x"}]}', "benchmark 0 has no name or no stats"),
])
def test_bad_input_is_one_clear_error(tmp_path, content, message) -> None:
    path = tmp_path / "bench.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(WganbenchError, match=message):
        write_bench_report(path, tmp_path)
