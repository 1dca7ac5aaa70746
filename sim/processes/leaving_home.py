"""Leaving the parental home.

Each child aged ``leaving_home_min_age`` or older leaves with the yearly probability
``leaving_home_rate`` and founds a one-person household. The default rate is chosen so that,
with the model's ageing, about 62 % of 18-24-year-olds live with their parents (Destatis 2015,
Germany; 45 % in cities of 500,000+). The new household needs a vacant dwelling in the city;
when there is none, the young adult leaves the city (out-migration). Until residential choice
arrives, dwellings are taken at random among the vacant ones.
"""

from __future__ import annotations

import numpy as np


def leavers(age: np.ndarray, is_child: np.ndarray, alive: np.ndarray, rate: float,
            min_age: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of the children who leave home this year (ages after ageing)."""
    eligible = np.flatnonzero(is_child & alive & (age >= min_age))
    return eligible[rng.random(eligible.size) < rate]


def assign_dwellings(n: int, vacant: np.ndarray, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Random distinct vacant dwellings for up to ``n`` movers.

    Returns (the movers who found one, as indices 0…n-1; their dwellings). Movers are served
    in random order; the rest find nothing.
    """
    k = min(n, vacant.size)
    order = rng.permutation(n)[:k]
    dwellings = rng.choice(vacant, size=k, replace=False) if k else vacant[:0]
    return np.sort(order), dwellings[np.argsort(order)]
