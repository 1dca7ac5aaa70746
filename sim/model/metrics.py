"""Outcomes computed every year, citywide and per quartier.

Every function returns arrays of length ``n_quartiers + 1``: one value per quartier, the city
last. Stocks describe the end of the year; flows count the year's events.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model import segregation as seg
from sim.state.outcomes import AGE_BANDS, PYRAMID_METRICS, SEGREGATION_INDICES
from sim.state.population import Population


def with_city(per_quartier: np.ndarray) -> np.ndarray:
    """Append the citywide total to per-quartier counts."""
    out = np.empty(per_quartier.size + 1, np.result_type(per_quartier.dtype, np.float64))
    out[:-1] = per_quartier
    out[-1] = per_quartier.sum()
    return out


def count(quartier: np.ndarray, n_q: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Counts (or sums of weights) per quartier, plus the city."""
    return with_city(np.bincount(quartier, weights=weights, minlength=n_q)[:n_q].astype(float))


# The Bedarfsplanung's thresholds of the Versorgungsgrad: undersupply below 75 %, oversupply
# from 110 % (gp_planning.csv; the access outcomes count residents beyond them).
GP_UNDERSUPPLY, GP_OVERSUPPLY = 0.75, 1.10


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


@njit(cache=True)
def _stock_sums(hq, household, age, sex, is_child, private, size, n_q, n_bands):
    """Per quartier: persons (all, age sum, 65+, 20-64, under 18, in private households,
    18-24, 18-24 in their parents' household),
    private households (all, of size 1, 2, 3, 4, 5+), in one pass each; and persons by sex and
    five-year age band (bands × quartiers, men first)."""
    p = np.zeros((n_q, 8))
    by_band = np.zeros((2 * n_bands, n_q))
    for i in range(household.size):
        q = hq[household[i]]
        a = age[i]
        by_band[sex[i] * n_bands + min(a // 5, n_bands - 1), q] += 1
        p[q, 0] += 1
        p[q, 1] += a
        if a >= 65:
            p[q, 2] += 1
        elif a >= 20:
            p[q, 3] += 1
        if a < 18:
            p[q, 4] += 1
        if private[household[i]]:
            p[q, 5] += 1
        if 18 <= a <= 24:
            p[q, 6] += 1
            if is_child[i]:
                p[q, 7] += 1
    h = np.zeros((n_q, 6))
    for j in range(hq.size):
        if private[j]:
            q = hq[j]
            h[q, 0] += 1
            h[q, min(size[j], 5)] += 1
    return p, h, by_band


def stocks(pop: Population, household_quartier: np.ndarray, dwelling_quartier: np.ndarray,
           n_q: int, household_size: np.ndarray | None = None,
           private: np.ndarray | None = None, market: np.ndarray | None = None
           ) -> dict[str, np.ndarray]:
    """The stock metrics at the end of a year. ``private`` marks private households (not in a
    nursing home), ``market`` the dwellings of the housing market; persons count all."""
    if private is None:
        private = np.ones(pop.n_households, bool)
    if market is None:
        market = np.ones(dwelling_quartier.size, bool)
    size = pop.household_size() if household_size is None else household_size
    n_bands = len(AGE_BANDS)
    p, h, by_band = _stock_sums(household_quartier.astype(np.int64), pop.household, pop.age,
                                pop.sex, pop.is_child, private, size, n_q, n_bands)
    p = np.vstack([p, p.sum(axis=0)])  # quartiers, then the city
    h = np.vstack([h, h.sum(axis=0)])
    persons, households = p[:, 0], h[:, 0]
    out = {
        "population": persons,
        "households": households,
        "mean_age": ratio(p[:, 1], persons),
        "old_age_ratio": ratio(p[:, 2], p[:, 3]),
        "share_under_18": ratio(p[:, 4], persons),
        "share_65plus": ratio(p[:, 2], persons),
        "share_18_24_with_parents": ratio(p[:, 7], p[:, 6]),
        "mean_household_size": ratio(p[:, 5], households),
    }
    for k in (1, 2, 3, 4):
        out[f"share_households_size_{k}"] = ratio(h[:, k], households)
    out["share_households_size_5plus"] = ratio(h[:, 5], households)
    children = np.bincount(pop.household[pop.is_child], minlength=pop.n_households)
    single_parent = private & (size - children == 1) & (children > 0)
    out["share_single_parent_households"] = ratio(
        count(household_quartier[single_parent], n_q), households)
    for i, name in enumerate(PYRAMID_METRICS):
        out[name] = with_city(by_band[i].astype(float))
    dwellings = count(dwelling_quartier[market], n_q)
    out["dwellings"] = dwellings
    out["vacancy_rate"] = ratio(dwellings - households, dwellings)
    return out


@njit(cache=True)
def _housing_sums(hq, persons, young, group, background, income, tenure, floor, rent_m2,
                  operating, crowded_below, n_q):
    """Per quartier, one pass over households: persons (all, poor, high income, migration
    background, × income), tenant households (count, rent per m², burden, burden >= 30 %,
    > 40 %), private households crowded, private households. Tenure 1 and 2 are rented,
    3 nursing-home places."""
    out = np.zeros((n_q, 12))
    for h in range(hq.size):
        q = hq[h]
        p = persons[h]
        out[q, 0] += p
        if group[h] == 0:
            out[q, 1] += p
        elif group[h] == 2:
            out[q, 2] += p
        if background[h]:
            out[q, 3] += p
        out[q, 4] += p * income[h]
        t = tenure[h]
        if t == 3:
            continue
        out[q, 11] += 1
        if floor[h] < crowded_below[h]:
            out[q, 10] += 1
        if t == 1 or t == 2:
            adults = p - young[h]
            scale = 1.0 + 0.5 * max(adults - 1, 0) + 0.3 * young[h]
            net = max(income[h] * scale, 1.0)
            burden = floor[h] * (rent_m2[h] + operating) / net
            out[q, 5] += 1
            out[q, 6] += rent_m2[h]
            out[q, 7] += burden
            if burden >= 0.30:
                out[q, 8] += 1
            if burden > 0.40:
                out[q, 9] += 1
    return out


@njit(cache=True)
def _cell_table(cell, persons, group, background, old, income, n_c):
    """Persons per cell: poor, middle, high income, migration background, 65+; and the
    income sum."""
    table = np.zeros((n_c, 5))
    income_sum = np.zeros(n_c)
    for h in range(cell.size):
        c = cell[h]
        p = persons[h]
        table[c, group[h]] += p
        if background[h]:
            table[c, 3] += p
        table[c, 4] += old[h]
        income_sum[c] += p * income[h]
    return table, income_sum


def housing_stocks(pop: Population, city, household_quartier: np.ndarray, median: float,
                   operating_costs_m2: float, crowded_below: np.ndarray,
                   household_size: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Housing, income and segregation metrics at the end of a year.

    Segregation indices count persons: columns poor, middle, high income; migration
    background; 65+. Over cells, the city value uses all cells and a quartier's value its own
    cells; over quartiers there is only the city value. All are computed by
    :func:`sim.model.segregation.by_area` (tested equal to the single-area functions, which are
    tested equal to PySAL).
    """
    from sim.state.city import OWNER, SOCIAL
    from sim.state.income import income_group
    from sim.state.population import household_summary

    n_q = city.n_quartiers
    hq = household_quartier
    d = pop.dwelling
    n = pop.n_households
    persons_hh, _, young, old, _ = household_summary(
        pop.household, pop.age, pop.is_child, np.ones(pop.n_persons, np.bool_), n)
    group = income_group(pop.income, median)
    background = pop.migration_background.astype(bool)
    dq = city.dwelling_quartier
    tenure = city.dwelling_tenure
    hs = _housing_sums(hq.astype(np.int64), persons_hh, young, group, background, pop.income,
                       tenure[d], city.dwelling_floor_space[d], city.dwelling_rent_m2[d],
                       float(operating_costs_m2), crowded_below.astype(np.float64), n_q)
    hs = np.vstack([hs, hs.sum(axis=0)])
    persons = hs[:, 0]
    out: dict[str, np.ndarray] = {
        "share_poor": ratio(hs[:, 1], persons),
        "share_high_income": ratio(hs[:, 2], persons),
        "share_migration_background": ratio(hs[:, 3], persons),
        "mean_equivalised_income": ratio(hs[:, 4], persons),
    }
    by_tenure = np.bincount(dq * 5 + tenure, minlength=5 * n_q).reshape(n_q, 5)
    by_tenure = np.vstack([by_tenure, by_tenure.sum(axis=0)]).astype(float)
    dwellings = by_tenure[:, :3].sum(axis=1)  # on the market: not NURSING, not WITHDRAWN
    out["owner_occupied_share"] = ratio(by_tenure[:, OWNER], dwellings)
    out["social_housing_share"] = ratio(by_tenure[:, SOCIAL], dwellings)
    tenants = hs[:, 5]
    out["mean_rent_m2"] = ratio(hs[:, 6], tenants)
    out["mean_rent_burden"] = ratio(hs[:, 7], tenants)
    out["share_rent_burden_over_30"] = ratio(hs[:, 8], tenants)
    out["share_rent_burden_over_40"] = ratio(hs[:, 9], tenants)
    out["share_crowded"] = ratio(hs[:, 10], hs[:, 11])

    # Persons per cell by group: poor, middle, high, migration background, 65+.
    cell = city.dwelling_cell[d].astype(np.int64)
    n_c = city.n_cells
    table, income_sum = _cell_table(cell, persons_hh, group, background, old, pop.income, n_c)
    by_quartier = np.zeros((n_q, 5))
    cq = city.cell_quartier
    inside = cq >= 0
    for k in range(5):
        by_quartier[:, k] = np.bincount(cq[inside], weights=table[inside, k], minlength=n_q)
    populated_rows = np.flatnonzero(table[:, :3].sum(axis=1) > 0)  # empty cells add nothing
    # Each quartier's cells and, as area n_q, all cells: one call for both.
    rows = table[populated_rows]
    over_cells_all = seg.by_area(np.vstack([rows, rows]), np.r_[
        cq[populated_rows], np.full(populated_rows.size, n_q)], n_q + 1)
    between = seg.by_area(by_quartier, np.zeros(n_q, np.int64), 1)
    for name, _ in SEGREGATION_INDICES:
        over_cells = over_cells_all[name]
        over_quartiers = np.full(n_q + 1, np.nan)
        over_quartiers[-1] = between[name][0]
        out[f"{name}_cells"] = over_cells
        out[f"{name}_quartiers"] = over_quartiers
    people = table[:, :3].sum(axis=1)
    populated = people > 0
    mean_income = np.divide(income_sum, people, out=np.zeros(n_c), where=populated)
    moran = np.full(n_q + 1, np.nan)
    moran[-1] = seg.morans_i(mean_income, city.width, city.height, mask=populated)
    out["morans_i_income"] = moran
    for k, name in enumerate(("poor", "migration_background", "65plus")):
        own = by_quartier[:, [0, 3, 4][k]]
        total = by_quartier[:, :3].sum(axis=1)
        share = np.divide(own, total, out=np.full(n_q, np.nan), where=total > 0)
        city_share = own.sum() / total.sum() if total.sum() > 0 else np.nan
        out[f"location_quotient_{name}"] = np.r_[share / city_share, 1.0]
    return out


def cell_snapshot(pop: Population, city, median: float, year: int):
    """One year's per-cell table (cells with dwellings only); see ``QuartierModel``."""
    import pandas as pd

    from sim.state.city import SOCIAL, on_market, rented
    from sim.state.income import income_group

    n_c = city.n_cells
    cell = city.dwelling_cell[pop.dwelling].astype(np.int64)
    size = pop.household_size().astype(float)
    group = income_group(pop.income, median)
    old = np.bincount(pop.household[pop.age >= 65], minlength=pop.n_households)
    market = on_market(city)
    dwellings = np.bincount(city.dwelling_cell[market], minlength=n_c)
    households = np.bincount(cell[market[pop.dwelling]], minlength=n_c)
    persons = np.bincount(cell, weights=size, minlength=n_c)
    tenant = rented(city.dwelling_tenure[pop.dwelling])
    rent_sum = np.bincount(cell[tenant], weights=city.dwelling_rent_m2[pop.dwelling[tenant]],
                           minlength=n_c)
    tenants = np.bincount(cell[tenant], minlength=n_c)
    income_sum = np.bincount(cell, weights=size * pop.income, minlength=n_c)
    built = np.flatnonzero(dwellings > 0)

    def per_cell(weights):
        return np.bincount(cell, weights=weights, minlength=n_c)[built]

    return pd.DataFrame({
        "year": np.int32(year), "cell": built.astype(np.int32),
        "col": (built % city.width).astype(np.int32),
        "row": (built // city.width).astype(np.int32),
        "quartier": pd.Categorical.from_codes(city.cell_quartier[built].astype(np.int64),
                                              categories=city.quartier_ids()),
        "dwellings": dwellings[built], "vacant": dwellings[built] - households[built],
        "social": np.bincount(city.dwelling_cell[city.dwelling_tenure == SOCIAL],
                              minlength=n_c)[built],
        "households": households[built], "persons": persons[built].astype(np.int64),
        "poor": per_cell(size * (group == 0)).astype(np.int64),
        "middle": per_cell(size * (group == 1)).astype(np.int64),
        "high": per_cell(size * (group == 2)).astype(np.int64),
        "migration_background": per_cell(size * pop.migration_background).astype(np.int64),
        "age_65plus": per_cell(old).astype(np.int64),
        "mean_income": np.divide(income_sum[built], persons[built],
                                 out=np.full(built.size, np.nan), where=persons[built] > 0),
        "mean_rent_m2": np.divide(rent_sum[built], tenants[built],
                                  out=np.full(built.size, np.nan), where=tenants[built] > 0),
    })


@njit(cache=True)
def household_access_sums(q, housed, size, old, gp, car, mode, walk, transit, commute, net,
                          children, social, n_q):
    """Per quartier (columns) over housed private households, in one pass (rows): 65+ × GP
    access, 65+, without car, households, persons walk-only, persons, commuting cost / income,
    commuting households, persons × GP access, persons below 75 % and above 110 % GP access,
    adults with a monthly ticket (mode ``transit``), of them on the Sozialticket. Sums of
    fractions add up in household order; counts as integers."""
    out = np.zeros((13, n_q))
    cnt = np.zeros((13, n_q), np.int64)
    for h in range(q.size):
        if not housed[h]:
            continue
        k = q[h]
        n = np.int64(size[h])
        a = np.float64(gp[h])
        out[0, k] += old[h] * gp[h]
        out[8, k] += np.float64(n) * a
        c = commute[h]
        on = c > 0
        out[6, k] += (c / net[h]) if on else 0.0
        m = mode[h]
        adults = max(n - np.int64(children[h]), 1) * (m == transit)
        cnt[1, k] += old[h]
        cnt[2, k] += 1 - car[h]
        cnt[3, k] += 1
        cnt[4, k] += n * (m == walk)
        cnt[5, k] += n
        cnt[7, k] += on
        cnt[9, k] += n * (a < GP_UNDERSUPPLY)
        cnt[10, k] += n * (a > GP_OVERSUPPLY)
        cnt[11, k] += adults
        cnt[12, k] += adults * social[h]
    for j in (1, 2, 3, 4, 5, 7, 9, 10, 11, 12):
        for k in range(n_q):
            out[j, k] = cnt[j, k]
    return out


@njit(cache=True)
def worker_sums(q, household, age, alive, housed, workers, n_q):
    """Per quartier: employed persons 18-64 (of ``workers``) and all persons 18-64 (living,
    housed)."""
    out = np.zeros((n_q, 2))
    for i in range(household.size):
        h = household[i]
        out[q[h], 1] += alive[i] & housed[h] & (age[i] >= 18) & (age[i] < 65)
    for i in workers:
        h = household[i]
        if alive[i] and housed[h] and 18 <= age[i] < 65:
            out[q[h], 0] += 1.0
    return out


def access_outcomes(q: np.ndarray, housed: np.ndarray, size: np.ndarray, old: np.ndarray,
                    gp: np.ndarray, car: np.ndarray, mode: np.ndarray, walk: int,
                    transit: int, commute: np.ndarray, net_income: np.ndarray,
                    children: np.ndarray, sozialticket: np.ndarray, household: np.ndarray,
                    age: np.ndarray, alive: np.ndarray, workers: np.ndarray,
                    primary_pupils: np.ndarray, primary_poor: np.ndarray,
                    primary_quartier: np.ndarray, n_q: int,
                    inhabitants_per_gp: float) -> dict[str, np.ndarray]:
    """The access outcomes (``ACCESS_METRICS``) from the households' situation: GP access
    (Versorgungsgrad) of the 65+ and of all residents, inhabitants per GP within reach and the
    shares of residents below the Bedarfsplanung's 75 % and above its 110 %, car-free
    households, walk-only residents (``mode == walk``), commuting cost / income, employment
    18-64 (``workers``: the employed persons' rows), the segregation of poor pupils over
    primary schools (``primary_*``: pupils and poor pupils per school, and its quartier); and
    the persons with a monthly ticket: the adults of housed households travelling by public
    transport (``mode == transit``), all and those on the Sozialticket (the ticket lever's
    cost counts their ticket-months, docs/costs.md)."""
    sums = household_access_sums(q, housed, size, old, gp, car, mode, walk, transit, commute,
                                 net_income, children, sozialticket, n_q)
    residents = with_city(sums[5])
    in_reach = with_city(sums[8])  # Σ residents × Versorgungsgrad
    coverage = {
        "gp_coverage": ratio(in_reach, residents),
        "inhabitants_per_gp": ratio(residents * inhabitants_per_gp, in_reach),
        "share_gp_coverage_below_75": ratio(with_city(sums[9]), residents),
        "share_gp_coverage_above_110": ratio(with_city(sums[10]), residents),
    }
    hs = np.ascontiguousarray(sums[:8].T)
    ps = worker_sums(q, household, age, alive, housed, workers, n_q)
    hs = np.vstack([hs, hs.sum(axis=0)])
    ps = np.vstack([ps, ps.sum(axis=0)])
    out = {
        "gp_access_65plus": ratio(hs[:, 0], hs[:, 1]),
        "no_car_share": ratio(hs[:, 2], hs[:, 3]),
        "share_walk_only": ratio(hs[:, 4], hs[:, 5]),
        "commuting_cost_share": ratio(hs[:, 6], hs[:, 7]),
        "employment_rate": ratio(ps[:, 0], ps[:, 1]),
        **coverage,
    }
    pupils, poor = primary_pupils, primary_poor
    d = np.full(n_q + 1, np.nan)
    if pupils.sum() > 0 and 0 < poor.sum() < pupils.sum():
        d[-1] = 0.5 * np.abs(poor / poor.sum() - (pupils - poor) / (pupils - poor).sum()).sum()
    out["school_dissimilarity_income"] = d
    out["school_poor_share"] = np.r_[ratio(
        np.bincount(primary_quartier, weights=poor, minlength=n_q).astype(float),
        np.bincount(primary_quartier, weights=pupils, minlength=n_q).astype(float)),
        poor.sum() / max(pupils.sum(), 1.0)]
    out["ticket_holders"] = with_city(sums[11])
    out["sozialticket_holders"] = with_city(sums[12])
    return out
