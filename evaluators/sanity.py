"""The evaluator sanity table: what every metric says about inputs whose quality we know.

``python -m evaluators.sanity`` scores, against the 10,000 test images: a 10k training subset
(real digits disjoint from the reference: as good as a generator can get), two splits of the test
set into halves scored against each other, and controlled damage done to the training subset
(Gaussian pixel noise, Gaussian blur, digit classes removed, a single class) plus uniform noise
images. Degradations start from training images rather than test images so that no row shares
images with the reference it is scored against (a degraded copy of the reference would flatter
weak damage). The two test splits differ on purpose: MNIST's first 5,000 test digits come from
NIST's cleaner SD-3 writers and the last 5,000 from SD-1 (LeCun et al.'s notes), so "first vs last
half" measures a writer shift, while a random split measures only sampling noise at N = 5,000.
Writes evaluator_sanity.md (pandas) and .csv into the results folder (`wgan.paths.results_dir`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter

from evaluators.classifier import Classifier, load_classifier
from evaluators.inception_score import inception_score
from evaluators.options import EvalOptions
from evaluators.reference import Reference, reference_from_images, reference_stats
from evaluators.suite import score
from wgan.data import IMAGE_SHAPE, MnistArrays, load_mnist, scale_images
from wgan.io import write_text
from wgan.paths import results_dir

NOISE_SIGMAS = (0.1, 0.25, 0.5, 1.0)       # Gaussian pixel noise, in [-1, 1] pixel units, then clipped
BLUR_SIGMAS = (0.5, 1.0, 1.5, 2.0)         # Gaussian blur, in pixels
REMOVED_CLASSES = (1, 3, 5)                # digits 0..k-1 left out
SINGLE_CLASS = 1
SUBSET = 10_000

# Row groups; a degradation group's rows are ordered by strength (`level`).
TRAIN, HALVES, NOISE, BLUR, REMOVED, SINGLE, UNIFORM = (
    "train", "test halves", "gaussian noise", "blur", "classes removed", "single class", "uniform noise")


@dataclass(frozen=True)
class Case:
    name: str
    group: str
    level: float
    images: np.ndarray     # float32 [N, 28, 28, 1] in [-1, 1]
    reference: Reference


def sanity_cases(mnist: MnistArrays, classifier: Classifier, *, seed: int = EvalOptions.seed) -> Iterator[Case]:
    """The table's rows, built one at a time (each holds up to 10k images)."""
    (x_train, y_train), (x_test, _) = mnist
    rng = np.random.default_rng(seed)
    test_ref = reference_stats("test", classifier=classifier)
    subset = rng.choice(len(x_train), SUBSET, replace=False)
    base = scale_images(x_train[subset])
    yield Case("train 10k", TRAIN, 0.0, base, test_ref)

    half = len(x_test) // 2
    for name, order in (("test random half vs other half", rng.permutation(len(x_test))),
                        ("test first 5k vs last 5k", np.arange(len(x_test)))):
        other = reference_from_images(x_test[order[half:]], classifier=classifier)
        yield Case(name, HALVES, 0.0, scale_images(x_test[order[:half]]), other)

    for sigma in NOISE_SIGMAS:
        noisy = np.clip(base + rng.normal(0.0, sigma, base.shape).astype(np.float32), -1.0, 1.0)
        yield Case(f"gaussian noise σ={sigma}", NOISE, sigma, noisy, test_ref)
    for sigma in BLUR_SIGMAS:
        yield Case(f"blur σ={sigma}px", BLUR, sigma, gaussian_filter(base, sigma=(0, sigma, sigma, 0)), test_ref)

    for k in REMOVED_CLASSES:
        keep = np.flatnonzero(y_train >= k)
        pick = rng.choice(keep, SUBSET, replace=False)
        yield Case(f"train without digits 0-{k - 1}", REMOVED, float(k), scale_images(x_train[pick]), test_ref)
    yield Case(f"train digit {SINGLE_CLASS} only", SINGLE, 1.0, scale_images(x_train[y_train == SINGLE_CLASS]),
               test_ref)
    uniform = rng.uniform(-1.0, 1.0, (SUBSET, *IMAGE_SHAPE)).astype(np.float32)
    yield Case("uniform noise", UNIFORM, 0.0, uniform, test_ref)


def sanity_table(*, metrics: Collection[str] | None = None, seed: int = EvalOptions.seed,
                 mnist: MnistArrays | None = None, verbose: bool = False) -> pd.DataFrame:
    """One row per case: its group and level, then the report row of `evaluators.suite.score` (all
    metrics of the table, or the groups ``metrics``) with the default metric options."""
    options = EvalOptions(seed=seed, metrics=metrics)
    classifier = load_classifier(verbose=verbose)
    rows = []
    for case in sanity_cases(mnist or load_mnist(), classifier, seed=seed):
        start = time.perf_counter()
        features, logits = classifier.features_and_logits(case.images, options.batch_size)
        row = score(features, logits, case.reference, options)
        rows.append({"case": case.name, "group": case.group, "level": case.level, **row})
        if verbose:
            print(f"  {case.name:<32} FID {row.get('fid', float('nan')):9.3f}  "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)
    return pd.DataFrame(rows)


def inception_score_of_test_set(mnist: MnistArrays | None = None) -> float:
    """The inception score of the 10,000 test images themselves: what real digits score."""
    _, logits = load_classifier(verbose=False).features_and_logits(scale_images((mnist or load_mnist())[1][0]))
    return inception_score(logits, EvalOptions().metric_options("is").splits)["is_mean"]


def write_table(table: pd.DataFrame, out_dir: Path | None = None) -> tuple[Path, Path]:
    """evaluator_sanity.md (with a note on how to read it) and .csv in ``out_dir`` (default: the results
    folder), written atomically."""
    out_dir = Path(out_dir) if out_dir is not None else results_dir()
    md, csv = out_dir / "evaluator_sanity.md", out_dir / "evaluator_sanity.csv"
    classifier = load_classifier(verbose=False)
    header = (
        "# Evaluator sanity table\n\n"
        "Produced by `python -m evaluators.sanity`. Every row is scored against the 10,000 MNIST test images "
        "(the two test-halves rows: one half against the other), with the suite's classifier "
        f"(`{classifier.hash[:16]}`, test accuracy {classifier.meta.get('test_accuracy', float('nan')):.4f}). "
        "Degradations are applied to a 10k training subset, never to the reference itself. "
        "Lower is better for FID, KID and the KLs; higher for IS, precision, recall, density and coverage. "
        "`modes_covered` counts digit classes holding at least 1% of the samples. "
        f"For scale: the test images' own inception score is {inception_score_of_test_set():.3f}.\n\n")
    write_text(md, header + table.to_markdown(index=False, floatfmt=".4g") + "\n")
    write_text(csv, table.to_csv(index=False))
    return md, csv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluators.sanity", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for evaluator_sanity.md/.csv "
                        "(default: $WGANBENCH_RESULTS or ./results)")
    parser.add_argument("--seed", type=int, default=EvalOptions.seed,
                        help="seed of the subsets, the noise and the KID subsets (default: %(default)s)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    table = sanity_table(seed=args.seed, verbose=True)
    md, csv = write_table(table, args.out)
    print(f"wrote {md} and {csv} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
