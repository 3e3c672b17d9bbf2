"""Command-line flags generated from the options dataclasses, so every option has exactly one flag.

A field ``batch_size: int | None = option(None, "…")`` becomes ``--batch-size N`` with that help;
``bool`` fields become ``--x/--no-x``; ``tuple[str, ...]`` and ``tuple[int, ...]`` fields take a
comma-separated list (a comma inside brackets or parentheses does not separate, so a setting's fields
stay with it: ``gan,wgan-seed[clip_value=0.05,n_critic=5]``). Fields made with ``option(..., cli=False)`` are
API-only.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any

from wgan.options import CHOICES, CLI, HELP, split_list


def _csv(kind: type):
    def parse(text: str) -> tuple:
        try:
            return tuple(kind(item) for item in split_list(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {kind.__name__}, "
                                             f"got {text!r}") from None
    return parse


def _number(kind: type):
    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
    parse.__name__ = kind.__name__
    return parse


def _base_type(hint: Any) -> Any:
    """``int | None`` → int; ``tuple[int, ...] | None`` → tuple[int, ...]."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else str
    return hint


def add_options(parser: argparse.ArgumentParser, cls: type, *, prefix: str = "",
                skip: tuple[str, ...] = ()) -> None:
    """One flag per field of the options dataclass ``cls`` (``--{prefix}{name}``, dest ``{prefix}{name}``)."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if not field.metadata.get(CLI, True) or field.name in skip:
            continue
        dest = f"{prefix}{field.name}"
        flag = "--" + dest.replace("_", "-")
        kind = _base_type(hints[field.name])
        default = field.default
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        suffix = "" if default is None or (kind is bool and not default) else f" (default: {shown})"
        help_text = (field.metadata.get(HELP, "") + suffix).replace("%", "%%")
        kwargs: dict[str, Any] = {"dest": dest, "default": argparse.SUPPRESS, "help": help_text}
        if kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(kind) is tuple:
            kwargs["type"] = _csv(typing.get_args(kind)[0])
            kwargs["metavar"] = "A,B,..."
        else:
            kwargs["type"] = _number(kind) if kind in (int, float) else kind
            if field.metadata.get(CHOICES):
                kwargs["choices"] = field.metadata[CHOICES]
        parser.add_argument(flag, **kwargs)


def given(args: argparse.Namespace, cls: type, *, prefix: str = "") -> dict[str, Any]:
    """The options of ``cls`` that were given on the command line (defaults stay the dataclass's)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {key[len(prefix):]: value for key, value in vars(args).items()
            if key.startswith(prefix) and key[len(prefix):] in names}
