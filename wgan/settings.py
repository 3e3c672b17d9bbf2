"""The four named training settings as frozen dataclasses (docs/DESIGN.md §2 Settings and their sources).

Copy and change one with ``dataclasses.replace(SETTINGS["wgan"], n_critic=3)``; every field is
checked when a setting is made, so a bad copy fails at once with a :class:`WganbenchError`.

Wherever a setting is named (``wganbench train``, ``compare --settings``, the gate) its fields can be
changed in brackets: ``wgan-seed[clip_value=0.05,n_critic=5,update=alternating]``. :func:`get_setting`
parses that, checks every field as above, and names the result canonically (fields sorted, values
normalised, fields equal to the base's dropped: one recipe, one name); :func:`dirname` is the name as a
folder. A TOML file of the user's own named settings (``WGANBENCH_SETTINGS``, or the CLI's
``--settings-file``) holds one table per setting: ``[my-clip]`` with ``base = "wgan-seed"`` and fields.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from wgan import checks
from wgan.errors import WganbenchError
from wgan.objectives import LIPSCHITZ, LOSSES, Lipschitz, Loss
from wgan.options import split_list

OPTIMIZERS = ("adam", "rmsprop")
UPDATES = ("simultaneous", "alternating")
SCHEDULES = ("constant", "wgan-authors")
# The WGAN authors' reference code: 100 critic updates per generator step for the first 25 generator
# steps and at every 500th, n_critic otherwise.
WARMUP_STEPS, WARMUP_CRITIC, EVERY = 25, 100, 500


@dataclass(frozen=True)
class Setting:
    """One training recipe. Optimizer names are Keras' (defaults for every unlisted argument)."""

    name: str
    loss: str                      # a wgan.objectives.LOSSES name: "gan" (cross-entropy from logits) or "wasserstein"
    lipschitz: str                 # a LIPSCHITZ name: "none", "clip" (weights to ±clip_value) or "penalty" (gp_lambda)
    g_optimizer: str
    d_optimizer: str
    g_lr: float
    d_lr: float
    betas: tuple[float, float] = (0.9, 0.999)  # Adam's (β1, β2); unused by RMSprop
    rho: float = 0.9               # RMSprop's decay (Keras' default; PyTorch's alpha is 0.99); unused by Adam
    n_critic: int = 1              # critic updates per generator update
    # "simultaneous": one forward pass, both losses against the critic as it was before the step, both
    # gradients applied (the notebook); "alternating": n_critic critic updates, then the generator's
    # loss against the updated critic (the papers' Algorithm 1).
    update: str = "alternating"
    fresh_noise: bool = True       # the generator update draws its own z (Algorithm 1) or reuses the last critic's
    critic_schedule: str = "constant"  # or "wgan-authors": see critic_updates()
    batch_size: int = 256
    critic_dropout: float = 0.3
    clip_value: float = 0.01
    gp_lambda: float = 10.0
    noise_dim: int = 100
    width: int = 64
    g_batchnorm: bool = True       # BatchNorm after the generator's hidden layers (the notebook's); false: none
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        try:
            checks.one_of("loss", self.loss, LOSSES)
            checks.one_of("Lipschitz constraint", self.lipschitz, LIPSCHITZ)
            checks.one_of("generator optimizer", self.g_optimizer, OPTIMIZERS)
            checks.one_of("critic optimizer", self.d_optimizer, OPTIMIZERS)
            checks.positive_number("g_lr", self.g_lr)
            checks.positive_number("d_lr", self.d_lr)
            if len(self.betas) != 2:
                raise WganbenchError(f"betas must be two numbers in [0, 1), got {self.betas}")
            for beta in self.betas:
                checks.fraction("each of betas", beta)
            for name in ("n_critic", "batch_size", "noise_dim", "width"):
                checks.positive_int(name, getattr(self, name))
            checks.fraction("critic_dropout", self.critic_dropout)
            checks.fraction("rho", self.rho)
            checks.one_of("update order", self.update, UPDATES)
            checks.one_of("critic schedule", self.critic_schedule, SCHEDULES)
            if self.update == "simultaneous" and (self.n_critic != 1 or self.critic_schedule != "constant"):
                raise WganbenchError("a simultaneous update has one critic update per step: n_critic 1, "
                                     "constant schedule")
            checks.positive_number("clip_value", self.clip_value)
            if self.gp_lambda < 0:
                raise WganbenchError(f"gp_lambda must be non-negative, got {self.gp_lambda}")
            if self.constraint.needs_distance and not self.objective.estimates_distance:
                raise WganbenchError(f"a {self.lipschitz!r} Lipschitz constraint needs a loss whose critic "
                                     "estimates a distance (wasserstein)")
        except WganbenchError as err:
            raise WganbenchError(f"setting {self.name!r}: {err}") from None

    @property
    def objective(self) -> Loss:
        """The loss record: what the critic and the generator minimise."""
        return LOSSES[self.loss]

    @property
    def constraint(self) -> Lipschitz:
        """The Lipschitz method's record."""
        return LIPSCHITZ[self.lipschitz]

    def critic_updates(self, step: int) -> int:
        """Critic updates in generator step ``step`` (0-based)."""
        if self.critic_schedule == "wgan-authors" and (step < WARMUP_STEPS or step % EVERY == 0):
            return WARMUP_CRITIC
        return self.n_critic

    def critic_updates_before(self, step: int) -> int:
        """Critic updates in all generator steps before ``step``: where step ``step``'s data begins."""
        if self.critic_schedule != "wgan-authors":
            return self.n_critic * step
        extra = min(step, WARMUP_STEPS) + max(0, (step - 1) // EVERY)  # steps 0..24, then 500, 1000, ...
        return self.n_critic * step + (WARMUP_CRITIC - self.n_critic) * extra


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("gan", loss="gan", lipschitz="none", g_optimizer="adam", d_optimizer="adam",
            g_lr=1e-4, d_lr=1e-4, update="simultaneous", fresh_noise=False,
            source="the notebook's DCGAN baseline: its train_step with cross-entropy losses (simultaneous update, "
                   "one z batch for both losses), Adam(1e-4) with Keras' defaults, batch 256"),
    Setting("wgan-seed", loss="wasserstein", lipschitz="clip", g_optimizer="adam", d_optimizer="adam",
            g_lr=1e-4, d_lr=1e-4, update="simultaneous", fresh_noise=False,
            source="the original notebook's WGAN train_step (simultaneous update, one z batch for both losses), "
                   "Adam(1e-4), clipping ±0.01, batch 256"),
    Setting("wgan", loss="wasserstein", lipschitz="clip", g_optimizer="rmsprop", d_optimizer="rmsprop",
            g_lr=5e-5, d_lr=5e-5, rho=0.99, n_critic=5, batch_size=64, critic_schedule="wgan-authors",
            source="Arjovsky et al. 2017, Algorithm 1 (alternating, fresh z for the generator, RMSprop 5e-5, "
                   "n_critic 5, clipping ±0.01, batch 64) with the authors' reference code's critic schedule "
                   "(100 critic updates for the first 25 generator steps and every 500th) and RMSprop alpha 0.99"),
    # No critic dropout: a penalty on a stochastic critic is ill-defined (docs/DESIGN.md §2).
    Setting("wgan-gp", loss="wasserstein", lipschitz="penalty", g_optimizer="adam", d_optimizer="adam",
            g_lr=1e-4, d_lr=1e-4, betas=(0.5, 0.9), n_critic=5, batch_size=64, critic_dropout=0.0,
            source="Gulrajani et al. 2017, Algorithm 1 (alternating, fresh z for the generator, λ 10, n_critic 5, "
                   "Adam 1e-4) with the Adam betas (0.5, 0.9) of the authors' MNIST script gan_mnist.py (the "
                   "algorithm says (0, 0.9)); batch 64 as in our other n_critic-5 setting (the script used 50)"),
)}


SETTINGS_ENV = "WGANBENCH_SETTINGS"  # a TOML file of named settings
BASE = "base"                        # a file entry's base setting
FIXED = ("name", "source")           # fields a name's brackets cannot change
_SPEC = re.compile(r"(?P<base>[^\[\]]+?)\s*(?:\[(?P<fields>[^\[\]]*)\])?")
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def get_setting(setting: str | Setting) -> Setting:
    """A setting by name, built-in or from the settings file, with any fields changed in brackets
    (``wgan-seed[clip_value=0.05]``); a :class:`Setting` passes through. Unknown names list the known ones,
    unknown fields the valid ones, bad values what is allowed."""
    if isinstance(setting, Setting):
        return setting
    match = _SPEC.fullmatch(setting.strip()) if isinstance(setting, str) else None
    if match is None:
        raise WganbenchError(f"unknown setting {setting!r}; known settings: {', '.join(known())}")
    base = _named(match["base"])
    return with_fields(base, _parse_fields(match["fields"], base.name)) if match["fields"] is not None else base


def _named(name: str) -> Setting:
    held = {**SETTINGS, **file_settings()}
    if name not in held:
        raise WganbenchError(f"unknown setting {name!r}; known settings: {', '.join(held)}")
    return held[name]


def known() -> list[str]:
    """The names a setting can be given by: the built-in ones, then the settings file's."""
    return [*SETTINGS, *file_settings()]


def _parse_fields(text: str, base: str) -> dict[str, str]:
    changes = {}
    for item in split_list(text):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not value:
            raise WganbenchError(f"setting {base}[{text}]: expected FIELD=VALUE, got {item!r}")
        changes[key] = value
    return changes


def _coerce(name: str, value: Any, kind: Any) -> Any:
    """``value`` (text from a name, or a TOML value) as field ``name``'s type."""
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            lowered = str(value).lower()
            if lowered not in ("true", "false"):
                raise ValueError
            return lowered == "true"
        if typing.get_origin(kind) is tuple:
            parts = split_list(value.strip("()")) if isinstance(value, str) else list(value)
            return tuple(float(p) for p in parts)
        if kind in (int, float) and isinstance(value, bool):
            raise ValueError
        if kind is int and isinstance(value, float):
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        what = {bool: "true or false", int: "an integer", float: "a number", str: "a name"}.get(kind, "numbers (a, b)")
        raise WganbenchError(f"setting field {name} must be {what}, got {value!r}") from None


def with_fields(base: Setting, changes: dict[str, Any], *, name: str | None = None, source: str = "") -> Setting:
    """``base`` with ``changes`` (text or typed values) applied and checked, named canonically unless ``name``."""
    kinds = typing.get_type_hints(Setting)
    valid = [f.name for f in fields(Setting) if f.name not in FIXED]
    unknown = [key for key in changes if key not in valid]
    if unknown:
        raise WganbenchError(f"setting {base.name!r} has no field {unknown[0]!r}; valid fields: {', '.join(valid)}")
    typed = {key: _coerce(key, value, kinds[key]) for key, value in changes.items()}
    differ = {key: value for key, value in sorted(typed.items()) if getattr(base, key) != value}
    shown = ",".join(f"{key}={_text(value)}" for key, value in differ.items())
    canonical = f"{base.name}[{shown}]" if shown else base.name
    return replace(base, **differ, name=name or canonical, source=source or base.source)


def _text(value: Any) -> str:
    """A field's value as a canonical name writes it: floats by ``repr`` (shortest round trip)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "(" + ",".join(_text(v) for v in value) + ")"
    return repr(float(value)) if isinstance(value, float) else str(value)


def dirname(name: str) -> str:
    """A setting's name as a folder name: brackets, commas and parentheses become ``+``."""
    return re.sub(r"[^A-Za-z0-9._=-]+", "+", name).strip("+")


def changed_fields(setting: str | Setting) -> dict[str, Any]:
    """The fields in which ``setting`` differs from the built-in setting it derives from ({} for one of the
    four; every field but the name for a setting made in Python from none)."""
    setting = get_setting(setting)
    root = _root(setting.name)
    base = SETTINGS.get(root)
    return {f.name: getattr(setting, f.name) for f in fields(Setting) if f.name not in FIXED
            and (base is None or getattr(setting, f.name) != getattr(base, f.name))}


def _root(name: str) -> str:
    base = name.split("[", 1)[0].strip()
    return _file()[1].get(base, base)


def file_settings() -> dict[str, Setting]:
    """The settings file's named settings ({} without one), checked as a name's brackets are."""
    return _file()[0]


def _file() -> tuple[dict[str, Setting], dict[str, str]]:
    path = os.environ.get(SETTINGS_ENV)
    if not path:
        return {}, {}
    try:
        return _load(str(Path(path).resolve()), Path(path).stat().st_mtime_ns)
    except OSError as err:
        raise WganbenchError(f"settings file {path}: {err.strerror or err}") from None


@functools.cache
def _load(path: str, _mtime: int) -> tuple[dict[str, Setting], dict[str, str]]:
    """(named settings, each one's built-in root), in file order; an entry's base may be an earlier one."""
    try:
        doc = tomllib.loads(Path(path).read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise WganbenchError(f"settings file {path}: not valid TOML ({err})") from None
    held: dict[str, Setting] = {}
    roots: dict[str, str] = {}
    for name, entry in doc.items():
        where = f"settings file {path}, [{name}]"
        if not isinstance(entry, dict) or not isinstance(entry.get(BASE), str):
            raise WganbenchError(f"{where}: expected a table with base = \"SETTING\" and fields to change")
        if not _FILE_NAME.fullmatch(name) or name in SETTINGS:
            raise WganbenchError(f"{where}: a setting's name is letters, digits, '.', '_' and '-', and not one "
                                 f"of the built-in {', '.join(SETTINGS)}")
        base_name = entry[BASE]
        base = held.get(base_name) or SETTINGS.get(base_name)
        if base is None:
            raise WganbenchError(f"{where}: unknown base {base_name!r}; known: {', '.join([*SETTINGS, *held])}")
        changes = {k: v for k, v in entry.items() if k != BASE}
        try:
            spec = with_fields(base, changes)
            held[name] = replace(spec, name=name, source=f"{path}: {spec.name}")
        except WganbenchError as err:
            raise WganbenchError(f"{where}: {err}") from None
        roots[name] = roots.get(base_name, base_name)
    return held, roots
