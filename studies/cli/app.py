"""`wganbench`: one console command; each subcommand's flags come from an options dataclass.

The subcommands live in :mod:`studies.cli.commands`; this module only dispatches and turns every
failure into one line on stderr with exit code 2 (1 is reserved for a gate's regression). Heavy
imports (TensorFlow) happen inside the chosen command, so `wganbench --help` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys

from wgan.console import configure_process
from wgan.errors import WganbenchError, first_line

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
DEBUG_ENV = "WGANBENCH_DEBUG"
# The core dependencies hold no TensorFlow (the [cpu] and [gpu] extras each bring one build): without
# either, the first command that trains or scores says so.
TENSORFLOW_MODULES = ("tensorflow", "keras")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s flags are built (they import its modules, TensorFlow among them)."""
    from studies.cli.commands import COMMANDS

    parser = argparse.ArgumentParser(prog="wganbench", description="GAN vs WGAN on MNIST: train, score, "
                                     "compare, benchmark and gate sample quality.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, spec in COMMANDS.items():
        sub = subparsers.add_parser(name, help=spec.help, description=spec.help)
        if name == command:
            spec.add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``wganbench ARGV``; returns the exit code (0 done, 1 a gate's regression, 2 anything else)."""
    from studies.cli.commands import COMMANDS

    configure_process()
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    try:
        args = build_parser(command).parse_args(argv)  # a command's flags may import TensorFlow
        return int(COMMANDS[args.command].run(args) or 0)
    except WganbenchError as err:
        return _fail(command, str(err))
    except KeyboardInterrupt:
        print(f"wganbench {command}: interrupted; checkpoints are kept: rerun with --resume (train) or the "
              "same command (compare) to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as err:  # a folder that must be writable, a full disk: say which, no traceback
        where = f" ({err.filename})" if err.filename else ""
        return _fail(command, f"{err.strerror or err}{where}")
    except Exception as err:  # a crash is exit 2, never 1 (a gate's regression)
        if isinstance(err, ModuleNotFoundError) and err.name in TENSORFLOW_MODULES:
            return _fail(command, f"{err.name} is not installed; install the suite with its TensorFlow: "
                         "`pip install wganbench[cpu]` (or `[gpu]` on a CUDA machine)")
        if os.environ.get(DEBUG_ENV):
            raise
        detail = first_line(err, "")
        return _fail(command, f"{type(err).__name__}: {detail} (set {DEBUG_ENV}=1 for the traceback)")


def _fail(command: str | None, message: str) -> int:
    print(f"wganbench {command}: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
