"""wganbench's training side: data, models, losses, Lipschitz constraints, settings, trainer.

Importing it changes nothing in the process (no environment variable, no import hook): the suite's
entry points call :func:`configure_process` first (wgan/console.py says what it sets and why).
"""

from wgan.console import ONEDNN_ENV, configure_process

__all__ = ["ONEDNN_ENV", "configure_process", "versions"]


def versions() -> dict[str, str]:
    """The TensorFlow, Keras and Python versions: recorded with every run and baseline, and in the classifier's key."""
    import platform

    import keras
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version()}
