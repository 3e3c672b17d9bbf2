"""Batched, compiled forward passes of Keras models (the classifier and generators)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def compiled_forward(model) -> Callable:
    """``model(x, training=False)`` as a `tf.function` traced once for any batch size."""
    import tensorflow as tf

    spec = tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)
    return tf.function(lambda x: model(x, training=False), input_signature=[spec])


def batched(forward: Callable, x: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Run ``forward`` over ``x`` in batches; each of its outputs concatenated along axis 0."""
    outputs = []
    for start in range(0, len(x), batch_size):
        out = forward(x[start:start + batch_size])
        outputs.append([o.numpy() for o in out] if isinstance(out, (list, tuple)) else [out.numpy()])
    return [np.concatenate(parts) for parts in zip(*outputs)]
