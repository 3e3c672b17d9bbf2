"""The design doc's module map (docs/DESIGN.md §1 Three layers) names every module of the tree, and no module
that is gone: a newcomer reads the map first, so a module added or removed without it fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("wganbench", "studies", "evaluators", "wgan")


def module_map() -> dict[str, set[str]]:
    """{package or subpackage path ('studies/run'): the module names the map lists for it}."""
    text = (ROOT / "docs" / "DESIGN.md").read_text()
    block = text.split("### Three layers", 1)[1].split("```", 2)[1]
    listed: dict[str, set[str]] = {}
    top = sub = None
    sub_column = -1
    for line in block.splitlines():
        first = len(line) - len(line.lstrip())
        if first <= sub_column:  # a line indented past a subpackage's name continues its list
            sub, sub_column = None, -1
        for match in re.finditer(r"[A-Za-z_]\w*/?", re.sub(r"[()]", " ", line)):
            word = match.group(0)
            if word in ("bench/", "tests/"):  # beside the stack: no module map of their own
                top = sub = None
            elif word.endswith("/") and word[:-1] in PACKAGES:
                top, sub = word[:-1], None
            elif word.endswith("/") and top is not None:
                sub, sub_column = word[:-1], match.start()
                listed.setdefault(f"{top}/{sub}", set())
            elif top is not None:
                listed.setdefault(f"{top}/{sub}" if sub else top, set()).add(word)
    return listed


def modules() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path.stem.startswith("__") and path.stem != "__main__":
                continue
            found.setdefault(str(path.parent.relative_to(ROOT)), set()).add(path.stem)
    return found


def test_the_module_map_names_every_module() -> None:
    listed = module_map()
    for folder, names in modules().items():
        words = listed.get(folder, set())
        missing = sorted(names - words)
        assert not missing, f"docs/DESIGN.md §1's module map does not name {folder}/{missing}"


def test_the_module_map_names_no_missing_subpackage() -> None:
    present = set(modules())
    for folder in module_map():
        if "/" in folder:
            assert folder in present, f"docs/DESIGN.md §1's module map names {folder}/, which is not in the tree"
