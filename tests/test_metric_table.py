"""The metric table is the one place a metric is declared: a new entry shows up in `evaluate()`'s row
with its options, and `score` computes nothing the table does not say."""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from evaluators import METRICS, ROW_KEYS, EvalOptions, Inputs, Metric, Value, evaluate, score, value, values
from evaluators.metrics import flat_options
from evaluators.reference import reference_stats
from wgan.checks import positive_number
from wgan.data import scale_images
from wgan.errors import WganbenchError
from wgan.options import HELP, option

EVALUATORS = Path(__file__).resolve().parents[1] / "evaluators"
# The bottom layer of wgan that evaluators may use (docs/DESIGN.md §1 Layers and data flow).
ALLOWED_WGAN = {"wgan", "wgan.errors", "wgan.io", "wgan.data", "wgan.paths", "wgan.options", "wgan.checks",
                "wgan.console"}
METRIC_MODULES = ("fid", "inception_score", "mode_coverage", "kid", "prdc")
FAST = {"kid_subsets": 5}


@dataclass(frozen=True)
class ToyOptions:
    scale: float = option(1.0, "what the mean feature is multiplied by")

    def __post_init__(self) -> None:
        positive_number("toy_scale", self.scale)


def toy_compute(inputs: Inputs, options: ToyOptions) -> dict[str, float]:
    return {"toy_mean": options.scale * float(np.mean(inputs.features, dtype=np.float64))}


TOY = Metric("toy", (Value("toy_mean", "higher", "toy ↑"),), toy_compute, ToyOptions,
             summary="mean classifier feature, scaled (a test's metric)")


# --- the table itself ------------------------------------------------------------------------------------

def test_the_table_gives_the_report_row_in_order() -> None:
    assert list(METRICS) == ["fid", "is", "modes", "kid", "prdc", "stacked"]  # stacked: Stacked MNIST only
    assert METRICS["stacked"].datasets == ("stacked-mnist",)
    assert ROW_KEYS == ("fid", "is_mean", "is_std", "modes_covered", "kl_uniform", "kl_test", "confident_share",
                        "kid_mean", "kid_std", "precision", "recall", "density", "coverage", "n")
    assert tuple(v.key for v in values()) == ROW_KEYS[:-1]
    assert [v.key for v in values(["prdc", "fid"])] == ["fid", "precision", "recall", "density", "coverage"]
    assert {v.key: v.gate for v in values() if v.gate} == {"fid": "log", "kl_uniform": "log"}
    assert value("fid").better == "lower" and value("recall").better == "higher" and value("kid_std").better is None
    with pytest.raises(WganbenchError, match="unknown metric value 'lpips'"):
        value("lpips")
    with pytest.raises(WganbenchError, match="unknown metric 'lpips'"):
        values(["lpips"])


def test_every_entry_documents_itself() -> None:
    for metric in METRICS.values():
        assert metric.summary, metric.name
        assert all(v.label and v.better in ("higher", "lower", None) for v in metric.values)
        for field in dataclasses.fields(metric.options):
            assert field.metadata[HELP], (metric.name, field.name)
        metric.options()  # the defaults are valid


def test_metric_options_defaults_and_flat_names() -> None:
    defaults = {name: getattr(m.options(), f.name) for name, (m, f) in flat_options().items()}
    assert defaults == {"is_splits": 10, "modes_min_share": 0.01, "modes_confident_prob": 0.9, "kid_subsets": 100,
                        "kid_subset_size": 1000, "prdc_k": 5, "prdc_chunk": 1024, "stacked_samples": 26000,
                        "stacked_confident_prob": 0.9}
    options = EvalOptions(overrides={"kid_subsets": 7, "prdc_k": 3})
    assert options.metric_options("kid").subsets == 7 and options.metric_options("kid").subset_size == 1000
    assert options.metric_options("prdc").k == 3 and options.metric_options("is").splits == 10
    assert [m.name for m in EvalOptions(metrics=("prdc", "fid")).selected()] == ["fid", "prdc"]  # table order
    assert EvalOptions(metrics="kid, fid").metrics == ("kid", "fid")
    assert hash(options) == hash(EvalOptions(overrides={"prdc_k": 3, "kid_subsets": 7}))  # frozen and hashable
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.n = 5  # type: ignore[misc]


def test_a_bad_table_entry_is_refused() -> None:
    with pytest.raises(WganbenchError, match="'better'"):
        Value("x", "bigger", "x")
    with pytest.raises(WganbenchError, match="declares no values"):
        Metric("x", (), toy_compute)
    with pytest.raises(WganbenchError, match="options must be a dataclass type"):
        Metric("x", (Value("x", "higher", "x"),), toy_compute, options=dict)


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_evaluators_import_only_the_bottom_layer_and_metric_modules_stay_pure() -> None:
    for path in sorted(EVALUATORS.glob("*.py")):
        imported = imported_modules(path)
        wgan = {name for name in imported if name.split(".")[0] == "wgan"}
        assert wgan <= ALLOWED_WGAN, (path.name, wgan - ALLOWED_WGAN)
        assert not {name for name in imported if name.split(".")[0] == "studies"}, path.name
        if path.stem in METRIC_MODULES:
            evaluators = {name for name in imported if name.startswith("evaluators")}
            assert evaluators <= {"evaluators.validation"}, (path.name, evaluators)
        assert len(path.read_text().splitlines()) < 300, path.name


# --- the table drives evaluate() and score() (real digits) ----------------------------------------------

@pytest.fixture(scope="module")
def digits(mnist) -> np.ndarray:
    (x_train, _), _ = mnist
    return x_train[np.random.default_rng(0).choice(len(x_train), 1500, replace=False)]


@pytest.fixture(scope="module")
def scored(digits):
    """Classifier features and logits of real training digits, and the test set's statistics."""
    from evaluators.classifier import load_classifier

    classifier = load_classifier()
    features, logits = classifier.features_and_logits(scale_images(digits))
    return features, logits, reference_stats("test", classifier=classifier)


@pytest.mark.slow
def test_a_metric_added_to_the_table_alone_reaches_evaluate(digits, monkeypatch) -> None:
    monkeypatch.setitem(METRICS, "toy", TOY)
    row = evaluate(digits, **FAST)
    assert tuple(row) == (*ROW_KEYS[:-1], "toy_mean", "n")  # after the table's other values, before n
    plain = evaluate(digits, metrics=("toy",))
    assert list(plain) == ["toy_mean", "n"] and plain["toy_mean"] == row["toy_mean"] > 0  # ReLU features
    doubled = evaluate(digits, metrics=("toy",), toy_scale=2.0)  # its option, by its flat name
    assert doubled["toy_mean"] == 2.0 * plain["toy_mean"]
    assert evaluate(digits, options=EvalOptions(metrics=("toy",), overrides={"toy_scale": 2.0})) == doubled
    with pytest.raises(WganbenchError, match="toy_scale must be a finite positive number"):
        evaluate(digits, toy_scale=-1.0)
    monkeypatch.delitem(METRICS, "toy")
    with pytest.raises(WganbenchError, match="unknown evaluation option toy_scale"):
        evaluate(digits, toy_scale=2.0)


@pytest.mark.slow
def test_score_composes_the_selected_metrics_and_nothing_else(scored) -> None:
    features, logits, reference = scored
    full = score(features, logits, reference, **FAST)
    assert tuple(full) == ROW_KEYS and full["n"] == 1500
    assert list(score(features, logits, reference, metrics=("kid",), **FAST)) == ["kid_mean", "kid_std", "n"]
    for name, metric in METRICS.items():
        if "mnist" not in metric.datasets:
            continue  # scored on Stacked MNIST only (tests/test_stacked.py)
        alone = score(features, logits, reference, metrics=(name,), **FAST)
        assert list(alone) == [*(v.key for v in metric.values), "n"]
        assert alone == {key: full[key] for key in alone}  # the same numbers as in the full row


@pytest.mark.slow
def test_score_calls_what_the_table_holds(scored, monkeypatch) -> None:
    features, logits, reference = scored
    seen: list[tuple[Inputs, object]] = []

    def fake_kid(inputs: Inputs, options) -> dict[str, float]:
        seen.append((inputs, options))
        return {"kid_mean": -1.0, "kid_std": 0.5}

    monkeypatch.setitem(METRICS, "kid", dataclasses.replace(METRICS["kid"], compute=fake_kid))
    row = score(features, logits, reference, metrics=("fid", "kid"), seed=7, kid_subset_size=3)
    assert row["kid_mean"] == -1.0 and row["kid_std"] == 0.5 and row["fid"] > 0
    ((inputs, options),) = seen
    assert inputs.seed == 7 and inputs.reference is reference and inputs.features is features
    assert options == METRICS["kid"].options(subset_size=3)
    monkeypatch.setitem(METRICS, "kid", dataclasses.replace(METRICS["kid"], compute=lambda i, o: {"kid_mean": 0.0}))
    with pytest.raises(WganbenchError, match=r"metric 'kid' computed \['kid_mean'\]; its table entry declares"):
        score(features, logits, reference, metrics=("kid",))


@pytest.mark.slow
def test_prdc_k_must_match_the_reference(scored) -> None:
    features, logits, reference = scored
    with pytest.raises(WganbenchError, match="prdc_k=3, but the reference statistics hold k-NN radii for k=5"):
        score(features, logits, reference, metrics=("prdc",), prdc_k=3)
