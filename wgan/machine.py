"""What this machine's CPU is: read once from /proc/cpuinfo, for the baseline's environment and the benchmarks."""

from __future__ import annotations

import platform
from typing import NamedTuple


class Cpu(NamedTuple):
    model: str          # the first CPU's model name, else what `platform` knows
    flags: frozenset[str]  # its feature flags (avx2, avx512f, ...); empty where /proc/cpuinfo is not


def cpuinfo() -> Cpu:
    """The first CPU's model name and flags from /proc/cpuinfo (Linux), else `platform`'s name and no flags."""
    flags: frozenset[str] = frozenset()
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "flags" and not flags:
                    flags = frozenset(value.split())
                elif key == "model name" and model is None:
                    model = value.strip()
    except OSError:
        pass
    return Cpu(model or platform.processor() or platform.machine(), flags)
