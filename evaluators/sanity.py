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

A Stacked MNIST section (`stacked_cases`) checks the 1,000-mode count (`evaluators.stacked_modes`) at
the protocol's 26,000 samples built from test digits, which the classifier never saw: real Stacked
MNIST draws (about 1,000 modes, KL near 0), the same draws blurred (a calibration: the papers' count
stays near 1,000 while few stacks are read with confidence), sets built from 500 of the combinations and from a single
one (about 500 and 1; KL near log 2 and log 1000). Each restricted set is built twice: from all test
digits, where the classifier's misreadings add spurious modes, and from the digits it reads as
labelled, where the count is exact. Their image metrics read each channel as a test digit scored
against the test set that holds it, so only their stacked and class-histogram columns carry meaning.
Writes evaluator_sanity.md (pandas) and .csv into the results folder (`wgan.paths.results_dir`).
"""

from __future__ import annotations

import argparse
import itertools
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
from evaluators.metrics import METRICS, metric
from evaluators.options import EvalOptions
from evaluators.reference import Reference, reference_from_images, reference_stats
from evaluators.stacked_modes import PROTOCOL_SAMPLES
from evaluators.suite import classify, score
from wgan.console import configure_process
from wgan.data import (
    IMAGE_SHAPE,
    MNIST,
    STACKED_DIGITS,
    STACKED_MNIST,
    STACKED_MODES,
    MnistArrays,
    load_mnist,
    scale_images,
    stack_digits,
    stacked_indices,
)
from wgan.io import write_text
from wgan.paths import results_dir

NOISE_SIGMAS = (0.1, 0.25, 0.5, 1.0)       # Gaussian pixel noise, in [-1, 1] pixel units, then clipped
BLUR_SIGMAS = (0.5, 1.0, 1.5, 2.0)         # Gaussian blur, in pixels
REMOVED_CLASSES = (1, 3, 5)                # digits 0..k-1 left out
SINGLE_CLASS = 1
SUBSET = 10_000
STACKED_COMBINATIONS = (500, 1)            # restricted Stacked MNIST sets: how many of the 1,000 modes
STACKED_BLURS = (1.5, 2.0)                 # blurred real stacks: the papers' count stays near 1,000

# Row groups; a degradation group's rows are ordered by strength (`level`).
TRAIN, HALVES, NOISE, BLUR, REMOVED, SINGLE, UNIFORM = (
    "train", "test halves", "gaussian noise", "blur", "classes removed", "single class", "uniform noise")
STACKED_REAL, STACKED_ALL, STACKED_READ = (  # level: the number of combinations drawn from
    "stacked mnist", "stacked, test digits", "stacked, digits read right")
STACKED_BLUR = "stacked, blurred"  # level: the blur's σ in pixels


@dataclass(frozen=True)
class Case:
    name: str
    group: str
    level: float
    images: np.ndarray     # float32 [N, 28, 28, 1] in [-1, 1] (Stacked MNIST: uint8 [N, 28, 28, 3])
    reference: Reference
    dataset: str = MNIST


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


def combination_set(images: np.ndarray, labels: np.ndarray, combinations: np.ndarray, samples: int,
                    rng: np.random.Generator) -> np.ndarray:
    """uint8 [samples, 28, 28, 3] Stacked MNIST images whose modes are drawn uniformly from
    ``combinations`` (ints in [0, 1000)), each channel a random digit of ``images`` with that label."""
    modes = rng.choice(np.asarray(combinations), samples)
    digits = modes[:, None] // 10 ** np.arange(STACKED_DIGITS - 1, -1, -1) % 10
    indices = np.empty_like(digits)
    for digit in np.unique(digits):
        pool = np.flatnonzero(labels == digit)
        where = digits == digit
        indices[where] = pool[rng.integers(0, len(pool), np.count_nonzero(where))]
    return stack_digits(images, labels, indices)[0]


def stacked_cases(mnist: MnistArrays, classifier: Classifier, *, seed: int = EvalOptions.seed,
                  samples: int = PROTOCOL_SAMPLES) -> Iterator[Case]:
    """The Stacked MNIST rows: ``samples`` images of test digits each (see the module docstring)."""
    _, (x_test, y_test) = mnist
    test_ref = reference_stats("test", classifier=classifier)
    real, _ = stack_digits(x_test, y_test, stacked_indices(len(x_test), samples, (seed, 1)))
    yield Case(f"stacked MNIST, test draws ({samples:,})", STACKED_REAL, float(STACKED_MODES), real, test_ref,
               STACKED_MNIST)
    for sigma in STACKED_BLURS:  # calibration: unreadable stacks still fill modes, few are read with confidence
        yield Case(f"stacked MNIST blurred σ={sigma}px", STACKED_BLUR, sigma,
                   gaussian_filter(real, sigma=(0, sigma, sigma, 0)), test_ref, STACKED_MNIST)
    read_right = np.argmax(classifier.features_and_logits(scale_images(x_test))[1], axis=1) == y_test
    rng = np.random.default_rng((seed, 2))
    for count in STACKED_COMBINATIONS:
        chosen = rng.choice(STACKED_MODES, count, replace=False)
        for group, keep in ((STACKED_ALL, slice(None)), (STACKED_READ, read_right)):
            images = combination_set(x_test[keep], y_test[keep], chosen, samples, rng)
            which = "test digits" if group == STACKED_ALL else "digits read right"
            yield Case(f"stacked, {count} combination{'s' if count > 1 else ''}, {which}", group, float(count),
                       images, test_ref, STACKED_MNIST)


def _options(metrics: Collection[str] | None, seed: int, dataset: str) -> EvalOptions | None:
    """Options for one data set's rows: the selected metrics that apply to it (None: no row to score)."""
    names = tuple(m.name for m in METRICS.values() if (metrics is None or m.name in metrics) and dataset in m.datasets)
    return EvalOptions(seed=seed, metrics=names, dataset=dataset) if names else None


def sanity_table(*, metrics: Collection[str] | None = None, seed: int = EvalOptions.seed,
                 mnist: MnistArrays | None = None, verbose: bool = False,
                 stacked_samples: int = PROTOCOL_SAMPLES) -> pd.DataFrame:
    """One row per case: its group and level, then the report row of `evaluators.suite.score` (all
    metrics of the table, or the groups ``metrics``) with the default metric options. The Stacked
    MNIST rows (``stacked_samples`` images each) come when the ``stacked`` metric is selected."""
    for name in metrics or ():
        metric(name)
    mnist = mnist or load_mnist()
    classifier = load_classifier(verbose=verbose)
    plain, stacked = _options(metrics, seed, MNIST), _options(metrics, seed, STACKED_MNIST)
    cases = sanity_cases(mnist, classifier, seed=seed) if plain else iter(())
    if stacked and (metrics is None or "stacked" in metrics):  # built one at a time, like the others
        cases = itertools.chain(cases, stacked_cases(mnist, classifier, seed=seed, samples=stacked_samples))
    rows = []
    for case in cases:
        start = time.perf_counter()
        options = stacked if case.dataset == STACKED_MNIST else plain
        features, logits, stacked_logits = classify(case.images, classifier, options)
        row = score(features, logits, case.reference, options, stacked_logits=stacked_logits)
        rows.append({"case": case.name, "group": case.group, "level": case.level, **row})
        if verbose:
            modes = f"  modes {row['stacked_modes']}" if "stacked_modes" in row else ""
            print(f"  {case.name:<44} FID {row.get('fid', float('nan')):9.3f}{modes}  "
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
        f"For scale: the test images' own inception score is {inception_score_of_test_set():.3f}.\n\n"
        "Stacked MNIST rows (the last ones) hold 26,000 three-digit images of *test* digits: `stacked_modes` "
        "counts the 1,000 combinations with at least one sample and `stacked_kl` is KL(mode histogram ‖ "
        "uniform), as in VEEGAN and PacGAN; their image metrics score the first 10,000 channels as single "
        "digits against the test set those digits come from (so FID, KID and PRDC are flattered there). "
        "Sets of 500 and 1 combinations are built from all test digits (the classifier's misreadings add "
        "modes) and from the digits it reads as labelled (the count is exact). The blurred rows calibrate the "
        "count: blurred real stacks keep nearly all 1,000 modes although few are read with all three channels "
        "confident (`stacked_confident_share`), and the modes among those (`stacked_modes_confident`) fall with "
        "them; `stacked_modes_independent` is the count the channels' digit shares alone would give. For "
        "scale: 26,000 uniform draws over 1,000 modes have KL ≈ 999/52,000 ≈ 0.019; 500 equal modes log 2 ≈ "
        "0.693; one mode log 1000 ≈ 6.908.\n\n")
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
    configure_process()  # the suite's oneDNN setting (part of the classifier's key), before TensorFlow loads
    start = time.perf_counter()
    table = sanity_table(seed=args.seed, verbose=True)
    md, csv = write_table(table, args.out)
    print(f"wrote {md} and {csv} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
