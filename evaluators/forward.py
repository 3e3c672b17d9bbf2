"""Batched, compiled forward passes of Keras models (the classifier and generators)."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable

import numpy as np

# One traced function per model: a new tf.function per call would retrace every time a generator is
# scored again, as `compare` does at every checkpoint.
_FORWARDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def compiled_forward(model) -> Callable:
    """``model(x, training=False)`` as an XLA-compiled `tf.function`, traced once, cached per model.

    XLA fuses each convolution with its bias, BatchNorm and activation into one kernel, so a forward
    pass makes fewer trips through memory (bench/test_evaluators.py times it).
    """
    import tensorflow as tf

    _quiet_retracing_warning()
    if model not in _FORWARDS:
        spec = tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)
        ref = weakref.ref(model)  # a strong reference in the value would keep the key alive forever
        _FORWARDS[model] = tf.function(lambda x: ref()(x, training=False), input_signature=[spec],
                                       jit_compile=True)
    return _FORWARDS[model]


@functools.cache
def _quiet_retracing_warning() -> None:
    """Each model traces once by design (compare loads a new generator at every checkpoint), but
    TensorFlow counts traces of the same lambda across models and warns of "excessive retracing"."""
    import tensorflow as tf

    tf.get_logger().addFilter(lambda record: "triggered tf.function retracing" not in record.getMessage())


def batched(forward: Callable, x: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Run ``forward`` over ``x`` in batches; each of its outputs concatenated along axis 0."""
    outputs = []
    for start in range(0, len(x), batch_size):
        out = forward(x[start:start + batch_size])
        outputs.append([o.numpy() for o in out] if isinstance(out, (list, tuple)) else [out.numpy()])
    return [np.concatenate(parts) for parts in zip(*outputs, strict=True)]
