"""`wganbench ablate`: from a base setting, one factor changed at a time toward a target setting, plus a
sweep of one field, each variant × seeds trained and scored by `compare`'s study (docs/DESIGN.md §6
Ablations).

The factors are the target's differing fields (``Setting``'s fields, compared one by one), grouped where
fields only make sense together (`FACTORS`). A factor that is not a valid setting on the base alone (the
authors' critic schedule needs the alternating update) is changed on top of the first earlier factor
that makes it valid, and its effect is measured against that variant, not the base.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from wgan.errors import WganbenchError
from wgan.options import option, split_list
from wgan.settings import FIXED, SETTINGS, Setting, get_setting, with_fields

# Fields changed together as one factor, and why: each group's fields configure one thing.
FACTORS: dict[str, tuple[tuple[str, ...], str]] = {
    "optimizer": (("g_optimizer", "d_optimizer", "g_lr", "d_lr", "betas", "rho"),
                  "a learning rate, RMSprop's rho and Adam's betas configure the optimizer they belong to"),
    "update": (("update", "n_critic", "fresh_noise"),
               "n_critic and the generator's fresh z exist only in the alternating update"),
}
FACTOR, SWEEP, BASE, REFERENCE = "factor", "sweep", "base", "reference"
DEFAULT_REFERENCES = ("gan",)
ABLATE_DIR = "main-ablation"  # the default report and runs folders (git-ignored as the main job's)


@dataclass(frozen=True)
class Variant:
    """One setting of the ablation: what it changes (``changes``, a field → value map applied to the base)
    and the setting its effect is measured against (``against``; "" for the base and the references)."""

    name: str
    kind: str                      # BASE, FACTOR, SWEEP or REFERENCE
    factor: str                    # the factor's label ("optimizer", "batch_size", "clip_value=0.05")
    changes: dict[str, Any]
    against: str = ""
    fields: tuple[str, ...] = ()   # the factor's own fields (``changes`` also holds what it is changed on top of)
    why: str = ""                  # why a factor's fields go together, or what it is changed on top of


def differing(base: Setting, target: Setting) -> list[str]:
    """The fields (all but name and source) in which ``target`` differs from ``base``, in `Setting` order."""
    return [f.name for f in fields(Setting) if f.name not in FIXED and getattr(base, f.name) != getattr(target, f.name)]


def factors(base: Setting, target: Setting) -> list[tuple[str, tuple[str, ...], str]]:
    """(label, fields, why) of each factor: `FACTORS`' groups that the target changes, then every other
    differing field alone."""
    left = differing(base, target)
    out = []
    for label, (group, why) in FACTORS.items():
        held = tuple(f for f in left if f in group)
        if held:
            out.append((label, held, why if len(held) > 1 else ""))
    grouped = {f for label, held, _ in out for f in held}
    return out + [(f, (f,), "") for f in left if f not in grouped]


def _factor_variants(base: Setting, target: Setting) -> list[Variant]:
    out: list[Variant] = []
    for label, group, why in factors(base, target):
        changes = {f: getattr(target, f) for f in group}
        try:
            out.append(Variant(with_fields(base, changes).name, FACTOR, label, changes, base.name, group, why))
            continue
        except WganbenchError as alone:
            problem = str(alone).partition(": ")[2] or str(alone)  # without the setting's name
        for prior in out:  # not valid alone: on top of the first earlier factor that makes it valid
            try:
                spec = with_fields(base, {**prior.changes, **changes})
            except WganbenchError:
                continue
            on_top = f"not a valid setting alone ({problem}): changed on top of `{prior.factor}`"
            out.append(Variant(spec.name, FACTOR, label, {**prior.changes, **changes}, prior.name, group,
                               "; ".join(filter(None, (why, on_top)))))
            break
        else:
            raise WganbenchError(f"changing {label} alone is not a valid setting: {problem}")
    return out


def parse_vary(text: str) -> tuple[str, list[str]]:
    """``FIELD=V1,V2,...`` as (field, values)."""
    field, sep, values = (part.strip() for part in text.partition("="))
    items = split_list(values)
    if not sep or not field or not items:
        raise WganbenchError(f"vary: expected FIELD=V1,V2,..., got {text!r}")
    return field, items


def sweep(base: Setting, text: str) -> tuple[list[Variant], list[str]]:
    """The sweep's variants (one per value, each checked as a setting) and a note per value dropped for
    being the base's own."""
    field, values = parse_vary(text)
    variants, notes = [], []
    for value in values:
        spec = with_fields(base, {field: value})  # a bad field names the valid ones; a bad value what is allowed
        if spec == base:
            notes.append(f"ablate: --vary {field}={value} is {base.name}'s own value: dropped (the base is in "
                         "the study)")
            continue
        shown = spec.name.partition("[")[2].rstrip("]")
        variants.append(Variant(spec.name, SWEEP, shown, {field: getattr(spec, field)}, base.name, (field,)))
    return variants, notes


@dataclass(frozen=True)
class AblateOptions:
    """An ablation: every field but ``base`` is a `wganbench ablate` flag (the study's flags are
    `compare`'s). Checked, and the variants listed, before any training."""

    base: str = option("wgan-seed", "the setting every factor is changed from", cli=False)
    toward: str | None = option(None, "the target setting: each field in which it differs from the base is changed "
                                "alone (fields that only make sense together as one factor)")
    vary: str | None = option(None, "a sweep of one field of the base: FIELD=V1,V2,... (e.g. "
                              "clip_value=0.005,0.01,0.02,0.05,0.1); a value equal to the base's is dropped")
    references: tuple[str, ...] = option(DEFAULT_REFERENCES, "settings trained beside the variants, each variant "
                                         "also compared with `gan` when it is among them (the target is always one)")

    def __post_init__(self) -> None:
        if self.toward is None and self.vary is None:
            raise WganbenchError("give --toward SETTING, --vary FIELD=V1,V2,..., or both")

    def variants(self) -> tuple[list[Variant], list[str]]:
        """The base, each factor toward the target, the sweep, then the references; and the notes."""
        base = get_setting(self.base)
        out = [Variant(base.name, BASE, BASE, {})]
        target = get_setting(self.toward) if self.toward else None
        if target is not None:
            if not differing(base, target):
                raise WganbenchError(f"{target.name} differs from {base.name} in no field; valid "
                                     f"settings: {', '.join(SETTINGS)}")
            out += _factor_variants(base, target)
        notes: list[str] = []
        if self.vary:
            swept, notes = sweep(base, self.vary)
            out += swept
        held = {v.name for v in out}
        refs = [*self.references, *([target.name] if target else [])]
        out += [Variant(name, REFERENCE, REFERENCE, {}) for name in dict.fromkeys(get_setting(r).name for r in refs)
                if name not in held]
        return out, notes


def variants(base: str, toward: str | None = None, vary: str | None = None) -> list[str]:
    """The settings an ablation trains, in order (references included)."""
    return [v.name for v in AblateOptions(base, toward, vary).variants()[0]]


def record(plan: list[Variant]) -> list[dict[str, Any]]:
    """The variants as the study's study.json holds them (the report's ablation section reads them)."""
    return [asdict(v) for v in plan]
