"""Sample-quality metrics on the suite's own MNIST classifier: FID, IS, mode coverage, KID, PRDC.

``evaluate(samples_or_generator, *, n=10000, seed=0) -> dict`` is the one call; the metric modules
(`fid`, `inception_score`, `mode_coverage`, `kid`, `prdc`) are pure functions on arrays. TensorFlow
is imported only when a classifier or generator is used.
"""

from evaluators.defaults import DEFAULTS
from evaluators.suite import ROW_KEYS, evaluate

__all__ = ["DEFAULTS", "ROW_KEYS", "evaluate"]
