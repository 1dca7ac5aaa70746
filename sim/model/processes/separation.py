"""Separation and divorce: couples split, one partner founds a household of their own.

A couple is a private household with exactly two adults (not children of the household).
Each couple separates in a year with the probability

    divorce_rate × shape(d) / mean shape over all couples × (m + (1 − m) × r)

where ``d`` is the union's duration (years since ``union_start``), ``shape`` the relative
hazard by duration (``duration_knots`` / ``duration_hazard``), ``m`` the share of couples who
are married and ``r`` the separation hazard of unmarried couples relative to married ones.
Married couples thus divorce at ``divorce_rate`` per year on average (IT.NRW: 82 per 10,000
marriages), whatever the couples' durations. A separation is a divorce with probability
``m / (m + (1 − m) r)`` (the model keeps no marital status; the divorce is counted in the year
of the separation).

Couples of the start population (and in-migrant couples) have no recorded start: the younger
partner's age when the couple formed is drawn uniform on [union_age_min, union_age_max],
keyed to the household, and the start follows from the partners' ages. Couples formed by the
``partnership`` step start in the year they formed.

Children (of any age) stay with the mother with the share ``children_with_mother_share``,
else with the father; in a childless couple the man leaves with ``childless_man_leaves_share``.
The parent who keeps the children (in a childless couple: the partner who stays) keeps the
dwelling; the other founds a one-person household without a dwelling, which searches in the
``moving`` step and leaves the city when it finds nothing it prefers. The household's net
income is divided in proportion to the two parts' OECD weights, so both parts get the
equivalised income ``net / (weight of the rest + 1)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.model.rng import keyed_uniforms
from sim.state.city import NURSING
from sim.state.income import oecd_scale

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.household_parameters import HouseholdParameters

SLOT_SEPARATE, SLOT_DIVORCE, SLOT_WHO, SLOT_UNION = 0, 1, 2, 3  # of the separation key
SLOT_LEAVER_ID = 5  # of the ids key: 8 × year + 5, keyed to the leaving partner


def hazard_shape(duration: np.ndarray, knots: tuple[int, ...],
                 hazard: tuple[float, ...]) -> np.ndarray:
    """Relative separation hazard at each union duration (linear between the knots, flat
    beyond the last)."""
    knots, hazard = np.asarray(knots, float), np.asarray(hazard, float)
    if duration.dtype.kind in "iu" and duration.size > 0:  # whole years: one value per year
        lo, hi = int(duration.min()), int(duration.max())
        if hi - lo < duration.size:
            return np.interp(np.arange(lo, hi + 1), knots, hazard)[duration - lo]
    return np.interp(duration, knots, hazard)


def separation_probability(duration: np.ndarray, params: HouseholdParameters) -> np.ndarray:
    """Each couple's probability of separating this year (see the module docstring)."""
    if duration.size == 0:
        return np.zeros(0)
    shape = hazard_shape(duration, params.duration_knots, params.duration_hazard)
    mean = float(shape.mean())
    if mean <= 0.0:
        return np.zeros(duration.size)
    m, r = params.married_share, params.unmarried_separation_ratio
    return np.minimum(params.divorce_rate * shape / mean * (m + (1.0 - m) * r), 1.0)


def divorce_share(params: HouseholdParameters) -> float:
    """Share of separations that are divorces (married couples)."""
    m, r = params.married_share, params.unmarried_separation_ratio
    denominator = m + (1.0 - m) * r
    return m / denominator if denominator > 0 else 0.0


def synthesise_union_start(year: int, younger_age: np.ndarray, u: np.ndarray,
                           params: HouseholdParameters) -> np.ndarray:
    """Start year of couples without a recorded start: the younger partner formed the couple
    at an age uniform on [union_age_min, union_age_max] (``u`` uniform), not before 0 years
    ago."""
    age_at_start = params.union_age_min + (params.union_age_max - params.union_age_min) * u
    duration = np.maximum(np.floor(younger_age - age_at_start), 0).astype(np.int64)
    return (year - duration).astype(np.int16)


def split_income(income: np.ndarray, size: np.ndarray, young: np.ndarray) -> np.ndarray:
    """Equivalised income of both parts when one adult leaves a household of ``size`` members
    (``young`` under 14): the net income divided by the OECD weights of the two parts."""
    before = oecd_scale(size - young, young)
    rest = oecd_scale(size - 1 - young, young)
    return (income.astype(np.float64) * before / (rest + 1.0)).astype(income.dtype)


@njit(cache=True)
def couples(household, is_child, age, alive, household_alive, dwelling, tenure):
    """The couples: living private households (in a dwelling, not a nursing-home place) with
    exactly two living adults (not children). Returns the household rows (ascending), the
    first and second adult (person rows), members and members under 14, one entry per couple.
    Branch-free passes."""
    n = household_alive.size
    adults = np.zeros(n, np.int32)
    size = np.zeros(n, np.int32)
    young = np.zeros(n, np.int32)
    slots = np.empty(3 * n + 1, np.int64)  # first, second, further adults; the last: unused
    unused = 3 * n
    for i in range(household.size):
        h = household[i]
        a = np.int32(alive[i])
        size[h] += a
        young[h] += a & np.int32(age[i] < 14)
        adult = a & np.int32(not is_child[i])
        c = adults[h]
        slots[h * 3 + min(c, 2) if adult else unused] = i
        adults[h] = c + adult
    rows = np.empty(n, np.int64)
    m = 0
    for h in range(n):
        d = dwelling[h]
        rows[m] = h
        m += np.int64((adults[h] == 2) & household_alive[h] & (d >= 0)
                      & (tenure[max(d, 0)] != NURSING))
    rows = rows[:m].copy()
    c_first = np.empty(m, np.int64)
    c_second = np.empty(m, np.int64)
    c_size = np.empty(m, np.int32)
    c_young = np.empty(m, np.int32)
    for k in range(m):
        h = rows[k]
        c_first[k] = slots[h * 3]
        c_second[k] = slots[h * 3 + 1]
        c_size[k] = size[h]
        c_young[k] = young[h]
    return rows, c_first, c_second, c_size, c_young


def step(model: QuartierModel, year: YearState, params: HouseholdParameters,
         draws: Draws) -> dict[str, np.ndarray]:
    """Couples separate; the leaving partner's new household searches a dwelling."""
    pop, city = model.population, model.city
    zero = year.count(np.zeros(0, np.int64))
    if params.divorce_rate <= 0.0:
        return {"separations": zero, "divorces": zero}
    couple, first, second, size, young = couples(
        pop.household, pop.is_child, pop.age, year.person_alive, year.household_alive,
        pop.dwelling, city.dwelling_tenure)
    if couple.size == 0:
        return {"separations": zero, "divorces": zero}
    key = draws.key
    hid = pop.hid[couple]
    unknown = pop.union_start[couple] < 0
    if unknown.any():
        rows = couple[unknown]
        younger = np.minimum(pop.age[first[unknown]], pop.age[second[unknown]])
        pop.union_start[rows] = synthesise_union_start(
            year.year, younger, keyed_uniforms(key, 0, pop.hid[rows], SLOT_UNION), params)
    duration = year.year - pop.union_start[couple].astype(np.int64)
    p = separation_probability(duration, params)
    apart = keyed_uniforms(key, year.year, hid, SLOT_SEPARATE) < p
    sep = couple[apart]
    if sep.size == 0:
        return {"separations": zero, "divorces": zero}
    sep_hid = hid[apart]
    divorce = keyed_uniforms(key, year.year, sep_hid, SLOT_DIVORCE) < divorce_share(params)
    a, b = first[apart], second[apart]
    size, young = size[apart], young[apart]
    a_is_woman = pop.sex[a] >= pop.sex[b]  # same-sex couples: the first adult stays "mother"
    woman, man = np.where(a_is_woman, a, b), np.where(a_is_woman, b, a)
    with_children = size > 2
    u_who = keyed_uniforms(key, year.year, sep_hid, SLOT_WHO)
    man_leaves = np.where(with_children, u_who < params.children_with_mother_share,
                          u_who < params.childless_man_leaves_share)
    leaver = np.where(man_leaves, man, woman)
    income = split_income(pop.income[sep], size, young)
    founded = model.new_ids(pop.pid[leaver], 8 * year.year + SLOT_LEAVER_ID)
    rows = pop.add_households(np.full(sep.size, -1), income, pop.migration_background[sep],
                              hid=founded)
    pop.household[leaver] = rows.astype(pop.household.dtype)
    pop.income[sep] = income
    pop.union_start[sep] = -1
    year.add_households(year.household_quartier[sep])
    year.life_event[sep] = True
    return {"separations": year.count(sep), "divorces": year.count(sep[divorce])}
