"""How options are declared: frozen dataclasses whose fields carry their help text and their roles.

Every options class of the suite (training, evaluation, comparison, gate) declares its fields with
:func:`option`, validates them in ``__post_init__``, and is the single source of its defaults. The
command line (``studies.cli.flags``) turns the fields into flags, so a new field is a new flag.

A field's roles say where else it counts, so no list of field names is kept by hand:

- ``RECIPE``: recorded in the run's ``config.json`` (what ran);
- ``RESUME``: must equal the held run's to resume it;
- ``GATE``: part of the quality gate's recipe, compared with the baseline's;
- ``contrast="label "``: named (with that label) where two studies differ in it.

A class that runs another's options (a study runs training) takes their fields with :func:`inherit`,
which keeps the help, choices and roles and may change the default; :func:`inherited` forwards them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from typing import Any

HELP = "help"
CHOICES = "choices"
CLI = "cli"          # False: an API-only field (no flag)
ROLES = "roles"
CONTRAST = "contrast"
SOURCE = "source"    # the options class an inherited field is forwarded to
RECIPE, RESUME, GATE = "recipe", "resume", "gate"
_MISSING = object()


def option(default: Any, help: str, *, choices: Sequence[Any] | None = None, cli: bool = True,
           roles: Collection[str] = (), contrast: str | None = None) -> Any:
    """A dataclass field with ``help`` (and optional ``choices``) for the generated flag, and its roles."""
    unknown = set(roles) - {RECIPE, RESUME, GATE}
    if unknown:
        raise ValueError(f"unknown option roles {sorted(unknown)}")
    if isinstance(default, (list, dict, set)):
        raise TypeError("option defaults must be immutable (use a tuple)")
    metadata = {HELP: help, CHOICES: tuple(choices) if choices is not None else None, CLI: cli,
                ROLES: frozenset(roles), CONTRAST: contrast}
    return dataclasses.field(default=default, metadata=metadata)


def _field(cls: type, name: str) -> dataclasses.Field:
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f
    raise AttributeError(f"{cls.__name__} has no option {name!r}")


def inherit(cls: type, name: str, *, default: Any = _MISSING, help: str | None = None) -> Any:
    """Option ``name`` of ``cls`` as a field of another options class (forwarded to ``cls`` by
    :func:`inherited`), with its help, choices and roles; ``default`` and ``help`` may differ."""
    source = _field(cls, name)
    metadata = {**source.metadata, SOURCE: cls}
    if help is not None:
        metadata[HELP] = help
    return dataclasses.field(default=source.default if default is _MISSING else default, metadata=metadata)


def inherited(options: Any, cls: type) -> dict[str, Any]:
    """The values of ``options``' fields taken from ``cls`` with :func:`inherit`, by name."""
    return {f.name: getattr(options, f.name) for f in dataclasses.fields(options) if f.metadata.get(SOURCE) is cls}


def with_role(cls: type, role: str) -> tuple[str, ...]:
    """The names of ``cls``' fields that have ``role``, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(cls) if role in f.metadata.get(ROLES, ()))


def contrast_labels(cls: type) -> dict[str, str]:
    """``{field: label}`` of ``cls``' fields a contrast names."""
    return {f.name: f.metadata[CONTRAST] for f in dataclasses.fields(cls) if f.metadata.get(CONTRAST) is not None}


def split_list(text: str) -> list[str]:
    """``"a,b[x=1,y=(2,3)],c"`` → ``["a", "b[x=1,y=(2,3)]", "c"]``: commas inside brackets or parentheses
    do not separate (a setting's fields stay with its name, a pair with its field)."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"[": 1, "(": 1, "]": -1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    return [item.strip() for item in [*items, text[start:]] if item.strip()]


def options_from(cls: type, values: dict[str, Any]) -> Any:
    """``cls(**values)`` keeping only the keys that are fields of ``cls`` (e.g. from parsed flags)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})
