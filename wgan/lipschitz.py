"""Weight clipping (Arjovsky et al. 2017): every trainable critic weight forced into [−c, c].

Three interchangeable clipping implementations (``clip_impl``), compared by the benchmarks; all leave the critic in the
same state after the same updates, and none touches non-trainable variables (BatchNorm moving
statistics, Dropout seed states):

- ``fused`` (default): ``assign(clip_by_value(v))`` on the critic's trainable variables inside the
  compiled training step, right after each critic update.
- ``constraint``: a Keras constraint on every kernel and bias, which the optimizer applies after
  each update it makes.
- ``numpy``: the original notebook's host round trip, per layer ``get_weights`` → ``np.clip`` →
  ``set_weights``, run eagerly after the compiled critic update (`wgan.notebook.NumpyClippingGAN`).

``none`` switches clipping off (benchmarks time the step without it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from wgan.errors import WganbenchError
from wgan.objectives import CLIP_IMPLS as CLIP_IMPLS
from wgan.objectives import DEFAULT_CLIP_IMPL as DEFAULT_CLIP_IMPL


def check_clip_impl(impl: str) -> str:
    if impl not in CLIP_IMPLS:
        raise WganbenchError(f"unknown clipping implementation {impl!r}; expected one of {', '.join(CLIP_IMPLS)}")
    return impl


@keras.saving.register_keras_serializable(package="wganbench")
class ClipWeights(keras.constraints.Constraint):
    """Keras constraint w ↦ clip(w, −c, c), applied by the optimizer after each update."""

    def __init__(self, clip_value: float) -> None:
        self.clip_value = float(clip_value)

    def __call__(self, w):
        return keras.ops.clip(w, -self.clip_value, self.clip_value)

    def get_config(self) -> dict:
        return {"clip_value": self.clip_value}


def critic_constraint(impl: str, clip_value: float) -> ClipWeights | None:
    """The constraint to build the critic with: only the ``constraint`` implementation has one."""
    return ClipWeights(clip_value) if check_clip_impl(impl) == "constraint" else None


def clip_fused(variables: Sequence[tf.Variable], clip_value: float) -> None:
    """Clip variables in place with graph ops (call it inside the compiled step).

    Goes through ``merge_call`` + ``extended.update`` like Keras' optimizers do, so it also updates
    mirrored variables correctly from a ``tf.distribute`` replica context.
    """

    def clip(var):
        return var.assign(tf.clip_by_value(var, -clip_value, clip_value))

    def update_all(strategy: tf.distribute.Strategy) -> None:
        for var in variables:
            strategy.extended.update(getattr(var, "value", var), clip, group=False)

    tf.distribute.get_replica_context().merge_call(update_all)


def clip_numpy(model: keras.Model, clip_value: float) -> None:
    """The notebook's round trip, per layer: get_weights → np.clip → set_weights (eager only).

    Unlike the notebook it leaves non-trainable weights as they are, so a critic with BatchNorm
    keeps its moving statistics.
    """
    for layer in model.layers:
        if not layer.trainable_weights:
            continue
        trainable = {id(v) for v in layer.trainable_weights}
        layer.set_weights([np.clip(w, -clip_value, clip_value) if id(v) in trainable else w
                           for v, w in zip(layer.weights, layer.get_weights())])


def apply_constraints(model: keras.Model) -> None:
    """What the optimizer does for the ``constraint`` implementation after an update."""
    for var in model.trainable_variables:
        if var.constraint is not None:
            var.assign(var.constraint(var))


def clipping_call(critic: keras.Model, impl: str, clip_value: float) -> Callable[[], None]:
    """The clipping step of one implementation on its own, ready to call (for benchmarks).

    ``fused`` and ``constraint`` come compiled (as they run inside the training step); ``numpy`` is
    the eager round trip; ``none`` does nothing. ``constraint`` needs a critic built with
    :func:`critic_constraint`.
    """
    check_clip_impl(impl)
    if impl == "constraint":
        if not any(v.constraint is not None for v in critic.trainable_variables):
            raise WganbenchError("the 'constraint' clipping call needs a critic built with "
                                 "critic_constraint('constraint', clip_value)")
        return tf.function(lambda: apply_constraints(critic))
    if impl == "fused":
        return tf.function(lambda: clip_fused(critic.trainable_variables, clip_value))
    if impl == "numpy":
        return lambda: clip_numpy(critic, clip_value)
    return lambda: None
