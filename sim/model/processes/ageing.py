"""Ageing: every survivor is a year older at the end of the year."""

from __future__ import annotations

import numpy as np


def age_one_year(age: np.ndarray, alive: np.ndarray, max_age: int) -> None:
    """Add one year to the survivors' ages in place (capped at ``max_age``)."""
    np.add(age, alive.astype(age.dtype), out=age)
    np.minimum(age, max_age, out=age)
