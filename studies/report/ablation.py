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


def _ratio(row: pd.Series) -> str:
    return (f"×{stats.fmt(row['ratio'], 3)} {stats.format_interval(row['ci_low'], row['ci_high'], 2)}, "
            f"FID {row[f'{FID}_a']:.1f} against {row[f'{FID}_b']:.1f}")


def _lower(row: pd.Series) -> bool:
    return bool(row["ci_high"] < 1)  # the simultaneous interval of the variant's FID ratio lies below 1


def answer_line(plan: list[dict[str, Any]], own: pd.DataFrame, vs_gan: pd.DataFrame, base_vs_gan: pd.DataFrame) -> str:
    """The ablation's first finding: whether the swept field is why the base looks worse than `gan`, and which
    factor toward the target matters most, each from the simultaneous intervals (never from point estimates
    alone)."""
    base = next((v["name"] for v in plan if v["kind"] == "base"), "")
    kind = {v["name"]: v for v in plan}
    own = own.set_index("a", drop=False)
    parts = []
    if len(base_vs_gan):
        b = base_vs_gan.iloc[0]
        worse = b["ci_low"] > 1
        parts.append(f"`{base}` {'is' if worse else 'is not detectably'} worse than `{GAN}` ({_ratio(b)}, "
                     f"95% CI, Welch on log FID)")
    swept = own[[kind[a]["kind"] == "sweep" for a in own.index]]
    if len(swept):
        field = kind[swept.index[0]]["fields"][0]
        better = swept[[_lower(r) for _, r in swept.iterrows()]]
        best = (better if len(better) else swept).sort_values("ratio").iloc[0]
        g = vs_gan.set_index("a").loc[best["a"]] if GAN in set(vs_gan["b"]) and best["a"] in set(vs_gan["a"]) \
            else None
        if not len(better):
            parts.append(f"{field} is not shown to be why: no value of the sweep moves FID below the base's with "
                         f"{int(swept['seeds_a'].min())} seeds (closest `{best['a']}`: {_ratio(best)})")
        elif g is None:  # no `gan` in the study to say whether the gap closes
            parts.append(f"{field} matters: `{best['a']}` lowers FID {_ratio(best)}")
        elif g["ci_low"] > 1:
            parts.append(f"{field} is part of why: `{best['a']}` lowers FID {_ratio(best)}, but stays worse than "
                         f"`{GAN}` (×{stats.fmt(g['ratio'], 3)} {stats.format_interval(g['ci_low'], g['ci_high'], 2)})")
        else:
            against = f" (×{stats.fmt(g['ratio'], 3)} {stats.format_interval(g['ci_low'], g['ci_high'], 2)})"
            relation = "is better than" if g["ci_high"] < 1 else "no longer differs detectably from"
            parts.append(f"{field} is why, within these seeds: `{best['a']}` lowers FID {_ratio(best)} and "
                         f"{relation} `{GAN}`{against}")
    factors = own[[kind[a]["kind"] == "factor" for a in own.index]]
    if len(factors):
        helped = factors[[_lower(r) for _, r in factors.iterrows()]].sort_values("ratio")
        if len(helped):
            top = helped.iloc[0]
            also = [f"`{kind[a]['factor']}`" for a in helped.index[1:]]
            parts.append(f"the departure that matters most is `{kind[top['a']]['factor']}` ({_ratio(top)})"
                         + (f"; also detected: {', '.join(also)}" if also else ""))
        else:
            top = factors.sort_values("ratio").iloc[0]
            parts.append(f"no departure alone moves FID detectably with {int(factors['seeds_a'].min())} seeds "
                         f"(largest estimate `{kind[top['a']]['factor']}`: {_ratio(top)})")
    return ("The notebook's question, answered (simultaneous intervals of the FID ratio, variant over what it "
            "changes): " + "; ".join(parts) + ".") if parts else ""


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
    base = next((v["name"] for v in plan if v["kind"] == "base"), "")
    held = set(final[SETTING])
    base_vs_gan = comparisons(final, noise=noise, compared=[(base, GAN)]) if {base, GAN} <= held else vs_gan[:0]
    answer = answer_line(plan, own, vs_gan, base_vs_gan)
    findings = (*((answer,) if answer else ()), *(effect_line(by_name[row["a"]], row) for _, row in own.iterrows()))
    if grouped:
        findings += ("Ablation factors changed as one: " + "; ".join(grouped) + ".",)
    level = f"{100 * own['level'].iloc[0]:.3g}%" if len(own) else "95%"
    changed = pd.DataFrame([{SETTING: v["name"], "kind": v["kind"], "factor": v["factor"], "against": v["against"],
                             "changed_fields": _changed(v["name"]), "why": v["why"]} for v in plan])
    if len(base_vs_gan):
        base_vs_gan["family"] = 1
    return [Section(f"Ablation: each variant against the setting it changes ({level} simultaneous intervals, "
                    f"Bonferroni over {len(own)} variants; against `gan` likewise)",
                    "Welch's t on log FID, the ratio of geometric means (variant over reference) with its Bonferroni "
                    "interval; time to the digits target from the Kaplan–Meier table",
                    pd.DataFrame(rows), {"ablation_effects": own, "ablation_vs_gan": vs_gan,
                                         "ablation_base_vs_gan": base_vs_gan, "ablation_variants": changed}, findings)]
