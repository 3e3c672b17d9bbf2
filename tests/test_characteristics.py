"""`python -m studies.gate.characteristics`: the candidates it plans, and end to end on a tiny baseline entry
(4 steps, width 8, batch 16, 1,000 samples: KID's subset size): one CSV row per candidate, no baseline seed
reused, the md's exact intervals scipy's, a rerun that trains nothing, a lost run trained again in a child
process to the same scores, and a later session with no runs of its own continuing from the committed records."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from studies.gate import baseline as bl
from studies.gate import characteristics as ch
from studies.gate import operating, records
from studies.gate import plans as pl
from studies.gate.limits import thresholds
from wgan.machine import cpuinfo

ROOT = Path(__file__).resolve().parents[1]
RECIPE = {"setting": "gan", "dataset": "mnist", "steps": 4, "width": 8, "batch_size": 16, "mixed_precision": None,
          "jit_compile": False, "ema_decay": None, "digits": None, "n": 1000, "eval_seed": 0, "generator": "raw"}
SEEDS = [0, 1, 2]


def tiny_entry(classifier_hash: str, environment: dict | None = None) -> dict:
    return {"recipe": RECIPE, "seeds": SEEDS, "classifier_hash": classifier_hash, "environment": environment or {},
            "scores": {"fid": bl.spread([300.0, 320.0, 340.0]), "kl_uniform": bl.spread([0.5, 0.6, 0.7]),
                       "is_mean": bl.spread([2.0, 2.1, 2.2])}}


def test_the_plan_is_fresh_seeds_then_each_regression() -> None:
    entry = bl.baseline_entry({"settings": {"gan": tiny_entry("h")}}, "gan", "quality.json")
    plans = pl.plans("gan", entry, fresh=3, regression_seeds=2)
    assert [(p.kind, p.seed) for p in plans[:3]] == [("fresh", 3), ("fresh", 4), ("fresh", 5)]
    assert {p.seed for p in plans}.isdisjoint(SEEDS)
    by_kind = {p.kind: p for p in plans}
    assert list(by_kind) == ["fresh", *ch.REGRESSIONS] and len(plans) == 3 + 2 * len(ch.REGRESSIONS)
    assert by_kind["fresh"].setting == "gan" and by_kind["fresh"].train["steps"] == 4
    assert by_kind["quarter-steps"].train["steps"] == 1
    assert by_kind["critic-lr-x10"].setting == "gan[d_lr=0.001]"
    assert by_kind["no-g-batchnorm"].setting == "gan[g_batchnorm=false]"
    assert by_kind["digits-0-6"].train["digits"] == [0, 1, 2, 3, 4, 5, 6]
    assert all((p.n, p.eval_seed, p.generator) == (1000, 0, "raw") for p in plans)
    # A setting named with fields keeps them, in one bracket.
    assert pl.with_changes("gan[width=8]", {"d_lr": 0.001}) == "gan[d_lr=0.001,width=8]"


def test_rates_carry_the_exact_interval() -> None:
    rows = pd.DataFrame([{"setting": "gan", "kind": "fresh", "seed": s, "verdict": v}
                         for s, v in zip(range(3, 23), ["REGRESSION"] + ["pass"] * 19)])
    (rate,) = operating.rates(rows).itertuples()
    ci = stats.binomtest(1, 20).proportion_ci(confidence_level=0.95, method="exact")
    assert (rate.flagged, rate.total, rate.seeds) == (1, 20, "3–22")
    assert (rate.low, rate.high) == pytest.approx((ci.low, ci.high), abs=0)


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studies.gate.characteristics", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_end_to_end_on_a_tiny_entry_and_a_rerun_trains_nothing(tmp_path: Path) -> None:
    baseline = tmp_path / "quality.json"
    baseline.write_text(json.dumps({"format": bl.FORMAT, "settings": {
        "gan": tiny_entry(bl.current_classifier_hash(), bl.environment())}}))
    args = ["--baseline", str(baseline), "--fresh", "2", "--regression-seeds", "1", "--threads", "1", "--workers", "1",
            "--runs-dir", str(tmp_path / "runs")]  # --threads in the tool's own process: set before TensorFlow starts
    done = run_tool(*args)
    assert done.returncode == 0, done.stderr[-3000:]
    progress = [line for line in done.stdout.splitlines() if line.startswith("characteristics: [")]
    assert len(progress) == 6 and all("min left" in line for line in progress), done.stdout

    rows = pd.read_csv(tmp_path / operating.CSV_FILE, keep_default_na=False)
    assert list(rows["kind"]) == ["fresh", "fresh", *ch.REGRESSIONS]
    assert list(rows["seed"]) == [3, 4, 3, 3, 3, 3] and not set(rows["seed"]) & set(SEEDS)
    assert list(rows["steps"]) == [4, 4, 1, 4, 4, 4] and set(rows["setting"]) == {"gan"}
    assert set(rows["verdict"]) <= {"pass", "REGRESSION", "diverged"}
    assert {"fid", "kl_uniform", "failed", "changed"} <= set(rows.columns) and "is_mean" not in rows.columns
    changed = dict(zip(rows["kind"], rows["changed"]))
    assert changed["fresh"] == "" and changed["quarter-steps"] == "steps 4→1"
    assert changed["critic-lr-x10"] == "setting gan→gan[d_lr=0.001]"
    assert changed["digits-0-6"] == "digits None→[0, 1, 2, 3, 4, 5, 6]"

    md = (tmp_path / operating.MD_FILE).read_text()
    assert "## `gan`" in md and cpuinfo().label in md
    for kind, group in rows.groupby("kind"):
        flagged, total = int((group["verdict"] != "pass").sum()), len(group)
        ci = stats.binomtest(flagged, total).proportion_ci(confidence_level=0.95, method="exact")
        assert f"| {flagged} of {total} | {flagged / total:.1%} | {ci.low:.1%}–{ci.high:.1%} |" in md, (kind, md)

    run_records = sorted((tmp_path / "runs").rglob(records.RECORD_FILE))
    assert len(run_records) == 6
    before = {p: p.stat().st_mtime_ns for p in run_records}
    again = run_tool(*args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "6 candidates, 6 already scored" in again.stdout and "training 0" in again.stdout
    assert "characteristics: [" not in again.stdout
    assert {p: p.stat().st_mtime_ns for p in run_records} == before
    assert pd.read_csv(tmp_path / operating.CSV_FILE, keep_default_na=False).equals(rows)

    # A candidate lost (a tool killed while scoring it) trains again, in a child process of its own (--workers
    # 2), to the same scores as in the tool's process (op determinism: where a run trains moves no number).
    (tmp_path / "runs" / "gan" / "fresh" / "s4" / records.RECORD_FILE).unlink()
    kept = json.loads((tmp_path / records.RECORDS_FILE).read_text())
    assert [r["plan"]["seed"] for r in kept] == list(rows["seed"]) and {r["cpu"] for r in kept} == {cpuinfo().label}
    (tmp_path / records.RECORDS_FILE).write_text(json.dumps([r for r in kept if r["plan"]["seed"] != 4]))
    # --no-train writes the five scored, saying the table is in progress, and trains none.
    held = run_tool(*args, "--no-train")
    assert held.returncode == 0 and "training 0" in held.stdout, held.stderr[-3000:]
    partial = pd.read_csv(tmp_path / operating.CSV_FILE, keep_default_na=False)
    assert partial.equals(rows.drop(index=1).reset_index(drop=True))
    assert "In progress: 5 of its 6 planned candidates" in (tmp_path / operating.MD_FILE).read_text()
    parallel = run_tool(*args[:-4], "--workers", "2", *args[-2:])
    assert parallel.returncode == 0, parallel.stderr[-3000:]
    assert "5 already scored" in parallel.stdout and "training 1 with 2 worker(s)" in parallel.stdout
    assert pd.read_csv(tmp_path / operating.CSV_FILE, keep_default_na=False).equals(rows)

    # A later session on another machine: no runs of its own, the committed records hold every candidate.
    elsewhere = run_tool(*args[:-1], str(tmp_path / "other-runs"))
    assert elsewhere.returncode == 0, elsewhere.stderr[-3000:]
    assert "6 already scored" in elsewhere.stdout and "training 0" in elsewhere.stdout
    assert pd.read_csv(tmp_path / operating.CSV_FILE, keep_default_na=False).equals(rows)
    assert not (tmp_path / "other-runs").exists()


def test_an_entry_with_no_candidate_scored_says_so() -> None:
    entries = {key: tiny_entry("h") for key in ("gan", "wgan")}
    rows = pd.DataFrame([{"setting": "gan", "kind": "fresh", "seed": s, "verdict": "pass", "fid": fid,
                          "kl_uniform": kl} for s, fid, kl in ((3, 310.0, 0.55), (4, 305.5, 0.65))])
    md = operating.markdown(rows, entries, {"fresh": "fresh seeds"}, command="c", cpu="x", date="d",
                            planned={"gan": 6, "wgan": 6})
    assert "In progress: 2 of its 6 planned candidates" in md
    assert md.index("## `gan`") < md.index("## `wgan`")
    assert "none of its 6 planned candidates is scored" in md.split("## `wgan`")[1]
    assert "| 0 of 2 | 0.0% |" in md and "| fid 305.5–310; kl_uniform 0.55–0.65 |" in md  # each gated value's range


def test_an_entry_of_several_seeds_plans_and_judges_whole_candidates() -> None:
    """An entry that gates the mean of 2 fresh seeds: counts round up to whole candidates, the candidates are
    consecutive seeds (a candidate still missing a seed is left out), and each is judged on the pooled values
    against the limits for a mean of 2 (tighter than one seed's)."""
    entry = bl.baseline_entry({"settings": {"gan": {**tiny_entry("h"), "candidates": 2}}}, "gan", "quality.json")
    plans = pl.plans("gan", entry, fresh=3, regression_seeds=1)
    assert [p.seed for p in plans if p.kind == "fresh"] == [3, 4, 5, 6]
    assert all([p.seed for p in plans if p.kind == kind] == [3, 4] for kind in ch.REGRESSIONS)
    fid = {3: 330.0, 4: 370.0, 5: 300.0, 6: 310.0}
    held = {p.key: {"plan": p.as_json(), "recipe": dict(entry["recipe"]), "steps": 4, "cpu": "x",
                    "scores": {"fid": fid[p.seed], "kl_uniform": 0.6, "is_mean": 2.0}}
            for p in plans if p.kind == "fresh" or p.seed == 3}
    groups = pl.candidates([p for p in plans if p.key in held], {"gan": entry})
    assert [[p.seed for p in g] for g in groups] == [[3, 4], [5, 6]]  # each regression holds seed 3 alone: no row
    # The blocks are the plan's: seeds 4 and 5 are no candidate when 3 and 6 are missing.
    assert pl.candidates([p for p in plans if p.kind == "fresh" and p.seed in (4, 5)], {"gan": entry}) == []
    first = pl.judge(groups[0], held, entry)
    assert first["seeds"] == "3;4" and first["fid"] == pytest.approx(stats.gmean([330.0, 370.0]), rel=1e-12)
    limits = {k: t.limit for k, t in thresholds(entry["scores"], candidates=2).items()}
    assert limits["fid"] < thresholds(entry["scores"])["fid"].limit
    assert first["verdict"] == ("pass" if first["fid"] <= limits["fid"] else "REGRESSION")


def test_measuring_one_entry_keeps_every_entrys_rows_and_records(tmp_path: Path) -> None:
    """`--setting` chooses what trains; the tables still hold every entry's scored candidates (at the default
    counts, whatever --fresh says for the measured one), and no committed record is dropped."""
    entries = {"gan": tiny_entry("h"), "wgan": {**tiny_entry("h"), "recipe": {**RECIPE, "setting": "wgan"}}}
    scores = {"fid": 310.0, "kl_uniform": 0.6, "is_mean": 2.0}
    held = [{"plan": p.as_json(), "recipe": dict(entries[p.entry]["recipe"]), "steps": 4,
             "scores": scores, "cpu": "x"} for key in entries
            for p in pl.plans(key, entries[key], ch.DEFAULTS.fresh, ch.DEFAULTS.regression_seeds)
            if p.kind == "fresh" and p.seed < 3 + 12]  # 12 of each entry's 20 fresh seeds
    (tmp_path / records.RECORDS_FILE).write_text(json.dumps(held))
    options = ch.CharacteristicsOptions(setting="wgan", fresh=4, no_train=True, runs_dir=str(tmp_path / "runs"))
    rows, kept, planned = ch.measure(options, entries, tmp_path)
    assert planned == {"gan": 20 + 3 * len(ch.REGRESSIONS), "wgan": 4 + 3 * len(ch.REGRESSIONS)}
    assert sum(r["setting"] == "gan" for r in rows) == 12 and sum(r["setting"] == "wgan" for r in rows) == 4
    assert len(kept) == len(held)  # the wgan records past its 4 planned seeds stay committed
