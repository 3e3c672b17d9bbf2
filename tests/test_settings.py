"""The four settings carry DESIGN.md §2's hyperparameters; bad names and copies fail clearly."""

from __future__ import annotations

import dataclasses

import pytest

from wgan.errors import WganbenchError
from wgan.settings import SETTINGS, get_setting


def test_the_four_settings() -> None:
    rows = {name: (s.loss, s.lipschitz, s.g_optimizer, s.d_optimizer, s.g_lr, s.d_lr, s.n_critic, s.batch_size,
                   s.critic_dropout) for name, s in SETTINGS.items()}
    assert rows == {
        "gan": ("gan", "none", "adam", "adam", 1e-4, 1e-4, 1, 256, 0.3),
        "wgan-seed": ("wasserstein", "clip", "adam", "adam", 1e-4, 1e-4, 1, 256, 0.3),
        "wgan": ("wasserstein", "clip", "rmsprop", "rmsprop", 5e-5, 5e-5, 5, 64, 0.3),
        "wgan-gp": ("wasserstein", "penalty", "adam", "adam", 1e-4, 1e-4, 5, 64, 0.0),
    }
    assert SETTINGS["wgan-gp"].betas == (0.5, 0.9) and SETTINGS["wgan-gp"].gp_lambda == 10.0
    assert all(s.clip_value == 0.01 and s.noise_dim == 100 for s in SETTINGS.values())


def test_unknown_setting_lists_the_known_ones() -> None:
    with pytest.raises(WganbenchError, match="unknown setting 'wgan-xx'.*gan, wgan-seed, wgan, wgan-gp"):
        get_setting("wgan-xx")
    assert get_setting(SETTINGS["wgan"]) is SETTINGS["wgan"]


def test_settings_are_frozen_and_copies_are_checked() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        SETTINGS["wgan"].n_critic = 3  # type: ignore[misc]
    copy = dataclasses.replace(SETTINGS["wgan"], n_critic=3, name="wgan-3")
    assert copy.n_critic == 3 and SETTINGS["wgan"].n_critic == 5
    for bad in ({"n_critic": 0}, {"batch_size": -1}, {"d_lr": 0.0}, {"loss": "hinge"}, {"critic_dropout": 1.0},
                {"batch_size": 32.0}, {"loss": "gan"}):
        with pytest.raises(WganbenchError, match="setting 'wgan'"):
            dataclasses.replace(SETTINGS["wgan"], **bad)
