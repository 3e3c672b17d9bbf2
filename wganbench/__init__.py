"""wganbench under its distribution's name: ``python -m wganbench`` is the ``wganbench`` command.

The code lives in ``wgan`` (training), ``evaluators`` (metrics) and ``studies`` (studies, report, gate,
CLI); this package only gives the command and the process set-up the names a user looks for.
"""

from studies.cli.app import main
from wgan.console import configure_process

__all__ = ["configure_process", "main"]
