"""Household incomes, recomputed every year from the members and their employment status.

Money is nominal: the income index grows by ``income_growth`` a year, and with it earnings,
pensions, the SGB II level, the median, the WBS limits, ticket prices and the value of time
(see :mod:`sim.state.income`). A household's net income is the sum of its members' incomes
(earnings potential × the index × the weight of their status, :func:`status_weight`), but at
least its SGB II level (Regelbedarf of each member + housing costs; transfers fill the gap).
Its net equivalised income (``Population.income``) is that divided by the new OECD scale, so a
birth lowers it unless the household lives on transfers. Households that cross the poverty line
(60 % of the median) are counted as poverty entries and exits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.model.metrics import with_city

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.processes.employment import EmploymentState
    from sim.model.year import YearState
    from sim.scenario.employment_parameters import EmploymentParameters
    from sim.scenario.parameters import IncomeParameters


@njit(cache=True, inline="always")
def status_weight(status, age, w, profile):
    """A person's income as a share of its earnings potential: by status (1 employed,
    ``w[0]`` in the first year of unemployment, 0 later, ``w[2]`` at 65+ out of work, ``w[1]``
    at 18-64 outside the labour force, 0 under 18) × the age profile ``profile[age]``."""
    if status == 0:
        share = 1.0
    elif status == 1:
        share = w[0]
    elif status == 2:
        return 0.0
    elif age >= 65:
        share = w[2]
    elif age >= 18:
        share = w[1]
    else:
        return 0.0
    return share * profile[min(age, profile.size - 1)]


@njit(cache=True)
def weight_table(w, profile):
    """:func:`status_weight` by status (0-3; -1, no status yet, is weighted as 3) and age."""
    table = np.empty((4, profile.size))
    for s in range(4):
        for a in range(profile.size):
            table[s, a] = status_weight(s, a, w, profile)
    return table


def age_profile(growth: float, max_age: int = 130) -> np.ndarray:
    """Income by age relative to 45: ``exp(growth × (min(max(age, 18), 45) - 45))``."""
    ages = np.arange(max_age + 1)
    return np.exp(growth * (np.clip(ages, 18, 45) - 45))


def benefit_levels(ep: EmploymentParameters) -> np.ndarray:
    """Regelbedarf (single, partner, adult child, 14-17, 6-13, 0-5) and housing costs (first,
    further member), EUR/month at the start year's level."""
    return np.array([ep.regelbedarf_single, ep.regelbedarf_partner, ep.regelbedarf_adult_child,
                     ep.regelbedarf_14_17, ep.regelbedarf_6_13, ep.regelbedarf_0_5,
                     ep.housing_cost_first, ep.housing_cost_further])


@njit(cache=True)
def new_sums(n):
    """Empty household sums: earnings, members, members under 14, adults (not children of the
    household), need of the minors and adult children (see :func:`household_sums`)."""
    return (np.zeros(n), np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64),
            np.zeros(n))


@njit(cache=True)
def incomes_from_sums(sums, index, levels):
    """Net equivalised income of every household (0 for households without living members)
    and whether it lives on SGB II transfers, from the sums of :func:`household_sums`."""
    earn, size, young, adults, need_minors = sums
    n = earn.size
    eq = np.zeros(n)
    transfers = np.zeros(n, np.bool_)
    for h in range(n):
        if size[h] == 0:
            continue
        need = need_minors[h] + levels[6] + levels[7] * (size[h] - 1)
        if adults[h] == 1:
            need += levels[0]
        elif adults[h] > 1:
            need += levels[1] * adults[h]
        net = earn[h]
        if net < need:
            net = need
            transfers[h] = True
        scale = 1.0 + 0.5 * max(size[h] - young[h] - 1, 0) + 0.3 * young[h]
        eq[h] = net * index / scale
    return eq, transfers


@njit(cache=True)
def household_sums(household, age, is_child, status, potential, transitory, alive, n, w,
                   profile, levels):
    """The household sums (:func:`new_sums`) over the living persons (one pass). The same
    sums are taken in :func:`sim.model.processes.employment._moves`."""
    sums = new_sums(n)
    earn, size, young, adults, need_minors = sums
    weight, last = weight_table(w, profile), profile.size - 1
    for i in range(household.size):
        if not alive[i]:
            continue
        h = household[i]
        a = age[i]
        size[h] += 1
        if a < 14:
            young[h] += 1
        p = potential[i]
        if not np.isnan(p):
            sw = weight[status[i], min(a, last)]
            if sw > 0.0:
                earn[h] += p * transitory[i] * sw
        if a < 6:
            need_minors[h] += levels[5]
        elif a < 14:
            need_minors[h] += levels[4]
        elif a < 18:
            need_minors[h] += levels[3]
        elif is_child[i]:
            need_minors[h] += levels[2]
        else:
            adults[h] += 1
    return sums


def household_incomes(household, age, is_child, status, potential, transitory, alive, n, index,
                      w, profile, levels):
    """Net equivalised income of every household (0 for households without living members)
    and whether it lives on SGB II transfers (one pass over the persons)."""
    return incomes_from_sums(household_sums(household, age, is_child, status, potential,
                                            transitory, alive, n, w, profile, levels),
                             index, levels)


def recompute(model: QuartierModel, person_alive: np.ndarray, household_alive: np.ndarray,
              state: EmploymentState | None = None, sums: np.ndarray | None = None
              ) -> np.ndarray:
    """Net equivalised incomes (EUR/month, this year's level) of all households; households
    not alive keep theirs. ``sums``: the members' sums (:func:`household_sums`) if known."""
    pop = model.population
    ep = model.scenario.parameters.employment
    levels = benefit_levels(ep)
    if sums is None:
        alive = person_alive & household_alive[pop.household]
        sums = household_sums(pop.household, pop.age, pop.is_child, pop.employment,
                              pop.potential, pop.transitory, alive, pop.n_households,
                              (state or model.employment).weights,
                              age_profile(ep.earnings_growth_with_age), levels)
    eq, _ = incomes_from_sums(sums, float(model.income_index), levels)
    return np.where(household_alive, eq, pop.income).astype(pop.income.dtype)


@njit(cache=True)
def _poverty(poor, before, alive, quartier, n_q):
    """Poverty years after this year and, by quartier, the entries, exits, and households
    not poor / poor before (one pass over the households)."""
    years = before.copy()
    counts = np.zeros((4, n_q), np.int64)
    for h in range(poor.size):
        if not alive[h]:
            continue
        q = quartier[h]
        b = before[h]
        if b == 0:
            counts[2, q] += 1
            if poor[h]:
                counts[0, q] += 1
        elif b > 0:
            counts[3, q] += 1
            if not poor[h]:
                counts[1, q] += 1
        years[h] = max(b, 0) + 1 if poor[h] else 0
    return years, counts


def step(model: QuartierModel, year: YearState, params: IncomeParameters,
         draws: None) -> dict[str, np.ndarray]:
    """Raise the income index by ``income_growth``, recompute every household's income and
    count the households entering and leaving poverty. The members' sums are those the
    employment step took this year (it runs just before, see the schedule), else taken here."""
    model.income_index *= 1.0 + params.income_growth
    pop = model.population
    sums = getattr(model, "income_sums", None)
    model.income_sums = None
    pop.income = recompute(model, year.person_alive, year.household_alive,
                           sums=sums[1] if sums is not None and sums[0] is year else None)
    poor = pop.income < 0.6 * model.median_income
    years, counts = _poverty(poor, pop.poverty_years, year.household_alive,
                             year.household_quartier, year.n_quartiers)
    pop.poverty_years = years.astype(np.int16, copy=False)
    n_entries, n_exits, at_risk, in_poverty = (with_city(c.astype(float)) for c in counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        entry_rate = n_entries / at_risk
        exit_rate = n_exits / in_poverty
    return {"poverty_entries": n_entries, "poverty_exits": n_exits,
            "poverty_entry_rate": entry_rate, "poverty_exit_rate": exit_rate}
