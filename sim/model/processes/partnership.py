"""Partnership formation: two people living alone move together.

Each adult living alone in a private dwelling, aged ``partnership_min_age`` to
``partnership_max_age``, looks for a partner with the yearly probability ``partnership_rate``.
Those looking are paired man with woman: the larger group is cut at random to the size of the
smaller, then both are sorted by age and paired by rank (partners of similar age). The couple
lives in the larger of their two dwellings; the other dwelling is given up (a move within the
city). No official figure of the rate is in the data: it is fitted by ``quartier calibrate`` to
the share of one-person households.
"""

from __future__ import annotations

import numpy as np


def couples(age: np.ndarray, sex: np.ndarray, household: np.ndarray, candidate: np.ndarray,
            rate: float, u_look: np.ndarray, u_order: np.ndarray, floor_space: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The couples formed this year.

    Args:
        age, sex, household: Person columns.
        candidate: Per person: lives alone in a private dwelling, alive, in the age range.
        rate: Yearly probability that a candidate looks for a partner.
        u_look, u_order: Two uniform numbers per person (keyed to the person).
        floor_space: Per household: floor space of its dwelling (m²).

    Returns:
        ``(host, joiner, given_up)``: the household the couple lives in, the person who moves
        there, and the household row that person leaves (it dissolves), one entry per couple.
    """
    looking = np.flatnonzero(candidate & (u_look < rate))
    men = looking[sex[looking] == 0]
    women = looking[sex[looking] == 1]
    n = min(men.size, women.size)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    # cut the larger group at random, then pair by age rank
    men = men[np.argsort(u_order[men], kind="stable")[:n]]
    women = women[np.argsort(u_order[women], kind="stable")[:n]]
    men = men[np.lexsort((u_order[men], age[men]))]
    women = women[np.lexsort((u_order[women], age[women]))]
    hh_men, hh_women = household[men], household[women]
    women_host = floor_space[hh_women] > floor_space[hh_men]
    host = np.where(women_host, hh_women, hh_men)
    joiner = np.where(women_host, men, women)
    given_up = np.where(women_host, hh_men, hh_women)
    return host.astype(np.int64), joiner.astype(np.int64), given_up.astype(np.int64)
