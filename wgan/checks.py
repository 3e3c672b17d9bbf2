"""Validators for options: each raises a one-line `WganbenchError` naming the option and the value."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from wgan.errors import WganbenchError


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def positive_int(name: str, value: Any, *, optional: bool = False) -> None:
    """``value`` is an int ≥ 1 (or None when ``optional``)."""
    if optional and value is None:
        return
    if not _is_int(value) or value < 1:
        raise WganbenchError(f"{name} must be a positive integer, got {value!r}")


def non_negative_int(name: str, value: Any) -> None:
    if not _is_int(value) or value < 0:
        raise WganbenchError(f"{name} must be a non-negative integer, got {value!r}")


def positive_number(name: str, value: Any, *, optional: bool = False) -> None:
    """``value`` is a finite real number > 0 (NaN and infinity are refused: a budget must end)."""
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise WganbenchError(f"{name} must be a finite positive number, got {value!r}")


def fraction(name: str, value: Any, *, closed: bool = False) -> None:
    """``value`` in [0, 1) (or [0, 1] when ``closed``)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or value > 1 or (value == 1 and not closed):
        raise WganbenchError(f"{name} must be in [0, 1{']' if closed else ')'}, got {value!r}")


def one_of(name: str, value: Any, choices: Collection[Any]) -> None:
    if value not in choices:
        shown = ", ".join("none" if c is None else str(c) for c in choices)
        raise WganbenchError(f"unknown {name} {value!r}; expected one of: {shown}")
