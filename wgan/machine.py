"""What this machine's CPU is: read once from /proc/cpuinfo, for the baseline's environment and the benchmarks."""

from __future__ import annotations

import platform
from typing import NamedTuple


class Cpu(NamedTuple):
    model: str          # the first CPU's model name, else what `platform` knows
    flags: frozenset[str]  # its feature flags (avx2, avx512f, ...); empty where /proc/cpuinfo is not
    family: str = ""    # "family 25, model 17": tells apart CPUs whose model name is the same ("AMD EPYC")

    @property
    def label(self) -> str:
        """The model name with its family and model numbers where known: what a measurement records."""
        return f"{self.model} ({self.family})" if self.family else self.model


def cpuinfo() -> Cpu:
    """The first CPU's model name, flags, family and model numbers from /proc/cpuinfo (Linux), else `platform`'s
    name and no flags."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    numbers = ("cpu family", "model")
    family = ", ".join(f"{k.split()[-1]} {fields[k]}" for k in numbers) if all(k in fields for k in numbers) else ""
    model = fields.get("model name") or platform.processor() or platform.machine()
    return Cpu(model, frozenset(fields.get("flags", "").split()), family)
