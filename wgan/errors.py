"""The one exception type the suite raises for bad input; the CLI prints it as a single line."""


class WganbenchError(Exception):
    """A problem with the user's input or environment, with a message that says how to fix it."""


class DataError(WganbenchError):
    """MNIST could not be fetched, read or verified."""
