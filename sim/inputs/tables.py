"""Official figures the model uses as inputs, read from ``calibration/targets/``.

Every table here is a verbatim copy of a file in the project's calibration data, with its source
in each row (see ``calibration/targets/README.md``). Functions return plain numpy arrays indexed
by single year of age (0 … ``max_age``) and sex (0 = male, 1 = female).
"""

from __future__ import annotations

from functools import lru_cache, wraps
from importlib import resources

import numpy as np
import pandas as pd

from sim.state.population import SEXES


def _read(name: str) -> pd.DataFrame:
    """The file's table (a copy: callers may change it)."""
    return _read_cached(name).copy()


@lru_cache(maxsize=32)
def _read_cached(name: str) -> pd.DataFrame:
    with resources.as_file(resources.files("calibration") / "targets" / name) as path:
        return pd.read_csv(path, dtype=str)


def _cached_array(func):
    """Cache a function of the tables (hashable arguments); callers get a copy of the array."""
    cached = lru_cache(maxsize=16)(func)

    @wraps(func)
    def wrapper(*args, **kwargs):
        return cached(*args, **kwargs).copy()

    wrapper.cache_clear = cached.cache_clear
    return wrapper


@lru_cache(maxsize=8)
def life_table(period: str = "2020/22") -> pd.DataFrame:
    """Destatis period life table Germany (GENESIS 12621-0001), ages 0-100, both sexes."""
    df = _read("life_table_germany_destatis.csv")
    df = df[df["period"] == period].copy()
    if df.empty:
        raise ValueError(f"no life table for period {period!r}")
    for col in ("age", "lx"):
        df[col] = df[col].astype(int)
    for col in ("qx", "ex", "Lx", "Tx"):
        df[col] = df[col].astype(float)
    return df


def death_probabilities(period: str = "2020/22", max_age: int = 110) -> np.ndarray:
    """q(x) as an array ``[sex, age]`` for ages 0 … max_age.

    The table stops at 100; q(100) is kept for ages 101 … max_age-1 and q(max_age) = 1.
    """
    lt = life_table(period)
    q = np.empty((2, max_age + 1))
    for s, sex in enumerate(SEXES):
        part = lt[lt["sex"] == sex].sort_values("age")
        qx = part["qx"].to_numpy()
        q[s, : len(qx)] = qx
        q[s, len(qx):] = qx[-1]
    q[:, max_age] = 1.0
    return q


def table_e0(period: str = "2020/22") -> dict[str, float]:
    """Published life expectancy at birth e(0) by sex."""
    lt = life_table(period)
    return {sex: float(lt[(lt["sex"] == sex) & (lt["age"] == 0)]["ex"].iloc[0]) for sex in SEXES}


@_cached_array
def fertility_rates(tfr: float, pattern: str = "2015-2020", max_age: int = 110) -> np.ndarray:
    """Age-specific fertility rates by single age, scaled so that they sum to ``tfr``.

    The age pattern is UN WPP 2022's percentage of the TFR by 5-year age group (Germany);
    within a group the rate is constant.
    """
    df = _read("fertility_asfr_germany_wpp2022.csv")
    df = df[df["period"] == pattern]
    asfr = np.zeros(max_age + 1)
    for _, row in df.iterrows():
        lo, hi = (int(x) for x in row["age_group"].split("-"))
        asfr[lo : hi + 1] = float(row["pct_of_TFR_published"]) / 100.0 / (hi - lo + 1)
    asfr *= tfr / asfr.sum()
    return asfr


def _group_bounds(label: str, max_age: int) -> tuple[int, int]:
    if label.endswith("+"):
        return int(label[:-1]), max_age
    if "-" in label:
        lo, hi = label.split("-")
        return int(lo), int(hi)
    return int(label), int(label)


@lru_cache(maxsize=4)
def age_structure(max_age: int = 110) -> np.ndarray:
    """NRW population by sex and single year of age, as shares summing to 1 (``[sex, age]``).

    Group totals are IT.NRW's for 31.12.2023 (six age groups by sex). Within a group, the
    single-age shape comes from the NRW 5-year groups of about 2013 (LZG.NRW), uniform inside
    each 5-year group, the open group 90+ spread by the survivorship l(x) of the 2020/22 life
    table, and carried forward ten years by survival (cohort shift) to describe 2023's cohorts.
    Only the shape is borrowed; the totals are 2023's.
    """
    df = _read("population_nrw_by_age.csv")
    old = df[df["date"].str.startswith("2013")]
    shape = np.zeros((2, max_age + 1))
    q = death_probabilities("2020/22", max_age)
    for s, sex in enumerate(SEXES):
        rows = old[old["sex_or_measure"] == sex]
        for _, row in rows.iterrows():
            lo, hi = _group_bounds(row["age_group"], max_age)
            count = float(row["value"])
            if row["age_group"].endswith("+"):
                surv = np.cumprod(np.r_[1.0, 1.0 - q[s, lo:hi]])
                shape[s, lo : hi + 1] = count * surv / surv.sum()
            else:
                shape[s, lo : hi + 1] = count / (hi - lo + 1)
    # Carry the 2013 shape forward ten years (survival from the life table) so that it
    # describes the cohorts of 2023; ages 0-9 keep the 2013 shape of births.
    aged = shape.copy()
    years = 10
    for s in range(2):
        surv = np.ones(max_age + 1 - years)
        for k in range(years):
            surv *= 1.0 - q[s, k : max_age + 1 - years + k]
        aged[s, years:] = shape[s, : max_age + 1 - years] * surv
    shape = aged
    new = df[df["date"] == "2023-12-31"]
    result = np.zeros_like(shape)
    for s, sex in enumerate(SEXES):
        rows = new[new["sex_or_measure"] == sex]
        for _, row in rows.iterrows():
            lo, hi = _group_bounds(row["age_group"], max_age)
            part = shape[s, lo : hi + 1]
            result[s, lo : hi + 1] = float(row["value"]) * part / part.sum()
    return result / result.sum()


def nrw_age_groups_2023() -> pd.DataFrame:
    """IT.NRW population 31.12.2023 by the six published age groups and sex (counts)."""
    df = _read("population_nrw_by_age.csv")
    df = df[(df["date"] == "2023-12-31") & df["sex_or_measure"].isin(SEXES)].copy()
    df["value"] = df["value"].astype(float)
    return df[["age_group", "sex_or_measure", "value"]].rename(columns={"sex_or_measure": "sex"})


@_cached_array
def household_size_shares() -> np.ndarray:
    """Shares of households with 1, 2, 3, 4, 5+ persons, NRW Mikrozensus 2023 (normalised).

    The published shares (40.0 / 33.9 / 11.9 / 9.9 / 4.4 %) sum to 100.1 by rounding.
    """
    df = _read("households.csv")
    df = df[(df["year"] == "2023") & (df["region"] == "NRW")]
    names = ["share_1_person", "share_2_person", "share_3_person", "share_4_person",
             "share_5plus_person"]
    values = np.array([float(df[df["indicator"] == n]["value"].iloc[0]) for n in names])
    return values / values.sum()


@_cached_array
def five_plus_size_split() -> np.ndarray:
    """Shares of 5-, 6-, 7-person households among 5+ (Zensus 2011 NRW: 274k 5, 131k 6+).

    The 6+ households are all given 6 persons (the split beyond 6 is not published here).
    """
    df = _read("households.csv")
    z = df[(df["source_type"] == "Zensus 2011") & (df["region"] == "NRW")]
    n5 = float(z[z["indicator"] == "n_5_person"]["value"].iloc[0])
    n6 = float(z[z["indicator"] == "n_6plus_person"]["value"].iloc[0])
    return np.array([n5, n6]) / (n5 + n6)


@lru_cache(maxsize=1)
def single_parent_share_of_multi_person() -> float:
    """Share of single-parent households among households of 2+ persons (DERIVED).

    Zensus 2022 NRW: 7.1 % of all households are single parents; Mikrozensus 2023: about 60 %
    of households have 2+ persons (normalised shares). Assumed equal across household sizes
    (no split is published).
    """
    df = _read("households.csv")
    row = df[(df["source_type"] == "Zensus 2022") & (df["indicator"] == "share_single_parents")]
    single_parents = float(row["value"].iloc[0]) / 100.0
    return single_parents / float(household_size_shares()[1:].sum())


def share_18_24_with_parents() -> float:
    """Share of 18-24-year-olds living with their parents (Destatis 2015, Germany: 62 %)."""
    df = _read("more_migration_age.csv")
    row = df[df["indicator"] == "share_18_24_living_with_parents"]
    return float(row["value"].iloc[0]) / 100.0
