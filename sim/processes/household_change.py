"""Households that lose members: dissolution and households left without an adult.

A household whose members have all died dissolves and frees its dwelling. When the adults of a
household have died, members aged 18 or older become its adults; minors left without any adult
leave the city (in reality: to relatives or care; they are counted as out-migrants).
"""

from __future__ import annotations

import numpy as np


def update(household: np.ndarray, is_child: np.ndarray, age: np.ndarray,
           person_alive: np.ndarray, household_alive: np.ndarray, adult_age: int = 18
           ) -> tuple[np.ndarray, np.ndarray]:
    """Apply dissolution and adult succession in place.

    Returns (households that dissolved because nobody is left, persons who leave the city
    because no adult is left).
    """
    n_hh = household_alive.size
    alive_members = np.bincount(household[person_alive], minlength=n_hh)
    alive_adults = np.bincount(household[person_alive & ~is_child], minlength=n_hh)
    empty = household_alive & (alive_members == 0)
    household_alive[empty] = False
    headless = household_alive & (alive_adults == 0)
    if not headless.any():
        return np.flatnonzero(empty), np.zeros(0, dtype=np.int64)
    in_headless = headless[household] & person_alive
    promote = in_headless & (age >= adult_age)
    is_child[promote] = False
    still = np.bincount(household[person_alive & ~is_child], minlength=n_hh) == 0
    orphaned_hh = headless & still
    orphans = np.flatnonzero(orphaned_hh[household] & person_alive)
    person_alive[orphans] = False
    household_alive[orphaned_hh] = False
    return np.flatnonzero(empty), orphans
