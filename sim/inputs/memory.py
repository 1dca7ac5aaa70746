"""Will a run fit in this machine's memory? An estimate before anything is built, so that a
scenario too large for the machine is refused in one line instead of failing with a memory
error minutes later.

The estimate is a fixed part (Python, numpy, numba and the model's code: about 0.3 GiB) plus a
part per household (quartier model) or per grid cell (Schelling mode). The per-unit sizes are
peak resident memory measured for one built-and-stepped model (``benchmarks``-style, with
``resource.getrusage``): about 0.55 KiB per household (10,000 to 200,000 households) and about
14 bytes per Schelling cell (500² to 4,000² cells), each doubled here to cover the growth of the
population over a run and the tables written at its end.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

from sim.scenario import Scenario

GIB = 2**30
FIXED_BYTES = int(0.3 * GIB)
BYTES_PER_HOUSEHOLD = 1100
BYTES_PER_SCHELLING_CELL = 28
DEFAULT_HOUSEHOLDS = 30_000  # the built-in city's default, also a Zensus city's guess


def memory_needed(scenario: Scenario) -> int:
    """Bytes one run of ``scenario`` needs at its peak (an estimate, see the module)."""
    if scenario.model == "schelling":
        cells = scenario.schelling.width * scenario.schelling.height
        return FIXED_BYTES + BYTES_PER_SCHELLING_CELL * cells
    households = scenario.city.households or DEFAULT_HOUSEHOLDS
    return FIXED_BYTES + BYTES_PER_HOUSEHOLD * households


def memory_available() -> int:
    """Bytes this process may still use: the smallest of the memory the system has available,
    the address-space limit (``ulimit -v``) and the container's limit (cgroup v2)."""
    limits = [_meminfo_available()]
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append(soft)
    limits.append(_cgroup_limit())
    return min(x for x in limits if x is not None and x > 0) if any(limits) else 2**62


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_limit() -> int | None:
    try:
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        return None if text == "max" else int(text)
    except (OSError, ValueError):
        return None


def gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB"


def memory_problem(scenario: Scenario, available: int | None = None) -> tuple[str, str] | None:
    """(field, message) if a run of ``scenario`` would not fit in memory, else None."""
    needed = memory_needed(scenario)
    available = memory_available() if available is None else available
    if needed <= available:
        return None
    if scenario.model == "schelling":
        field = "schelling.width"
        size = f"a grid of {scenario.schelling.width:,} x {scenario.schelling.height:,} cells"
    else:
        field = "city.households"
        size = f"{scenario.city.households or DEFAULT_HOUSEHOLDS:,} households"
    return field, (f"too large for this machine: {size} needs about {gib(needed)}; this "
                   f"machine has {gib(available)} available")
