"""`EvalOptions`: every setting of an evaluation, with its default, help text and validation.

The general fields are declared here; each metric's knobs are declared by its options dataclass in
the metric table (`evaluators.metrics.METRICS`) and set through ``overrides`` under their flat names
``f"{metric}_{field}"`` (e.g. ``kid_subsets``). ``evaluate(x, n=2000, kid_subsets=10)`` and the
command line both end here (docs/DESIGN.md §1 Layers and data flow, How options work; §5 Metrics).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from evaluators.metrics import METRICS, Metric, flat_options, metric
from wgan.checks import non_negative_int, one_of, positive_int
from wgan.data import DATASETS, MNIST
from wgan.errors import WganbenchError
from wgan.options import option

SPLITS = ("test", "train")  # the real MNIST splits a reference can be
# The generator files of a run directory (the names wgan.rundir writes), by EvalOptions.generator.
GENERATOR_FILES = {"raw": "generator.keras", "ema": "generator_ema.keras"}


class FrozenMapping(Mapping):
    """An immutable, hashable mapping (a frozen dataclass's default must be hashable)."""

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        self._items = dict(items or {})

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._items.items())))

    def __repr__(self) -> str:
        return f"FrozenMapping({self._items!r})"


@dataclass(frozen=True)
class EvalOptions:
    n: int = option(10_000, "samples to score (drawn from a generator; the first N of an array)")
    seed: int = option(0, "seed of the latent draws and the KID subsets")
    batch_size: int = option(1_000, "batch size of the generator and classifier passes")
    reference: str = option("test", "real MNIST split to score against", choices=SPLITS)
    metrics: tuple[str, ...] | None = option(None, "metric groups to compute (default: all in the table)")
    overrides: Mapping[str, Any] = option(FrozenMapping(), "per-metric options, flat names like kid_subsets",
                                          cli=False)
    dataset: str = option(MNIST, "data set of the samples: MNIST, or Stacked MNIST (each channel scored as one "
                          "MNIST digit, plus the 1,000 three-digit modes)", choices=DATASETS)
    generator: str = option("raw", "generator of a run directory to score: raw (generator.keras) or ema (the "
                            "moving average of its weights, generator_ema.keras: train with --ema-decay)",
                            choices=tuple(GENERATOR_FILES))

    def __post_init__(self) -> None:
        positive_int("n", self.n)
        non_negative_int("seed", self.seed)
        positive_int("batch_size", self.batch_size)
        one_of("reference split", self.reference, SPLITS)
        one_of("dataset", self.dataset, DATASETS)
        one_of("generator", self.generator, GENERATOR_FILES)
        if self.metrics is not None:
            names = self.metrics.split(",") if isinstance(self.metrics, str) else self.metrics
            names = tuple(name.strip() if isinstance(name, str) else name for name in names)
            if not names:
                raise WganbenchError(f"metrics names no metric; expected some of: {', '.join(METRICS)}")
            for name in names:
                if self.dataset not in metric(name).datasets:
                    raise WganbenchError(f"metric {name!r} applies to {', '.join(metric(name).datasets)} only, not "
                                         f"to data set {self.dataset!r}")
            object.__setattr__(self, "metrics", names)
        if not isinstance(self.overrides, Mapping):
            raise WganbenchError(f"overrides must be a mapping of flat metric options, got {self.overrides!r}")
        object.__setattr__(self, "overrides", FrozenMapping(self.overrides))
        known = flat_options()
        for key in self.overrides:
            if key not in known:
                raise WganbenchError(f"unknown metric option {key!r}; expected one of: {', '.join(known)}")
        for name in METRICS:
            self.metric_options(name)  # validates the overrides' values
        kid = self.metric_options("kid") if any(m.name == "kid" for m in self.selected()) else None
        if kid is not None and self.n < kid.subset_size:  # say so before a study trains anything
            raise WganbenchError(f"n={self.n} samples cannot fill KID's subsets of {kid.subset_size}; score at least "
                                 f"{kid.subset_size} (--n), or lower --kid-subset-size, or leave KID out (--metrics)")

    def metric_options(self, name: str) -> Any:
        """The options instance of metric ``name``, with this evaluation's overrides applied."""
        m = metric(name)
        prefix = f"{m.name}_"
        return m.options(**{field.name: self.overrides[prefix + field.name] for field in dataclasses.fields(m.options)
                            if prefix + field.name in self.overrides})

    def selected(self) -> list[Metric]:
        """The metrics to compute, in table order: those named (default: all) that apply to the data set."""
        return [m for m in METRICS.values()
                if (self.metrics is None or m.name in self.metrics) and self.dataset in m.datasets]


def eval_options(options: EvalOptions | None = None, **kwargs: Any) -> EvalOptions:
    """``options`` (default: the defaults) with ``kwargs`` applied: `EvalOptions` fields or flat metric
    options such as ``kid_subsets``. An unknown keyword is a `WganbenchError` naming it."""
    options = options if options is not None else EvalOptions()
    if not kwargs:
        return options
    fields = [f.name for f in dataclasses.fields(EvalOptions)]
    known = flat_options()
    unknown = [key for key in kwargs if key not in fields and key not in known]
    if unknown:
        raise WganbenchError(f"unknown evaluation option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                             f"expected one of: {', '.join([*fields, *known])}")
    overrides = {**options.overrides, **kwargs.pop("overrides", {}), **{k: kwargs.pop(k) for k in list(kwargs)
                                                                        if k in known}}
    return dataclasses.replace(options, **kwargs, overrides=overrides)
