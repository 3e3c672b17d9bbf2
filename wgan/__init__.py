"""wganbench's training side: data, models, losses, Lipschitz constraints, settings, trainer."""

import os

# TensorFlow's CPU build turns its oneDNN kernels on by default only on CPUs with AVX-512 VNNI/BF16
# or AMX. On an AVX2-only CPU (the 2-core AMD EPYC this suite is measured on) they make the compiled
# train step about 1.5x faster and the notebook's eager one 1.2x, and beat XLA on the main job's
# models, so the suite turns them on everywhere. This must run before TensorFlow is imported; a
# value the user set wins. They change float round-off, so the classifier's cache key records it.
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"
os.environ.setdefault(ONEDNN_ENV, "1")
# TensorFlow's C++ INFO lines (CPU feature notes, XLA service start-up) on every run are noise here;
# the oneDNN banner is printed before TensorFlow's logging starts and still shows.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

# TensorFlow prints oneDNN's banner twice per process (two copies of its logging code load); the filter
# keeps one (wgan/console.py). It must be installed before TensorFlow is imported.
from wgan.console import install_banner_filter  # noqa: E402

install_banner_filter()


def versions() -> dict[str, str]:
    """The TensorFlow, Keras and Python versions: recorded with every run and baseline, and in the classifier's key."""
    import platform

    import keras
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version()}
