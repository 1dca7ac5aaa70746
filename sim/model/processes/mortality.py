"""Mortality: death within the year with probability q(x) by single age and sex.

q(x) comes from the Destatis period life table (GENESIS 12621-0001) of the scenario's period;
ages beyond the table's last age (100) keep q(100), and nobody survives ``max_age``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.rng import keyed_uniforms

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.parameters import DemographyParameters


def deaths(age: np.ndarray, sex: np.ndarray, q: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Boolean mask of persons who die this year.

    Args:
        age: completed years at the start of the year.
        sex: 0 male, 1 female.
        q: death probabilities ``[sex, age]``.
        u: one uniform number per person (keyed to the person, see ``sim.model.rng``).
    """
    return u < q[sex, age]


def step(model: QuartierModel, year: YearState, params: DemographyParameters,
         draws: Draws) -> dict[str, np.ndarray]:
    """Who dies this year (ages at the start of the year); a household that loses an adult has
    a life event. Exposures and deaths by sex and age go to the run's vital statistics."""
    pop = model.population
    dead = deaths(pop.age, pop.sex, model.death_probabilities,
                  keyed_uniforms(draws.key, year.year, pop.pid, 0))
    model.vital.count_exposure_and_deaths(pop.sex, pop.age, dead)
    year.person_alive = ~dead
    year.life_event[pop.household[dead & ~pop.is_child]] = True  # a partner or parent died
    return {"deaths": year.count(pop.household[dead])}
