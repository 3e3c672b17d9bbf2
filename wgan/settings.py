"""The four named training settings as frozen dataclasses (docs/DESIGN.md §2 Settings and their sources).

Copy and change one with ``dataclasses.replace(SETTINGS["wgan"], n_critic=3)``; every field is
checked when a setting is made, so a bad copy fails at once with a :class:`WganbenchError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wgan import checks
from wgan.errors import WganbenchError

LOSSES = ("gan", "wasserstein")
LIPSCHITZ = ("none", "clip", "penalty")
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
    loss: str                      # "gan" (cross-entropy from logits) or "wasserstein"
    lipschitz: str                 # "none", "clip" (weights to ±clip_value) or "penalty" (gp_lambda)
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
            if self.loss != "wasserstein" and self.lipschitz != "none":
                raise WganbenchError(f"a {self.lipschitz!r} Lipschitz constraint needs the Wasserstein loss")
        except WganbenchError as err:
            raise WganbenchError(f"setting {self.name!r}: {err}") from None


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


def get_setting(setting: str | Setting) -> Setting:
    """A setting by name (a :class:`Setting` passes through); unknown names list the known ones."""
    if isinstance(setting, Setting):
        return setting
    try:
        return SETTINGS[setting]
    except (KeyError, TypeError):
        raise WganbenchError(f"unknown setting {setting!r}; known settings: {', '.join(SETTINGS)}") from None
