"""`wgan.machine.cpuinfo` against /proc/cpuinfo read another way (a regular expression over the first processor's
block): the model name, flags, and the family and model numbers that tell apart CPUs sharing a model name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wgan.machine import cpuinfo

PROC = Path("/proc/cpuinfo")


@pytest.mark.skipif(not PROC.is_file(), reason="no /proc/cpuinfo on this system")
def test_cpuinfo_reads_the_first_processor() -> None:
    first = PROC.read_text().split("\n\n")[0]

    def field(name: str) -> str:
        match = re.search(rf"^{re.escape(name)}\s*:\s*(.*)$", first, flags=re.MULTILINE)
        assert match, name
        return match.group(1).strip()

    cpu = cpuinfo()
    assert cpu.model == field("model name")
    assert cpu.flags == frozenset(field("flags").split())
    assert cpu.family == f"family {field('cpu family')}, model {field('model')}"
    assert cpu.label == f"{cpu.model} ({cpu.family})"
    model, flags, _ = cpu  # still a plain tuple for those who unpack it
    assert (model, flags) == (cpu.model, cpu.flags)
