"""What the report reads from the run directories beside ``scores.csv``: the W estimate in
``history.csv`` (does the loss track quality?) and the final generator's samples (the evaluation's
own spread, the class shares).
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from studies import stats
from studies.report.tables import FID
from studies.schema import SEED, SETTING, STATUS, STATUS_OK, STEP, run_dir
from wgan import rundir
from wgan.data import CHANNELS, MNIST
from wgan.errors import WganbenchError
from wgan.settings import get_setting

MIN_POINTS = 8        # scored points a run needs for its loss-vs-FID rank correlation to be reported
W_WINDOW = 20         # history rows averaged (trailing) for the W estimate at a scored step
BOOT_RESAMPLES = 50   # bootstrap replicates of the evaluation's FID spread
FID_BOOT_STD = "fid_boot_std"


def w_column(setting: str) -> str:
    """The history column that estimates the critic's distance: the Wasserstein estimate of a WGAN, the
    discriminator's loss of the cross-entropy GAN (which estimates no distance)."""
    try:
        return rundir.WASSERSTEIN if get_setting(setting).objective.estimates_distance else rundir.CRITIC_LOSS
    except WganbenchError:
        return rundir.WASSERSTEIN


def read_history(runs_dir: Path, setting: str, seed: int) -> pd.DataFrame | None:
    path = run_dir(runs_dir, setting, seed) / rundir.HISTORY_FILE
    return pd.read_csv(path) if path.is_file() else None


def at_steps(history: pd.DataFrame, column: str, steps: list[int], window: int = W_WINDOW) -> np.ndarray:
    """The mean of ``column`` over the ``window`` history rows ending at each of ``steps`` (a single step's
    estimate is one batch's and noisy; the trailing mean is the critic's estimate at that point)."""
    step, value = history[rundir.STEP].to_numpy(), history[column].to_numpy(dtype=float)
    out = []
    for s in steps:
        inside = (step <= s) & (step > s - window)
        out.append(float(value[inside].mean()) if inside.any() else math.nan)
    return np.array(out)


def loss_points(curves: pd.DataFrame, runs_dir: Path) -> pd.DataFrame:
    """Per scored point of every run: the critic's estimate there (:func:`at_steps`) beside its FID, so the
    report can be re-read without the run directories (``loss_points.csv``)."""
    ok = curves[curves[STATUS] == STATUS_OK]
    rows = []
    for (setting, seed), points in ok.groupby([SETTING, SEED], sort=False):
        points = points.sort_values(STEP)
        history, column = read_history(runs_dir, setting, int(seed)), w_column(setting)
        steps = points[STEP].astype(int).tolist()
        w = at_steps(history, column, steps) if history is not None and column in history.columns else \
            np.full(len(steps), math.nan)
        rows += [{SETTING: setting, SEED: int(seed), STEP: step, "w_estimate": column, "w": value, FID: fid}
                 for step, value, fid in zip(steps, w, points[FID])]
    return pd.DataFrame(rows, columns=[SETTING, SEED, STEP, "w_estimate", "w", FID])


def loss_correlation(points: pd.DataFrame, min_points: int = MIN_POINTS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per run, per setting) does the critic's estimate move with FID beyond both trending with time?

    Per run: Spearman's ρ of the levels (confounded by the step: two monotone curves give |ρ| = 1) and ρ of
    the changes between consecutive points, each with its exact permutation p (`studies.stats.spearman`).
    Per setting: the runs' change p-values combined by Fisher; a run with fewer than ``min_points`` points
    gets no ρ.
    """
    per_run = []
    for (setting, seed), run in points.groupby([SETTING, SEED], sort=False):
        run = run.sort_values(STEP)
        enough = len(run) >= min_points and run["w"].notna().all()
        level = stats.spearman(run["w"], run[FID]) if enough else (math.nan, math.nan)
        change = stats.changes_correlation(run["w"], run[FID]) if enough else (math.nan, math.nan)
        per_run.append({SETTING: setting, SEED: int(seed), "w_estimate": run["w_estimate"].iloc[0],
                        "points": len(run), "rho": level[0], "p": level[1], "rho_changes": change[0],
                        "p_changes": change[1]})
    runs = pd.DataFrame(per_run, columns=[SETTING, SEED, "w_estimate", "points", "rho", "p", "rho_changes",
                                          "p_changes"])
    rows = []
    for setting, group in runs.groupby(SETTING, sort=False):
        fewest, p = int(group["points"].min()), stats.fisher(group["p_changes"])
        changes = ", ".join(stats.fmt(r, 2) for r in group["rho_changes"].dropna())
        if fewest < min_points:
            shown = f"too few points ({fewest} < {min_points})"
        elif math.isnan(p):
            shown = "n/a (no estimate, or a constant curve)"
        else:
            shown = f"ρ of changes {changes}; Fisher p = {stats.fmt(p, 2)}"
        rows.append({SETTING: setting, "w_estimate": group["w_estimate"].iloc[0], "runs": len(group),
                     "points": fewest, "rho_changes_mean": group["rho_changes"].mean(), "p_fisher": p,
                     "shown": shown})
    return runs, pd.DataFrame(rows, columns=[SETTING, "w_estimate", "runs", "points", "rho_changes_mean",
                                             "p_fisher", "shown"])


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` OpenBLAS threads in every loaded OpenBLAS (NumPy's and SciPy's builds).

    On a busy machine OpenBLAS's threads wait on each other: one 576 × 576 ``eigh`` took 40 s with two
    threads on two shared cores and 0.3 s with one. The bootstrap's hundred small decompositions run with
    one. What threadpoolctl does, for the symbol names of the scipy-openblas wheels; a no-op elsewhere.
    """
    handles = []
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    except OSError:
        paths = []
    for path in paths:
        lib = ctypes.CDLL(path)
        for suffix in ("64_", ""):
            get = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
            set_ = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                handles.append((set_, get()))
                set_(n)
                break
    try:
        yield
    finally:
        for set_, before in handles:
            set_(before)


class FinalSamples:
    """Classifier features and logits of ``n`` samples of each run's final generator, computed once.

    The latents are drawn as `evaluators.evaluate` draws them (its default seed), so the FID of these
    features is the run's last scored FID when ``n`` is the study's.
    """

    def __init__(self, runs_dir: Path, n: int, dataset: str = MNIST) -> None:
        from evaluators.classifier import load_classifier
        from evaluators.options import EvalOptions
        from evaluators.prdc import PRDCOptions
        from evaluators.reference import reference_stats

        self.runs_dir, self.n, self.seed = runs_dir, n, EvalOptions.seed
        # On Stacked MNIST each channel is one digit image, as evaluate() reads it; n channel images.
        self.options = EvalOptions(n=n, dataset=dataset, metrics=("fid",))
        self.classifier = load_classifier()
        self.reference = reference_stats(EvalOptions.reference, k=PRDCOptions.k, classifier=self.classifier)
        self._cache: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}

    def get(self, setting: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
        from evaluators.suite import classify, generate, load_source, samples_needed

        key = (setting, int(seed))
        if key not in self._cache:
            source = load_source(run_dir(self.runs_dir, setting, seed))
            samples = generate(source, samples_needed(self.options), seed=self.seed,
                               channels=CHANNELS[self.options.dataset])
            self._cache[key] = classify(samples, self.classifier, self.options)[:2]
        return self._cache[key]

    def fid_boot_stds(self, runs: list[tuple[str, int]],
                      resamples: int = BOOT_RESAMPLES) -> dict[tuple[str, int], float]:
        """The evaluation's own spread of each run: the standard deviation of its FID over ``resamples``
        bootstrap resamples (with replacement) of the generated features, the reference held fixed. The
        runs' bootstraps go side by side on this machine's cores (each resample's decompositions on one
        BLAS thread, a run's resamples drawn from its own seed: the values do not depend on how many run
        at once)."""
        from evaluators.fid import fid_stats, frechet_distance

        mu, sigma = self.reference.mu, self.reference.sigma
        features = {(s, int(seed)): self.get(s, seed)[0].astype(np.float64) for s, seed in runs}  # TensorFlow: here

        def boot(key: tuple[str, int]) -> float:
            f = features[key]
            return stats.bootstrap_std(len(f), lambda i: frechet_distance(*fid_stats(f[i]), mu, sigma),
                                       resamples=resamples, seed=key[1])

        with blas_threads(1), ThreadPoolExecutor(max(1, min(len(features), len(os.sched_getaffinity(0))))) as pool:
            return dict(zip(features, pool.map(boot, features)))

    def class_shares(self, settings: list[str], seed: int) -> pd.DataFrame:
        """Argmax class shares of each setting's samples (one row per setting)."""
        from evaluators.mode_coverage import class_counts

        rows = {s: class_counts(self.get(s, seed)[1]) / self.n for s in settings}
        return pd.DataFrame.from_dict(rows, orient="index", columns=[str(d) for d in range(10)])


def eval_spread(final: pd.DataFrame, samples: FinalSamples | None) -> dict[str, float]:
    """Per setting, the evaluation's own FID spread (bootstrap standard deviation, mean over its runs): the
    final rows' ``fid_boot_std`` where the scores carry it, else computed through ``samples``; a run counted
    at noise without a scored point has no samples to resample."""
    rows = final[final[STEP].notna()]
    have = rows[FID_BOOT_STD] if FID_BOOT_STD in rows.columns else pd.Series(math.nan, index=rows.index)
    keys = [(setting, int(seed)) for setting, seed in zip(rows[SETTING], rows[SEED])]
    missing = [key for key, b in zip(keys, have) if pd.isna(b)]
    computed = samples.fid_boot_stds(missing) if samples and missing else {}
    boot = pd.Series([computed.get(key, b) for key, b in zip(keys, have)], index=rows.index, dtype=float)
    return {setting: float(values.mean()) if values.notna().any() else math.nan
            for setting, values in boot.groupby(rows[SETTING], sort=False)}
