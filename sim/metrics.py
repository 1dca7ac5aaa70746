"""Outcomes computed every year, citywide and per quartier.

Every function returns arrays of length ``n_quartiers + 1``: one value per quartier, the city
last. Stocks describe the end of the year; flows count the year's events.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim import segregation as seg
from sim.population import Population
from sim.processes.mobility import CAUSES

_INDICES = (
    ("dissimilarity_income", "Dissimilarity D, persons at risk of poverty vs the rest"),
    ("dissimilarity_origin", "Dissimilarity D, persons with vs without migration background"),
    ("dissimilarity_age65", "Dissimilarity D, persons 65+ vs the rest"),
    ("multigroup_dissimilarity_income", "Multigroup D over the three income groups"),
    ("theil_h_income", "Theil's information index H over the three income groups"),
    ("isolation_poor", "Isolation of persons at risk of poverty (xPx)"),
    ("exposure_poor", "Exposure of persons at risk of poverty to the rest (xPy)"),
    ("isolation_origin", "Isolation of persons with migration background (xPx)"),
)
SEGREGATION_METRICS = tuple(f"{name}_{unit}" for name, _ in _INDICES
                            for unit in ("cells", "quartiers"))
# Persons by sex and five-year age band (population pyramids).
AGE_BANDS = (*(f"{a:02d}_{a + 4:02d}" for a in range(0, 85, 5)), "85plus")
PYRAMID_METRICS = tuple(f"persons_{sex}_age_{band}" for sex in ("male", "female")
                        for band in AGE_BANDS)

# Access outcomes of the year (start of the move season; missing in the start year).
ACCESS_METRICS = ("gp_access_65plus", "no_car_share", "share_walk_only", "commuting_cost_share",
                  "employment_rate", "school_dissimilarity_income", "school_poor_share")

STOCK_METRICS = (
    "population",
    "households",
    "mean_age",
    "old_age_ratio",
    "share_under_18",
    "share_65plus",
    "share_18_24_with_parents",
    "mean_household_size",
    "share_households_size_1",
    "share_households_size_2",
    "share_households_size_3",
    "share_households_size_4",
    "share_households_size_5plus",
    "dwellings",
    "vacancy_rate",
    # housing and incomes
    "share_poor",
    "share_high_income",
    "share_migration_background",
    "mean_equivalised_income",
    "owner_occupied_share",
    "social_housing_share",
    "mean_rent_m2",
    "mean_rent_burden",
    "share_rent_burden_over_30",
    "share_rent_burden_over_40",
    "share_crowded",
    # segregation over cells (per quartier: over the quartier's cells) and over quartiers
    *SEGREGATION_METRICS,
    "morans_i_income",
    "location_quotient_poor",
    "location_quotient_migration_background",
    "location_quotient_65plus",
    *PYRAMID_METRICS,
    # care, doctors, schools, jobs
    "care_dependent",
    "care_dependency_share",
    "share_cared_at_home",
    "nursing_home_residents",
    "unmet_care",
    "share_gp_within_reach",
    "share_65plus_gp_within_reach",
    "gp_doctors",
    *ACCESS_METRICS,
)
FLOW_METRICS = (
    "births",
    "deaths",
    "in_migrants",
    "out_migrants",
    "out_migration_rate",
    *(f"out_migrants_cause_{c}" for c in CAUSES),
    "out_migrants_poor",
    "out_migrants_migration_background",
    "out_migrants_65plus",
    "out_migrants_families",
    "moves_within_city",
    "leaving_home",
    "partnerships",
    "bindings_expired",
    "bindings_bought",
    "dwellings_built",
)
METRICS = STOCK_METRICS + FLOW_METRICS

DESCRIPTIONS = {
    "population": "Residents (persons)",
    "households": "Households",
    "mean_age": "Mean age of residents (years)",
    "old_age_ratio": "Persons 65+ per person aged 20-64 (Altenquotient)",
    "share_under_18": "Share of residents under 18",
    "share_65plus": "Share of residents aged 65+",
    "share_18_24_with_parents": "Share of 18-24-year-olds living in their parents' household",
    "mean_household_size": "Persons per household",
    "share_households_size_1": "Share of one-person households",
    "share_households_size_2": "Share of two-person households",
    "share_households_size_3": "Share of three-person households",
    "share_households_size_4": "Share of four-person households",
    "share_households_size_5plus": "Share of households of five or more",
    "dwellings": "Dwellings",
    "vacancy_rate": "Share of dwellings vacant",
    "births": "Live births in the year",
    "deaths": "Deaths in the year",
    "in_migrants": "Persons moving into the city in the year",
    "out_migrants": "Persons leaving the city in the year (incl. young adults finding no "
                    "dwelling, and minors left without an adult)",
    "leaving_home": "Young adults leaving the parental home for a dwelling in the city",
    "partnerships": "Couples formed by two people living alone moving together",
    "share_poor": "Share of residents at risk of poverty (< 60 % of the median income)",
    "share_high_income": "Share of residents with 200 % of the median income or more",
    "share_migration_background": "Share of residents with a migration background",
    "mean_equivalised_income": "Mean net equivalised income of residents (EUR/month)",
    "owner_occupied_share": "Share of dwellings that are owner-occupied",
    "social_housing_share": "Share of dwellings that are rent-bound social housing",
    "mean_rent_m2": "Mean net cold rent per m² of occupied rental dwellings (EUR)",
    "mean_rent_burden": "Mean rent burden of tenant households (gross cold rent / income)",
    "share_rent_burden_over_30": "Share of tenant households paying 30 % of income or more",
    "share_rent_burden_over_40": "Share of tenant households paying more than 40 % of income",
    "share_crowded": "Share of households feeling crowded (floor space below "
                     "crowding_threshold × the norm)",
    "morans_i_income": "Moran's I of mean equivalised income over populated cells (queen)",
    "location_quotient_poor": "Share at risk of poverty here / share in the city",
    "location_quotient_migration_background": "Share with migration background here / city",
    "location_quotient_65plus": "Share aged 65+ here / share in the city",
    "out_migration_rate": "Out-migrants per resident at the start of the year",
    "out_migrants_cause_rent": "Out-migrants (persons) whose main reason was the rent burden",
    "out_migrants_cause_crowding": "Out-migrants whose main reason was crowding",
    "out_migrants_cause_neighbourhood": "Out-migrants whose main reason was the neighbourhood",
    "out_migrants_cause_no_dwelling": "Out-migrants who found no dwelling (new households)",
    "out_migrants_cause_other": "Out-migrants without a housing reason (life stage, orphans)",
    "out_migrants_poor": "Out-migrants from households at risk of poverty",
    "out_migrants_migration_background": "Out-migrants with a migration background",
    "out_migrants_65plus": "Out-migrants aged 65+",
    "out_migrants_families": "Out-migrants in households with children",
    "moves_within_city": "Persons moving from one dwelling to another within the city",
    "bindings_expired": "Social dwellings whose rent binding ended (city only)",
    "bindings_bought": "Private dwellings given a social binding by the lever (city only)",
    "dwellings_built": "New dwellings (city only)",
    "out_migrants_cause_health": "Out-migrants whose main reason was poor access to doctors",
    "out_migrants_cause_school": "Out-migrants whose main reason was their children's school",
    "out_migrants_cause_job": "Out-migrants whose main reason was the cost of commuting",
    "out_migrants_cause_care": "Persons leaving the city for care (no ambulant service within "
                               "reach and no free nursing-home place, or no place for "
                               "inpatient care)",
    "care_dependent": "Persons in need of long-term care (Pflegebedürftige)",
    "care_dependency_share": "Share of residents in need of long-term care",
    "share_cared_at_home": "Share of the care-dependent cared for at home",
    "nursing_home_residents": "Residents of nursing homes",
    "unmet_care": "Persons needing an ambulant care service with none within reach this year",
    "share_gp_within_reach": "Share of residents within reach of a GP practice (gp_reach_m "
                             "airline, 1,000 m)",
    "share_65plus_gp_within_reach": "Share of residents 65+ within reach of a GP practice",
    "gp_doctors": "General practitioners incl. MVZ doctors (city only)",
    "gp_access_65plus": "GP access of residents 65+ (2SFCA, 1 = city average doctors per "
                        "resident)",
    "no_car_share": "Share of households without a car",
    "share_walk_only": "Share of residents without car who cannot afford public transport",
    "commuting_cost_share": "Mean generalised commuting cost / income of households with "
                            "workers",
    "employment_rate": "Employed persons per resident aged 18-64",
    "school_dissimilarity_income": "Dissimilarity D of pupils at risk of poverty vs the rest "
                                   "over Grundschulen (city only)",
    "school_poor_share": "Share of Grundschule pupils from households at risk of poverty (by "
                         "the school's quartier)",
}
for _name, _text in _INDICES:
    DESCRIPTIONS[f"{_name}_cells"] = f"{_text}; over cells (per quartier: its own cells)"
    DESCRIPTIONS[f"{_name}_quartiers"] = f"{_text}; over quartiers (city only)"
for _name in PYRAMID_METRICS:
    _sex, _band = _name[len("persons_"):].split("_age_")
    _ages = "-".join(str(int(a)) for a in _band.removesuffix("plus").split("_"))
    DESCRIPTIONS[_name] = f"Residents, {_sex}, aged {_ages}{'+' if 'plus' in _band else ''}"


def with_city(per_quartier: np.ndarray) -> np.ndarray:
    """Append the citywide total to per-quartier counts."""
    out = np.empty(per_quartier.size + 1, np.result_type(per_quartier.dtype, np.float64))
    out[:-1] = per_quartier
    out[-1] = per_quartier.sum()
    return out


def count(quartier: np.ndarray, n_q: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Counts (or sums of weights) per quartier, plus the city."""
    return with_city(np.bincount(quartier, weights=weights, minlength=n_q)[:n_q].astype(float))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
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
        "mean_age": _ratio(p[:, 1], persons),
        "old_age_ratio": _ratio(p[:, 2], p[:, 3]),
        "share_under_18": _ratio(p[:, 4], persons),
        "share_65plus": _ratio(p[:, 2], persons),
        "share_18_24_with_parents": _ratio(p[:, 7], p[:, 6]),
        "mean_household_size": _ratio(p[:, 5], households),
    }
    for k in (1, 2, 3, 4):
        out[f"share_households_size_{k}"] = _ratio(h[:, k], households)
    out["share_households_size_5plus"] = _ratio(h[:, 5], households)
    for i, name in enumerate(PYRAMID_METRICS):
        out[name] = with_city(by_band[i].astype(float))
    dwellings = count(dwelling_quartier[market], n_q)
    out["dwellings"] = dwellings
    out["vacancy_rate"] = _ratio(dwellings - households, dwellings)
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
    :func:`sim.segregation.by_area` (tested equal to the single-area functions, which are
    tested equal to PySAL).
    """
    from sim.housing import NURSING, OWNER, SOCIAL
    from sim.income import income_group
    from sim.processes.mobility import household_summary

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
        "share_poor": _ratio(hs[:, 1], persons),
        "share_high_income": _ratio(hs[:, 2], persons),
        "share_migration_background": _ratio(hs[:, 3], persons),
        "mean_equivalised_income": _ratio(hs[:, 4], persons),
    }
    market = tenure != NURSING
    by_tenure = np.bincount(dq * 4 + tenure, minlength=4 * n_q).reshape(n_q, 4)
    by_tenure = np.vstack([by_tenure, by_tenure.sum(axis=0)]).astype(float)
    dwellings = by_tenure[:, :3].sum(axis=1)
    del market
    out["owner_occupied_share"] = _ratio(by_tenure[:, OWNER], dwellings)
    out["social_housing_share"] = _ratio(by_tenure[:, SOCIAL], dwellings)
    tenants = hs[:, 5]
    out["mean_rent_m2"] = _ratio(hs[:, 6], tenants)
    out["mean_rent_burden"] = _ratio(hs[:, 7], tenants)
    out["share_rent_burden_over_30"] = _ratio(hs[:, 8], tenants)
    out["share_rent_burden_over_40"] = _ratio(hs[:, 9], tenants)
    out["share_crowded"] = _ratio(hs[:, 10], hs[:, 11])

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
    for name, _ in _INDICES:
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

    from sim.housing import NURSING, SOCIAL, rented
    from sim.income import income_group

    n_c = city.n_cells
    cell = city.dwelling_cell[pop.dwelling].astype(np.int64)
    size = pop.household_size().astype(float)
    group = income_group(pop.income, median)
    old = np.bincount(pop.household[pop.age >= 65], minlength=pop.n_households)
    market = city.dwelling_tenure != NURSING
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
