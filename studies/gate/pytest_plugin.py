"""The quality gate as a pytest fixture, for a project that gates its model from its own test suite.

    def test_sample_quality(wganbench_gate):
        wganbench_gate("runs/wgan-gp-s0", setting="wgan-gp")  # a run directory, its generator.keras, a scores JSON
        wganbench_gate(["runs/s28", "runs/s29", "runs/s30", "runs/s31"])  # fresh seeds, gated by their mean

The fixture's function takes the candidate and the keywords of `wganbench gate`'s flags (``setting``,
``baseline``, ``n``, ``seed``, ``generator``, ``allow_changed``, ``allow_baseline_seed``, ``false_alarm``,
``confidence``, ``dataset``) and returns the verdict.
A regression fails the test with the gate's table. A candidate the gate cannot judge (another recipe,
no baseline entry, an unreadable run: the command's exit 2) is an *error*, not a failure: nothing was
learned about the model, as when a fixture breaks, so pytest counts it under "errors".

Registered as the ``pytest11`` entry point ``wganbench`` (``-p no:wganbench`` turns it off). Loading it
changes nothing; the fixture configures the process (`wgan.configure_process`) when a test asks for it.
TensorFlow's oneDNN setting is part of the classifier's key, so a test session that imports TensorFlow
before the fixture runs must set ``TF_ENABLE_ONEDNN_OPTS=1`` itself, or the gate reports another classifier.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from studies.gate import output as gate_output
from studies.gate.gate import GateOptions, evaluate_candidate
from studies.gate.limits import CONFIDENCE, FALSE_ALARM
from wgan.console import configure_process
from wgan.errors import WganbenchError

ERROR_MARK = "wganbench_gate_error"


class GateNotRun(Exception):
    """The gate could not judge the candidate (the command's exit 2); reported as a test error."""


Gate = Callable[..., gate_output.Verdict]


@pytest.fixture
def wganbench_gate() -> Gate:
    """Gate a candidate against the committed quality baseline: fails on a regression, errors when it cannot."""
    configure_process()

    def check(candidate: str | os.PathLike | Sequence[str | os.PathLike], *, setting: str | None = None,
              baseline: str | os.PathLike | None = None,
              n: int | None = None, seed: int | None = None, generator: str | None = None,
              allow_changed: Sequence[str] = (), allow_baseline_seed: bool = False, false_alarm: float = FALSE_ALARM,
              confidence: float = CONFIDENCE, dataset: str | None = None) -> gate_output.Verdict:
        try:
            options = GateOptions(baseline=None if baseline is None else str(Path(baseline)), setting=setting, n=n,
                                  seed=seed, generator=generator, allow_changed=tuple(allow_changed),
                                  allow_baseline_seed=allow_baseline_seed, false_alarm=float(false_alarm),
                                  confidence=float(confidence), dataset=dataset)
            paths = [candidate] if isinstance(candidate, (str, os.PathLike)) else list(candidate)
            verdict = evaluate_candidate([str(p) for p in paths], options)
        except (WganbenchError, OSError) as err:
            raise GateNotRun(f"wganbench gate could not judge {candidate}: {err}") from None
        if not verdict.ok:
            pytest.fail(gate_output.to_text(verdict), pytrace=False)
        return verdict

    return check


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(GateNotRun):
        setattr(report, ERROR_MARK, True)
        report.longrepr = str(call.excinfo.value)  # the gate's one line, not a traceback through the plugin
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    if getattr(report, ERROR_MARK, False):
        return "error", "E", "ERROR"
    return None
