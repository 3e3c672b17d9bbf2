"""`TrainOptions`: how one run trains, each field's roles declared once (`wgan.options`).

Importable without TensorFlow: the study's report and the gate read which options make a run's recipe
from here. ``config.json`` records the ``RECIPE`` fields (:func:`recipe_of`), a resume compares
:func:`resume_keys`, the gate compares :func:`gate_keys`; a new field with roles is in all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from wgan import checks
from wgan.data import DATASETS, MNIST
from wgan.errors import WganbenchError
from wgan.objectives import CLIP_IMPLS, DEFAULT_CLIP_IMPL
from wgan.options import GATE, RECIPE, RESUME, option, with_role
from wgan.settings import Setting, get_setting

DEFAULT_STEPS = 1000
MIXED_PRECISION = (None, "float32", "bfloat16")
STRATEGIES = (None, "default", "mirrored")
SETTING = "setting"  # config.json's record of the setting (every field), part of every recipe
DIGITS = tuple(range(10))  # MNIST's labels, which --digits chooses among


@dataclass(frozen=True)
class TrainOptions:
    """How one run trains; every field is a `wganbench train` flag. Checked when made."""

    steps: int | None = option(None, f"generator steps to train to (default {DEFAULT_STEPS} unless "
                               "--budget-seconds; with both, whichever comes first)", roles=(RECIPE, GATE),
                               contrast="")
    seed: int = option(0, "seed for weights, data order and noise", roles=(RECIPE, RESUME))
    out_dir: str | None = option(None, "run directory (default: <results>/runs/SETTING-sSEED)")
    budget_seconds: float | None = option(None, "stop after this many seconds of training, counted across resumes",
                                          roles=(RECIPE,), contrast="")
    # batch_size and width change the setting, so config.json records them inside it.
    batch_size: int | None = option(None, "batch size; 0 or unset = the setting's own", roles=(GATE,),
                                    contrast="batch ")
    width: int | None = option(None, "narrowest feature map of both networks; 0 or unset = the setting's "
                               "own (the notebook's 64)", roles=(GATE,), contrast="width ")
    mixed_precision: str | None = option(None, "compute in bfloat16 (variables and losses stay float32); on a "
                                         "CPU without native bfloat16 add --jit-compile", choices=("bfloat16",),
                                         roles=(RECIPE, RESUME, GATE), contrast="")
    strategy: str | None = option(None, "tf.distribute strategy: mirrored = all GPUs, or all logical CPUs "
                                  "without one", choices=("default", "mirrored"), roles=(RECIPE,))
    clip_impl: str | None = option(None, f"weight-clipping implementation of clipping settings (default "
                                   f"{DEFAULT_CLIP_IMPL})", choices=CLIP_IMPLS, roles=(RECIPE, RESUME))
    resume: bool = option(False, "continue the run in --out-dir from its last checkpoint")
    force: bool = option(False, "delete the run held in --out-dir and start over")
    checkpoint_every: int = option(100, "steps between checkpoints (each also writes a sample grid and "
                                   "generator.keras)", roles=(RECIPE,))
    quiet: bool = option(False, "no progress bar")
    deterministic: bool = option(True, "TensorFlow op determinism: a resumed run equals an unbroken one "
                                 "(process-wide and one-way)", roles=(RECIPE,))
    jit_compile: bool = option(False, "compile the training step with XLA", roles=(RECIPE, GATE), contrast="XLA ")
    threads: int | None = option(None, "TensorFlow threads of this process (intra- and inter-op); unset = "
                                 "TensorFlow's choice. Part of the recipe: set it before TensorFlow starts",
                                 roles=(RECIPE,))
    dataset: str = option(MNIST, "data set: MNIST, or Stacked MNIST (three digits per RGB image, 1,000 modes; "
                          "networks with 3 channels)", choices=DATASETS, roles=(RECIPE, RESUME, GATE), contrast="")

    ema_decay: float | None = option(None, "keep an exponential moving average of the generator's weights with "
                                     "this decay (e.g. 0.999), saved as generator_ema.keras; unset = none",
                                     roles=(RECIPE, RESUME, GATE), contrast="EMA ")
    digits: tuple[int, ...] | None = option(None, "train on the MNIST images of these digits only (e.g. 0,1,2,3,4,5,6: "
                                            "a generator that never learns the rest); unset = all ten",
                                            roles=(RECIPE, RESUME, GATE))

    def __post_init__(self) -> None:
        checks.positive_int("steps", self.steps, optional=True)
        checks.non_negative_int("seed", self.seed)
        checks.positive_number("budget_seconds", self.budget_seconds, optional=True)
        for name in ("batch_size", "width"):  # 0 means the setting's own, on every command
            value = getattr(self, name)
            if value is not None:
                checks.non_negative_int(name, value)
                if value == 0:
                    object.__setattr__(self, name, None)
        checks.positive_int("checkpoint_every", self.checkpoint_every)
        checks.positive_int("threads", self.threads, optional=True)
        checks.one_of("mixed precision", self.mixed_precision, MIXED_PRECISION)
        if self.strategy is None or isinstance(self.strategy, str):  # or a tf.distribute.Strategy, from Python
            checks.one_of("strategy", self.strategy, STRATEGIES)
        checks.one_of("clipping implementation", self.clip_impl, (None, *CLIP_IMPLS))
        checks.one_of("dataset", self.dataset, DATASETS)
        if self.ema_decay is not None:
            checks.fraction("ema_decay", self.ema_decay)
        if self.digits is not None:
            object.__setattr__(self, "digits", checked_digits(self.digits, self.dataset))
        if self.steps is None and self.budget_seconds is None:
            object.__setattr__(self, "steps", DEFAULT_STEPS)

    def setting_for(self, setting: str | Setting) -> Setting:
        """The setting with this run's batch size and width applied."""
        setting = get_setting(setting)
        if self.batch_size is not None:
            setting = replace(setting, batch_size=self.batch_size)
        if self.width is not None:
            setting = replace(setting, width=self.width)
        return setting

    def recorded(self, name: str, setting: Setting) -> Any:
        """Option ``name`` as config.json records it: the clipping a run of ``setting`` really uses, a
        strategy object by its class name; the others as given."""
        value = getattr(self, name)
        if name == "clip_impl":
            return (value or DEFAULT_CLIP_IMPL) if setting.constraint.clips else "none"
        if name == "strategy" and value is not None and not isinstance(value, str):
            return type(value).__name__
        return value


def checked_digits(digits: Any, dataset: str) -> tuple[int, ...] | None:
    """``digits`` as distinct MNIST labels in ascending order; all ten are no filter (None: one recipe, one
    record, and the same images in the same order)."""
    given = tuple(digits) if isinstance(digits, (tuple, list)) else (digits,)
    if not given or any(type(d) is not int or d not in DIGITS for d in given) or len(set(given)) < len(given):
        raise WganbenchError(f"digits must be distinct labels among {', '.join(map(str, DIGITS))}, got "
                             f"{', '.join(map(str, given)) or 'none'}")
    if dataset != MNIST:
        raise WganbenchError(f"digits filters MNIST's training images by label; data set {dataset!r} has no such "
                             "filter")
    return None if len(given) == len(DIGITS) else tuple(sorted(given))


def recipe_of(options: TrainOptions, setting: Setting) -> dict[str, Any]:
    """What config.json records of a run: the setting (every field) and each ``RECIPE`` option."""
    return {SETTING: {f.name: getattr(setting, f.name) for f in fields(setting)},
            **{name: options.recorded(name, setting) for name in with_role(type(options), RECIPE)}}


def resume_keys(cls: type = TrainOptions) -> tuple[str, ...]:
    """What must match to resume a run: the setting and the ``RESUME`` options."""
    return (SETTING, *with_role(cls, RESUME))


def gate_keys(cls: type = TrainOptions) -> tuple[str, ...]:
    """The training part of the gate's recipe: the setting's name and the ``GATE`` options."""
    return (SETTING, *with_role(cls, GATE))
