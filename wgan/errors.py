"""The one exception type the suite raises for bad input; the CLI prints it as a single line."""

from __future__ import annotations


class WganbenchError(Exception):
    """A problem with the user's input or environment, with a message that says how to fix it."""


class DataError(WganbenchError):
    """MNIST could not be fetched, read or verified."""


def first_line(err: BaseException, default: str | None = None) -> str:
    """The first line of ``err``'s message (a one-line report of it), else ``default`` (the exception's
    type name when None)."""
    text = str(err).strip()
    if text:
        return text.splitlines()[0]
    return type(err).__name__ if default is None else default
