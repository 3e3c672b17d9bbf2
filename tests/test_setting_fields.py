"""A setting's fields wherever a setting is named: ``wgan-seed[clip_value=0.05]``, a settings file, the
derived names, and a changed field reaching the critic it trains."""

from __future__ import annotations

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from studies.run.compare import CompareOptions
from wgan.errors import WganbenchError
from wgan.objectives import get_loss
from wgan.options import split_list
from wgan.rundir import CONFIG_FILE, run_name
from wgan.settings import SETTINGS, SETTINGS_ENV, changed_fields, dirname, get_setting
from wgan.trainer import train

CANONICAL = "wgan-seed[clip_value=0.05,n_critic=5,update=alternating]"


def test_a_changed_name_is_canonical_and_stable() -> None:
    for spelling in ("wgan-seed[update=alternating,n_critic=5,clip_value=0.05]",
                     "wgan-seed[ clip_value=0.050 , n_critic=5, update=alternating ]",
                     f"{CANONICAL}"):
        setting = get_setting(spelling)
        assert setting.name == CANONICAL
        assert get_setting(setting.name) == setting  # the name names the same recipe again
    assert (setting.clip_value, setting.n_critic, setting.update) == (0.05, 5, "alternating")
    assert changed_fields(setting) == {"clip_value": 0.05, "n_critic": 5, "update": "alternating"}
    assert changed_fields("wgan") == {}
    assert get_setting("wgan-seed[clip_value=0.01]") == SETTINGS["wgan-seed"]  # the base's own value: no change
    assert get_setting("wgan-gp[betas=(0.5, 0.99)]").betas == (0.5, 0.99)
    assert dirname(CANONICAL) == "wgan-seed+clip_value=0.05+n_critic=5+update=alternating"
    assert run_name(CANONICAL, 2) == f"{dirname(CANONICAL)}-s2" and run_name("gan", 0) == "gan-s0"


def test_bad_fields_and_values_say_what_is_allowed() -> None:
    with pytest.raises(WganbenchError, match=r"has no field 'clip'; valid fields: loss, lipschitz, .*clip_value"):
        get_setting("wgan-seed[clip=0.05]")
    with pytest.raises(WganbenchError, match="unknown update order 'sideways'; expected one of: simultaneous, "
                                             "alternating"):
        get_setting("wgan-seed[update=sideways]")
    with pytest.raises(WganbenchError, match="n_critic must be an integer, got '2.5'"):
        get_setting("wgan[n_critic=2.5]")
    with pytest.raises(WganbenchError, match="has no field 'name'"):
        get_setting("gan[name=mine]")
    with pytest.raises(WganbenchError, match="simultaneous update has one critic update"):
        get_setting("wgan-seed[n_critic=5]")  # checked as a whole setting, as a copy is


def test_a_settings_list_keeps_each_settings_fields(monkeypatch) -> None:
    text = "gan, wgan-seed[clip_value=0.05,n_critic=5,update=alternating]"
    assert split_list(text) == ["gan", "wgan-seed[clip_value=0.05,n_critic=5,update=alternating]"]
    options = CompareOptions(settings=tuple(split_list(text)), steps=2)
    assert options.settings == ("gan", CANONICAL)


def test_a_settings_file_is_checked_like_a_name(tmp_path, monkeypatch) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[my-clip]\nbase = "wgan-seed"\nclip_value = 0.05\n\n'
                    '[my-paper]\nbase = "my-clip"\nn_critic = 5\nupdate = "alternating"\n')
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    mine = get_setting("my-paper")
    assert mine.name == "my-paper" and (mine.clip_value, mine.n_critic) == (0.05, 5)
    assert changed_fields(mine) == {"clip_value": 0.05, "n_critic": 5, "update": "alternating"}
    assert get_setting("my-clip[batch_size=64]").name == "my-clip[batch_size=64]"
    path.write_text('[my-clip]\nbase = "wgan-seed"\nclip = 0.05\n')
    with pytest.raises(WganbenchError, match=r"\[my-clip\]: setting 'wgan-seed' has no field 'clip'; valid fields"):
        get_setting("gan")


def test_losses_are_records() -> None:
    assert not get_setting("gan").objective.estimates_distance
    assert all(SETTINGS[n].objective.estimates_distance for n in ("wgan-seed", "wgan", "wgan-gp"))
    assert SETTINGS["wgan-gp"].constraint.penalises and SETTINGS["wgan"].constraint.clips
    with pytest.raises(WganbenchError, match="unknown loss 'hinge'; expected one of: gan, wasserstein"):
        get_loss("hinge")


class Capture(keras.callbacks.Callback):
    def on_train_end(self, logs=None) -> None:
        self.critic = self.model.critic


def test_a_changed_clip_value_reaches_the_critic(tmp_path, mnist) -> None:
    """Two steps of wgan-seed[clip_value=0.05]: every critic weight within ±0.05 (clipping is exact in
    float32), and weights beyond the base's ±0.01 (Glorot kernels start far outside both)."""
    capture = Capture()
    train("wgan-seed[clip_value=0.05]", steps=2, out_dir=tmp_path, data=mnist[0][0][:512], width=8, batch_size=16,
          quiet=True, deterministic=False, callbacks=[capture])
    weights = np.concatenate([w.ravel() for w in capture.critic.get_weights()])
    bound = np.float32(0.05)
    assert np.abs(weights).max() <= bound and np.isclose(np.abs(weights).max(), bound)
    assert (np.abs(weights) > np.float32(0.01)).any()
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    assert config["setting"]["name"] == "wgan-seed[clip_value=0.05]" and config["setting"]["clip_value"] == 0.05


class Generator(keras.callbacks.Callback):
    def on_train_end(self, logs=None) -> None:
        self.generator = self.model.generator


def test_a_generator_without_batchnorm_is_a_field_and_trains(tmp_path, mnist) -> None:
    """``g_batchnorm=false`` names its own recipe and trains a generator with no BatchNorm layer; the default
    leaves every existing setting's name as it was."""
    setting = get_setting("gan[g_batchnorm=false]")
    assert setting.name == "gan[g_batchnorm=false]" and changed_fields(setting) == {"g_batchnorm": False}
    assert get_setting("gan[g_batchnorm=true]") == SETTINGS["gan"] and get_setting("gan").name == "gan"
    capture = Generator()
    summary = train(setting, steps=2, out_dir=tmp_path, data=mnist[0][0][:512], width=8, batch_size=16, quiet=True,
                    deterministic=False, callbacks=[capture])
    assert summary["steps"] == 2
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in capture.generator.layers)
    assert json.loads((tmp_path / CONFIG_FILE).read_text())["setting"]["g_batchnorm"] is False


def test_a_run_recorded_before_a_field_existed_still_resumes(tmp_path, mnist) -> None:
    """A config.json whose setting lacks a later field (g_batchnorm) was trained with its default: it resumes."""
    args = {"out_dir": tmp_path, "data": mnist[0][0][:512], "width": 8, "batch_size": 16, "quiet": True,
            "deterministic": False, "checkpoint_every": 1}
    train("gan", steps=1, **args)
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    del config["setting"]["g_batchnorm"]
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    assert train("gan", steps=2, resume=True, **args)["steps"] == 2


def test_the_cli_names_the_valid_fields(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "studies.cli", "train", "wgan-seed[clip=0.05]", "--steps", "1",
                           "--out-dir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert "has no field 'clip'; valid fields: loss, lipschitz" in lines[-1] and not (tmp_path / CONFIG_FILE).exists()
