"""What a setting's networks minimise and how its critic is kept Lipschitz, as named records.

Importable without TensorFlow, so the report and the gate can ask "does this setting's critic value
estimate a distance?" of a setting name without starting it. The math is :mod:`wgan.losses`' (looked up
by these records) and :mod:`wgan.lipschitz`'s. A new loss is one record here and its two functions there.
"""

from __future__ import annotations

from dataclasses import dataclass

from wgan.errors import WganbenchError


@dataclass(frozen=True)
class Loss:
    """A pair of objectives: what the critic minimises and what the generator minimises."""

    name: str
    critic: str                # the critic's objective, as a formula of its outputs D
    generator: str             # the generator's objective
    estimates_distance: bool   # whether E[D(x)] − E[D(G(z))] is the critic's estimate of a distance (W₁)


@dataclass(frozen=True)
class Lipschitz:
    """How the critic is kept (approximately) 1-Lipschitz."""

    name: str
    clips: bool                # every trainable critic weight forced into ±clip_value after each update
    penalises: bool            # gp_lambda × the gradient penalty added to the critic's loss
    needs_distance: bool       # only meaningful with a loss whose critic estimates a distance


GAN_LOSS = Loss("gan", "E[softplus(-D(x))] + E[softplus(D(G(z)))]", "E[softplus(-D(G(z)))]", False)
WASSERSTEIN_LOSS = Loss("wasserstein", "E[D(G(z))] - E[D(x)]", "-E[D(G(z))]", True)
LOSSES: dict[str, Loss] = {loss.name: loss for loss in (GAN_LOSS, WASSERSTEIN_LOSS)}

# How weight clipping runs (`wgan.lipschitz`): compared by the benchmarks, the same critic after the same updates.
CLIP_IMPLS = ("fused", "constraint", "numpy", "none")
DEFAULT_CLIP_IMPL = "fused"

LIPSCHITZ: dict[str, Lipschitz] = {m.name: m for m in (
    Lipschitz("none", clips=False, penalises=False, needs_distance=False),
    Lipschitz("clip", clips=True, penalises=False, needs_distance=True),
    Lipschitz("penalty", clips=False, penalises=True, needs_distance=True),
)}


def _lookup(kind: str, table: dict, name: str):
    try:
        return table[name]
    except (KeyError, TypeError):
        raise WganbenchError(f"unknown {kind} {name!r}; expected one of: {', '.join(table)}") from None


def get_loss(name: str) -> Loss:
    return _lookup("loss", LOSSES, name)


def get_lipschitz(name: str) -> Lipschitz:
    return _lookup("Lipschitz constraint", LIPSCHITZ, name)
