"""The year as a declared schedule: the processes in the order they run.

Each :class:`Process` names one module of :mod:`sim.model.processes` and its entry function
``step(model, year, params, draws)``: ``model`` is the persistent state (population, city,
services, market), ``year`` the :class:`~sim.model.year.YearState` the steps hand on, ``params``
the process's own section of ``scenario.parameters`` and ``draws`` its random stream and key
(:class:`Draws`). A step may return flows (metric → values by quartier, city last), which are
added to the year's.

Adding a process is one new module and one line here. docs/ODD.md (section 3) lists the same
names in the same order; ``tests/test_schedule.py`` checks it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model.processes import (
    access_outcomes,
    ageing,
    care,
    dissatisfaction,
    doctors,
    education_job,
    employment,
    fertility,
    household_change,
    housing_market,
    in_migration,
    incomes,
    jobs,
    kitas,
    leaving_home,
    mortality,
    moving,
    partnership,
    schools,
    separation,
    situation,
    travel,
)


@dataclass(frozen=True)
class Draws:
    """A process's random numbers: ``key`` for draws keyed to agents (``sim.model.rng``),
    ``rng`` for a sequential stream; either may be None."""

    key: np.uint64 | None
    rng: np.random.Generator | None


@dataclass(frozen=True)
class Process:
    """One step of the year.

    Attributes:
        name: The name the ODD uses.
        step: ``step(model, year, params, draws) -> flows or None``.
        parameters: The section of ``scenario.parameters`` given as ``params`` (None: none).
        draws: The named random stream and key given as ``draws`` (None: none).
        at_start: Also run for the start state (the access measured in year ``start - 1``).
    """

    name: str
    step: Callable[..., dict[str, np.ndarray] | None]
    parameters: str | None = None
    draws: str | None = None
    at_start: bool = False


SCHEDULE: tuple[Process, ...] = (
    Process("mortality", mortality.step, "demography", "mortality"),
    Process("fertility", fertility.step, "demography", "fertility"),
    Process("ageing", ageing.step, "demography", "fertility"),
    Process("household_change", household_change.step),
    Process("leaving_home", leaving_home.step, "demography", "leaving_home"),
    Process("education_job", education_job.step, "migration", "education_job"),
    Process("care", care.step, "care", "care"),
    Process("partnership", partnership.step, "demography", "partnership"),
    Process("separation", separation.step, "households", "separation"),
    Process("employment", employment.step, "employment", "employment"),
    Process("incomes", incomes.step, "income"),
    Process("housing_market", housing_market.step, "housing", "housing"),
    Process("situation", situation.step, "mobility", "jobs", at_start=True),
    Process("travel", travel.step, "jobs", at_start=True),
    Process("doctors", doctors.step, "choice", "doctors", at_start=True),
    Process("schools", schools.step, "choice", "schools", at_start=True),
    Process("jobs", jobs.step, "jobs", "jobs", at_start=True),
    Process("access_outcomes", access_outcomes.step, at_start=True),
    Process("kitas", kitas.step, "kitas", "kitas", at_start=True),
    Process("dissatisfaction", dissatisfaction.step, "mobility"),
    Process("moving", moving.step, "mobility", "mobility"),
    Process("in_migration", in_migration.step, "migration", "in_migration"),
)


def processes(*names: str) -> tuple[Process, ...]:
    """The processes of :data:`SCHEDULE` with these names, in the schedule's order."""
    unknown = set(names) - {p.name for p in SCHEDULE}
    if unknown:
        raise ValueError(f"no such process: {', '.join(sorted(unknown))}")
    return tuple(p for p in SCHEDULE if p.name in names)


def run_processes(model: Any, year: Any, processes: tuple[Process, ...]) -> None:
    """Run ``processes`` in order on the year's state, adding their flows to the year's."""
    parameters = model.scenario.parameters
    for process in processes:
        flows = process.step(
            model, year,
            getattr(parameters, process.parameters) if process.parameters else None,
            model.draws(process.draws) if process.draws else None)
        if flows:
            year.add_flows(flows)
