"""Household income: net equivalised income, income groups and the equivalence scale.

Incomes are net equivalised incomes in EUR per month, nominal: the model raises them by
``income_growth`` a year (and the median, the poverty line and the WBS limits with them).
The distribution is log-normal per household type:
the spread ``sigma`` follows from two official NRW figures (Mikrozensus 2023, IT.NRW: median
equivalised income 2,055 EUR, at-risk-of-poverty rate 18.3 %, threshold 60 % of the median):
``sigma = ln(0.6) / Phi^-1(0.183)``. Each household type's median is then set so that its
poverty rate is the official one for that type (IT.NRW, Mikrozensus 2023: living alone 29.0 %,
two persons 9.4 %, single parents 45.7 %, two adults with one child 9.1 %, two adults with
three or more children 35.3 %). The rate for two adults with two children is not in the
data; the rate for one child is used (marked as an assumption in calibration/targets/README.md).

Income groups: 0 = at risk of poverty (below 60 % of the median), 1 = middle,
2 = high (200 % of the median or more, the usual "Einkommensreichtum" line).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

POOR, MIDDLE, HIGH = 0, 1, 2
INCOME_GROUPS = ("poor", "middle", "high")


def oecd_scale(adults: np.ndarray, children: np.ndarray) -> np.ndarray:
    """New OECD equivalence scale: 1 for the first adult, 0.5 per further person aged 14+,
    0.3 per child under 14. Here "adults" are members aged 14+, "children" those under 14."""
    return 1.0 + 0.5 * np.maximum(adults - 1, 0) + 0.3 * children


def income_sigma(poverty_rate: float, threshold_share: float = 0.6) -> float:
    """Log-normal spread such that ``poverty_rate`` lies below ``threshold_share`` × median."""
    return float(np.log(threshold_share) / ndtri(poverty_rate))


def household_type(n_adults: np.ndarray, n_children: np.ndarray) -> np.ndarray:
    """Household types of the official poverty rates (index into :data:`TYPE_NAMES`).

    ``n_adults`` counts the household's adults (18+ or heads), ``n_children`` its children.
    """
    size = n_adults + n_children
    t = np.full(size.shape, TYPE_NAMES.index("other"), dtype=np.int8)
    t[size == 1] = TYPE_NAMES.index("living_alone")
    t[(size == 2) & (n_children == 0)] = TYPE_NAMES.index("two_persons")
    t[(n_adults == 1) & (n_children > 0)] = TYPE_NAMES.index("single_parent")
    t[(n_adults >= 2) & (n_children >= 1) & (n_children <= 2)] = TYPE_NAMES.index(
        "two_adults_1_2_children")
    t[(n_adults >= 2) & (n_children >= 3)] = TYPE_NAMES.index("two_adults_3plus_children")
    return t


TYPE_NAMES = (
    "living_alone",
    "two_persons",
    "single_parent",
    "two_adults_1_2_children",
    "two_adults_3plus_children",
    "other",
)


def draw_incomes(types: np.ndarray, median: float, poverty_rate: float,
                 type_poverty_rates: dict[str, float], rng: np.random.Generator | None = None,
                 threshold_share: float = 0.6, z: np.ndarray | None = None) -> np.ndarray:
    """Net equivalised incomes (EUR/month) by household type.

    A type's log-income is normal with the common ``sigma`` and a mean placing the share
    ``type_poverty_rates[type]`` below the poverty line (``threshold_share`` × ``median``);
    types without an official rate use the overall ``poverty_rate``. The standard normal
    draws are ``z`` if given, else from ``rng``.
    """
    sigma = income_sigma(poverty_rate, threshold_share)
    line = np.log(threshold_share * median)
    rates = np.array([type_poverty_rates.get(name, poverty_rate) for name in TYPE_NAMES])
    mu = line - sigma * ndtri(rates)
    if z is None:
        z = rng.standard_normal(types.size)
    return np.exp(mu[types] + sigma * z).astype(np.float32)


def income_group(income: np.ndarray, median: float, poor_share: float = 0.6,
                 high_share: float = 2.0) -> np.ndarray:
    """0 poor (< 60 % of the median), 1 middle, 2 high (>= 200 % of the median)."""
    low = income < poor_share * median
    high = income >= high_share * median
    g = high.astype(np.int8) * np.int8(HIGH - MIDDLE) + np.int8(MIDDLE)
    g -= (low & ~high).astype(np.int8) * np.int8(MIDDLE - POOR)
    return g
