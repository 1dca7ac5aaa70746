"""Fertility: births by the mother's single age, rates scaled to the scenario's TFR.

The age pattern is UN WPP 2022's for Germany (5-year groups 10-14 … 50-54, the outer groups
with tiny rates); its level is the NRW total fertility rate (IT.NRW): the rates over all ages
sum to the TFR. A woman has at most one birth a year; the newborn joins her household as a child.

Women living with a partner (one of the two adults of a household) give birth more often than
women without one: at each age the rate of women without a partner is
``households.fertility_without_partner_ratio`` times that of women with one, both scaled so
that the age's rate over all women stays the official one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.model.rng import keyed_uniform
from sim.state.city import NURSING
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


def rates_by_partner(age: np.ndarray, partnered: np.ndarray, asfr: np.ndarray,
                     ratio: float) -> np.ndarray:
    """Each woman's birth probability: ``asfr`` of her age, split between women with and
    without a partner (relative rate ``ratio``) so that the age's mean stays ``asfr``.

    Args:
        age, partnered: Per woman.
        asfr: Births per woman and year by single age.
        ratio: Rate of women without a partner relative to women with one.
    """
    n_age = asfr.size
    women = np.bincount(age, minlength=n_age).astype(float)
    with_partner = np.bincount(age[partnered], minlength=n_age).astype(float)
    weight = with_partner + ratio * (women - with_partner)
    scale = np.divide(women, weight, out=np.ones(n_age), where=weight > 0)
    return np.minimum(asfr[age] * scale[age] * np.where(partnered, 1.0, ratio), 1.0)


@njit(cache=True)
def women_at_risk(household, is_child, sex, age, alive, asfr, n):
    """Living women of an age with births (rows, ascending), and whether each lives with a
    partner: she is one of exactly two living adults (not children) of her household.
    Branch-free passes over the persons."""
    adults = np.zeros(n, np.int32)
    for i in range(household.size):
        adults[household[i]] += np.int32(alive[i]) & np.int32(not is_child[i])
    women = np.empty(household.size, np.int64)
    k = 0
    for i in range(household.size):
        women[k] = i
        k += np.int64(alive[i] & (sex[i] == FEMALE) & (asfr[age[i]] > 0))
    women = women[:k].copy()
    partnered = np.empty(k, np.bool_)
    for j in range(k):
        i = women[j]
        partnered[j] = (not is_child[i]) & (adults[household[i]] == 2)
    return women, partnered


@njit(cache=True)
def _mothers(household, is_child, sex, age, alive, asfr, n, pid, key, year, ratio, dwelling,
             tenure):
    """The women who give birth (rows, ascending): those of :func:`women_at_risk` whose keyed
    number (slot 0, as :func:`births` draws it) falls below their rate (``asfr``, or
    :func:`rates_by_partner`'s if ``ratio`` is not 1), not in a nursing home. The same numbers
    as those functions, in compiled passes."""
    women, partnered = women_at_risk(household, is_child, sex, age, alive, asfr, n)
    n_age = asfr.size
    scale = np.ones(n_age)
    if ratio != 1.0:
        count = np.zeros(n_age, np.int64)
        with_partner = np.zeros(n_age, np.int64)
        for j in range(women.size):
            a = age[women[j]]
            count[a] += 1
            with_partner[a] += partnered[j]
        for a in range(n_age):
            weight = np.float64(with_partner[a]) + ratio * (np.float64(count[a])
                                                            - np.float64(with_partner[a]))
            if weight > 0:
                scale[a] = np.float64(count[a]) / weight
    mothers = np.empty(women.size, np.int64)
    k = 0
    for j in range(women.size):
        i = women[j]
        a = age[i]
        if ratio == 1.0:
            p = asfr[a]
        else:
            p = min(asfr[a] * scale[a] * (1.0 if partnered[j] else ratio), 1.0)
        if keyed_uniform(key, year, pid[i], 0) < p:
            d = dwelling[household[i]]
            if d < 0 or tenure[d] != NURSING:
                mothers[k] = i
                k += 1
    return mothers[:k].copy()


def newborn_sexes(u: np.ndarray, sex_ratio_at_birth: float) -> np.ndarray:
    """Sex of newborns (0 male, 1 female) given boys per girl, one uniform number each."""
    boy = sex_ratio_at_birth / (1.0 + sex_ratio_at_birth)
    return (u >= boy).astype(np.int8)


def step(model: QuartierModel, year: YearState, params: DemographyParameters,
         draws: Draws) -> dict[str, np.ndarray]:
    """Which surviving women give birth (ages at the start of the year); the birth is a life
    event of the household. The newborns join their households in the ageing step."""
    pop = model.population
    ratio = model.scenario.parameters.households.fertility_without_partner_ratio
    asfr = model.fertility_rates
    # no births in nursing homes
    mothers = _mothers(pop.household, pop.is_child, pop.sex, pop.age, year.person_alive, asfr,
                       pop.n_households, pop.pid, np.uint64(draws.key), year.year, float(ratio),
                       pop.dwelling, model.city.dwelling_tenure)
    model.vital.count_births(pop.age[mothers])
    year.mothers = mothers
    year.life_event[pop.household[mothers]] = True
    return {"births": year.count(pop.household[mothers])}
