"""What TensorFlow prints on the console: one oneDNN banner, no absl preamble, no remapper error per run.

Two lines of TensorFlow's own are noise here, and ``TF_CPP_MIN_LOG_LEVEL`` hides neither:

- **The oneDNN banner, printed twice by** ``import tensorflow``. It is an INFO line that
  ``tensorflow/core/util/port.cc`` logs through absl before anything has set absl's log level (so even
  ``TF_CPP_MIN_LOG_LEVEL=3`` shows it), and two copies of that code are loaded: one in
  ``libtensorflow_framework.so.2`` (loaded with ``_pywrap_cpu_feature_guard``) and one linked
  statically, with its own absl, into ``tensorflow/python/profiler/internal/_pywrap_profiler_plugin.so``
  (imported by ``tf.profiler.experimental.client``). Each copy prints absl's "before
  absl::InitializeLog()" warning and the banner. :func:`install_banner_filter` (called by
  :func:`configure_process`, before TensorFlow loads) lets ``import tensorflow`` write to a temporary file and
  replays what it wrote with the banner kept once and absl's WARNING preamble dropped: the banner says
  that oneDNN's round-off is on, which the suite chose, so it shows once (not at all in the processes a
  study starts, :data:`BANNER_SHOWN_ENV`). With ``TF_CPP_MIN_LOG_LEVEL=0`` nothing is filtered.
- **"remapper failed: INVALID_ARGUMENT: Mutation::Apply error: fanout ... LeakyReluGrad exist for
  missing node ... BiasAdd"**, once per training run. Under oneDNN, grappler's remapper tries to fuse
  the critic's Conv2D + BiasAdd + LeakyRelu into one ``_FusedConv2D`` and to delete the BiasAdd, but
  the critic's gradient still reads it (``LeakyReluGrad`` takes the pre-activation BiasAdd output as
  its features), so the graph mutation is refused and logged at ERROR. The remapper's other pass
  still fuses Conv2D + BiasAdd (32 nodes in the wgan-gp step) and MatMul + BiasAdd (11), never with
  the activation. :func:`quiet_tensorflow` turns the remapper off while the training step is
  optimized: no error, those BiasAdds run unfused, and the step is not slower: wgan-gp at width 16,
  batch 64, on the 2-core CPU (shared, load 6-9), remapper off/on images/s paired in one process,
  blocks interleaved: median ratio 1.04 over 16 blocks of 50 steps and 1.08 over 12 of 25; in
  separate 150-step runs 1.01-1.20. Functions first run outside it (the evaluators' classifier)
  keep the remapper.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import sys
import tempfile
from collections.abc import Iterator

LOG_LEVEL_ENV = "TF_CPP_MIN_LOG_LEVEL"
# TensorFlow's CPU build turns its oneDNN kernels on by default only on CPUs with AVX-512 VNNI/BF16
# or AMX. On an AVX2-only CPU (the 2-core AMD EPYC this suite is measured on) they make the compiled
# train step about 1.5x faster and the notebook's eager one 1.2x, and beat XLA on the main job's
# models, so the suite's processes turn them on everywhere (:func:`configure_process`). They change
# float round-off, so the classifier's cache key records the value.
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"
# The lines each loaded copy of TensorFlow's port.cc prints; kept once per process.
REPEATED_LINES = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
                  b"oneDNN custom operations are on.")
# Keras' fit() on NumPy arrays builds a tf.data map whose graph carries `use_unbounded_threadpool`, an
# attribute the installed TensorFlow's C++ MapDataset does not declare: it logs an ERROR ("NodeDef
# mentions attribute ... not in the op definition ... Unknown attributes will be ignored") and runs
# the map as before. Seen once per classifier training; harmless by its own words.
UNKNOWN_ATTRIBUTE_LINE = b"mentions attribute use_unbounded_threadpool which is not in the op definition"
# Set (to 1) in the processes a study starts (Dask workers, their segments): the study's own process
# showed the banner already, so theirs print it not at all.
BANNER_SHOWN_ENV = "WGANBENCH_BANNER_SHOWN"


def keep_first(text: bytes, repeated: tuple[bytes, ...] = REPEATED_LINES, dropped: tuple[bytes, ...] = ()) -> bytes:
    """``text`` with the second and later lines holding each of ``repeated`` dropped, and every line
    holding one of ``dropped``."""
    seen: set[bytes] = set()
    kept = []
    for line in text.splitlines(keepends=True):
        if any(d in line for d in dropped):
            continue
        marker = next((m for m in repeated if m in line), None)
        if marker is not None:
            if marker in seen:
                continue
            seen.add(marker)
        kept.append(line)
    return b"".join(kept)


@contextlib.contextmanager
def repeats_dropped(fd: int = 2, dropped: tuple[bytes, ...] = ()) -> Iterator[None]:
    """Send what is written to ``fd`` meanwhile to a file; then write it back without repeats (and
    without the lines holding one of ``dropped``).

    Python errors raised inside still print after it (the text is replayed in ``finally``).
    """
    sys.stderr.flush()
    try:
        saved = os.dup(fd)
    except OSError:  # no such descriptor (a closed stderr): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            capture.seek(0)
            data = memoryview(keep_first(capture.read(), dropped=dropped))
            while data:
                data = data[os.write(fd, data):]


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run with :func:`repeats_dropped`."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = module.__spec__.loader = self.loader  # the package keeps its real loader
        # absl's preamble is a WARNING about absl's own setup, never about the run: it goes everywhere.
        shown = os.environ.get(BANNER_SHOWN_ENV) == "1"
        with repeats_dropped(dropped=REPEATED_LINES if shown else REPEATED_LINES[:1]):
            self.loader.exec_module(module)


class _TensorFlowImport(importlib.abc.MetaPathFinder):
    """One-shot finder: the first ``import tensorflow`` runs through :class:`_QuietLoader`."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install_banner_filter() -> None:
    """Make the coming ``import tensorflow`` print oneDNN's banner once (not twice).

    Does nothing when TensorFlow is already imported or ``TF_CPP_MIN_LOG_LEVEL`` is 0 (show all).
    """
    if "tensorflow" in sys.modules or os.environ.get(LOG_LEVEL_ENV, "0") == "0":
        return
    if not any(isinstance(finder, _TensorFlowImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _TensorFlowImport())


def configure_process() -> None:
    """Set up this process for the suite's numbers and a quiet console; call it before TensorFlow loads.

    Called by the suite's own entry points (the CLI, a study's segment processes, the tests' and the
    benchmarks' conftest, the pytest plugin's gate fixture), never on import: a project that imports
    ``wgan`` keeps its environment. It sets, unless the user did, oneDNN on (:data:`ONEDNN_ENV`) and
    TensorFlow's C++ INFO lines off (CPU feature notes, XLA start-up: noise on every run), and installs
    the one-shot banner filter. Once TensorFlow is loaded it changes nothing: TensorFlow read the
    environment when it started, and a value set afterwards would be recorded but not in force.
    """
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault(ONEDNN_ENV, "1")
    os.environ.setdefault(LOG_LEVEL_ENV, "1")
    install_banner_filter()


@contextlib.contextmanager
def quiet_tensorflow() -> Iterator[None]:
    """Grappler's remapper off for the functions first run inside (the training step); restored after.

    Use as ``with quiet_tensorflow(): gan.fit(...)``, around the whole ``fit``: TensorFlow optimizes
    a function for the options in force at the call (a call under other options optimizes it
    anew), and functions called after the block (the evaluators) are optimized with the remapper.
    """
    import tensorflow as tf

    held = tf.config.optimizer.get_experimental_options().get("remapping")
    tf.config.optimizer.set_experimental_options({"remapping": False})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"remapping": True if held is None else held})
