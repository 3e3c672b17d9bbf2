"""Where the suite keeps things: one rule for every command.

- Caches (MNIST, the classifier, reference statistics): ``$WGANBENCH_HOME``, default
  ``~/.cache/wganbench``.
- Results (run directories, reports, the quality baseline): ``$WGANBENCH_RESULTS``, default
  ``results/`` under the current working directory. Run the commands from the repository's root to
  read and write its committed ``results/``.
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


def runs_dir() -> Path:
    """Where run directories go by default: ``<results>/runs``."""
    return results_dir() / "runs"
