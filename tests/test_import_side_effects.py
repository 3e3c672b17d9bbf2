"""Importing the suite changes nothing in the process: no environment variable, no import hook.

The process is configured by an explicit call (:func:`wgan.configure_process`) from the suite's own
entry points. Each check runs in a fresh interpreter whose environment lacks every variable the suite
would set, so a default set on import would show.
"""

from __future__ import annotations

import ast
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

from wgan.console import BANNER_SHOWN_ENV, LOG_LEVEL_ENV, ONEDNN_ENV

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("wgan", "evaluators", "studies", "wganbench")
SUITE_ENV = (ONEDNN_ENV, LOG_LEVEL_ENV, BANNER_SHOWN_ENV)

# Prints what importing MODULES changed, after first importing PRELOAD (the third-party packages, which
# set variables and hooks of their own: TensorFlow sets TF2_BEHAVIOR, six adds a finder).
PROBE = """
import importlib, json, os, sys
preload, modules = json.loads(sys.argv[1])
for name in preload:
    importlib.import_module(name)
env, hooks = dict(os.environ), list(sys.meta_path)
for name in modules:
    importlib.import_module(name)
changed = sorted(k for k in set(env) | set(os.environ) if env.get(k) != os.environ.get(k))
print(json.dumps({"env": changed, "hooks": [repr(h) for h in sys.meta_path if h not in hooks],
                  "tensorflow": "tensorflow" in sys.modules}))
"""


def _probe(preload: list[str], modules: list[str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SUITE_ENV}
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps([preload, modules])], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _suite_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        names.append(package)
        path = [str(ROOT / package)]
        names += [m.name for m in pkgutil.walk_packages(path, f"{package}.") if not m.name.endswith("__main__")]
    return names


def _third_party(modules: list[str]) -> list[str]:
    """The packages the suite's modules import, other than its own and the standard library's."""
    found: set[str] = set()
    for name in modules:
        spec_path = ROOT / Path(*name.split("."))
        source = spec_path / "__init__.py" if spec_path.is_dir() else spec_path.with_suffix(".py")
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    return sorted(m for m in found if m.split(".")[0] not in (*PACKAGES, "bench")
                  and m.split(".")[0] not in sys.stdlib_module_names)


def test_import_wgan_sets_nothing_and_loads_no_tensorflow() -> None:
    changed = _probe([], ["wgan", "evaluators", "studies.cli", "wganbench"])
    assert changed == {"env": [], "hooks": [], "tensorflow": False}


def test_no_module_of_the_suite_changes_the_process_on_import() -> None:
    modules = _suite_modules()
    changed = _probe(_third_party(modules), modules)
    assert changed["env"] == [] and changed["hooks"] == [], changed


def test_configure_process_is_what_sets_them() -> None:
    # The explicit call does set the suite's defaults and the one-shot banner filter (before TensorFlow loads).
    code = ("import json, os, sys, wgan; hooks = list(sys.meta_path); wgan.configure_process(); "
            f"print(json.dumps([os.environ.get({ONEDNN_ENV!r}), os.environ.get({LOG_LEVEL_ENV!r}), "
            "len(sys.meta_path) - len(hooks)]))")
    env = {k: v for k, v in os.environ.items() if k not in SUITE_ENV}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    assert json.loads(done.stdout) == ["1", "1", 1]
