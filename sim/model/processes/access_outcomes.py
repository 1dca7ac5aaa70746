"""The year's access outcomes, measured at the start of the move season (after the access
steps, before anyone moves): GP access (Versorgungsgrad) of residents 65+ and of all
residents with the shares below 75 % and above 110 %, households without a car, residents
who can only walk, commuting cost relative to income, employment of 18-64-year-olds, and how
unevenly poor pupils spread over primary schools (:func:`sim.model.metrics.access_outcomes`)."""

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
    n_q = model.city.n_quartiers
    is_worker = np.zeros(pop.n_persons, np.bool_)
    is_worker[s["workers"]] = True
    primary = s["schools"][PRIMARY]
    year.access = metrics.access_outcomes(
        year.household_quartier[: pop.n_households].astype(np.int64),
        s["housed"] & ~s["nursing"], s["size"], s["old"], s["gp"], s["car"], s["mode"] == WALK,
        s["commute"], s["net_income"], pop.household, pop.age, s["alive_p"], is_worker,
        primary["pupils"], primary["poor"], model.city.cell_quartier[primary["cells"]], n_q,
        model.scenario.parameters.services.gp_inhabitants_per_gp)
    year.access.update(ticket_holders(
        year.household_quartier[: pop.n_households].astype(np.int64),
        s["housed"] & ~s["nursing"], s["size"], s["children"], s["mode"] == PT,
        s["sozialticket"], n_q))


def ticket_holders(q: np.ndarray, housed: np.ndarray, size: np.ndarray, children: np.ndarray,
                   transit: np.ndarray, social: np.ndarray, n_q: int) -> dict[str, np.ndarray]:
    """Persons with a monthly ticket, by quartier and the city: the adults of housed
    households that travel by public transport (no car, tickets affordable), all and those on
    the Sozialticket. The ticket lever's cost counts their ticket-months (docs/costs.md)."""
    adults = np.maximum(size.astype(np.int64) - children.astype(np.int64), 1).astype(float)
    holds = housed & transit
    on_social = holds & social
    return {"ticket_holders": metrics.count(q[holds], n_q, adults[holds]),
            "sozialticket_holders": metrics.count(q[on_social], n_q, adults[on_social])}
