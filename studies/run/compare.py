"""`wganbench compare`: train settings × seeds on an equal budget, scoring each run along the way.

Each run trains to its ``points`` in one session of :func:`wgan.trainer.train` (``resume=True``):
at every point the trainer commits a checkpoint, the generator in memory is scored with
:func:`evaluators.evaluate` and the row goes to the run's ``scores.csv``. So quality is a curve, a
finished point is never trained or scored twice, an interrupted compare resumes where it stopped,
and a run that fails is recorded as failed while the others go on. Each run directory records its
budget (``budget.json``): a compare with another budget refuses to file its scores there
(docs/DESIGN.md §6 Studies and budgets).
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from evaluators import evaluate
from evaluators.metrics import cheap_metrics
from evaluators.options import EvalOptions
from studies.schema import (
    BUDGET_FILE,
    ERROR,
    IMAGES_PER_S,
    POINT_S,
    SCORE_S,
    SCORES_FILE,
    SEED,
    SETTING,
    STATUS,
    STATUS_FAILED,
    STATUS_OK,
    STEP,
    STUDY_COST_FILE,
    TARGET,
    WALL_S,
    Budget,
    append_score,
    read_scores,
    run_dir,
)
from wgan import checks, io, rundir
from wgan.data import MNIST
from wgan.errors import WganbenchError, first_line
from wgan.lock import hold
from wgan.options import inherit, inherited, option
from wgan.paths import results_dir
from wgan.settings import SETTINGS, get_setting
from wgan.train_options import TrainOptions

# The main job's budget: 4 settings × 5 seeds × 8 scored points on two Dask workers. 5 seeds detect a
# 1.2-1.42x FID ratio at the default studies' measured spreads; 200 s rather than 150 spends the time the one-process
# runs freed on training (the clipped WGANs are still near noise at 150 s) and dilutes the points' scoring, so
# that the workers train most of their time (docs/DESIGN.md §6 The default study).
DEFAULT_BUDGET_SECONDS = 200.0
DEFAULT_SETTINGS = ("gan", "wgan-seed", "wgan", "wgan-gp")
DEFAULT_SEEDS = (0, 1, 2, 3, 4)

@dataclass(frozen=True)
class CompareOptions:
    """A comparison study; every field is a `wganbench compare` flag. Checked before any training."""

    settings: tuple[str, ...] = option(DEFAULT_SETTINGS, f"settings to compare, among {', '.join(SETTINGS)} (or a "
                                       "--settings-file's), each with fields changed in brackets: "
                                       "'gan,wgan-seed[clip_value=0.05,n_critic=5,update=alternating]'")
    seeds: tuple[int, ...] = option(DEFAULT_SEEDS, "seeds of every setting")
    steps: int | None = option(None, "equal budget in generator steps per run (instead of --budget-seconds)")
    budget_seconds: float | None = option(None, f"equal budget in seconds of training per run (default "
                                          f"{DEFAULT_BUDGET_SECONDS:g} unless --steps)")
    points: int = option(8, "scored checkpoints per run (the loss-vs-FID correlation needs at least 8)")
    # Options of every run's training and scoring, forwarded by train_options and eval_options.
    n: int = inherit(EvalOptions, "n", default=5000, help="generated samples per score (the FID reference is "
                     "always the 10,000 test images)")
    width: int | None = inherit(TrainOptions, "width", default=16, help="narrowest feature map of both networks; "
                                "0 = each setting's own (the notebook's 64)")
    batch_size: int | None = inherit(TrainOptions, "batch_size", help="one batch size for every run; unset or 0 = "
                                     "each setting's own (gan and wgan-seed 256, wgan and wgan-gp 64)")
    jit_compile: bool = inherit(TrainOptions, "jit_compile")
    mixed_precision: str | None = inherit(TrainOptions, "mixed_precision")
    dataset: str = inherit(TrainOptions, "dataset", help="data set every run trains on and is scored on: MNIST, or "
                           "Stacked MNIST (1,000 three-digit modes)")
    out_dir: str | None = option(None, "where the report goes (default: <results>/main, or "
                                 "<results>/main-stacked-mnist)")
    runs_dir: str | None = option(None, "where run directories go (default: <results>/runs/main, or "
                                  "<results>/runs/main-stacked-mnist)")
    restart: bool = option(False, "delete the study's runs that were trained under another budget and start "
                           "them over")
    quiet: bool = inherit(TrainOptions, "quiet", help="no progress bars")
    workers: int | None = option(None, "runs trained at once, each in a Dask worker process of its own; 0 or 1 = one "
                                 "after another in this process; unset = this machine's measured best "
                                 "(studies.run.executor.default_workers)")
    threads: int | None = inherit(TrainOptions, "threads", help="TensorFlow threads of each run, recorded in its "
                                  "config.json (part of the recipe); unset = cores ÷ workers on workers, "
                                  "TensorFlow's choice in-process")
    cluster: str | None = option(None, "tcp://HOST:PORT of a running Dask scheduler whose workers train the runs "
                                 "(instead of workers started here)")
    per_gpu: int = option(1, "runs sharing one GPU, each worker pinned to one with CUDA_VISIBLE_DEVICES (GPU "
                          "machines only)")

    def __post_init__(self) -> None:
        if not self.settings:
            raise WganbenchError("settings: give at least one setting")
        # Each setting by its canonical name (an unknown one, or a bad field, fails before any training).
        object.__setattr__(self, "settings", tuple(get_setting(name).name for name in self.settings))
        if not self.seeds:
            raise WganbenchError("seeds: give at least one seed")
        for seed in self.seeds:
            checks.non_negative_int("each seed", seed)
        if self.steps is not None and self.budget_seconds is not None:
            raise WganbenchError("give one budget: --steps N or --budget-seconds S, not both")
        checks.positive_int("steps", self.steps, optional=True)
        checks.positive_number("budget_seconds", self.budget_seconds, optional=True)
        checks.positive_int("points", self.points)
        # The training options a run gets, checked now: bad widths or batches fail before any training.
        self.train_options(Path("."), 1)
        kid = EvalOptions(dataset=self.dataset).metric_options("kid").subset_size
        if self.n < kid:  # the final point scores KID with its own subset size; only --n can change that here
            raise WganbenchError(f"n={self.n} samples cannot fill KID's subsets of {kid} at a study's final "
                                 f"point; give --n {kid} or more")
        self.eval_options()

    @property
    def budget(self) -> Budget:
        if self.steps is not None:
            return Budget(self.steps, None, self.points)
        return Budget(None, self.budget_seconds or DEFAULT_BUDGET_SECONDS, self.points)

    def train_options(self, out: Path, target: float, seed: int = 0) -> TrainOptions:
        """The options of run ``seed``'s segment that trains to ``target`` (the study's own training options)."""
        budget = self.budget
        return TrainOptions(**inherited(self, TrainOptions), out_dir=str(out), seed=seed, resume=True,
                            steps=int(target) if budget.unit == "steps" else None,
                            budget_seconds=float(target) if budget.unit == "s" else None)

    def eval_options(self) -> EvalOptions:
        return EvalOptions(**inherited(self, EvalOptions), dataset=self.dataset)

    def report_dir(self) -> Path:
        return Path(self.out_dir) if self.out_dir else results_dir() / self._default_name()

    def run_root(self) -> Path:
        return Path(self.runs_dir) if self.runs_dir else results_dir() / "runs" / self._default_name()

    def _default_name(self) -> str:
        """The main job's own folders (git-ignored): it never rewrites a committed study."""
        return "main" if self.dataset == MNIST else f"main-{self.dataset}"


def claim_budget(out: Path, budget: Budget, *, restart: bool, write: bool = True) -> None:
    """Record ``budget`` in the run directory, or refuse when the run was trained under another one.

    ``write=False`` only checks (a study checks every run before any trains, and writes nothing before
    its executor is up: a start that fails leaves no budget.json behind)."""
    path = out / BUDGET_FILE
    try:
        held = json.loads(path.read_text()) if path.is_file() else None
        held_text = f"{held['total']:g} {held['unit']} in {held['points']} points" if held is not None else ""
    except (OSError, ValueError, KeyError, TypeError):
        held, held_text = {}, "an unreadable budget"
    if held == budget.record():
        return
    if held is not None or (out / SCORES_FILE).exists() or (out / rundir.CONFIG_FILE).exists():
        if not restart:
            what = (f"under another budget ({held_text}; this compare asks {budget.record()['total']:g} "
                    f"{budget.unit} in {budget.points})" if held is not None else "without a recorded budget")
            raise WganbenchError(f"{out} was trained {what}; pass --restart to train it over, or --runs-dir "
                                 "to keep both")
        if not write:
            return
        rundir.remove_run(out)
        (out / SCORES_FILE).unlink(missing_ok=True)
    if write:
        io.write_json(path, budget.record())


def held_run(out: Path) -> tuple[str, int] | None:
    """(setting, seed) of the run ``out`` holds per its config.json; None without one (or unreadable)."""
    try:
        config = json.loads((out / rundir.CONFIG_FILE).read_text())
        return config["setting"]["name"], config["seed"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def recover(out: Path, setting: str, seed: int) -> None:
    """--restart: a run directory holding another run (another setting or seed, or an unreadable
    config.json) is started over as (setting, seed)."""
    if (out / rundir.CONFIG_FILE).exists() and held_run(out) != (setting, seed):
        print(f"{out}: holds {held_run(out) or 'an unreadable run'}, not {setting} seed {seed}; --restart "
              "starts it over", flush=True)
        rundir.remove_run(out)
        (out / SCORES_FILE).unlink(missing_ok=True)


def stacked_text(scores: dict[str, Any]) -> str:
    return f", modes {scores['stacked_modes']:g} of 1000" if "stacked_modes" in scores else ""


def point_options(options: CompareOptions, final: bool) -> EvalOptions:
    """The final point is scored with the whole metric table, the others with the cheap metrics only."""
    whole = options.eval_options()
    return whole if final else replace(whole, metrics=cheap_metrics(whole.dataset))


def compare_run(setting: str, seed: int, options: CompareOptions, *, label: str = "",
                segments: int | None = None,
                after_point: Callable[[pd.DataFrame], Any] | None = None) -> pd.DataFrame:
    """Train and score one (setting, seed) run point by point; returns its scores.csv rows.

    Each point commits its checkpoint (the trainer's) and then its scores.csv row, so a run stopped
    anywhere resumes at its last point (a checkpoint committed without its row is scored, not
    retrained). ``segments`` caps the points trained in this call (None: all that are left, in one
    training session: a study's worker trains a whole run in one process, the GAN kept in memory).
    The run directory is held by this process meanwhile. ``options.threads`` reaches the trainer,
    which records it in config.json. ``after_point`` sees the scores.csv rows after each committed point
    (a study's progress in this process).
    """
    out = run_dir(options.run_root(), setting, seed)
    with hold(out, "run directory", "wait for it to finish, or give this compare another --runs-dir"):
        return _compare_run(setting, seed, options, out, label, segments, after_point)


def _compare_run(setting: str, seed: int, options: CompareOptions, out: Path, label: str,
                 segments: int | None, after_point: Callable[[pd.DataFrame], Any] | None) -> pd.DataFrame:
    from wgan import trainer  # TensorFlow: loaded to train, not to build `compare --help`
    from wgan.tensorboard import log_scores, tensorboard_dir

    spec = options.train_options(Path("."), 1).setting_for(setting)
    budget = options.budget
    if options.restart:
        recover(out, setting, seed)
    claim_budget(out, budget, restart=options.restart)
    scores_path = out / SCORES_FILE
    frame = read_scores(scores_path)
    if not frame.empty and (frame.attrs.get("damaged") or (frame[STATUS] == STATUS_FAILED).any()):
        # failed rows are retried; a damaged file is healed once, here
        frame = frame[frame[STATUS] != STATUS_FAILED]
        io.write_text(scores_path, frame.to_csv(index=False))
    done = set(frame[TARGET]) if not frame.empty else set()
    targets = budget.targets()
    pending = [target for target in targets if target not in done][:segments]
    if not pending:
        return frame
    print(f"{label}{setting} seed {seed}: training to {', '.join(f'{t:g}' for t in pending)} {budget.unit}",
          flush=True)
    scored: list[float] = []
    t_point = time.perf_counter()

    def on_point(step: int, summary: dict, generator: Any) -> None:
        """Score the point from the generator in memory (its checkpoint is committed), then commit its row."""
        nonlocal frame, t_point
        target = pending[len(scored)]
        t0 = time.perf_counter()
        scores = evaluate(generator, options=point_options(options, target == targets[-1]))
        score_s = time.perf_counter() - t0
        log_scores(tensorboard_dir(out), step, scores)
        print(f"{label}{setting} seed {seed}: step {step}, FID {scores['fid']:.2f}, IS {scores['is_mean']:.2f}, "
              f"digits {scores['modes_covered']}{stacked_text(scores)} (scored in {score_s:.1f}s)", flush=True)
        wall = summary[rundir.SUMMARY_WALL_SECONDS]
        frame = append_score(scores_path, {
            SETTING: setting, SEED: seed, TARGET: target, STEP: step, WALL_S: wall,
            IMAGES_PER_S: step * spec.batch_size * spec.n_critic / wall, STATUS: STATUS_OK, **scores,
            SCORE_S: round(score_s, 3), POINT_S: round(time.perf_counter() - t_point, 3)})
        scored.append(target)
        if after_point is not None:
            after_point(frame)
        t_point = time.perf_counter()

    try:
        trainer.train(setting, options=options.train_options(out, pending[-1], seed), points=pending,
                      on_point=on_point)
    except Exception as err:  # noqa: BLE001 — one failing run must not abort the others
        detail = first_line(err)
        print(f"{label}{setting} seed {seed}: FAILED: {detail}", flush=True)
        if not isinstance(err, WganbenchError):
            traceback.print_exc()
        target = pending[min(len(scored), len(pending) - 1)]
        return append_score(scores_path, {SETTING: setting, SEED: seed, TARGET: target, STATUS: STATUS_FAILED,
                                          ERROR: f"{type(err).__name__}: {detail}"})
    return frame


def study_meta(options: CompareOptions) -> dict[str, Any]:
    """What the report says about how the study ran."""
    budget = options.budget
    meta = asdict(options)
    meta.update({"steps": budget.steps, "budget_seconds": budget.seconds,
                 "width": options.width or get_setting(options.settings[0]).width,
                 "batch_size": options.batch_size or "each setting's own (" + ", ".join(
                     f"{s} {get_setting(s).batch_size}" for s in options.settings) + ")",
                 "mixed_precision": options.mixed_precision or "float32",
                 "training_share": training_share_line(options.run_root() / STUDY_COST_FILE)})
    return meta


def training_share_line(path: Path) -> str:
    """The report's sentence on the share of the workers' time that went to training (study-cost.json,
    written by the executor for the session that trained), or "" when no session trained here."""
    try:
        cost = json.loads(path.read_text())
        return (f"Training share: {cost['training_share']:.1%} of the workers' time went to training "
                f"({cost['training_s']:.0f} s of training on {cost['workers']} worker{'s' * (cost['workers'] > 1)} "
                f"in {cost['wall_s']:.0f} s after the classifier was ready; the rest started processes, traced, "
                "saved and scored; the command's own start and this report's rendering come on top of that time).")
    except (OSError, ValueError, KeyError, TypeError):
        return ""
