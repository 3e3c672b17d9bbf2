"""The gate's pytest plugin, as another project uses it: a test file of its own, run by pytest in a fresh process.

The plugin is found through its ``pytest11`` entry point (the installed distribution's), not named here.
Candidates: a scores JSON of one committed baseline seed (it must pass), and a real 20-step wgan-gp run,
gated once at the baseline's recipe (a recipe mismatch: an error) and once with steps and n allowed to
differ (a regression: a failure with the gate's table).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studies.cli.app import main
from wgan.paths import SUITE_ROOT, wganbench_home

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

BASELINE = SUITE_ROOT / "results" / "baseline" / "quality.json"
CACHE = wganbench_home()  # read at import, before the pytester fixture points HOME at its folder
TINY_STEPS = 20
OUTSIDE = '''
def test_a_committed_seed_passes(wganbench_gate):
    verdict = wganbench_gate({seed!r})
    assert verdict.ok and verdict.setting == "wgan-gp"


def test_a_short_run_regresses(wganbench_gate):
    wganbench_gate({run!r}, allow_changed=["steps", "n"], n=2000)


def test_a_short_run_is_another_recipe(wganbench_gate):
    wganbench_gate({run!r})
'''


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """wgan-gp at the baseline's width and batch, trained 20 generator steps instead of 1,000, with a seed the
    baseline's runs do not have (a baseline seed is refused: no fresh draw)."""
    out = tmp_path_factory.mktemp("runs") / "wgan-gp-s9"
    assert main(["train", "wgan-gp", "--steps", str(TINY_STEPS), "--checkpoint-every", str(TINY_STEPS),
                 "--width", "16", "--batch-size", "64", "--seed", "9", "--out-dir", str(out), "--quiet"]) == 0
    return out


def test_the_fixture_passes_fails_and_errors_as_the_gate_exits(pytester: pytest.Pytester, short_run: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WGANBENCH_HOME", str(CACHE))  # pytester moved HOME; keep the cached MNIST and classifier
    entry = json.loads(BASELINE.read_text())["settings"]["wgan-gp"]
    seed = pytester.path / "seed0.json"
    seed.write_text(json.dumps({"setting": "wgan-gp", "recipe": entry["recipe"],
                                "classifier_hash": entry["classifier_hash"],
                                "scores": {key: spread["values"][0] for key, spread in entry["scores"].items()}}))
    pytester.makepyfile(test_quality=OUTSIDE.format(seed=str(seed), run=str(short_run)))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rfE")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(["*| fid *REGRESSION*", "*FAIL: sample quality regressed*"])
    result.stdout.fnmatch_lines(["*ERROR at call of test_a_short_run_is_another_recipe*",
                                 f"wganbench gate could not judge *steps: baseline 1000, candidate {TINY_STEPS}*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
