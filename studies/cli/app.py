"""`wganbench`: one console command; each subcommand's flags come from an options dataclass.

The subcommands live in :mod:`studies.cli.commands`; this module only dispatches and turns every
failure into one line on stderr with exit code 2 (1 is reserved for a gate's regression). Heavy
imports (TensorFlow) happen inside the chosen command, so `wganbench --help` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys

from wgan.errors import WganbenchError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
DEBUG_ENV = "WGANBENCH_DEBUG"


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
    from studies.cli.commands import COMMANDS

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    try:
        return int(COMMANDS[args.command].run(args) or 0)
    except WganbenchError as err:
        print(f"wganbench {args.command}: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"wganbench {args.command}: interrupted; checkpoints are kept: rerun with --resume (train) or the "
              "same command (compare) to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as err:  # a folder that must be writable, a full disk: say which, no traceback
        where = f" ({err.filename})" if err.filename else ""
        print(f"wganbench {args.command}: error: {err.strerror or err}{where}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as err:  # a crash is exit 2, never 1 (a gate's regression)
        if os.environ.get(DEBUG_ENV):
            raise
        detail = str(err).strip().splitlines()[0] if str(err).strip() else ""
        print(f"wganbench {args.command}: error: {type(err).__name__}: {detail} (set {DEBUG_ENV}=1 for the "
              "traceback)", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
