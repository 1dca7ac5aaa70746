"""Outcomes computed every year, citywide and per quartier.

Every function returns arrays of length ``n_quartiers + 1``: one value per quartier, the city
last. Stocks describe the end of the year; flows count the year's events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.model import segregation as seg
from sim.model import threads
from sim.model.care_need import SLOT_PRIORITY, SLOT_SERVICE, SLOT_SEVERITY
from sim.model.rng import keyed_base, uniform_from
from sim.state.city import NURSING
from sim.state.outcomes import AGE_BANDS, PYRAMID_METRICS, SEGREGATION_INDICES
from sim.state.population import Population

#: Age groups (first and last age, name) of the net migration by age; those of the published
#: rates per 1,000 of the group (``more_migration_age.csv``: kreisfreie Städte).
MIGRATION_AGE_GROUPS = ((18, 29, "18_29"), (30, 49, "30_49"))


def group_bounds() -> tuple[np.ndarray, np.ndarray]:
    """First and last ages of :data:`MIGRATION_AGE_GROUPS`, as arrays for the kernels."""
    return (np.array([g[0] for g in MIGRATION_AGE_GROUPS], np.int64),
            np.array([g[1] for g in MIGRATION_AGE_GROUPS], np.int64))


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


@njit(cache=True, nogil=True)
def _dwelling_columns(lo, hi, dwelling, dwelling_cell, cell_quartier, tenure, floor_space,
                      rent_m2, q, t, cell, floor, rent, home):
    """For households ``lo..hi-1``: their dwelling's quartier, tenure, cell, floor space and
    rent per m², and whether they live outside a nursing home (a dwelling of -1 reads the last
    row, as numpy indexing does, and counts as outside)."""
    n_d = dwelling_cell.size
    for j in range(lo, hi):
        d = dwelling[j]
        dw = d if d >= 0 else d + n_d
        c = dwelling_cell[dw]
        cell[j] = c
        q[j] = cell_quartier[c]
        t[j] = tenure[dw]
        floor[j] = floor_space[dw]
        rent[j] = rent_m2[dw]
        home[j] = d < 0 or tenure[dw] != NURSING


# Members per household packed in one int64 (16 bits each): members, children, under 14, 65+.
_MEMBER_BITS = 16
_MEMBER_MASK = (1 << _MEMBER_BITS) - 1


@njit(cache=True, nogil=True)
def _person_counts(k, lo, hi, household, age, sex, is_child, pid, grade, hq, home, hcell,
                   n_age, care_key, inpatient, ambulant, amb_access, members, hist, care):
    """For persons ``lo..hi-1``, into the counts of their chunk ``k``:
    per household the packed member counts; persons by quartier, sex, child and single age;
    and the care sums of the persons in care need (:class:`EndSums` ``care`` columns 1, 2 and
    7-14) by the rules of :mod:`sim.model.care_need`."""
    m, hs, c = members[k], hist[k], care[k]
    top = ambulant.shape[1] - 1
    for i in range(lo, hi):
        h = household[i]
        a = np.int64(age[i])
        child = np.int64(is_child[i])
        m[h] += (1 + (child << _MEMBER_BITS) + (np.int64(a < 14) << (2 * _MEMBER_BITS))
                 + (np.int64(a >= 65) << (3 * _MEMBER_BITS)))
        q = hq[h]
        hs[((q * 2 + sex[i]) * 2 + child) * n_age + a] += 1
        g = grade[i]
        if g > 0:
            c[q, 1] += 1
            c[q, 6 + g] += 1
            if home[h]:
                c[q, 2] += 1
                base = keyed_base(care_key, 0, pid[i])
                ac = min(age[i], top)
                if (uniform_from(base, SLOT_SEVERITY) >= inpatient[sex[i], ac, g]
                        and uniform_from(base, SLOT_SERVICE) < ambulant[sex[i], ac, g]
                        and uniform_from(base, SLOT_PRIORITY) < amb_access[hcell[h]]):
                    c[q, 13] += 1
                else:
                    c[q, 12] += 1
            else:
                c[q, 14] += 1


@njit(cache=True)
def _person_totals(members, hist, care, n_q, n_age, n_bands, group_lo, group_hi):
    """The chunks' counts added up (into the first chunk's members): the largest household;
    per quartier the persons' sums (:class:`EndSums` ``persons`` but its column 5, counted
    over the households), persons by sex and age band, and the care counts."""
    m = members[0]
    for k in range(1, members.shape[0]):
        m += members[k]
    max_size = 0
    for h in range(m.size):
        max_size = max(max_size, m[h] & _MEMBER_MASK)
    c = care.sum(axis=0)
    p = np.zeros((n_q, 8 + group_lo.size), np.int64)
    by_band = np.zeros((2 * n_bands, n_q), np.int64)
    for q in range(n_q):
        for sx in range(2):
            for child in range(2):
                row = ((q * 2 + sx) * 2 + child) * n_age
                for a in range(n_age):
                    k = 0
                    for j in range(hist.shape[0]):
                        k += hist[j, row + a]
                    by_band[sx * n_bands + min(a // 5, n_bands - 1), q] += k
                    p[q, 0] += k
                    p[q, 1] += a * k
                    if a >= 65:
                        p[q, 2] += k
                    elif a >= 20:
                        p[q, 3] += k
                    if a < 18:
                        p[q, 4] += k
                    if 18 <= a <= 24:
                        p[q, 6] += k
                        p[q, 7] += child * k
                    for g in range(group_lo.size):
                        if group_lo[g] <= a <= group_hi[g]:
                            p[q, 8 + g] += k
    return m, max_size, p, by_band, c


@njit(cache=True)
def _household_sums(hq, tenure, home, hcell, floor, rent_m2, members, group, background,
                    income, operating, crowded_below, reach, n_q, n_c):
    """One pass over the households in their order, so that each floating-point sum adds its
    terms in household order. Per quartier: private households (all, of size 1, 2, 3, 4, 5+),
    single-parent private households; the housing sums (persons: all, poor, high income,
    migration background, × income; tenant households: count, rent per m², burden,
    burden >= 30 %, > 40 %; private households crowded, private households); persons (all,
    65+) outside nursing homes and of those within reach of a GP, and persons in private
    households. Per cell: persons poor, middle, high income, with migration background, 65+,
    and the income sum. Tenure 1 and 2 are rented, 3 nursing-home places."""
    h = np.zeros((n_q, 6), np.int64)
    single = np.zeros(n_q, np.int64)
    hc = np.zeros((n_q, 12), np.int64)  # the counts of the housing sums
    hs = np.zeros((n_q, 12))
    reached = np.zeros((n_q, 5), np.int64)  # at home: persons, in reach; 65+, in reach; private
    table = np.zeros((n_c, 5), np.int64)
    income_sum = np.zeros(n_c)
    for j in range(hq.size):
        q = hq[j]
        t = tenure[j]
        m = members[j]
        s = m & _MEMBER_MASK
        children = (m >> _MEMBER_BITS) & _MEMBER_MASK
        young = (m >> (2 * _MEMBER_BITS)) & _MEMBER_MASK
        old = m >> (3 * _MEMBER_BITS)
        private = np.int64(t != NURSING)
        h[q, 0] += private
        h[q, min(s, 5)] += private
        single[q] += private & (s - children == 1) & (children > 0)
        g = group[j]
        bg = np.int64(background[j] != 0)
        hc[q, 0] += s
        hc[q, 1] += s * (g == 0)
        hc[q, 2] += s * (g == 2)
        hc[q, 3] += s * bg
        weighted = s * income[j]  # members × income, the same term for quartier and cell
        hs[q, 4] += weighted
        hc[q, 11] += private
        hc[q, 10] += private & (floor[j] < crowded_below[s])
        if t == 1 or t == 2:
            adults = s - young
            scale = 1.0 + 0.5 * max(adults - 1, 0) + 0.3 * young
            net = max(income[j] * scale, 1.0)
            burden = floor[j] * (rent_m2[j] + operating) / net
            hc[q, 5] += 1
            hs[q, 6] += rent_m2[j]
            hs[q, 7] += burden
            hc[q, 8] += burden >= 0.30
            hc[q, 9] += burden > 0.40
        cell = hcell[j]
        at_home = np.int64(home[j])
        near = at_home & np.int64(reach[cell])
        reached[q, 0] += s * at_home
        reached[q, 1] += s * near
        reached[q, 2] += old * at_home
        reached[q, 3] += old * near
        reached[q, 4] += s * private
        table[cell, g] += s
        table[cell, 3] += s * bg
        table[cell, 4] += old
        income_sum[cell] += weighted
    for k in (0, 1, 2, 3, 5, 8, 9, 10, 11):
        for q in range(n_q):
            hs[q, k] = hc[q, k]
    return h, single, hs, reached, table, income_sum


@njit(cache=True)
def _by_tenure(dwelling_cell, cell_quartier, tenure, n_q):
    """Dwellings per quartier by tenure."""
    out = np.zeros((n_q, 5), np.int64)
    for i in range(dwelling_cell.size):
        out[cell_quartier[dwelling_cell[i]], tenure[i]] += 1
    return out


@njit(cache=True)
def _cell_summary(table, income_sum, cell_quartier, n_q):
    """Persons per quartier by group (over the cells), the populated cells' rows of the table
    (as floats) and their quartiers, and the mean income per cell (0 where nobody lives)."""
    n_c = table.shape[0]
    by_quartier = np.zeros((n_q, 5))
    people = np.zeros(n_c)
    mean_income = np.zeros(n_c)
    n_rows = 0
    for c in range(n_c):
        people[c] = table[c, 0] + table[c, 1] + table[c, 2]
        n_rows += people[c] > 0
        q = cell_quartier[c]
        if q >= 0:
            for k in range(5):
                by_quartier[q, k] += table[c, k]
        if people[c] > 0:
            mean_income[c] = income_sum[c] / people[c]
    rows = np.empty((n_rows, 5))
    area = np.empty(n_rows, np.int64)
    j = 0
    for c in range(n_c):
        if people[c] > 0:
            for k in range(5):
                rows[j, k] = table[c, k]
            area[j] = cell_quartier[c]
            j += 1
    return by_quartier, rows, area, people > 0, mean_income


@dataclass
class EndSums:
    """Sums over the persons and households at the end of a year (see :func:`end_sums`); all
    but ``housing[:, (4, 6, 7)]`` and ``cell_income`` are counts."""

    persons: np.ndarray  # (n_q, 8 + migration age groups)
    by_band: np.ndarray  # (2 × bands, n_q)
    care: np.ndarray  # (n_q, 15)
    households: np.ndarray  # (n_q, 6)
    single_parent: np.ndarray  # (n_q,)
    housing: np.ndarray  # (n_q, 12)
    cells: np.ndarray  # (n_c, 5), int64
    cell_income: np.ndarray  # (n_c,)
    by_tenure: np.ndarray  # (n_q, 5)


def end_sums(pop: Population, city, median: float, operating_costs_m2: float,
             crowded_below: Callable[[np.ndarray], np.ndarray], care_key: int,
             inpatient: np.ndarray, ambulant: np.ndarray, reach: np.ndarray,
             amb_access: np.ndarray) -> EndSums:
    """The sums behind the stock metrics: one pass over the households' dwellings and one
    over the persons (both in chunks, one per thread), one over the households in their order
    and one over the dwellings.

    ``crowded_below(size)`` gives the floor space below which households of ``size`` members
    are crowded; ``inpatient``, ``ambulant`` are the care model's rate tables, ``reach`` (a GP
    within reach) and ``amb_access`` (ambulant capacity) are per cell.

    Columns of ``persons``: all, age sum, 65+, 20-64, under 18, in private households, 18-24,
    18-24 in their parents' household, then one per group of :data:`MIGRATION_AGE_GROUPS`.
    Of ``care``: persons, in care need, in need and at
    home, not in a nursing home, of those within reach of a GP, 65+ not in a home, of those
    within reach; persons in Pflegegrad 1-5; the care-dependent cared for by relatives only,
    with an ambulant service, in a nursing home.
    """
    from sim.state.income import income_group

    n_q, n_c, n_h = city.n_quartiers, city.n_cells, pop.n_households
    cq, tenure = city.cell_quartier, city.dwelling_tenure
    hq, hcell = np.empty(n_h, np.int32), np.empty(n_h, city.dwelling_cell.dtype)
    t, home = np.empty(n_h, tenure.dtype), np.empty(n_h, np.bool_)
    floor = np.empty(n_h, city.dwelling_floor_space.dtype)
    rent = np.empty(n_h, city.dwelling_rent_m2.dtype)
    threads.parallel_for(_dwelling_columns, n_h, pop.dwelling, city.dwelling_cell, cq, tenure,
                         city.dwelling_floor_space, city.dwelling_rent_m2, hq, t, hcell, floor,
                         rent, home)
    # persons in chunks (one per thread), each counting apart; the counts are added after
    n_age = int(pop.age.max()) + 1 if pop.n_persons else 1
    ranges = threads.chunks(pop.n_persons)
    n_k = len(ranges)
    members = np.zeros((n_k, n_h), np.int64)
    hist = np.zeros((n_k, n_q * 4 * n_age), np.int64)
    care = np.zeros((n_k, n_q, 15), np.int64)
    threads.per_chunk(_person_counts, ranges, pop.household, pop.age, pop.sex, pop.is_child,
                      pop.pid, pop.pflegegrad, hq, home, hcell, n_age, np.uint64(care_key),
                      inpatient, ambulant, amb_access, members, hist, care)
    members, max_size, p, by_band, c = _person_totals(members, hist, care, n_q, n_age,
                                                      len(AGE_BANDS), *group_bounds())
    # crowded_below depends on the size alone: look it up by size
    sizes = np.arange(max_size + 1)
    h, single, hs, reached, table, income_sum = _household_sums(
        hq, t, home, hcell, floor, rent, members, income_group(pop.income, median),
        pop.migration_background, pop.income, float(operating_costs_m2),
        np.asarray(crowded_below(sizes), np.float64), reach, n_q, n_c)
    p[:, 5] = reached[:, 4]
    c[:, 0] = p[:, 0]
    c[:, 3:7] = reached[:, :4]
    return EndSums(p.astype(float), by_band.astype(float), c.astype(float), h.astype(float),
                   single.astype(float), hs, table, income_sum,
                   _by_tenure(city.dwelling_cell, cq, tenure, n_q))


def stocks(sums: EndSums, n_q: int) -> dict[str, np.ndarray]:
    """The stock metrics at the end of a year. Households count private households (not in a
    nursing home), dwellings those on the housing market; persons count all."""
    p = np.vstack([sums.persons, sums.persons.sum(axis=0)])  # quartiers, then the city
    h = np.vstack([sums.households, sums.households.sum(axis=0)])
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
    out["share_single_parent_households"] = ratio(with_city(sums.single_parent), households)
    for i, name in enumerate(PYRAMID_METRICS):
        out[name] = with_city(sums.by_band[i])
    for g, (_, _, name) in enumerate(MIGRATION_AGE_GROUPS):
        out[f"residents_{name}"] = p[:, 8 + g]  # not an outcome: for the net migration rates
    dwellings = with_city(sums.by_tenure[:, :NURSING].sum(axis=1).astype(float))
    out["dwellings"] = dwellings
    out["vacancy_rate"] = ratio(dwellings - households, dwellings)
    return out


def housing_stocks(sums: EndSums, city) -> dict[str, np.ndarray]:
    """Housing, income and segregation metrics at the end of a year.

    Segregation indices count persons: columns poor, middle, high income; migration
    background; 65+. Over cells, the city value uses all cells and a quartier's value its own
    cells; over quartiers there is only the city value. All are computed by
    :func:`sim.model.segregation.by_area` (tested equal to the single-area functions, which are
    tested equal to PySAL).
    """
    from sim.state.city import OWNER, PRIVATE, SOCIAL

    n_q = city.n_quartiers
    hs = np.vstack([sums.housing, sums.housing.sum(axis=0)])
    persons = hs[:, 0]
    out: dict[str, np.ndarray] = {
        "share_poor": ratio(hs[:, 1], persons),
        "share_high_income": ratio(hs[:, 2], persons),
        "share_migration_background": ratio(hs[:, 3], persons),
        "mean_equivalised_income": ratio(hs[:, 4], persons),
    }
    by_tenure = sums.by_tenure
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
    # The re-letting level a mover pays, averaged over the private rental dwellings.
    private = city.dwelling_tenure == PRIVATE
    level = city.cell_rent_m2[city.dwelling_cell[private]].astype(np.float64)
    where = city.dwelling_quartier[private].astype(np.int64)
    inside = where >= 0
    level_sum = np.bincount(where[inside], weights=level[inside], minlength=n_q)
    count = np.bincount(where[inside], minlength=n_q).astype(float)
    out["relet_rent_m2"] = ratio(np.r_[level_sum, level.sum()], np.r_[count, level.size])

    # Persons per cell by group: poor, middle, high, migration background, 65+. Each
    # quartier's populated cells and, as area n_q, all of them (empty cells add nothing).
    by_quartier, rows, area, populated, mean_income = _cell_summary(
        sums.cells, sums.cell_income, city.cell_quartier, n_q)
    over_cells_all = seg.by_area(rows, area, n_q, whole=True)
    between = seg.by_area(by_quartier, np.zeros(n_q, np.int64), 1)
    for name, _ in SEGREGATION_INDICES:
        over_cells = over_cells_all[name]
        over_quartiers = np.full(n_q + 1, np.nan)
        over_quartiers[-1] = between[name][0]
        out[f"{name}_cells"] = over_cells
        out[f"{name}_quartiers"] = over_quartiers
    moran = np.full(n_q + 1, np.nan)
    moran[-1] = seg.morans_i(mean_income, city.width, city.height, mask=populated)
    out["morans_i_income"] = moran
    # Migration background over 1 km squares (city only).
    square, n_cols, n_rows = seg.squares(city.width, city.height, city.cell_size_m,
                                         city.origin_x, city.origin_y)
    d_1km, i_1km = seg.origin_over_squares(sums.cells, square, n_cols, n_rows)
    for name, value in (("dissimilarity_origin_1km", d_1km), ("morans_i_origin_1km", i_1km)):
        out[name] = np.full(n_q + 1, np.nan)
        out[name][-1] = value
    for k, name in enumerate(("poor", "migration_background", "65plus")):
        own = by_quartier[:, [0, 3, 4][k]]
        total = by_quartier[:, :3].sum(axis=1)
        share = np.divide(own, total, out=np.full(n_q, np.nan), where=total > 0)
        city_share = own.sum() / total.sum() if total.sum() > 0 else np.nan
        out[f"location_quotient_{name}"] = np.r_[share / city_share, 1.0]
    return out


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
