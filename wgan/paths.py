"""Where the suite keeps things: one rule for every command.

- Caches (MNIST, the classifier, reference statistics): ``$WGANBENCH_HOME``, default
  ``~/.cache/wganbench``.
- Results (run directories, reports, the quality baseline): ``$WGANBENCH_RESULTS``, default
  ``results/`` under the current working directory. Run the commands from the repository's root to
  read and write its committed ``results/``.
- The committed results the suite reads from any folder (the gate's quality baseline): ``$WGANBENCH_RESULTS``
  when set, else the ``results/`` of the checkout the suite is installed from (``pip install -e``), so
  `wganbench gate` finds its baseline from another project's folder too.
"""

from __future__ import annotations

import os
from pathlib import Path


def wganbench_home() -> Path:
    """The cache root: ``$WGANBENCH_HOME`` or ``~/.cache/wganbench``."""
    return Path(os.environ.get("WGANBENCH_HOME", Path.home() / ".cache" / "wganbench")).expanduser()


def results_dir() -> Path:
    """The results root: ``$WGANBENCH_RESULTS`` or ``./results``."""
    return Path(os.environ.get("WGANBENCH_RESULTS", "results")).expanduser()


# The checkout the packages sit in: its committed results/ (a wheel install has none; then pass the file).
SUITE_ROOT = Path(__file__).resolve().parents[1]


def committed_results_dir() -> Path:
    """The committed results the suite reads: ``$WGANBENCH_RESULTS`` or the suite checkout's ``results/``."""
    held = os.environ.get("WGANBENCH_RESULTS")
    return Path(held).expanduser() if held else SUITE_ROOT / "results"


def runs_dir() -> Path:
    """Where run directories go by default: ``<results>/runs``."""
    return results_dir() / "runs"
