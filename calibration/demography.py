"""Demographic indicators computed from simulated vital statistics.

These turn a run's exposures, deaths and births (``model.vital_statistics()``) into the
figures the official statistics publish, so that simulation and table can be compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def life_expectancy_at_birth(q: np.ndarray) -> float:
    """Period life expectancy e(0) from single-age death probabilities q(x).

    Uses L(x) = l(x) - d(x)/2 (deaths spread evenly over the year) and closes the table at the
    last age. Applied to the Destatis 2020/22 q(x) it gives 78.33 (male) and 83.18 (female),
    the published values.
    """
    q = np.clip(np.asarray(q, dtype=float), 0.0, 1.0)
    q = np.r_[q[:-1], 1.0]
    lx = np.cumprod(np.r_[1.0, 1.0 - q[:-1]])
    dx = lx * q
    return float((lx - dx / 2.0).sum())


def simulated_death_probabilities(vital: pd.DataFrame, sex: str) -> np.ndarray:
    """Observed q(x) = deaths / persons at the start of the year, by single age.

    Ages nobody reached are closed with q = 1.
    """
    part = vital[vital["sex"] == sex].sort_values("age")
    exposure = part["exposure"].to_numpy(float)
    deaths = part["deaths"].to_numpy(float)
    q = np.divide(deaths, exposure, out=np.ones_like(deaths), where=exposure > 0)
    reached = np.flatnonzero(exposure > 0)
    last = reached[-1] if reached.size else 0
    return q[: last + 1]


def simulated_life_expectancy(vital: pd.DataFrame) -> dict[str, float]:
    """e(0) by sex from a run's vital statistics."""
    return {
        sex: life_expectancy_at_birth(simulated_death_probabilities(vital, sex))
        for sex in ("male", "female")
    }


def simulated_tfr(vital: pd.DataFrame, ages: tuple[int, int] = (10, 54)) -> float:
    """Total fertility rate: sum over ages of births / women at the start of the year.

    The default age range is that of the model's rates (UN WPP groups 10-14 … 50-54); the
    official TFR covers 15-49, which differs from it by less than 0.001 here.
    """
    f = vital[(vital["sex"] == "female") & vital["age"].between(*ages)]
    exposure = f["exposure"].to_numpy(float)
    births = f["births"].to_numpy(float)
    return float(np.divide(births, exposure, out=np.zeros_like(births), where=exposure > 0).sum())
