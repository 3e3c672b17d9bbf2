"""The four named training settings of DESIGN.md §2 as frozen dataclasses.

Copy and change one with ``dataclasses.replace(SETTINGS["wgan"], n_critic=3)``; every field is
checked when a setting is made, so a bad copy fails at once with a :class:`WganbenchError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
        checks = [
            (self.loss in LOSSES, f"loss must be one of {LOSSES}, got {self.loss!r}"),
            (self.lipschitz in LIPSCHITZ, f"lipschitz must be one of {LIPSCHITZ}, got {self.lipschitz!r}"),
            (self.g_optimizer in OPTIMIZERS and self.d_optimizer in OPTIMIZERS,
             f"optimizers must be among {OPTIMIZERS}, got {self.g_optimizer!r}/{self.d_optimizer!r}"),
            (self.g_lr > 0 and self.d_lr > 0, f"learning rates must be positive, got {self.g_lr}/{self.d_lr}"),
            (all(0 <= b < 1 for b in self.betas) and len(self.betas) == 2,
             f"betas must be two numbers in [0, 1), got {self.betas}"),
            (_positive_int(self.n_critic), f"n_critic must be a positive integer, got {self.n_critic!r}"),
            (_positive_int(self.batch_size), f"batch_size must be a positive integer, got {self.batch_size!r}"),
            (0 <= self.critic_dropout < 1, f"critic_dropout must be in [0, 1), got {self.critic_dropout}"),
            (self.clip_value > 0, f"clip_value must be positive, got {self.clip_value}"),
            (self.gp_lambda >= 0, f"gp_lambda must be non-negative, got {self.gp_lambda}"),
            (_positive_int(self.noise_dim), f"noise_dim must be a positive integer, got {self.noise_dim!r}"),
            (_positive_int(self.width), f"width must be a positive integer, got {self.width!r}"),
            (self.loss == "wasserstein" or self.lipschitz == "none",
             f"a {self.lipschitz!r} Lipschitz constraint needs the Wasserstein loss"),
        ]
        for ok, message in checks:
            if not ok:
                raise WganbenchError(f"setting {self.name!r}: {message}")


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


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
