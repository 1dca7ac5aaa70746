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
from numba import njit

from sim.model.rng import keyed_uniform
from sim.model.threads import parallel_for

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


@njit(cache=True)
def _risk_totals(age, sex, grade, n_age, risk_per_grade):
    """The relative risk r^g by grade, and per (sex, age) cell the persons and the sum of
    their risks (summed in the order of the persons)."""
    risk_of = np.empty(6)
    for g in range(6):
        risk_of[g] = risk_per_grade ** g
    total = np.zeros(2 * n_age)
    n = np.zeros(2 * n_age)
    for i in range(age.size):
        c = sex[i] * n_age + age[i]
        total[c] += risk_of[grade[i]]
        n[c] += 1.0
    return risk_of, n, total


@njit(cache=True, inline="always")
def _probability(i, age, sex, grade, q, risk_of, n, total):
    """Person ``i``'s death probability (see :func:`grade_death_probabilities`)."""
    c = sex[i] * q.shape[1] + age[i]
    qc = q[sex[i], age[i]]
    if qc >= 1.0:
        return 1.0
    return min(qc * risk_of[grade[i]] * n[c] / total[c], 0.999)


@njit(cache=True)
def grade_death_probabilities(age, sex, grade, q, risk_per_grade):
    """Death probability per person: q(sex, age) × r^grade / mean of r^grade over the persons
    of the same sex and age (capped at 0.999 below the last age, where q = 1)."""
    risk_of, n, total = _risk_totals(age, sex, grade, q.shape[1], risk_per_grade)
    out = np.empty(age.size)
    for i in range(age.size):
        out[i] = _probability(i, age, sex, grade, q, risk_of, n, total)
    return out


@njit(cache=True, nogil=True)
def _deaths(lo, hi, age, sex, grade, q, risk_of, n, total, key, year, pid, dead):
    """Persons ``lo..hi-1``: whether they die this year (their keyed number, slot 0, below
    their death probability)."""
    for i in range(lo, hi):
        p = _probability(i, age, sex, grade, q, risk_of, n, total)
        dead[i] = keyed_uniform(key, year, pid[i], 0) < p


def step(model: QuartierModel, year: YearState, params: DemographyParameters,
         draws: Draws) -> dict[str, np.ndarray]:
    """Who dies this year (ages at the start of the year); a household that loses an adult has
    a life event. Exposures and deaths by sex and age go to the run's vital statistics."""
    pop = model.population
    q = model.death_probabilities
    risk_of, n, total = _risk_totals(
        pop.age, pop.sex, pop.pflegegrad, q.shape[1],
        model.scenario.parameters.care_grades.mortality_risk_per_grade)
    dead = np.empty(pop.n_persons, np.bool_)
    parallel_for(_deaths, pop.n_persons, pop.age, pop.sex, pop.pflegegrad, q, risk_of, n, total,
                 np.uint64(draws.key), year.year, pop.pid, dead)
    model.vital.count_exposure_and_deaths(pop.sex, pop.age, dead)
    year.person_alive = ~dead
    year.dead = dead
    year.life_event[pop.household[dead & ~pop.is_child]] = True  # a partner or parent died
    return {"deaths": year.count(pop.household[dead])}
