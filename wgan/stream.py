"""The training data stream: any generator step's real batches, as a pure function of (seed, step).

Image ``j`` of step ``s`` sits at stream position ``p = s·B·n_critic + j``: epoch ``p // N``, image
``perm_epoch(p % N)`` with ``perm_epoch`` a seeded ``index_shuffle`` permutation. So every epoch sees
each image once, in a new order, and a resumed run restarts the stream at its checkpointed step
without writing a 60,000-image shuffle buffer into every checkpoint (docs/DESIGN.md §3).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from wgan.data import IMAGE_SHAPE, to_unit_range
from wgan.errors import WganbenchError
from wgan.settings import EVERY, WARMUP_CRITIC, WARMUP_STEPS


def training_data(images: np.ndarray, batch_size: int, n_critic: int, *, seed: int,
                  start_step: int = 0, schedule: str = "constant") -> tf.data.Dataset:
    """Step ``s`` → float32 ``[B, n, 28, 28, C]`` in [-1, 1], for every ``s ≥ start_step``.

    ``images`` are uint8 ``[N, 28, 28]`` or ``[N, 28, 28, C]``: ``C`` is 1 for MNIST, 3 for Stacked
    MNIST (`wgan.data.load_stacked_mnist`); the stream's order does not depend on ``C``.

    ``n`` is ``n_critic``, or with the ``wgan-authors`` schedule 100 in the warm-up steps
    (:meth:`wgan.settings.Setting.critic_updates`). Critic update ``i`` of a step takes ``[:, i]``, so
    a distribution strategy that splits the batch axis gives every replica its share of *each* critic
    batch.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.shape[1:3] != IMAGE_SHAPE[:2] or images.ndim not in (3, 4) \
            or not len(images):
        raise WganbenchError(f"training images must be uint8 [N, 28, 28] or [N, 28, 28, C], got "
                             f"{images.dtype}{list(images.shape)}")
    shape = (*IMAGE_SHAPE[:2], images.shape[3] if images.ndim == 4 else IMAGE_SHAPE[-1])
    n = len(images)
    warmup = schedule == "wgan-authors"
    most = max(n_critic, WARMUP_CRITIC) if warmup else n_critic
    if batch_size * most > n:
        raise WganbenchError(f"a step needs {batch_size * most} images (batch {batch_size} × {most} critic updates) "
                             f"but only {n} are available; lower --batch-size")
    last = tf.constant(n - 1, tf.int64)

    def critic_updates(step: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """(updates in step, updates before it): Setting.critic_updates and critic_updates_before in TF."""
        if not warmup:
            return tf.constant(n_critic, tf.int64), n_critic * step
        warm = (step < WARMUP_STEPS) | (step % EVERY == 0)
        extra = tf.minimum(step, WARMUP_STEPS) + tf.maximum(tf.constant(0, tf.int64), (step - 1) // EVERY)
        return (tf.where(warm, tf.constant(WARMUP_CRITIC, tf.int64), n_critic),
                n_critic * step + (WARMUP_CRITIC - n_critic) * extra)

    def images_for_step(step: tf.Tensor, pool: tf.Tensor) -> tf.Tensor:
        count, before = critic_updates(step)
        position = before * batch_size + tf.range(count * batch_size, dtype=tf.int64)
        epoch, offset = position // n, position % n
        first = epoch[0]  # a step spans at most two epochs (its images ≤ n)
        this_epoch = tf.random.experimental.index_shuffle(offset, tf.stack([seed, first]), last)
        next_epoch = tf.random.experimental.index_shuffle(offset, tf.stack([seed, first + 1]), last)
        index = tf.where(epoch == first, this_epoch, next_epoch)
        batch = to_unit_range(tf.cast(tf.gather(pool, index), tf.float32))
        return tf.reshape(batch, (batch_size, n_critic if not warmup else -1, *shape))

    steps = tf.data.Dataset.range(start_step, np.iinfo(np.int64).max)
    # The image pool rides along as a dataset element, not as a constant inside the map function.
    pool = tf.data.Dataset.from_tensors(images.reshape(-1, *shape)).repeat()
    return (tf.data.Dataset.zip(steps, pool)
            .map(images_for_step, num_parallel_calls=1, deterministic=True).prefetch(2))
