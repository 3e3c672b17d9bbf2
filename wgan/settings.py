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
    n_critic: int = 1              # critic updates per generator update
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
            checks.positive_number("clip_value", self.clip_value)
            if self.gp_lambda < 0:
                raise WganbenchError(f"gp_lambda must be non-negative, got {self.gp_lambda}")
            if self.loss != "wasserstein" and self.lipschitz != "none":
                raise WganbenchError(f"a {self.lipschitz!r} Lipschitz constraint needs the Wasserstein loss")
        except WganbenchError as err:
            raise WganbenchError(f"setting {self.name!r}: {err}") from None


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("gan", loss="gan", lipschitz="none", g_optimizer="adam", d_optimizer="adam",
            g_lr=1e-4, d_lr=1e-4, source="the notebook's DCGAN baseline"),
    Setting("wgan-seed", loss="wasserstein", lipschitz="clip", g_optimizer="adam", d_optimizer="adam",
            g_lr=1e-4, d_lr=1e-4, source="the original notebook"),
    Setting("wgan", loss="wasserstein", lipschitz="clip", g_optimizer="rmsprop", d_optimizer="rmsprop",
            g_lr=5e-5, d_lr=5e-5, n_critic=5, batch_size=64, source="Arjovsky et al. 2017, Alg. 1"),
    # No critic dropout: a penalty on a stochastic critic is ill-defined (DESIGN.md §2).
    Setting("wgan-gp", loss="wasserstein", lipschitz="penalty", g_optimizer="adam", d_optimizer="adam",
            g_lr=1e-4, d_lr=1e-4, betas=(0.5, 0.9), n_critic=5, batch_size=64, critic_dropout=0.0,
            source="Gulrajani et al. 2017; igul222's MNIST script"),
)}


def get_setting(setting: str | Setting) -> Setting:
    """A setting by name (a :class:`Setting` passes through); unknown names list the known ones."""
    if isinstance(setting, Setting):
        return setting
    try:
        return SETTINGS[setting]
    except (KeyError, TypeError):
        raise WganbenchError(f"unknown setting {setting!r}; known settings: {', '.join(SETTINGS)}") from None
