"""Training on Stacked MNIST: the images a run trains on, and networks with as many channels.

Stacked MNIST (Metz et al. 2017, "Unrolled Generative Adversarial Networks"; the protocol of
Srivastava et al. 2017, VEEGAN, as run by Lin et al. 2018, PacGAN) stacks three MNIST digits drawn
independently and uniformly into the R, G and B channels of one 28×28×3 image. Its modes are the
1,000 combinations m = 100·R + 10·G + B, so a generator that drops modes shows it as combinations it
never draws (`evaluators.stacked_modes`). The data set itself is built in `wgan.data`
(`load_stacked_mnist`: 60,000 training images from the training digits, a fixed seed); a run's own
seed orders the stream and initialises the networks, as on MNIST, so every run sees the same data set.

The networks are the notebook's with ``channels`` = 3 (`wgan.models`): only the generator's last
layer and the critic's first layer change. Everything else in a training step (losses, the gradient
penalty's per-sample ε, every clipping implementation) is shape-agnostic and runs unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from wgan.checks import one_of
from wgan.data import CHANNELS, DATASETS, MNIST, load_mnist, load_stacked_mnist
from wgan.errors import WganbenchError
from wgan.gan import GAN, build_gan
from wgan.settings import Setting


def training_images(dataset: str = MNIST, data: np.ndarray | None = None, *, digits: tuple[int, ...] | None = None,
                    verbose: bool = False) -> np.ndarray:
    """The uint8 images a run of ``dataset`` trains on: ``data`` when given (checked to have the data
    set's channels), else the 60,000 MNIST training images or the 60,000 Stacked MNIST training images.

    ``digits`` (`TrainOptions.digits`) keeps only the MNIST training images of those labels, in their order."""
    one_of("dataset", dataset, DATASETS)
    if digits is not None and (dataset != MNIST or data is not None):
        raise WganbenchError("digits filters MNIST's own training images by their labels; images given as data "
                             "carry no labels: pass them already filtered")
    if data is None:
        (images, labels), _ = load_mnist(verbose=verbose) if dataset == MNIST else load_stacked_mnist(verbose=verbose)
        return images if digits is None else images[np.isin(labels, digits)]
    data = np.asarray(data)
    channels = data.shape[3] if data.ndim == 4 else 1
    if data.ndim in (3, 4) and channels != CHANNELS[dataset]:
        raise WganbenchError(f"training images have {channels} channel{'s' if channels > 1 else ''} "
                             f"({list(data.shape)}); data set {dataset!r} has {CHANNELS[dataset]}")
    return data


def build_gan_for(dataset: str, setting: Setting, **kwargs: Any) -> GAN:
    """`wgan.gan.build_gan` (same keywords) with networks of ``dataset``'s image channels."""
    one_of("dataset", dataset, DATASETS)
    return build_gan(setting, channels=CHANNELS[dataset], **kwargs)
