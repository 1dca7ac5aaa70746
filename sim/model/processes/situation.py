"""The households' situation at the start of the move season.

For every living household: its size and members (children, under-14s, 65+, the oldest), its
net income (equivalised income × the new OECD scale), whether it is housed (and in a nursing
home), its cell, tenure and rent burden (gross cold rent / net income, tenants only), its WBS
eligibility, income group, origin, life stage and the adequate floor space for its size; every
dwelling's monthly cost as let now and if let anew. And every person's role this year: pupil of
a primary or secondary school, or employed (by the employment status,
:mod:`sim.model.processes.employment`).

Everything the move season knows is computed once here and in the access steps that follow, and
not updated while searchers choose (docs/ODD.md, section 3).

The work is done in passes over dwellings, households and persons, each split over the run's
threads (:mod:`sim.model.threads`); counts per household are summed per chunk of persons in
integers, and the persons' roles are kept in row order, so the result does not depend on the
number of threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.model.threads import chunks, parallel_for, per_chunk
from sim.state.city import NURSING, PRIVATE, SOCIAL
from sim.state.income import income_group

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.parameters import MobilityParameters


def step(model: QuartierModel, year: YearState, params: MobilityParameters,
         draws: Draws) -> None:
    """Fill ``year.situation`` for the living households (and the persons' roles)."""
    pop, city = model.population, model.city
    person_alive, household_alive = year.person_alive, year.household_alive
    n = pop.n_households
    cost, relet = dwelling_costs(model)
    # Households: housed, dwelling, nursing home, cell, tenant.
    housed = np.empty(n, np.bool_)
    nursing = np.empty(n, np.bool_)
    active = np.empty(n, np.bool_)
    tenant = np.empty(n, np.bool_)
    d = np.empty(n, pop.dwelling.dtype)
    cell = np.empty(n, np.int64)
    parallel_for(_households, n, household_alive, pop.dwelling, city.dwelling_tenure,
                 city.dwelling_cell, housed, nursing, active, tenant, d, cell)
    # Persons: members per household (per chunk of persons), and the roles.
    sp = model.scenario.parameters.services
    (lo1, hi1), (lo2, hi2) = sp.primary_school_ages, sp.secondary_school_ages
    m = pop.household.size
    ranges = chunks(m)
    k = len(ranges)
    counts = np.zeros((k, n, 5), np.int16)  # size, children, under 14, 65+, the oldest
    roles = np.empty((3, m), np.int32)
    n_roles = np.zeros((k, 3), np.int64)
    per_chunk(_persons, ranges, pop.household, pop.age, pop.is_child, pop.employment,
              person_alive, household_alive, active, lo1, hi1, lo2, hi2, counts, roles, n_roles)
    primary, secondary, workers = (
        np.concatenate([roles[r, lo:lo + n_roles[j, r]] for j, (lo, _) in enumerate(ranges)])
        for r in range(3))
    if k > 1:
        parallel_for(_merge, n, counts)
    # Households again: members, income, WBS, stage, burden, space norm.
    hp = model.scenario.parameters.housing
    size, children, old = (np.empty(n, np.int32) for _ in range(3))
    net = np.empty(n)
    wbs = np.empty(n, np.bool_)
    stage = np.empty(n, np.int8)
    burden = np.empty(n)
    norm = np.empty(n)
    parallel_for(_incomes, n, pop.income, counts, tenant, cost, d,
                 float(hp.wbs_limit_one_person), float(hp.wbs_limit_two_persons),
                 float(hp.wbs_limit_per_further_person), float(hp.wbs_limit_per_child),
                 float(model.income_index), float(params.space_norm_first_person),
                 float(params.space_norm_per_further_person), size, children, old, net, wbs,
                 stage, burden, norm)
    year.situation = {
        "size": size, "children": children, "old": old, "net_income": net, "wbs": wbs,
        "stage": stage, "housed": housed, "nursing": nursing, "dwelling": d, "cell": cell,
        "burden": burden, "group": income_group(pop.income, model.median_income),
        "origin": pop.migration_background, "norm": norm, "cost": cost,
        "relet_cost": relet, "alive_p": person_alive, "pupils": (primary, secondary),
        "workers": workers,
    }


def dwelling_costs(model: QuartierModel) -> tuple[np.ndarray, np.ndarray]:
    """Monthly gross cold rent of every dwelling as let now, and if let anew (private
    dwellings at the cell's re-letting level, social ones at their bound rent)."""
    city = model.city
    rent = city.dwelling_rent_m2
    op = rent.dtype.type(model.market.operating_costs_m2)  # added in the rents' precision
    cost = np.empty(rent.size)
    relet = np.empty(rent.size)
    parallel_for(_dwelling_costs, rent.size, city.dwelling_floor_space, rent,
                 city.dwelling_tenure, city.dwelling_cell, city.cell_rent_m2.astype(rent.dtype),
                 op, cost, relet)
    return cost, relet


@njit(cache=True, nogil=True)
def _dwelling_costs(lo, hi, floor, rent, tenure, dwelling_cell, cell_rent, op, cost, relet):
    for i in range(lo, hi):
        f = np.float64(floor[i])
        cost[i] = f * np.float64(rent[i] + op)
        r = rent[i] if tenure[i] == SOCIAL else cell_rent[dwelling_cell[i]]
        relet[i] = f * np.float64(r + op)


@njit(cache=True, nogil=True)
def _households(lo, hi, alive, dwelling, tenure, dwelling_cell, housed, nursing, active, tenant,
                d, cell):
    for h in range(lo, hi):
        hs = alive[h] and dwelling[h] >= 0
        dh = dwelling[h] if hs else 0
        t = tenure[dh]
        housed[h] = hs
        nursing[h] = hs and t == NURSING
        active[h] = hs and t != NURSING
        tenant[h] = hs and (t == PRIVATE or t == SOCIAL)
        d[h] = dh
        cell[h] = dwelling_cell[dh]


@njit(cache=True, nogil=True)
def _persons(k, lo, hi, household, age, is_child, status, person_alive, household_alive,
             active, lo1, hi1, lo2, hi2, counts, roles, n_roles):
    """Members per household (this chunk's rows of ``counts``: members, children, under 14,
    65+, the oldest's age) and the rows of pupils and the employed of housed private
    households (from ``lo`` in ``roles``)."""
    n1 = n2 = n3 = lo
    for i in range(lo, hi):
        if not person_alive[i]:
            continue
        h = household[i]
        if not household_alive[h]:
            continue
        a = age[i]
        counts[k, h, 0] += 1
        counts[k, h, 1] += is_child[i]
        counts[k, h, 2] += a < 14
        counts[k, h, 3] += a >= 65
        if a > counts[k, h, 4]:
            counts[k, h, 4] = a
        if not active[h]:
            continue
        # Written at the next free place and kept where the person has the role (no jumps).
        first = lo1 <= a <= hi1
        roles[0, n1] = i
        n1 += first
        roles[1, n2] = i
        n2 += (not first) and lo2 <= a <= hi2
        roles[2, n3] = i
        n3 += status[i] == 0
    n_roles[k, 0] = n1 - lo
    n_roles[k, 1] = n2 - lo
    n_roles[k, 2] = n3 - lo


@njit(cache=True, nogil=True)
def _merge(lo, hi, counts):
    """Sum the chunks' counts (and take the oldest) into the first chunk's rows."""
    for k in range(1, counts.shape[0]):
        for h in range(lo, hi):
            for j in range(4):
                counts[0, h, j] += counts[k, h, j]
            if counts[k, h, 4] > counts[0, h, 4]:
                counts[0, h, 4] = counts[k, h, 4]


@njit(cache=True, nogil=True)
def _incomes(lo, hi, income, counts, tenant, cost, d, wbs_one, wbs_two, wbs_further,
             wbs_child, index, norm_first, norm_further, size, children, old, net, wbs, stage,
             burden, norm):
    """Members, children and 65+; net income (equivalised income × the new OECD scale, at
    least 1), WBS eligibility, life stage (0 young, 1 family, 2 middle, 3 old), rent burden
    and space norm."""
    counts = counts[0, lo:hi]
    income, tenant, d = income[lo:hi], tenant[lo:hi], d[lo:hi]
    size, children, old, net = size[lo:hi], children[lo:hi], old[lo:hi], net[lo:hi]
    wbs, stage, burden, norm = wbs[lo:hi], stage[lo:hi], burden[lo:hi], norm[lo:hi]
    for h in range(hi - lo):
        s = np.int32(counts[h, 0])
        c = np.int32(counts[h, 1])
        y = np.int32(counts[h, 2])
        o = counts[h, 4]
        size[h] = s
        children[h] = c
        old[h] = counts[h, 3]
        scale = 1.0 + 0.5 * np.float64(max(s - y - 1, 0)) + 0.3 * np.float64(y)
        v = np.float64(income[h]) * scale
        v = 1.0 if v < 1.0 else v
        net[h] = v
        more = wbs_two + wbs_further * np.float64(max(s - 2, 0))
        limit = wbs_one if s <= 1 else more
        limit = limit + wbs_child * np.float64(c)
        wbs[h] = 12.0 * v <= limit * index
        st = 2 + np.int8(o >= 65) - 2 * np.int8(o < 30)
        stage[h] = 1 if c > 0 else st
        b = cost[d[h]] / v
        burden[h] = b if tenant[h] else 0.0
        norm[h] = norm_first + norm_further * np.float64(max(s - 1, 0))
