"""Incomes grow: every household's net equivalised income, and with it the median, the WBS
limits, ticket prices and the value of time, grow by ``income_growth`` a year (money is
nominal; see :mod:`sim.state.income`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.year import YearState
    from sim.scenario.parameters import IncomeParameters


def step(model: QuartierModel, year: YearState, params: IncomeParameters, draws: None) -> None:
    """Raise the income index and every household's income by ``income_growth``."""
    model.income_index *= 1.0 + params.income_growth
    model.population.income *= np.float32(1.0 + params.income_growth)
