"""Sample-quality metrics on the suite's own MNIST classifier: FID, IS, mode coverage, KID, PRDC.

``evaluate(samples_or_generator, *, options=None, **kwargs) -> dict`` is the one call; its settings
are `EvalOptions`, and every metric is declared once in the table `METRICS` (`evaluators.metrics`),
with its values, its options dataclass and its compute function. The metric modules (`fid`,
`inception_score`, `mode_coverage`, `kid`, `prdc`) are pure functions on arrays. TensorFlow is
imported only when a classifier or generator is used. docs/DESIGN.md §5 Metrics.
"""

from evaluators.metrics import METRICS, Inputs, Metric, NoOptions, Value, value, values
from evaluators.options import EvalOptions, eval_options
from evaluators.suite import ROW_KEYS, evaluate, format_row, score

__all__ = ["METRICS", "ROW_KEYS", "EvalOptions", "Inputs", "Metric", "NoOptions", "Value", "eval_options", "evaluate",
           "format_row", "score", "value", "values"]
