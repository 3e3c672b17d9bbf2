"""The lock (constraints.txt) pins every package the two commands install, within pyproject.toml's ranges.

A dependency added to pyproject.toml without `make lock` would install unpinned on a fresh clone (CI would
test whatever is newest that day); a range changed past the lock's pin would make the install fail.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCKED_EXTRAS = ("cpu", "dev")  # what the Makefile installs: -e '.[cpu,dev]'


def pins() -> dict[str, str]:
    held = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            held[canonicalize_name(name)] = version.strip()
    return held


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + [r for extra in LOCKED_EXTRAS for r in project["optional-dependencies"][extra]]
    return [Requirement(r) for r in names]


def test_every_requirement_is_pinned_inside_its_range() -> None:
    held = pins()
    unpinned = [str(r) for r in requirements() if canonicalize_name(r.name) not in held]
    assert not unpinned, f"not in constraints.txt (run `make lock`): {unpinned}"
    outside = [f"{r} (locked {held[canonicalize_name(r.name)]})" for r in requirements()
               if not r.specifier.contains(held[canonicalize_name(r.name)], prereleases=True)]
    assert not outside, f"locked outside pyproject.toml's range (run `make lock`): {outside}"


def test_the_runtime_holds_no_dev_tool_and_no_tensorflow_build() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    dev = {canonicalize_name(Requirement(r).name) for r in project["optional-dependencies"]["dev"]}
    assert not runtime & dev
    assert not runtime & {"tensorflow", "tensorflow-cpu"}  # each build comes from its own extra, never both
    assert all(Requirement(r).specifier for r in project["dependencies"])  # ranges, none left open
