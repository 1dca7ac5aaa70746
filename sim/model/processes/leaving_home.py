"""Leaving the parental home.

Each child aged ``leaving_home_min_age`` or older leaves with the yearly probability
``leaving_home_rate`` and founds a one-person household. The default rate is chosen so that,
with the model's ageing, about 62 % of 18-24-year-olds live with their parents (Destatis 2015,
Germany; 45 % in cities of 500,000+). The new household needs a vacant dwelling in the city;
the new household searches like everyone else (the ``moving`` step) and leaves the city when it
finds nothing it prefers to that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

from sim.model.rng import keyed_uniforms

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.parameters import DemographyParameters

SLOT_FOUNDED_ID = 2  # of the ids key
SLOT_INCOME = 5  # of the leaving-home key, keyed to the new household


def leavers(age: np.ndarray, is_child: np.ndarray, alive: np.ndarray, rate: float,
            min_age: int, u: np.ndarray) -> np.ndarray:
    """Indices of the children who leave home this year (ages after ageing); ``u`` holds one
    uniform number per person."""
    eligible = np.flatnonzero(is_child & alive & (age >= min_age))
    return eligible[u[eligible] < rate]


def step(model: QuartierModel, year: YearState, params: DemographyParameters,
         draws: Draws) -> None:
    """Children who leave home found one-person households without a dwelling (they search
    in the moving step), with an income drawn for a single adult."""
    pop = model.population
    eligible = np.flatnonzero(pop.is_child & year.person_alive
                              & (pop.age >= params.leaving_home_min_age))
    # as leavers() with the keyed numbers of all persons, drawn for the eligible only
    who = eligible[keyed_uniforms(draws.key, year.year, pop.pid[eligible], 0)
                   < params.leaving_home_rate]
    parent = pop.household[who]
    founded = model.new_ids(pop.pid[who], SLOT_FOUNDED_ID)
    new_rows = pop.add_households(
        np.full(who.size, -1), model.draw_incomes(
            np.ones(who.size), np.zeros(who.size),
            z=ndtri(keyed_uniforms(draws.key, year.year, founded, SLOT_INCOME))),
        pop.migration_background[parent], hid=founded)
    pop.household[who] = new_rows
    pop.is_child[who] = False
    year.add_households(year.household_quartier[parent])
