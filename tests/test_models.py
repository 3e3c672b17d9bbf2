"""The notebook's networks: exact parameter counts (by hand), shapes, ranges and dtype policies."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from wgan.models import make_critic, make_generator


def conv_params(k: int, c_in: int, c_out: int, bias: bool) -> int:
    return k * k * c_in * c_out + (c_out if bias else 0)


def bn_params(c: int) -> tuple[int, int]:
    """(trainable γ, β; non-trainable moving mean, variance)."""
    return 2 * c, 2 * c


@pytest.mark.parametrize("width", [64, 16])
def test_generator_parameter_counts(width: int) -> None:
    dense = 100 * 7 * 7 * 4 * width                      # no bias
    convs = conv_params(5, 4 * width, 2 * width, False) + conv_params(5, 2 * width, width, False) \
        + conv_params(5, width, 1, False)
    bns = [bn_params(c) for c in (7 * 7 * 4 * width, 2 * width, width)]
    trainable = dense + convs + sum(t for t, _ in bns)
    non_trainable = sum(n for _, n in bns)
    g = make_generator(width=width)
    assert g.count_params() == trainable + non_trainable
    assert sum(int(np.prod(v.shape)) for v in g.trainable_variables) == trainable
    if width == 64:  # the notebook's (and TensorFlow's DCGAN tutorial's) figures
        assert (trainable + non_trainable, trainable, non_trainable) == (2_330_944, 2_305_472, 25_472)


@pytest.mark.parametrize("width", [64, 16])
def test_critic_parameter_counts(width: int) -> None:
    expected = conv_params(5, 1, width, True) + conv_params(5, width, 2 * width, True) + (7 * 7 * 2 * width + 1)
    c = make_critic(width=width)
    assert c.count_params() == expected
    assert not c.non_trainable_weights
    if width == 64:
        assert expected == 212_865


def test_shapes_and_ranges() -> None:
    keras.utils.set_random_seed(0)
    g, c = make_generator(), make_critic()
    images = np.asarray(g(np.random.default_rng(0).standard_normal((5, 100)).astype("float32"), training=False))
    assert images.shape == (5, 28, 28, 1)
    assert images.min() >= -1 and images.max() <= 1
    assert tuple(c(images).shape) == (5, 1)


def test_critic_dropout_is_a_parameter() -> None:
    rates = [layer.rate for layer in make_critic(dropout=0.3).layers if isinstance(layer, keras.layers.Dropout)]
    assert rates == [0.3, 0.3]
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in make_critic(dropout=0.0).layers)


def test_bfloat16_policy_keeps_float32_variables_and_outputs() -> None:
    g = make_generator(dtype="mixed_bfloat16", width=8)
    c = make_critic(dtype="mixed_bfloat16", width=8)
    assert {v.dtype for v in g.variables + c.variables} <= {"float32", "int64"}  # int64: dropout seeds
    assert g.layers[0].compute_dtype == "bfloat16"
    images = g(np.zeros((2, 100), "float32"))
    assert images.dtype == "float32" and c(images).dtype == "float32"


def test_a_generator_without_batchnorm_has_none() -> None:
    def norms(model: keras.Model) -> int:
        return sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)

    with_bn, without = make_generator(width=8), make_generator(width=8, batchnorm=False)
    assert norms(with_bn) == 3 and norms(without) == 0
    assert without.output_shape == with_bn.output_shape and not without.non_trainable_weights
