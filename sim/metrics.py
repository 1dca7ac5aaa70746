"""Outcomes computed every year, citywide and per quartier.

Every function returns arrays of length ``n_quartiers + 1``: one value per quartier, the city
last. Stocks describe the end of the year; flows count the year's events.
"""

from __future__ import annotations

import numpy as np

from sim.population import Population

STOCK_METRICS = (
    "population",
    "households",
    "mean_age",
    "old_age_ratio",
    "share_under_18",
    "share_65plus",
    "mean_household_size",
    "share_households_size_1",
    "share_households_size_2",
    "share_households_size_3",
    "share_households_size_4",
    "share_households_size_5plus",
    "dwellings",
    "vacancy_rate",
)
FLOW_METRICS = (
    "births",
    "deaths",
    "in_migrants",
    "out_migrants",
    "leaving_home",
)
METRICS = STOCK_METRICS + FLOW_METRICS

DESCRIPTIONS = {
    "population": "Residents (persons)",
    "households": "Households",
    "mean_age": "Mean age of residents (years)",
    "old_age_ratio": "Persons 65+ per person aged 20-64 (Altenquotient)",
    "share_under_18": "Share of residents under 18",
    "share_65plus": "Share of residents aged 65+",
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
}


def with_city(per_quartier: np.ndarray) -> np.ndarray:
    """Append the citywide total to per-quartier counts."""
    return np.r_[per_quartier, per_quartier.sum()]


def count(quartier: np.ndarray, n_q: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Counts (or sums of weights) per quartier, plus the city."""
    return with_city(np.bincount(quartier, weights=weights, minlength=n_q)[:n_q].astype(float))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def stocks(pop: Population, household_quartier: np.ndarray, dwelling_quartier: np.ndarray,
           n_q: int) -> dict[str, np.ndarray]:
    """The stock metrics at the end of a year."""
    pq = household_quartier[pop.household]
    age = pop.age
    persons = count(pq, n_q)
    households = count(household_quartier, n_q)
    out = {
        "population": persons,
        "households": households,
        "mean_age": _ratio(count(pq, n_q, age.astype(float)), persons),
        "old_age_ratio": _ratio(count(pq[age >= 65], n_q),
                                count(pq[(age >= 20) & (age < 65)], n_q)),
        "share_under_18": _ratio(count(pq[age < 18], n_q), persons),
        "share_65plus": _ratio(count(pq[age >= 65], n_q), persons),
        "mean_household_size": _ratio(persons, households),
    }
    size = pop.household_size()
    for k in (1, 2, 3, 4):
        out[f"share_households_size_{k}"] = _ratio(
            count(household_quartier[size == k], n_q), households)
    out["share_households_size_5plus"] = _ratio(
        count(household_quartier[size >= 5], n_q), households)
    dwellings = count(dwelling_quartier, n_q)
    out["dwellings"] = dwellings
    out["vacancy_rate"] = _ratio(dwellings - households, dwellings)
    return out
