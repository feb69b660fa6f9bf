"""What machine a benchmark ran on, so that its figures can be read (and compared) later.

Figures without the machine are not evidence: a budget met on a 64-core laptop says
little about the 2-core CI runner. Everything here is read locally and cheaply; a field
that cannot be read says "unknown" instead of failing the benchmark.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import TypedDict

__all__ = ["MachineInfo", "describe", "describe_line", "load_line"]

_UNKNOWN = "unknown"


class MachineInfo(TypedDict):
    """The facts a benchmark report prints beside its figures."""

    cpu_model: str
    cores: int
    memory_gib: float | None
    python: str
    os: str


def describe() -> MachineInfo:
    """Describe this machine: CPU model, usable cores, memory, Python and OS."""
    return MachineInfo(
        cpu_model=_cpu_model(),
        cores=_usable_cores(),
        memory_gib=_memory_gib(),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        os=f"{platform.system()} {platform.release()} {platform.machine()}",
    )


def describe_line(info: MachineInfo | None = None) -> str:
    """One readable line, e.g. `AMD EPYC, 2 cores, 23.5 GiB, CPython 3.11.9, Linux ...`."""
    info = describe() if info is None else info
    memory = _UNKNOWN if info["memory_gib"] is None else f"{info['memory_gib']:.1f} GiB"
    return f"{info['cpu_model']}, {info['cores']} cores, {memory}, {info['python']}, {info['os']}"


def load_line() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews timings."""
    if not hasattr(os, "getloadavg"):
        return _UNKNOWN
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def _cpu_model() -> str:
    """The CPU's marketing name: /proc/cpuinfo on Linux, else what `platform` knows."""
    cpuinfo = _read(Path("/proc/cpuinfo"))
    for line in cpuinfo.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in {"model name", "Hardware", "cpu model"} and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or _UNKNOWN


def _usable_cores() -> int:
    """Cores this process may run on (the affinity mask), which a container may limit."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _memory_gib() -> float | None:
    """Physical memory, capped by a cgroup v2 limit when one is set."""
    total: float | None = None
    for line in _read(Path("/proc/meminfo")).splitlines():
        if line.startswith("MemTotal:"):
            total = int(line.split()[1]) * 1024 / 2**30
    limit = _read(Path("/sys/fs/cgroup/memory.max")).strip()
    if limit.isdigit():
        capped = int(limit) / 2**30
        total = capped if total is None else min(total, capped)
    return None if total is None else round(total, 1)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
