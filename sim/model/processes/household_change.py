"""Households that lose members: dissolution and households left without an adult.

A household whose members have all died dissolves and frees its dwelling. When the adults of a
household have died, members aged 18 or older become its adults; minors left without any adult
leave the city (in reality: to relatives or care; they are counted as out-migrants).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.state.income import income_group

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.year import YearState


def update(household: np.ndarray, is_child: np.ndarray, age: np.ndarray,
           person_alive: np.ndarray, household_alive: np.ndarray, adult_age: int = 18
           ) -> tuple[np.ndarray, np.ndarray]:
    """Apply dissolution and adult succession in place.

    Returns (households that dissolved because nobody is left, persons who leave the city
    because no adult is left), both in ascending order.
    """
    return _update(household, is_child, age, person_alive, household_alive, adult_age)


def step(model: QuartierModel, year: YearState, params: None, draws: None) -> None:
    """Households whose members have all died dissolve; minors left without an adult leave the
    city (cause ``other``)."""
    pop = model.population
    _, orphans = update(pop.household, pop.is_child, pop.age, year.person_alive,
                        year.household_alive)
    orphan_hh = pop.household[orphans]
    poor = income_group(pop.income[orphan_hh], model.median_income) == 0
    year.add_out_migrants("other", year.count(orphan_hh), {
        "out_migrants_poor": year.count(orphan_hh, poor.astype(float)),
        "out_migrants_migration_background": year.count(
            orphan_hh, pop.migration_background[orphan_hh].astype(float)),
        "out_migrants_families": year.count(orphan_hh),
    })


@njit(cache=True)
def _update(household, is_child, age, person_alive, household_alive, adult_age):
    n_hh = household_alive.size
    members = np.zeros(n_hh, np.int32)
    adults = np.zeros(n_hh, np.int32)
    for i in range(household.size):
        if person_alive[i]:
            members[household[i]] += 1
            if not is_child[i]:
                adults[household[i]] += 1
    n_empty = 0
    dissolved = np.zeros(n_hh, np.bool_)
    headless = np.zeros(n_hh, np.bool_)
    any_headless = False
    for h in range(n_hh):
        if household_alive[h] and members[h] == 0:
            household_alive[h] = False
            dissolved[h] = True
            n_empty += 1
        elif household_alive[h] and adults[h] == 0:
            headless[h] = True
            any_headless = True
    empty = np.empty(n_empty, np.int64)
    j = 0
    for h in range(n_hh):
        if dissolved[h]:
            empty[j] = h
            j += 1
    if not any_headless:
        return empty, np.zeros(0, np.int64)
    for i in range(household.size):
        h = household[i]
        if headless[h] and person_alive[i] and age[i] >= adult_age:
            is_child[i] = False
            adults[h] += 1
    n_orphans = 0
    for i in range(household.size):
        h = household[i]
        if headless[h] and person_alive[i] and adults[h] == 0:
            n_orphans += 1
    orphans = np.empty(n_orphans, np.int64)
    j = 0
    for i in range(household.size):
        h = household[i]
        if headless[h] and person_alive[i] and adults[h] == 0:
            orphans[j] = i
            j += 1
            person_alive[i] = False
            household_alive[h] = False
    return empty, orphans
