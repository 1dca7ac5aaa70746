"""Mortality: death within the year with probability q(x) by single age and sex.

q(x) comes from the Destatis period life table (GENESIS 12621-0001) of the scenario's period;
ages beyond the table's last age (100) keep q(100), and nobody survives ``max_age``.
Persons in care need die more often, the more so the higher their Pflegegrad g (relative risk
r^g, ``care_grades.mortality_risk_per_grade``); the risks are normalised within each sex and
single age, so the expected deaths of every age and sex stay those of the life table (deaths are
redistributed, not added).
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


def grade_death_probabilities(age: np.ndarray, sex: np.ndarray, grade: np.ndarray,
                              q: np.ndarray, risk_per_grade: float) -> np.ndarray:
    """Death probability per person: q(sex, age) × r^grade / mean of r^grade over the persons
    of the same sex and age (capped below 1)."""
    n_age = q.shape[1]
    cell = sex.astype(np.int64) * n_age + age
    risk = np.power(risk_per_grade, grade.astype(np.float64))
    n = np.bincount(cell, minlength=2 * n_age)
    mean = np.bincount(cell, weights=risk, minlength=2 * n_age) / np.maximum(n, 1)
    q_cell = q.ravel()[cell]
    return np.where(q_cell >= 1.0, 1.0, np.minimum(q_cell * risk / mean[cell], 0.999))


def step(model: QuartierModel, year: YearState, params: DemographyParameters,
         draws: Draws) -> dict[str, np.ndarray]:
    """Who dies this year (ages at the start of the year); a household that loses an adult has
    a life event. Exposures and deaths by sex and age go to the run's vital statistics."""
    pop = model.population
    q = grade_death_probabilities(pop.age, pop.sex, pop.pflegegrad, model.death_probabilities,
                                  model.scenario.parameters.care_grades.mortality_risk_per_grade)
    dead = keyed_uniforms(draws.key, year.year, pop.pid, 0) < q
    model.vital.count_exposure_and_deaths(pop.sex, pop.age, dead)
    year.person_alive = ~dead
    year.life_event[pop.household[dead & ~pop.is_child]] = True  # a partner or parent died
    return {"deaths": year.count(pop.household[dead])}
