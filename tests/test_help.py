"""`--help` is quiet and light, and `python -m wganbench` is the `wganbench` command.

Each help runs in a fresh interpreter, as a user types it: it must print its usage, nothing on stderr
(no TensorFlow banner), and leave TensorFlow unloaded (the commands import it only to run).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from studies.cli.commands import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = Path(sys.executable).parent / "wganbench"  # installed beside this interpreter
# Runs `python -m wganbench ARGS` and reports on stderr, at exit, whether TensorFlow was loaded.
PROBE = ("import atexit, runpy, sys; atexit.register(lambda: print('tensorflow loaded:', 'tensorflow' in "
         "sys.modules, file=sys.stderr)); sys.argv = ['wganbench', *sys.argv[1:]]; "
         "runpy.run_module('wganbench', run_name='__main__')")
HELPS = [[], *([name] for name in COMMANDS), ["report", "bench"]]


def run(argv: list[str], *, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", HELPS, ids=[" ".join(c) or "wganbench" for c in HELPS])
def test_help_loads_no_tensorflow_and_prints_no_banner(command: list[str]) -> None:
    done = run([sys.executable, "-c", PROBE, *command, "--help"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: wganbench {' '.join(command)}".rstrip()), done.stdout[:200]
    assert done.stderr == "tensorflow loaded: False\n"


@pytest.mark.parametrize("argv", [["--help"], ["gate", "--help"], ["gate", "missing.json"], ["nope"]])
def test_python_m_wganbench_is_the_command(tmp_path: Path, argv: list[str]) -> None:
    module = run([sys.executable, "-m", "wganbench", *argv], cwd=tmp_path)
    script = run([str(CONSOLE_SCRIPT), *argv], cwd=tmp_path)
    assert (module.returncode, module.stdout, module.stderr) == (script.returncode, script.stdout, script.stderr)
    assert module.returncode == (0 if "--help" in argv else 2)
