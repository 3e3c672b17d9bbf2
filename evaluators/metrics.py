"""The metric table: the one place a metric is declared (docs/DESIGN.md §5 Metrics).

Each :class:`Metric` names a group (what ``metrics=`` selects), the report-row values it computes
(each a :class:`Value`: key, which direction is better, a column label, the scale the quality gate
checks it on if it does), the function that computes them from an :class:`Inputs` and the metric's options, and
that options dataclass (its fields are the flat options ``f"{metric.name}_{field}"`` of
``evaluate()`` and of the command line), and the data sets it applies to. `evaluators.suite.score`
loops over this table; reports, the quality gate and the command line read it. A new metric is a new
entry here and nothing else.

On Stacked MNIST every image metric reads each channel as one MNIST digit: FID, IS, mode coverage,
KID and PRDC score the single-channel images against the same MNIST reference as on MNIST, and
``stacked`` counts the 1,000 three-digit modes (`evaluators.stacked_modes`), which only that data set
has. `values()` and ``ROW_KEYS`` are plain MNIST's unless a data set is named.

The metric modules (`fid`, `inception_score`, `mode_coverage`, `kid`, `prdc`, `stacked_modes`) stay
pure functions on arrays and know nothing of this table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import softmax

from evaluators.fid import fid
from evaluators.inception_score import ISOptions, inception_score
from evaluators.kid import KIDOptions, kernel_inception_distance
from evaluators.mode_coverage import ModesOptions, mode_coverage
from evaluators.prdc import PRDCOptions, prdc
from evaluators.stacked_modes import StackedOptions, channel_digits, stacked_modes, stacked_reading
from wgan.checks import one_of
from wgan.data import DATASETS, MNIST, STACKED_MNIST
from wgan.errors import WganbenchError

if TYPE_CHECKING:
    from evaluators.reference import Reference

BETTER = ("higher", "lower", None)
GATE_SCALES = ("log", "linear", None)


@dataclass(frozen=True)
class Value:
    """One number of the report row."""

    key: str                 # the report-row key, e.g. "fid", "kid_std"
    better: str | None       # "higher", "lower", or None (a spread, not a quality)
    label: str               # short column header for reports, with arrow or unit, e.g. "FID ↓"
    gate: str | None = None  # the scale the quality gate checks it on ("log" or "linear"); None: reported only

    def __post_init__(self) -> None:
        one_of(f"'better' of value {self.key!r}", self.better, BETTER)
        one_of(f"'gate' of value {self.key!r}", self.gate, GATE_SCALES)
        if self.gate and self.better is None:
            raise WganbenchError(f"value {self.key!r}: the gate can only check a value with a better direction")


@dataclass(frozen=True)
class Inputs:
    """What every metric's compute function gets."""

    features: np.ndarray     # generated images' classifier features [N, d], float32 (one row per channel image)
    logits: np.ndarray       # their logits [N, 10]
    reference: Reference     # real-data statistics (features, mu, sigma, class_share, sq_radii, k)
    seed: int                # for metrics that draw at random (KID's subsets)
    # Stacked MNIST only: logits [M, 3, 10] of each channel of the M samples whose modes are counted.
    stacked_logits: np.ndarray | None = None


@dataclass(frozen=True)
class NoOptions:
    """The options of a metric without knobs."""


@dataclass(frozen=True)
class Metric:
    name: str                                          # group name for ``metrics=``: "fid", "is", ...
    values: tuple[Value, ...]
    compute: Callable[[Inputs, Any], dict[str, float]]  # (inputs, options instance) -> {value.key: number}
    options: type = NoOptions                           # frozen dataclass of knobs, fields from wgan.options.option
    summary: str = ""                                  # one line: what it measures and its paper
    datasets: tuple[str, ...] = DATASETS               # the data sets it applies to (wgan.data.DATASETS)
    cheap: bool = False                                # scored at a study's every point, not only its last

    def __post_init__(self) -> None:
        if not self.values:
            raise WganbenchError(f"metric {self.name!r} declares no values")
        if not (dataclasses.is_dataclass(self.options) and isinstance(self.options, type)):
            raise WganbenchError(f"metric {self.name!r}: options must be a dataclass type, got {self.options!r}")
        if not self.datasets:
            raise WganbenchError(f"metric {self.name!r} applies to no data set")
        for dataset in self.datasets:
            one_of(f"data set of metric {self.name!r}", dataset, DATASETS)


def _fid(inputs: Inputs, options: NoOptions) -> dict[str, float]:
    return fid(inputs.features, inputs.reference.mu, inputs.reference.sigma)


def _is(inputs: Inputs, options: ISOptions) -> dict[str, float]:
    return inception_score(inputs.logits, options.splits)


def _modes(inputs: Inputs, options: ModesOptions) -> dict[str, float]:
    probs = softmax(inputs.logits.astype(np.float64), axis=1)
    out = mode_coverage(probs, options.min_share, inputs.reference.class_share, options.confident_prob)
    del out["histogram"]  # a list, for reports that draw it; not a number of the row
    return out


def _kid(inputs: Inputs, options: KIDOptions) -> dict[str, float]:
    return kernel_inception_distance(inputs.reference.features, inputs.features, subsets=options.subsets,
                                     subset_size=options.subset_size, seed=inputs.seed)


def _prdc(inputs: Inputs, options: PRDCOptions) -> dict[str, float]:
    reference = inputs.reference
    if reference.k != options.k:
        raise WganbenchError(f"prdc_k={options.k}, but the reference statistics hold k-NN radii for k={reference.k}; "
                             "compute the reference with the same k")
    return prdc(reference.features, inputs.features, k=options.k, real_sq_radii=reference.sq_radii,
                chunk=options.chunk)


def _stacked(inputs: Inputs, options: StackedOptions) -> dict[str, float]:
    if inputs.stacked_logits is None:
        raise WganbenchError("metric 'stacked' needs the channel logits of Stacked MNIST samples "
                             "(Inputs.stacked_logits); score them with dataset='stacked-mnist'")
    logits = inputs.stacked_logits[:options.samples]
    out = stacked_modes(channel_digits(logits))
    del out["histogram"]  # a list, for reports that draw it; not a number of the row
    return {**out, **stacked_reading(logits, options.confident_prob)}


# Gated: FID and the class shares' KL to uniform, each on the log scale (positive and right-skewed; closer
# to normal there over the baseline's seeds, docs/DESIGN.md §7). Few gated values keep the gate's
# Bonferroni share per value large; the others are reported beside them and never fail a candidate.
METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("fid", (Value("fid", "lower", "FID ↓", gate="log"),), _fid, cheap=True,
           summary="Fréchet distance between Gaussians fitted to real and generated features (Heusel et al. 2017)"),
    Metric("is", (Value("is_mean", "higher", "IS ↑"), Value("is_std", None, "IS std")), _is, ISOptions,
           cheap=True, summary="inception score: confident and varied class predictions (Salimans et al. 2016)"),
    Metric("modes", (Value("modes_covered", "higher", "modes ↑"),
                     Value("kl_uniform", "lower", "KL(uniform) ↓", gate="log"),
                     Value("kl_test", "lower", "KL(test) ↓"),
                     Value("confident_share", "higher", "confident ↑")), _modes, ModesOptions, cheap=True,
           summary="digit classes covered and class-share KLs (Metz et al. 2017, Lin et al. 2018)"),
    Metric("kid", (Value("kid_mean", "lower", "KID ↓"), Value("kid_std", None, "KID std")), _kid,
           KIDOptions, summary="kernel inception distance: unbiased polynomial-kernel MMD² (Bińkowski et al. 2018)"),
    Metric("prdc", (Value("precision", "higher", "precision ↑"), Value("recall", "higher", "recall ↑"),
                    Value("density", "higher", "density ↑"), Value("coverage", "higher", "coverage ↑")),
           _prdc, PRDCOptions,
           summary="precision, recall, density and coverage of k-NN balls (Kynkäänniemi et al. 2019, Naeem et al. "
                   "2020)"),
    Metric("stacked", (Value("stacked_modes", "higher", "modes of 1000 ↑"),
                       Value("stacked_kl", "lower", "KL(1000 modes) ↓", gate="log"),
                       Value("stacked_confident_share", "higher", "stacks read ↑"),
                       Value("stacked_modes_confident", "higher", "modes read ↑"),
                       Value("stacked_modes_independent", None, "modes if independent")), _stacked, StackedOptions,
           cheap=True, summary="Stacked MNIST's three-digit modes covered, their KL to uniform and how much of the "
                               "count is read with confidence (Metz et al. 2017; VEEGAN, Srivastava et al. 2017; "
                               "PacGAN, Lin et al. 2018)", datasets=(STACKED_MNIST,)),
)}


def cheap_metrics(dataset: str = MNIST) -> tuple[str, ...]:
    """The metrics a study scores at its intermediate points: those without KID's subsets or PRDC's k-NN
    (docs/DESIGN.md §6), the ones that apply to ``dataset``."""
    return tuple(m.name for m in METRICS.values() if m.cheap and dataset in m.datasets)


def metric(name: str) -> Metric:
    """The table's entry ``name`` (an unknown name is a `WganbenchError` listing the known ones)."""
    one_of("metric", name, METRICS)
    return METRICS[name]


def values(names: Iterable[str] | None = None, *, dataset: str = MNIST) -> list[Value]:
    """The declared values of the metrics ``names`` (default: all) that apply to ``dataset`` (default
    plain MNIST), in table order."""
    one_of("dataset", dataset, DATASETS)
    wanted = set(METRICS) if names is None else {metric(name).name for name in names}
    return [v for m in METRICS.values() if m.name in wanted and dataset in m.datasets for v in m.values]


def value(key: str) -> Value:
    """The value declared under report-row key ``key`` (whatever data set its metric applies to)."""
    every = [v for m in METRICS.values() for v in m.values]
    for v in every:
        if v.key == key:
            return v
    raise WganbenchError(f"unknown metric value {key!r}; expected one of: {', '.join(v.key for v in every)}")


def row_keys(dataset: str = MNIST) -> tuple[str, ...]:
    """The keys of a full report row of ``dataset``: every value of the table that applies, then ``n``."""
    return (*(v.key for v in values(dataset=dataset)), "n")


def flat_options() -> dict[str, tuple[Metric, dataclasses.Field]]:
    """Every metric option by its flat name ``f"{metric.name}_{field.name}"``, in table order."""
    return {f"{m.name}_{f.name}": (m, f) for m in METRICS.values() for f in dataclasses.fields(m.options)}
