"""The year's access outcomes, measured at the start of the move season (after the access
steps, before anyone moves): GP access (Versorgungsgrad) of residents 65+ and of all
residents with the shares below 75 % and above 110 %, households without a car, residents
who can only walk, commuting cost relative to income, employment of 18-64-year-olds, and how
unevenly poor pupils spread over primary schools, and the holders of monthly tickets
(:func:`sim.model.metrics.access_outcomes`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import metrics
from sim.model.accessibility import PT, WALK
from sim.model.services import PRIMARY

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.year import YearState


def step(model: QuartierModel, year: YearState, params: None, draws: None) -> None:
    """Measure the access outcomes into ``year.access``."""
    pop = model.population
    s = year.situation
    primary = s["schools"][PRIMARY]
    year.access = metrics.access_outcomes(
        year.household_quartier[: pop.n_households].astype(np.int64),
        s["housed"] & ~s["nursing"], s["size"], s["old"], s["gp"], s["car"], s["mode"], WALK,
        PT, s["commute"], s["net_income"], s["children"], s["sozialticket"], pop.household,
        pop.age, s["alive_p"], s["workers"], primary["pupils"], primary["poor"],
        model.city.cell_quartier[primary["cells"]], model.city.n_quartiers,
        model.scenario.parameters.services.gp_inhabitants_per_gp)
