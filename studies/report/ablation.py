"""The ablation's section of the report (`wganbench ablate`, docs/DESIGN.md §6 Ablations): each variant's
effect against the setting it changes (the base, or the variant a factor is changed on top of) and
against `gan`, with its time to the digits target, and a findings line per factor.

Effects are the compare report's comparisons (`studies.report.tables.comparisons`: the ratio of
geometric-mean final FID, Welch's t on log FID), each family Bonferroni over the variants, so a
variant "moves FID" exactly where its simultaneous interval excludes 1, which is where its adjusted
p < 0.05. The variants come from the study's ``study.json`` (``ablation``), so `report study` rebuilds
the section from the committed tables.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from studies import stats
from studies.report.page import Section
from studies.report.tables import FID, GAN, comparisons
from studies.schema import SETTING
from wgan.settings import changed_fields

ABLATION = "ablation"  # the study.json key holding the variants (studies.run.ablate.record)
EFFECT_KINDS = ("factor", "sweep")


def _effects(final: pd.DataFrame, plan: list[dict[str, Any]], noise: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(each variant against its own reference, each variant against `gan`), one Bonferroni family each."""
    held = set(final[SETTING])
    effect = [v for v in plan if v["kind"] in EFFECT_KINDS and v["name"] in held and v["against"] in held]
    own = comparisons(final, noise=noise, compared=[(v["name"], v["against"]) for v in effect])
    vs_gan = [(v["name"], GAN) for v in effect if GAN in held and v["name"] != GAN]
    return own, comparisons(final, noise=noise, compared=vs_gan)


def _changed(name: str) -> str:
    """The fields a variant changes from its built-in setting, as its name writes them (booleans lower case)."""
    return ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in changed_fields(name).items())


def _what(variant: dict[str, Any]) -> str:
    if variant["kind"] == "sweep":
        return f"`{variant['factor']}`"
    fields = ", ".join(variant["fields"])
    return f"`{variant['factor']}`" + (f" ({fields})" if fields != variant["factor"] else "")


def effect_line(variant: dict[str, Any], row: pd.Series) -> str:
    """'changing X alone moves FID by ×r [CI]' where the interval excludes 1, else 'no effect detected'."""
    on_top = f" on top of `{row['b']}`" if "on top of" in variant["why"] else ""
    what = f"Changing {_what(variant)} alone{on_top}"
    numbers = f"FID `{row['b']}` {row[f'{FID}_b']:.1f} → {row[f'{FID}_a']:.1f}"
    seeds = int(min(row["seeds_a"], row["seeds_b"]))
    if math.isnan(row["p"]):
        why = "one seed gives no interval" if seeds < 2 else "no spread to test"
        return f"{what}: no effect detected with {seeds} seed{'s' * (seeds != 1)} ({numbers}; {why})."
    evidence = (f"ratio {stats.fmt(row['ratio'], 3)}, {100 * row['level']:.3g}% simultaneous CI "
                f"[{stats.fmt(row['ci_low'], 3)}, {stats.fmt(row['ci_high'], 3)}], Bonferroni p = {row['p_adj']:.2g} "
                f"over {row['family']} variants")
    if row["ci_low"] > 1 or row["ci_high"] < 1:
        near = "; both near noise" if row["both_near_noise"] else ""
        return (f"{what} moves FID by ×{stats.fmt(row['ratio'], 3)} [{stats.fmt(row['ci_low'], 3)}, "
                f"{stats.fmt(row['ci_high'], 3)}] ({numbers}; {evidence}{near}).")
    return f"{what}: no effect detected with {seeds} seeds ({numbers}; {evidence})."


def sections(final: pd.DataFrame, meta: dict[str, Any], noise: float, reach: pd.DataFrame) -> list[Section]:
    """The ablation's section, or none for a study that is not an ablation."""
    plan = meta.get(ABLATION)
    if not plan:
        return []
    own, vs_gan = _effects(final, plan, noise)
    for table in (own, vs_gan):
        table["family"] = len(table)
    by_name = {v["name"]: v for v in plan}
    gan = vs_gan.set_index("a") if len(vs_gan) else None
    time = reach.set_index(SETTING)["time to target"] if len(reach) else pd.Series(dtype=object)
    rows = []
    for _, row in own.iterrows():
        v = by_name[row["a"]]
        g = gan.loc[row["a"]] if gan is not None and row["a"] in gan.index else None
        rows.append({"variant": f"`{row['a']}`", "factor": v["factor"], "changed fields": _changed(row["a"]),
                     "against": f"`{row['b']}`", "seeds": f"{row['seeds_a']} vs {row['seeds_b']}",
                     "FID ratio": stats.fmt(row["ratio"], 3),
                     "simultaneous CI": stats.format_interval(row["ci_low"], row["ci_high"],
                                                              min(row["seeds_a"], row["seeds_b"])),
                     "p (Bonferroni)": stats.fmt(row["p_adj"], 2),
                     "vs `gan`": "" if g is None else f"{stats.fmt(g['ratio'], 3)} "
                     f"{stats.format_interval(g['ci_low'], g['ci_high'], min(g['seeds_a'], g['seeds_b']))}",
                     "time to target": time.get(row["a"], "")})
    grouped = [f"`{v['factor']}` ({v['why']})" for v in plan if v["why"]]
    findings = tuple(effect_line(by_name[row["a"]], row) for _, row in own.iterrows())
    if grouped:
        findings += ("Ablation factors changed as one: " + "; ".join(grouped) + ".",)
    level = f"{100 * own['level'].iloc[0]:.3g}%" if len(own) else "95%"
    changed = pd.DataFrame([{SETTING: v["name"], "kind": v["kind"], "factor": v["factor"], "against": v["against"],
                             "changed_fields": _changed(v["name"]), "why": v["why"]} for v in plan])
    return [Section(f"Ablation: each variant against the setting it changes ({level} simultaneous intervals, "
                    f"Bonferroni over {len(own)} variants; against `gan` likewise)",
                    "Welch's t on log FID, the ratio of geometric means (variant over reference) with its Bonferroni "
                    "interval; time to the digits target from the Kaplan–Meier table",
                    pd.DataFrame(rows), {"ablation_effects": own, "ablation_vs_gan": vs_gan,
                                         "ablation_variants": changed}, findings)]
