"""`wganbench ablate`: the variant list from the Setting fields, the ablation's findings from a synthetic
per-seed table (one factor with an effect, one without), bad input, and one tiny real run."""

from __future__ import annotations

import json
import math
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from studies.cli.app import main
from studies.report import ablation, timing
from studies.report.report import rerender
from studies.report.tables import final_rows
from studies.run.ablate import BASE, FACTOR, FACTORS, REFERENCE, SWEEP, AblateOptions, record, variants
from studies.schema import SEED, SETTING, STATUS, STATUS_OK, TARGET, WALL_S
from studies.stats import ALPHA
from wgan.settings import FIXED, SETTINGS, Setting, changed_fields, dirname, get_setting

OPTIMIZER = "wgan-seed[d_lr=5e-05,d_optimizer=rmsprop,g_lr=5e-05,g_optimizer=rmsprop,rho=0.99]"
UPDATE = "wgan-seed[fresh_noise=true,n_critic=5,update=alternating]"


def test_the_variants_toward_wgan_are_what_the_setting_fields_say() -> None:
    base, target = SETTINGS["wgan-seed"], SETTINGS["wgan"]
    plan, notes = AblateOptions("wgan-seed", "wgan", "clip_value=0.005,0.01,0.02").variants()
    by_kind = {kind: [v for v in plan if v.kind == kind] for kind in (BASE, FACTOR, SWEEP, REFERENCE)}
    assert [v.name for v in by_kind[BASE]] == ["wgan-seed"]
    # Every field in which the paper's WGAN departs from the notebook's is changed by exactly one factor,
    # to the target's value; grouped fields only as FACTORS says.
    differ = {f.name for f in fields(Setting)
              if f.name not in FIXED and getattr(base, f.name) != getattr(target, f.name)}
    assert sorted(f for v in by_kind[FACTOR] for f in v.fields) == sorted(differ)
    for v in by_kind[FACTOR]:
        assert all(getattr(get_setting(v.name), f) == getattr(target, f) for f in v.changes)
        group = FACTORS.get(v.factor, ((v.factor,), ""))[0]
        assert set(v.changes) - set(group) <= set(FACTORS["update"][0])  # only the schedule rides on the update
    names = {v.factor: v for v in by_kind[FACTOR]}
    assert names["optimizer"].name == OPTIMIZER and names["update"].name == UPDATE
    assert names["batch_size"].name == "wgan-seed[batch_size=64]"
    # The authors' schedule needs the alternating update: it is changed on top of that variant, against it.
    schedule = names["critic_schedule"]
    assert schedule.against == UPDATE and "on top of `update`" in schedule.why
    assert schedule.fields == ("critic_schedule",)
    assert changed_fields(schedule.name) == {**changed_fields(UPDATE), "critic_schedule": "wgan-authors"}
    # The sweep: 0.01 is the base's own clip value, dropped with a note.
    assert [v.name for v in by_kind[SWEEP]] == ["wgan-seed[clip_value=0.005]", "wgan-seed[clip_value=0.02]"]
    assert notes == ["ablate: --vary clip_value=0.01 is wgan-seed's own value: dropped (the base is in the study)"]
    assert [v.name for v in by_kind[REFERENCE]] == ["gan", "wgan"]
    assert variants("wgan-seed", "wgan-seed[batch_size=64]") == ["wgan-seed", "wgan-seed[batch_size=64]", "gan"]


# Final FID per seed (0, 1, 2): halving the clip value's FID is an effect, a shuffle of the base's is none.
FINAL = {"wgan-seed": (700.0, 690.0, 712.0), "wgan-seed[clip_value=0.02]": (352.0, 341.0, 360.0),
         "wgan-seed[clip_value=0.05]": (705.0, 694.0, 699.0), "gan": (370.0, 382.0, 375.0)}


def test_the_findings_say_which_factor_moves_fid_and_which_has_no_effect() -> None:
    plan, _ = AblateOptions("wgan-seed", vary="clip_value=0.02,0.05").variants()
    curves = pd.DataFrame([{SETTING: s, SEED: seed, TARGET: 1.0, WALL_S: 10.0, STATUS: STATUS_OK, "fid": fid}
                           for s, values in FINAL.items() for seed, fid in enumerate(values)])
    noise = 698.0
    reach = timing.time_to_target(timing.events(curves, timing.default_target(noise), 10.0))
    [section] = ablation.sections(final_rows(curves, noise), {ablation.ABLATION: record(plan)}, noise, reach)
    answer, effect, no_effect = section.findings[:3]
    assert answer.startswith("The notebook's question, answered") and "`wgan-seed` is worse than `gan` (×1.8" in answer
    # clip 0.02 halves FID and then no longer differs detectably from gan's 375: the clip value is why
    assert "clip_value is why, within these seeds: `wgan-seed[clip_value=0.02]` lowers FID ×0.5" in answer
    assert effect.startswith("Changing `clip_value=0.02` alone moves FID by ×") and "[" in effect
    assert no_effect.startswith("Changing `clip_value=0.05` alone: no effect detected with 3 seeds")
    own = section.csv["ablation_effects"]
    assert list(own["b"]) == ["wgan-seed", "wgan-seed"] and (own["family"] == 2).all()
    for _, row in own.iterrows():
        # The interval excludes 1 exactly where the Bonferroni-adjusted p is below α ...
        assert (row["ci_low"] > 1 or row["ci_high"] < 1) == (row["p_adj"] < ALPHA)
        # ... and is Welch's interval on log FID at level 1 − α/2, recomputed here from the per-seed table.
        log_a, log_b = np.log(FINAL[row["a"]]), np.log(FINAL[row["b"]])
        ci = sps.ttest_ind(log_a, log_b, equal_var=False).confidence_interval(1 - ALPHA / 2)
        # the same float64 operations in the same order: equal to the last bit's rounding of exp()
        assert row["ci_low"] == pytest.approx(math.exp(ci.low), rel=4 * np.finfo(float).eps)
        assert row["ci_high"] == pytest.approx(math.exp(ci.high), rel=4 * np.finfo(float).eps)
    shown = section.shown.set_index("variant")
    assert shown.loc["`wgan-seed[clip_value=0.02]`", "changed fields"] == "clip_value=0.02"
    assert shown.loc["`wgan-seed[clip_value=0.02]`", "vs `gan`"].startswith("0.9")
    assert ablation.sections(final_rows(curves, noise), {}, noise, reach) == []  # a compare is no ablation


def _answer(final: dict[str, tuple[float, ...]], toward: str | None, vary: str) -> str:
    plan, _ = AblateOptions("wgan-seed", toward, vary).variants()
    curves = pd.DataFrame([{SETTING: s, SEED: seed, TARGET: 1.0, WALL_S: 10.0, STATUS: STATUS_OK, "fid": fid}
                           for s, values in final.items() for seed, fid in enumerate(values)])
    reach = timing.time_to_target(timing.events(curves, timing.default_target(698.0), 10.0))
    return ablation.sections(final_rows(curves, 698.0), {ablation.ABLATION: record(plan)}, 698.0, reach)[0].findings[0]


def test_the_answer_follows_the_intervals_not_the_point_estimates() -> None:
    batch = "wgan-seed[batch_size=64]"
    # a clip value that lowers FID but stays far above gan's: only part of why; a factor with no effect
    partial = _answer({**FINAL, "wgan-seed[clip_value=0.02]": (500.0, 505.0, 498.0), batch: (690.0, 703.0, 701.0)},
                      batch, "clip_value=0.02,0.05")
    assert "clip_value is part of why: `wgan-seed[clip_value=0.02]` lowers FID ×0.7" in partial
    assert "but stays worse than `gan`" in partial
    assert "no departure alone moves FID detectably with 3 seeds (largest estimate `batch_size`" in partial
    # no clip value helps; the batch does, and it is named as the departure that matters most
    none = _answer({**FINAL, "wgan-seed[clip_value=0.02]": (690.0, 720.0, 700.0), batch: (300.0, 310.0, 305.0)},
                   batch, "clip_value=0.02,0.05")
    assert "clip_value is not shown to be why: no value of the sweep moves FID below the base's with 3 seeds" in none
    assert "the departure that matters most is `batch_size` (×0.4" in none


def run(argv: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("argv", "says"), [
    (["--vary", "clip=0.05"], "has no field 'clip'; valid fields: loss, lipschitz, "),
    (["--vary", "clip_value=-1"], "clip_value must be"),
    (["--toward", "wgan-seed[width=64]"], "wgan-seed differs from wgan-seed in no field"),
    ([], "give --toward SETTING, --vary FIELD=V1,V2,..., or both"),
])
def test_bad_input_exits_2_with_one_line(argv: list[str], says: str, tmp_path, capsys) -> None:
    code, err = run(["ablate", "wgan-seed", *argv, "--steps", "2", "--runs-dir", str(tmp_path / "runs")], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("wganbench ablate: error: ") and says in lines[0]
    assert not (tmp_path / "runs").exists()  # nothing trained, nothing written


def test_a_tiny_ablation_end_to_end(tmp_path, capsys) -> None:
    """Four real runs (base, the one factor toward the target, a sweep of two clip values), one seed, two
    steps: trained and scored by the study, written with the compare report and the ablation section."""
    out, runs = tmp_path / "report", tmp_path / "runs"
    code = main(["ablate", "wgan-seed", "--toward", "wgan-seed[batch_size=64]", "--vary", "clip_value=0.02,0.05",
                 "--references", "", "--steps", "2", "--points", "1", "--seeds", "0", "--n", "1000", "--workers", "0",
                 "--quiet", "--out-dir", str(out), "--runs-dir", str(runs)])
    assert code == 0, capsys.readouterr().err
    meta = json.loads((out / "study.json").read_text())
    names = ["wgan-seed", "wgan-seed[batch_size=64]", "wgan-seed[clip_value=0.02]", "wgan-seed[clip_value=0.05]"]
    assert [v["name"] for v in meta[ablation.ABLATION]] == names == meta["settings"]
    effects = pd.read_csv(out / "ablation_effects.csv")
    assert list(effects["a"]) == names[1:] and (effects["b"] == "wgan-seed").all() and (effects["fid_a"] > 0).all()
    assert pd.read_csv(out / "ablation_vs_gan.csv").empty  # gan is not in this study
    report = (out / "report.md").read_text()
    assert "## Ablation: each variant against the setting it changes" in report
    assert "Changing `batch_size` alone: no effect detected with 1 seed (" in report  # one seed: no interval
    for name in names:
        assert (runs / f"{dirname(name)}-s0" / "scores.csv").is_file()
    # `report study` rebuilds the section from the committed tables alone (study.json holds the variants).
    (out / "report.md").unlink()
    rerender(out)
    assert "Changing `batch_size` alone: no effect detected with 1 seed (" in (out / "report.md").read_text()
