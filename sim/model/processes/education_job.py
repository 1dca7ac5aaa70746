"""Young adults leave the city for education or a job elsewhere (a base schedule of
out-migration, independent of dissatisfaction).

A household whose members are all aged ``education_job_min_age`` to ``education_job_max_age``
(no children; including young adults who have just left home and have no dwelling yet) leaves
the city with the yearly probability ``education_job_rate``; its motive is education with
probability ``education_share``, else a job. Both draws are keyed to the household.

Families leave for the surrounding region (suburbanisation): a household with a child under 18
leaves the city with the yearly probability ``family_out_migration_rate`` (motive ``suburb``;
0 unless a city sets it: it is fitted on Essen 2011-2017). The draw is keyed to the household.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.model.rng import keyed_uniforms
from sim.state.city import in_nursing_home
from sim.state.income import income_group

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.parameters import MigrationParameters

SLOT_LEAVE, SLOT_MOTIVE, SLOT_FAMILY = 0, 1, 2


def young_households(age: np.ndarray, is_child: np.ndarray, household: np.ndarray,
                     person_alive: np.ndarray, n_households: int, min_age: int,
                     max_age: int) -> np.ndarray:
    """Whether each household has living members, all aged ``min_age``-``max_age``, none a
    child of the household."""
    return _young(age, is_child, household, person_alive, n_households, min_age, max_age)[0]


@njit(cache=True)
def _young(age, is_child, household, alive, n, min_age, max_age):
    """:func:`young_households` and the living members per household (one pass)."""
    members = np.zeros(n, np.int64)
    others = np.zeros(n, np.int64)  # living members outside the band, or children
    for i in range(household.size):
        if alive[i]:
            h = household[i]
            members[h] += 1
            others[h] += np.int64(is_child[i] or age[i] < min_age or age[i] > max_age)
    young = np.empty(n, np.bool_)
    for h in range(n):
        young[h] = members[h] > 0 and others[h] == 0
    return young, members


@njit(cache=True)
def _with_minors(age, is_child, household, alive, n):
    """Whether each household has a living child under 18, and its living members."""
    members = np.zeros(n, np.int64)
    minors = np.zeros(n, np.bool_)
    for i in range(household.size):
        if alive[i]:
            h = household[i]
            members[h] += 1
            if is_child[i] and age[i] < 18:
                minors[h] = True
    return minors, members


def step(model: QuartierModel, year: YearState, params: MigrationParameters,
         draws: Draws) -> None:
    """Young-adult households leave for education or a job, families for the surrounding
    region; recorded by motive."""
    _young_adults(model, year, params, draws)
    _families(model, year, params, draws)


def _families(model: QuartierModel, year: YearState, params: MigrationParameters,
              draws: Draws) -> None:
    if params.family_out_migration_rate <= 0.0:
        return
    pop, city = model.population, model.city
    families, members = _with_minors(pop.age, pop.is_child, pop.household, year.person_alive,
                                     pop.n_households)
    families &= year.household_alive & ~in_nursing_home(pop.dwelling, city)
    rows = np.flatnonzero(families)
    hid = pop.hid[rows]
    rows = rows[keyed_uniforms(draws.key, year.year, hid, SLOT_FAMILY)
                < params.family_out_migration_rate]
    year.household_alive[rows] = False
    year.add_leaving_households(
        "suburb", rows, members[rows].astype(float),
        income_group(pop.income[rows], model.median_income) == 0, pop.migration_background[rows])


def _young_adults(model: QuartierModel, year: YearState, params: MigrationParameters,
                  draws: Draws) -> None:
    pop, city = model.population, model.city
    n = pop.n_households
    if params.education_job_rate <= 0.0:
        return
    young, members = _young(pop.age, pop.is_child, pop.household, year.person_alive, n,
                            params.education_job_min_age, params.education_job_max_age)
    young &= year.household_alive & ~in_nursing_home(pop.dwelling, city)
    rows = np.flatnonzero(young)
    hid = pop.hid[rows]
    leave = keyed_uniforms(draws.key, year.year, hid, SLOT_LEAVE) < params.education_job_rate
    rows, hid = rows[leave], hid[leave]
    education = keyed_uniforms(draws.key, year.year, hid, SLOT_MOTIVE) < params.education_share
    year.household_alive[rows] = False
    size = members[rows].astype(float)
    for motive, sel in (("education", education), ("job", ~education)):
        year.add_out_migrants(motive, year.count(rows[sel], size[sel]))
    poor = income_group(pop.income[rows], model.median_income) == 0
    year.add_out_migrant_groups({
        "out_migrants_poor": year.count(rows, size * poor),
        "out_migrants_migration_background": year.count(
            rows, size * pop.migration_background[rows]),
    })
