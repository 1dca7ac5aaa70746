"""Mortality: death within the year with probability q(x) by single age and sex.

q(x) comes from the Destatis period life table (GENESIS 12621-0001) of the scenario's period;
ages beyond the table's last age (100) keep q(100), and nobody survives ``max_age``.
"""

from __future__ import annotations

import numpy as np


def deaths(age: np.ndarray, sex: np.ndarray, q: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Boolean mask of persons who die this year.

    Args:
        age: completed years at the start of the year.
        sex: 0 male, 1 female.
        q: death probabilities ``[sex, age]``.
        u: one uniform number per person (keyed to the person, see ``sim.model.rng``).
    """
    return u < q[sex, age]
