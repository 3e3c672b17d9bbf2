"""`wganbench gate` end to end: recording a baseline, and one exit code per outcome (0 pass, 1 regression,
2 anything else, with one line on stderr), the recipe and seed checks, and the JSON and JUnit outputs.

Run directories here are fakes (config.json, summary.json and the scores their evaluation returns), so the
gate's logic runs without training; one test crashes the real evaluation instead.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import evaluators
from studies.cli.app import main
from studies.gate import baseline as bl
from studies.gate import candidate as cand
from studies.gate import gate

HASH = "classifier-hash-A"
ENV = {"tensorflow": "2.21.0", "keras": "3.15.1", "python": "3.11.0", "cpu": "test CPU", "gpu": [], "onednn": "1"}
SCORES = [{"fid": 150.0, "is_mean": 6.0, "modes_covered": 10, "kl_uniform": 0.10, "kid_mean": 0.10, "precision": 0.70,
           "recall": 0.30, "coverage": 0.50, "n": 10000},
          {"fid": 160.0, "is_mean": 6.2, "modes_covered": 10, "kl_uniform": 0.12, "kid_mean": 0.12, "precision": 0.72,
           "recall": 0.31, "coverage": 0.52, "n": 10000},
          {"fid": 170.0, "is_mean": 6.4, "modes_covered": 10, "kl_uniform": 0.14, "kid_mean": 0.14, "precision": 0.74,
           "recall": 0.32, "coverage": 0.54, "n": 10000}]
WORSE = {**SCORES[1], "fid": 600.0}  # past the FID limit of these three seeds (451), everything else as seed 1
SCORED_WITH: list[str] = []  # the generator file each fake scoring was asked for


@pytest.fixture(autouse=True)
def fake_scoring(monkeypatch):
    """The classifier hash, the environment and each run's scores (its scores.json) without TensorFlow."""
    monkeypatch.setattr(bl, "current_classifier_hash", lambda: HASH)
    monkeypatch.setattr(bl, "environment", lambda: dict(ENV))

    def score(candidate, *, n, eval_seed):
        run = candidate.path if candidate.path.is_dir() else candidate.path.parent
        SCORED_WITH.append(candidate.recipe["generator"])
        return json.loads((run / "scores.json").read_text())

    monkeypatch.setattr(gate, "score", score)


def make_run(folder: Path, seed: int, scores: dict, *, setting: str = "gan", steps: int = 100, width: int = 16,
             batch: int = 64, dataset: str | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({
        "setting": {"name": setting, "width": width, "batch_size": batch}, "seed": seed, "steps": steps,
        "mixed_precision": None, "jit_compile": False, **({"dataset": dataset} if dataset else {})}))
    (folder / "summary.json").write_text(json.dumps({"steps": steps, "wall_seconds": 12.5, "status": "complete"}))
    (folder / "scores.json").write_text(json.dumps(scores))
    return folder


@pytest.fixture()
def baseline(tmp_path: Path) -> Path:
    """A baseline of three seeds of gan, recorded through the CLI."""
    for seed, scores in enumerate(SCORES):
        make_run(tmp_path / "runs" / f"s{seed}", seed, scores)
    path = tmp_path / "quality.json"
    assert main(["gate", str(tmp_path / "runs"), "--baseline", str(path), "--update-baseline"]) == gate.EXIT_PASS
    return path


def run_gate(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["gate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wganbench gate: error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_recorded_baseline_holds_spread_recipe_and_environment(baseline: Path):
    entry = json.loads(baseline.read_text())["settings"]["gan"]
    assert entry["seeds"] == [0, 1, 2]
    assert entry["recipe"] == {"setting": "gan", "dataset": "mnist", "steps": 100, "width": 16, "batch_size": 64,
                               "mixed_precision": None, "ema_decay": None, "digits": None,
                               "jit_compile": False, "n": 10000, "eval_seed": 0, "generator": "raw"}
    assert set(entry["recipe"]) == set(cand.RECIPE_KEYS)  # every gated option, as its field's roles say
    assert entry["scores"]["fid"] == {"mean": 160.0, "std": 10.0, "values": [150.0, 160.0, 170.0]}
    assert "n" not in entry["scores"]
    assert entry["classifier_hash"] == HASH and entry["environment"] == ENV
    assert entry["train_seconds"] == [12.5] * 3


def test_stacked_mnist_runs_have_their_own_entry(baseline: Path, tmp_path: Path, capsys):
    """A Stacked MNIST baseline is kept beside MNIST's (``gan@stacked-mnist``); each candidate meets its own."""
    stacked = [{**s, "stacked_modes": m, "stacked_kl": kl}
               for s, m, kl in zip(SCORES, (700, 720, 710), (0.5, 0.6, 0.55))]
    for seed, scores in enumerate(stacked):
        make_run(tmp_path / "stacked" / f"s{seed}", seed, scores, dataset="stacked-mnist")
    assert main(["gate", str(tmp_path / "stacked"), "--baseline", str(baseline), "--update-baseline"]) == 0
    entries = json.loads(baseline.read_text())["settings"]
    assert set(entries) == {"gan", "gan@stacked-mnist"}
    assert entries["gan@stacked-mnist"]["recipe"]["dataset"] == "stacked-mnist"
    assert entries["gan@stacked-mnist"]["scores"]["stacked_modes"]["values"] == [700, 720, 710]
    good = make_run(tmp_path / "good", 5, stacked[1], dataset="stacked-mnist")
    assert run_gate(capsys, str(good), "--baseline", str(baseline))[0] == gate.EXIT_PASS
    # A collapse onto far fewer of the 1,000 modes than the seeds' spread allows is a regression (KL 5 of log 1000).
    collapsed = make_run(tmp_path / "collapsed", 6, {**stacked[1], "stacked_modes": 300, "stacked_kl": 5.0},
                         dataset="stacked-mnist")
    code, out, _ = run_gate(capsys, str(collapsed), "--baseline", str(baseline), "--json")
    assert code == gate.EXIT_REGRESSION and json.loads(out)["failed"] == ["stacked_kl"]
    # over 3 seeds the class KL's tolerance limit (k = 21) passes its maximum log 10: reported, not gated
    assert json.loads(out)["gated"] == ["fid", "stacked_kl"]
    code, _, err = run_gate(capsys, str(good), "--baseline", str(baseline), "--dataset", "mnist")
    assert code == 2
    assert_one_error_line(err, "stacked-mnist", "--dataset mnist")


def test_pass_on_another_seed_with_the_other_scores_reported(baseline: Path, tmp_path: Path, capsys):
    other = make_run(tmp_path / "s7", 7, {**SCORES[1], "fid": 175.0, "recall": 0.0, "is_mean": 1.0})
    code, out, err = run_gate(capsys, str(other), "--baseline", str(baseline))
    assert code == gate.EXIT_PASS and "PASS" in out and "| fid" in out and err == ""
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert "| pass" in rows["kl_uniform"] and "| info" in rows["recall"] and "| info" in rows["is_mean"]


def test_a_baseline_seed_is_refused_unless_reproducing_on_purpose(baseline: Path, tmp_path: Path, capsys):
    """A rerun of one of the baseline's own seeds is no fresh draw: exit 2 with the reason; with
    --allow-baseline-seed it is gated (a reproduction check) and warned about."""
    rerun = make_run(tmp_path / "rerun", 0, SCORES[0])
    code, out, err = run_gate(capsys, str(rerun), "--baseline", str(baseline))
    assert code == gate.EXIT_USAGE and out == ""
    assert_one_error_line(err, "seed 0", "seeds (0–2)", "fresh", "--allow-baseline-seed")
    code, out, err = run_gate(capsys, str(rerun), "--baseline", str(baseline), "--allow-baseline-seed")
    assert code == gate.EXIT_PASS and "PASS" in out and "warning: seed 0 is one of the baseline's seeds" in err


def test_an_unknown_seed_is_warned_about_not_refused(baseline: Path, tmp_path: Path, capsys):
    entry = json.loads(baseline.read_text())["settings"]["gan"]
    doc = {"setting": "gan", "recipe": entry["recipe"], "classifier_hash": HASH, "scores": SCORES[0]}  # no seed
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps(doc))
    code, _, err = run_gate(capsys, str(scores), "--baseline", str(baseline))
    assert code == gate.EXIT_PASS and "names no training seed: cannot check" in err
    old = json.loads(baseline.read_text())
    del old["settings"]["gan"]["seeds"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    rerun = make_run(tmp_path / "s0", 0, SCORES[0])
    code, _, err = run_gate(capsys, str(rerun), "--baseline", str(tmp_path / "old.json"))
    assert code == gate.EXIT_PASS and "records no seeds: cannot check" in err


def test_the_generator_scored_is_part_of_the_recipe(baseline: Path, tmp_path: Path, capsys):
    """--generator ema scores generator_ema.keras; a baseline of EMA scores gates only EMA candidates."""
    code, _, err = run_gate(capsys, str(make_run(tmp_path / "c", 5, SCORES[0])), "--baseline", str(baseline),
                            "--generator", "ema")
    assert code == gate.EXIT_USAGE
    assert_one_error_line(err, "generator: baseline 'raw', candidate 'ema'")
    for seed, scores in enumerate(SCORES):
        make_run(tmp_path / "ema" / f"s{seed}", seed, scores)
    ema = tmp_path / "ema.json"
    SCORED_WITH.clear()
    assert run_gate(capsys, str(tmp_path / "ema"), "--baseline", str(ema), "--update-baseline",
                    "--generator", "ema")[0] == gate.EXIT_PASS
    assert json.loads(ema.read_text())["settings"]["gan"]["recipe"]["generator"] == "ema"
    assert run_gate(capsys, str(make_run(tmp_path / "e", 5, SCORES[1])), "--baseline", str(ema))[0] == gate.EXIT_PASS
    assert SCORED_WITH == ["ema"] * 4  # three recorded, then the candidate at the baseline recipe's generator


def test_regression_exits_1_with_the_table(baseline: Path, tmp_path: Path, capsys):
    worse = make_run(tmp_path / "worse", 3, WORSE)
    code, out, err = run_gate(capsys, str(worse), "--baseline", str(baseline))
    assert code == gate.EXIT_REGRESSION and "REGRESSION" in out and "FAIL" in out and err == ""


@pytest.mark.parametrize(("change", "args", "named"), [
    ({"steps": 25}, (), "steps"),
    ({"width": 32}, (), "width"),
    ({"batch": 128}, (), "batch_size"),
    ({}, ("--n", "5000"), "n:"),
    ({}, ("--seed", "3"), "eval_seed"),
    ({"setting": "wgan-gp"}, ("--setting", "gan"), "setting"),
])
def test_recipe_mismatch_exits_2_naming_it(baseline: Path, tmp_path: Path, capsys, change, args, named):
    run = make_run(tmp_path / "cand", 5, SCORES[0], **change)
    code, out, err = run_gate(capsys, str(run), "--baseline", str(baseline), *args)
    assert code == gate.EXIT_USAGE and out == ""
    assert_one_error_line(err, named, "recipe")


def test_classifier_mismatch_exits_2(baseline: Path, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setattr(bl, "current_classifier_hash", lambda: "classifier-hash-B")
    code, _, err = run_gate(capsys, str(make_run(tmp_path / "c", 5, SCORES[0])), "--baseline", str(baseline))
    assert code == gate.EXIT_USAGE
    assert_one_error_line(err, "classifier_hash")


def test_allowed_change_warns_and_gates(baseline: Path, tmp_path: Path, capsys):
    longer = make_run(tmp_path / "longer", 5, SCORES[0], steps=200)
    code, _, err = run_gate(capsys, str(longer), "--baseline", str(baseline), "--allow-changed", "steps")
    assert code == gate.EXIT_PASS and "warning: allowed change of steps" in err
    shorter = make_run(tmp_path / "shorter", 6, WORSE, steps=25)
    assert run_gate(capsys, str(shorter), "--baseline", str(baseline), "--allow-changed", "steps")[0] == 1


def test_environment_differences_only_warn(baseline: Path, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setattr(bl, "environment", lambda: {**ENV, "tensorflow": "2.99.0", "gpu": ["NVIDIA H100"]})
    code, _, err = run_gate(capsys, str(make_run(tmp_path / "c", 5, SCORES[0])), "--baseline", str(baseline))
    assert code == gate.EXIT_PASS and "tensorflow" in err and "gpu" in err and "warning" in err


@pytest.mark.parametrize(("content", "named"), [
    ("[]", "expected a baseline object"),
    ('{"settings": {}}', "holds no setting"),
    ('{"settings": {"gan": {"recipe": {}}}}', "has no 'scores'"),
    ("{not json", "not valid JSON"),
])
def test_bad_baseline_file_exits_2(tmp_path: Path, capsys, content, named):
    path = tmp_path / "quality.json"
    path.write_text(content)
    code, _, err = run_gate(capsys, str(make_run(tmp_path / "c", 0, SCORES[0])), "--baseline", str(path))
    assert code == gate.EXIT_USAGE
    assert_one_error_line(err, named)


def test_single_run_or_short_baselines_exit_2(baseline: Path, tmp_path: Path, capsys):
    doc = json.loads(baseline.read_text())
    entry = doc["settings"]["gan"]
    entry["scores"]["fid"] = {"mean": 160.0, "std": 10.0, "values": [150.0, 170.0]}
    short = tmp_path / "short.json"
    short.write_text(json.dumps(doc))
    code, _, err = run_gate(capsys, str(make_run(tmp_path / "c", 0, SCORES[0])), "--baseline", str(short))
    assert code == gate.EXIT_USAGE
    assert_one_error_line(err, "at least 3")
    entry["scores"] = {"fid": 160.0}  # the old format: one run's number, no spread
    short.write_text(json.dumps(doc))
    code, _, err = run_gate(capsys, str(tmp_path / "c"), "--baseline", str(short))
    assert code == gate.EXIT_USAGE
    assert_one_error_line(err, "per-seed 'values'")
    code, _, err = run_gate(capsys, str(tmp_path / "c"), "--baseline", str(tmp_path / "none.json"))
    assert code == gate.EXIT_USAGE
    assert_one_error_line(err, "no baseline")


def test_bad_candidates_exit_2(baseline: Path, tmp_path: Path, capsys):
    run = make_run(tmp_path / "corrupt", 0, SCORES[0])
    (run / "config.json").write_text('{"setting": {"name": "gan"')
    for path, named in [(tmp_path / "missing", "no such file"), (run, "config.json is not valid JSON")]:
        code, _, err = run_gate(capsys, str(path), "--baseline", str(baseline))
        assert code == gate.EXIT_USAGE
        assert_one_error_line(err, named)
    (run / "config.json").write_text('{"seed": 0}')
    code, _, err = run_gate(capsys, str(run), "--baseline", str(baseline))
    assert_one_error_line(err, "lacks")
    unfinished = make_run(tmp_path / "unfinished", 0, SCORES[0])
    (unfinished / "summary.json").unlink()
    code, _, err = run_gate(capsys, str(unfinished), "--baseline", str(baseline))
    assert code == gate.EXIT_USAGE
    assert_one_error_line(err, "summary.json")
    flat = tmp_path / "flat.json"  # a bare evaluate() row says nothing of its recipe or classifier
    flat.write_text(json.dumps(SCORES[0]))
    code, _, err = run_gate(capsys, str(flat), "--baseline", str(baseline), "--setting", "gan")
    assert code == gate.EXIT_USAGE
    assert_one_error_line(err, "steps", "classifier_hash")


def test_crash_inside_evaluation_exits_2(baseline: Path, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setattr(gate, "score", cand.score)  # the real scoring, around an evaluation that crashes

    def crash(*args, **kwargs):
        raise RuntimeError("CUDA_ERROR_OUT_OF_MEMORY: out of memory\nmore detail")

    monkeypatch.setattr(evaluators, "evaluate", crash)
    code, out, err = run_gate(capsys, str(make_run(tmp_path / "c", 5, SCORES[0])), "--baseline", str(baseline))
    assert code == gate.EXIT_USAGE and "PASS" not in out
    assert_one_error_line(err, "evaluation failed with RuntimeError", "out of memory")


def test_record_refuses_too_few_or_mixed_runs(tmp_path: Path, capsys):
    for seed in (0, 1):
        make_run(tmp_path / "two" / f"s{seed}", seed, SCORES[seed])
    code, _, err = run_gate(capsys, str(tmp_path / "two"), "--baseline", str(tmp_path / "q.json"),
                            "--update-baseline")
    assert code == gate.EXIT_USAGE
    assert_one_error_line(err, "at least 3")
    for seed in (0, 1, 2):
        make_run(tmp_path / "mixed" / f"s{seed}", seed, SCORES[seed], steps=100 + seed)
    code, _, err = run_gate(capsys, str(tmp_path / "mixed"), "--baseline", str(tmp_path / "q.json"),
                            "--update-baseline")
    assert_one_error_line(err, "differs", "steps")
    assert not (tmp_path / "q.json").exists()


def test_json_verdict_is_machine_readable_and_gateable(baseline: Path, tmp_path: Path, capsys):
    worse = make_run(tmp_path / "worse", 3, WORSE)
    code, out, _ = run_gate(capsys, str(worse), "--baseline", str(baseline), "--json")
    doc = json.loads(out)
    assert code == 1 and doc["verdict"] == "regression" and doc["exit_code"] == 1 and doc["failed"] == ["fid"]
    fid = next(row for row in doc["metrics"] if row["metric"] == "fid")
    assert fid["baseline"] == 160.0 and fid["seeds"] == 3 and fid["candidate"] == 600.0 and fid["limit"] < 600
    assert fid["scale"] == "log" and doc["gated"] == ["fid", "kl_uniform"] and doc["confidence"] == 0.95
    assert doc["recipe"]["steps"] == 100 and doc["classifier_hash"] == HASH
    saved = tmp_path / "verdict.json"
    saved.write_text(out)
    assert run_gate(capsys, str(saved), "--baseline", str(baseline))[0] == gate.EXIT_REGRESSION


def test_junit_xml_one_testcase_per_gated_value(baseline: Path, tmp_path: Path, capsys):
    report = tmp_path / "junit.xml"
    code, *_ = run_gate(capsys, str(make_run(tmp_path / "w", 3, WORSE)), "--baseline", str(baseline),
                        "--junit-xml", str(report))
    cases = ET.parse(report).getroot().findall("./testsuite/testcase")
    assert code == 1 and [c.get("name") for c in cases] == ["fid", "kl_uniform"]  # the reported ones have none
    assert {c.get("name") for c in cases if c.find("failure") is not None} == {"fid"}
    assert all(c.get("classname") == "quality.gan" for c in cases)
    code, *_ = run_gate(capsys, str(tmp_path / "missing"), "--baseline", str(baseline), "--junit-xml", str(report))
    suite = ET.parse(report).getroot().find("testsuite")
    assert code == 2 and suite.get("errors") == "1" and suite.find("testcase/error") is not None


def test_a_bug_in_the_gate_exits_2_not_1(baseline: Path, tmp_path: Path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("limit")

    monkeypatch.setattr(gate, "compare_scores", broken)
    code, _, err = run_gate(capsys, str(make_run(tmp_path / "c", 5, SCORES[0])), "--baseline", str(baseline))
    assert code == gate.EXIT_USAGE
    assert_one_error_line(err, "failed unexpectedly: KeyError")


def test_an_entry_of_several_seeds_gates_their_mean(tmp_path: Path, capsys):
    """An entry recorded with --candidates 2 gates the mean of 2 fresh seeds: one seed alone, a repeated seed, a
    baseline seed or a pooled verdict mixed with a run exit 2 with the reason; two fresh seeds are pooled (FID's
    geometric mean) against the limit for a mean of 2, and the saved verdict gates again alone to the same."""
    for seed, scores in enumerate(SCORES):
        make_run(tmp_path / "runs" / f"s{seed}", seed, scores)
    path = tmp_path / "quality.json"
    assert main(["gate", str(tmp_path / "runs"), "--baseline", str(path), "--update-baseline",
                 "--candidates", "2"]) == gate.EXIT_PASS
    assert json.loads(path.read_text())["settings"]["gan"]["candidates"] == 2
    a, b = (make_run(tmp_path / f"s{seed}", seed, {**SCORES[1], "fid": fid}) for seed, fid in ((5, 200.0), (6, 230.0)))
    code, _, err = run_gate(capsys, str(a), "--baseline", str(path))
    assert code == gate.EXIT_USAGE
    assert_one_error_line(err, "mean of 2 fresh seeds", "1 seed(s) were given")
    code, _, err = run_gate(capsys, str(a), str(a), "--baseline", str(path))
    assert code == gate.EXIT_USAGE
    assert_one_error_line(err, "repeat")
    for given in ([tmp_path / "runs" / "s0"], [a, tmp_path / "runs" / "s0"]):  # named first, however many seeds
        code, _, err = run_gate(capsys, *map(str, given), "--baseline", str(path))
        assert code == gate.EXIT_USAGE
        assert_one_error_line(err, "seed 0", "fresh")
    code, out, err = run_gate(capsys, str(a), str(b), "--baseline", str(path), "--json")
    verdict = json.loads(out)
    assert code == gate.EXIT_PASS and verdict["candidates"] == 2 and verdict["recipe"]["seeds"] == [5, 6]
    assert verdict["scores"]["fid"] == pytest.approx((200.0 * 230.0) ** 0.5, rel=1e-12)
    fid = next(row for row in verdict["metrics"] if row["metric"] == "fid")
    one = next(row for row in json.loads(run_gate(capsys, str(a), str(b), str(make_run(
        tmp_path / "s7", 7, SCORES[1])), "--baseline", str(path), "--json")[1])["metrics"] if row["metric"] == "fid")
    assert one["limit"] < fid["limit"]  # three seeds' mean: a tighter limit than two's
    saved = tmp_path / "verdict.json"
    saved.write_text(out)
    again = json.loads(run_gate(capsys, str(saved), "--baseline", str(path), "--json")[1])
    assert again["metrics"] == verdict["metrics"] and again["candidates"] == 2
    code, _, err = run_gate(capsys, str(saved), str(tmp_path / "s7"), "--baseline", str(path))
    assert code == gate.EXIT_USAGE
    assert_one_error_line(err, "gated alone")
    for seed in (8, 9):  # a folder of runs stands for its runs
        make_run(tmp_path / "worse" / f"s{seed}", seed, WORSE)
    code, out, _ = run_gate(capsys, str(tmp_path / "worse"), "--baseline", str(path), "--json")
    assert code == gate.EXIT_REGRESSION and json.loads(out)["recipe"]["seeds"] == [8, 9]
