"""The yearly housing market: rent bindings end (or the rent-mixing lever extends them), the
lever buys new bindings, new dwellings are built, re-letting levels follow vacancy and sitting
tenants' rents follow the Mietspiegel (:class:`sim.model.housing.HousingMarket`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

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
    housed = year.household_alive & (pop.dwelling >= 0)
    occupied = np.zeros(city.n_dwellings, bool)
    occupied[pop.dwelling[housed]] = True
    market = model.market.update(year.year, occupied, draws.rng)
    nan = np.full(city.n_quartiers, np.nan)
    return {name: np.r_[nan, value] for name, value in market.items()}
