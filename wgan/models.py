"""The original notebook's DCGAN generator and critic, with width and dropout as knobs.

The notebook's architecture is described in docs/DESIGN.md §2 Settings and their sources.

``width`` is the narrowest feature map: the generator widens ``4w → 2w → w`` and the critic ``w → 2w``,
so ``width=64`` with a 100-d noise is exactly the notebook (generator 2,330,944 parameters, critic
212,865). ``dtype`` takes a Keras dtype policy (``"mixed_bfloat16"``): variables stay float32, the
hidden layers compute in bfloat16, and both output layers compute in float32 so images and critic
scores — and every loss built on them — are float32.

``channels`` is the number of image channels: the generator's output channels and the critic's input
channels (1, the notebook's MNIST, by default; 3 for Stacked MNIST, `wgan.data.load_stacked_mnist`).
Only the last generator layer and the first critic layer change with it.
"""

from __future__ import annotations

import keras
from keras import layers

from wgan.checks import positive_int
from wgan.data import IMAGE_SHAPE

KERNEL = (5, 5)
LEAKY_SLOPE = 0.3  # Keras 2's LeakyReLU default, which the notebook used (Keras 3's default is 0.2)


def make_generator(*, noise_dim: int = 100, width: int = 64, dtype: str | None = None,
                   synchronized_bn: bool = False, channels: int = IMAGE_SHAPE[-1],
                   batchnorm: bool = True) -> keras.Sequential:
    """z ∈ R^noise_dim → image in [-1, 1] of shape [28, 28, channels].

    ``synchronized_bn`` makes BatchNorm average its batch statistics over all replicas of a
    ``tf.distribute`` strategy, so a distributed step normalizes exactly like one device would.
    ``batchnorm`` false leaves out the three BatchNorm layers (`Setting.g_batchnorm`).
    """

    positive_int("channels", channels)

    def bn() -> list[layers.Layer]:
        return [layers.BatchNormalization(synchronized=synchronized_bn, dtype=dtype)] if batchnorm else []

    return keras.Sequential([
        keras.Input((noise_dim,)),
        layers.Dense(7 * 7 * 4 * width, use_bias=False, dtype=dtype),
        *bn(), layers.LeakyReLU(LEAKY_SLOPE, dtype=dtype),
        layers.Reshape((7, 7, 4 * width), dtype=dtype),
        layers.Conv2DTranspose(2 * width, KERNEL, strides=1, padding="same", use_bias=False, dtype=dtype),
        *bn(), layers.LeakyReLU(LEAKY_SLOPE, dtype=dtype),
        layers.Conv2DTranspose(width, KERNEL, strides=2, padding="same", use_bias=False, dtype=dtype),
        *bn(), layers.LeakyReLU(LEAKY_SLOPE, dtype=dtype),
        layers.Conv2DTranspose(channels, KERNEL, strides=2, padding="same", use_bias=False,
                               activation="tanh", dtype="float32"),
    ], name="generator")


def make_critic(*, width: int = 64, dropout: float = 0.3, dtype: str | None = None,
                constraint: keras.constraints.Constraint | None = None,
                channels: int = IMAGE_SHAPE[-1]) -> keras.Sequential:
    """image [28, 28, channels] → one unbounded score (a logit for ``gan``, a critic value for WGANs).

    ``constraint`` is put on every kernel and bias: the ``constraint`` clipping implementation of
    :mod:`wgan.lipschitz` lets the optimizer apply it after each update.
    """

    positive_int("channels", channels)

    def conv(filters: int) -> layers.Conv2D:
        return layers.Conv2D(filters, KERNEL, strides=2, padding="same", dtype=dtype,
                             kernel_constraint=constraint, bias_constraint=constraint)

    blocks = []
    for filters in (width, 2 * width):
        blocks += [conv(filters), layers.LeakyReLU(LEAKY_SLOPE, dtype=dtype)]
        if dropout > 0:
            blocks.append(layers.Dropout(dropout, dtype=dtype))
    return keras.Sequential([
        keras.Input((*IMAGE_SHAPE[:2], channels)), *blocks, layers.Flatten(dtype=dtype),
        layers.Dense(1, dtype="float32", kernel_constraint=constraint, bias_constraint=constraint),
    ], name="critic")
