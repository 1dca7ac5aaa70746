"""Ageing: every survivor is a year older at the end of the year; the year's newborns (age 0)
join their mothers' households as children."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.processes.fertility import newborn_sexes
from sim.model.rng import keyed_uniforms
from sim.state.population import AGE_DTYPE, Members

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.parameters import DemographyParameters

SLOT_NEWBORN_SEX = 1  # slot of the fertility key


def age_one_year(age: np.ndarray, alive: np.ndarray, max_age: int) -> None:
    """Add one year to the survivors' ages in place (capped at ``max_age``)."""
    np.add(age, alive.astype(age.dtype), out=age)
    np.minimum(age, max_age, out=age)


def step(model: QuartierModel, year: YearState, params: DemographyParameters,
         draws: Draws) -> None:
    """Survivors age by one year; newborns join their mothers' households (their sex is drawn
    from the fertility key, keyed to the newborn's id)."""
    pop = model.population
    age_one_year(pop.age, year.person_alive, params.max_age)
    mothers = year.mothers
    newborn_ids = model.new_ids(pop.pid[mothers], 8 * year.year + 1)
    newborns = Members(
        age=np.zeros(mothers.size, AGE_DTYPE),
        sex=newborn_sexes(keyed_uniforms(draws.key, year.year, newborn_ids, SLOT_NEWBORN_SEX),
                          params.sex_ratio_at_birth),
        household=pop.household[mothers],
        is_child=np.ones(mothers.size, bool),
    )
    pop.add_persons(newborns, newborn_ids)
    year.add_persons(mothers.size)
