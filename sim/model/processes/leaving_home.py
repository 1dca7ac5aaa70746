"""Leaving the parental home.

Each child aged ``leaving_home_min_age`` or older leaves with the yearly probability
``leaving_home_rate`` and founds a one-person household. The default rate is chosen so that,
with the model's ageing, about 62 % of 18-24-year-olds live with their parents (Destatis 2015,
Germany; 45 % in cities of 500,000+). The new household needs a vacant dwelling in the city;
the new household searches like everyone else (``sim.model.processes.mobility``) and leaves the city
when it finds nothing it prefers to that.
"""

from __future__ import annotations

import numpy as np


def leavers(age: np.ndarray, is_child: np.ndarray, alive: np.ndarray, rate: float,
            min_age: int, u: np.ndarray) -> np.ndarray:
    """Indices of the children who leave home this year (ages after ageing); ``u`` holds one
    uniform number per person."""
    eligible = np.flatnonzero(is_child & alive & (age >= min_age))
    return eligible[u[eligible] < rate]
