"""The command line: `wganbench COMMAND`, one options dataclass per command."""

from studies.cli.app import main

__all__ = ["main"]
