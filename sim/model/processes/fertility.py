"""Fertility: births by the mother's single age, rates scaled to the scenario's TFR.

The age pattern is UN WPP 2022's for Germany (5-year groups 10-14 … 50-54, the outer groups
with tiny rates); its level is the NRW total fertility rate (IT.NRW): the rates over all ages
sum to the TFR. A woman has at most one birth a year; the newborn joins her household as a child.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.rng import keyed_uniforms
from sim.state.city import in_nursing_home
from sim.state.population import FEMALE

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.parameters import DemographyParameters


def births(age: np.ndarray, sex: np.ndarray, alive: np.ndarray, asfr: np.ndarray,
           u: np.ndarray) -> np.ndarray:
    """Indices of the women who give birth this year.

    Args:
        age: completed years at the start of the year.
        sex: 0 male, 1 female.
        alive: persons alive at the end of the year (survivors give birth).
        asfr: births per woman and year by single age.
        u: one uniform number per person (keyed to the person, see ``sim.model.rng``).
    """
    eligible = np.flatnonzero((sex == FEMALE) & alive & (asfr[age] > 0))
    return eligible[u[eligible] < asfr[age[eligible]]]


def newborn_sexes(u: np.ndarray, sex_ratio_at_birth: float) -> np.ndarray:
    """Sex of newborns (0 male, 1 female) given boys per girl, one uniform number each."""
    boy = sex_ratio_at_birth / (1.0 + sex_ratio_at_birth)
    return (u >= boy).astype(np.int8)


def step(model: QuartierModel, year: YearState, params: DemographyParameters,
         draws: Draws) -> dict[str, np.ndarray]:
    """Which surviving women give birth (ages at the start of the year); the birth is a life
    event of the household. The newborns join their households in the ageing step."""
    pop = model.population
    mothers = births(pop.age, pop.sex, year.person_alive, model.fertility_rates,
                     keyed_uniforms(draws.key, year.year, pop.pid, 0))
    home = in_nursing_home(pop.dwelling, model.city)
    mothers = mothers[~home[pop.household[mothers]]]  # no births in nursing homes
    model.vital.count_births(pop.age[mothers])
    year.mothers = mothers
    year.life_event[pop.household[mothers]] = True
    return {"births": year.count(pop.household[mothers])}
