"""The yearly housing market: rent bindings end (or the rent-mixing lever extends them), the
lever buys new bindings, new dwellings are built, re-letting levels follow vacancy and sitting
tenants' rents follow the Mietspiegel (:class:`sim.model.housing.HousingMarket`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.parameters import HousingParameters


def step(model: QuartierModel, year: YearState, params: HousingParameters,
         draws: Draws) -> dict[str, np.ndarray]:
    """Update the market with this year's occupied dwellings; its citywide flows (bindings
    expired and bought, dwellings built) are recorded for the city only."""
    pop, city = model.population, model.city
    occupied = _occupied(year.household_alive, pop.dwelling, city.n_dwellings)
    market = model.market.update(year.year, occupied, draws.rng)
    nan = np.full(city.n_quartiers, np.nan)
    return {name: np.r_[nan, value] for name, value in market.items()}


@njit(cache=True)
def _occupied(household_alive, dwelling, n_dwellings):
    """The dwellings of the living households."""
    occupied = np.zeros(n_dwellings, np.bool_)
    for h in range(dwelling.size):
        if household_alive[h] and dwelling[h] >= 0:
            occupied[dwelling[h]] = True
    return occupied
