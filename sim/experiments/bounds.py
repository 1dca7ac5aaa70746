"""How large an experiment may be: a sweep, calibration or sensitivity design with more than
:data:`CONFIRM_RUNS` runs starts only when confirmed (``--yes``), and one with more than
:data:`MAX_RUNS` runs never; the refusal states how many runs and how long they would take.

The time of a run is estimated from the household-years it simulates at the measured
throughput (docs/performance.md: about 700,000 household-years/s at 10,000 households and 1M,
1M at 100,000; build 1.3-7 s), so the estimate is rough, on the safe side, and says so.
"""

from __future__ import annotations

from sim.errors import InputError
from sim.scenario import Scenario

CONFIRM_RUNS = 1_000  # runs above which a command asks for --yes
MAX_RUNS = 100_000  # runs above which a command refuses
HOUSEHOLD_YEARS_PER_S = 700_000.0
SCHELLING_CELL_YEARS_PER_S = 5_000_000.0
BUILD_S = 1.5


def run_seconds(scenario: Scenario) -> float:
    """Rough wall-clock seconds of one run of ``scenario`` on one core."""
    if scenario.model == "schelling":
        cells = scenario.schelling.width * scenario.schelling.height
        return BUILD_S + cells * scenario.years / SCHELLING_CELL_YEARS_PER_S
    households = scenario.city.households or 30_000
    return BUILD_S + households * scenario.years / HOUSEHOLD_YEARS_PER_S


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.5 h`` or ``4.2 days``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def design_summary(runs: int, scenario: Scenario, workers: int) -> str:
    """``1,200 runs, about 25 min on 2 workers`` (the runs' estimated wall-clock time)."""
    workers = max(1, int(workers))
    total = runs * run_seconds(scenario) / workers
    return (f"{runs:,} runs, about {duration(total)} on {workers} worker"
            f"{'s' if workers > 1 else ''}")


def check_design_size(runs: int, scenario: Scenario, *, workers: int, confirmed: bool,
                      source: str, field: str | None = None) -> str:
    """Refuse a design larger than the limits; return its summary (runs and time).

    Raises:
        InputError: more than :data:`MAX_RUNS` runs, or more than :data:`CONFIRM_RUNS` runs
            without ``confirmed``; the message states the runs and their estimated time.
    """
    summary = design_summary(runs, scenario, workers)
    if runs > MAX_RUNS:
        raise InputError(source, field, f"{summary}: more than the {MAX_RUNS:,} runs one "
                         "command may start; make the design smaller (fewer values, samples "
                         "or replications)")
    if runs > CONFIRM_RUNS and not confirmed:
        raise InputError(source, field, f"{summary} (a rough estimate): more than "
                         f"{CONFIRM_RUNS:,} runs need --yes to start, or make the design "
                         "smaller")
    return summary
