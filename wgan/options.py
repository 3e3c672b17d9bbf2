"""How options are declared: frozen dataclasses whose fields carry their help text.

Every options class of the suite (training, evaluation, comparison, gate) declares its fields with
:func:`option`, validates them in ``__post_init__``, and is the single source of its defaults. The
command line (``studies.cli.flags``) turns the fields into flags, so a new field is a new flag.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

HELP = "help"
CHOICES = "choices"
CLI = "cli"          # False: an API-only field (no flag)


def option(default: Any, help: str, *, choices: Sequence[Any] | None = None, cli: bool = True) -> Any:
    """A dataclass field with ``help`` (and optional ``choices``) for the generated flag."""
    metadata = {HELP: help, CHOICES: tuple(choices) if choices is not None else None, CLI: cli}
    if isinstance(default, (list, dict, set)):
        raise TypeError("option defaults must be immutable (use a tuple)")
    return dataclasses.field(default=default, metadata=metadata)


def options_from(cls: type, values: dict[str, Any]) -> Any:
    """``cls(**values)`` keeping only the keys that are fields of ``cls`` (e.g. from parsed flags)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})
