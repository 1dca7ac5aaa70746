"""The year's state: what the steps of one year hand on to each other.

A :class:`YearState` is made at the start of each year (and once for the start state). It holds
masks of the living persons and households, the quartier of every household row, the households
that had a life event, who left the city and why, and the year's flows. Rows added during the
year (newborns, new households, in-migrants) are registered here with :meth:`add_persons` and
:meth:`add_households`, so that no step has to extend another step's arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from sim.model.metrics import MIGRATION_AGE_GROUPS, count, group_bounds
from sim.state.outcomes import CAUSES


@dataclass
class YearState:
    """One year in progress.

    Attributes:
        year: The year being simulated (``start_year - 1`` for the start state).
        n_quartiers: Quartiers of the city.
        household_quartier: Quartier of each household row at the start of the year; new rows
            get the quartier where they arise.
        person_alive: Persons still in the city (alive, not departed).
        household_alive: Households still in the city.
        life_event: Households with a birth, a death of an adult, a partner moving in or a
            member moving to a nursing home this year (they are more likely to move).
        persons_start, residents_start: Persons at the start of the year (city; by quartier).
        out_by_cause: Out-migrants (persons) by cause (rows in the order of ``CAUSES``) and
            quartier (the city last).
        out_by_group: Out-migrants (persons) of groups (poor, migration background, 65+,
            families), by quartier.
        flows: The year's flows recorded by the steps (metric → values by quartier, city last).
        mothers: Persons who gave birth this year (fertility → ageing).
        situation: Per living household, what the move season knows: size, income, rent
            burden, access to services, dissatisfaction (see ``processes.situation``).
        vacancies: The vacancy list shared by movers and in-migrants.
        access: The year's access outcomes, measured at the start of the move season.
        dead: Persons (rows at the start of the year) who died this year (mortality).
    """

    year: int
    n_quartiers: int
    household_quartier: np.ndarray
    person_alive: np.ndarray
    household_alive: np.ndarray
    life_event: np.ndarray
    persons_start: int
    residents_start: np.ndarray
    out_by_cause: np.ndarray
    out_by_group: dict[str, np.ndarray] = field(default_factory=dict)
    flows: dict[str, np.ndarray] = field(default_factory=dict)
    mothers: np.ndarray | None = None
    situation: dict[str, Any] = field(default_factory=dict)
    vacancies: Any = None
    access: dict[str, np.ndarray] = field(default_factory=dict)
    dead: np.ndarray | None = None

    @classmethod
    def begin(cls, year: int, household_quartier: np.ndarray, household: np.ndarray,
              n_quartiers: int) -> YearState:
        """The state at the start of ``year``: everybody alive, no events yet.

        Args:
            household_quartier: Quartier of each household's dwelling.
            household: Household row of each person.
        """
        n_persons, n_households = household.size, household_quartier.size
        return cls(
            year=year, n_quartiers=n_quartiers, household_quartier=household_quartier,
            person_alive=np.ones(n_persons, bool), household_alive=np.ones(n_households, bool),
            life_event=np.zeros(n_households, bool), persons_start=n_persons,
            residents_start=count(household_quartier[household], n_quartiers),
            out_by_cause=np.zeros((len(CAUSES), n_quartiers + 1)),
        )

    # -- rows added during the year --------------------------------------------------------

    def add_persons(self, n: int) -> None:
        """Register ``n`` persons appended to the population (alive)."""
        self.person_alive = np.concatenate([self.person_alive, np.ones(n, bool)])

    def add_households(self, quartier: np.ndarray) -> None:
        """Register households appended to the population (alive, no life event), with the
        quartier of each. The per-household arrays are replaced: read them again after."""
        n = quartier.size
        self.household_alive = np.concatenate([self.household_alive, np.ones(n, bool)])
        self.household_quartier = np.concatenate([self.household_quartier, quartier])
        self.life_event = np.concatenate([self.life_event, np.zeros(n, bool)])

    # -- counting ------------------------------------------------------------------------------

    def count(self, households: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Households (or sums of ``weights``) by their quartier, plus the city."""
        return count(self.household_quartier[households], self.n_quartiers, weights)

    def add_flows(self, flows: dict[str, np.ndarray]) -> None:
        """Add a step's flows to the year's (flows of the same name are summed)."""
        for name, values in flows.items():
            self.flows[name] = self.flows[name] + values if name in self.flows else values

    def add_out_migrants(self, cause: str, persons: np.ndarray,
                         groups: dict[str, np.ndarray] | None = None) -> None:
        """Record out-migrants: ``persons`` by quartier for one cause, and (optionally) the
        out-migrants of groups by quartier."""
        self.out_by_cause[CAUSES.index(cause)] += persons
        self.add_out_migrant_groups(groups or {})

    def add_leaving_households(self, cause: str, rows: np.ndarray, persons: np.ndarray,
                               poor: np.ndarray, migration_background: np.ndarray) -> None:
        """Record whole households ``rows`` (``persons`` each) leaving for ``cause``, with the
        groups poor, migration background and families (households of two or more)."""
        self.add_out_migrants(cause, self.count(rows, persons), {
            "out_migrants_poor": self.count(rows, persons * poor),
            "out_migrants_migration_background": self.count(rows, persons * migration_background),
            "out_migrants_families": self.count(rows, persons * (persons > 1)),
        })

    def add_out_migrant_groups(self, groups: dict[str, np.ndarray]) -> None:
        """Record out-migrants of groups (poor, migration background, 65+, families) by
        quartier."""
        for name, values in groups.items():
            self.out_by_group[name] = self.out_by_group.get(name, 0.0) + values

    def net_migrants_by_age(self, age: np.ndarray, household: np.ndarray
                            ) -> dict[str, np.ndarray]:
        """Net migrants (in - out, persons) of the age groups of :data:`MIGRATION_AGE_GROUPS`
        by quartier, plus the city, at the end of the year (before the departed are dropped).

        Out-migrants are the persons of the year's start who neither died nor stay (their own
        departure or their household's); in-migrants are the persons added during the year who
        stay (arrivals and partners from outside; newborns are younger than every group). Ages
        are those at the end of the year; quartiers those of the household rows' at the start
        of the year (where a household arose, for new rows), as for ``out_migrants``.
        """
        n0 = self.persons_start
        dead = self.dead if self.dead is not None else np.zeros(n0, bool)
        if not (age.size == household.size == self.person_alive.size and dead.size == n0):
            raise ValueError("net_migrants_by_age: the year's masks do not match the persons")
        lows, highs = group_bounds()
        net = _net_by_age(age, household, self.person_alive, self.household_alive, dead, n0,
                          self.household_quartier, lows, highs, self.n_quartiers)
        return {f"net_migrants_{name}": net[g]
                for g, (_, _, name) in enumerate(MIGRATION_AGE_GROUPS)}

    def finish(self) -> dict[str, np.ndarray]:
        """The year's flows for the record: the steps' flows, and out-migration in total, by
        cause and by group."""
        out_migrants = self.out_by_cause.sum(axis=0)
        flows = dict(self.flows)
        flows["out_migrants"] = out_migrants
        flows["out_migration_rate"] = out_migrants / np.maximum(self.residents_start, 1.0)
        for c, name in enumerate(CAUSES):
            flows[f"out_migrants_cause_{name}"] = self.out_by_cause[c]
        flows.update(self.out_by_group)
        return flows


@njit(cache=True)
def _net_by_age(age, household, person_alive, household_alive, dead, n0, household_quartier,
                lows, highs, n_q):
    """In- minus out-migrants by age group and quartier (city last), in one pass."""
    net = np.zeros((lows.size, n_q + 1))
    for i in range(age.size):
        h = household[i]
        stays = person_alive[i] and household_alive[h]
        if i < n0:
            if stays or dead[i]:
                continue
            sign = -1.0
        elif stays:
            sign = 1.0
        else:
            continue
        q = household_quartier[h]
        for g in range(lows.size):
            if lows[g] <= age[i] <= highs[g]:
                net[g, q] += sign
                net[g, n_q] += sign
    return net

