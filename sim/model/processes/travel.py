"""Cars, tickets and travel modes of the households; the public-transport lever takes effect.

A household has no car while a fixed keyed number is below a logistic probability by income
group, size and children (:mod:`sim.model.processes.jobs`). Its monthly ticket is the
Sozialticket if eligible (poverty or WBS, by ``sozialticket_eligibility``), else the general
ticket; prices are at the start year's level and grow with incomes. Its travel mode for errands
is the car if it has one, else public transport if the tickets of its adults cost at most
``pt_affordable_share`` of its net income, else walking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.processes.jobs import household_modes

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.service_parameters import JobsParameters


def step(model: QuartierModel, year: YearState, params: JobsParameters, draws: Draws) -> None:
    """Apply the public-transport lever (stops, headways) and give every household its car,
    ticket price and travel mode."""
    model.services.apply_transport_lever(year.year)
    s = year.situation
    car, ticket, mode = travel_modes(model, s["group"], s["size"], s["children"],
                                     model.population.hid, s["wbs"], s["net_income"], year.year)
    s.update({"car": car, "ticket_price": ticket, "mode": mode,
              "sozialticket": sozialticket_eligible(model, s["group"], s["wbs"], year.year)})


def ticket_prices(model: QuartierModel, year: int) -> tuple[float, float, str]:
    """The general ticket, the Sozialticket (EUR per month, grown with incomes) and who is
    eligible for it, with the public-transport lever applied from its year."""
    jp = model.scenario.parameters.jobs
    price, social, rule = (jp.ticket_price_eur, jp.sozialticket_price_eur,
                           jp.sozialticket_eligibility)
    lever = model.scenario.levers.public_transport
    if lever is not None and year >= lever.from_year:
        if lever.ticket_price_eur is not None:
            price = lever.ticket_price_eur
        if lever.sozialticket_price_eur is not None:
            social = lever.sozialticket_price_eur
        if lever.sozialticket_eligibility is not None:
            rule = lever.sozialticket_eligibility
        if lever.free_fares:
            price = social = 0.0
    # Prices are at the start year's level and grow with incomes (like rents), so that a
    # price set by a lever keeps its weight over the run.
    index = model.income_index
    return price * index, min(social, price) * index, rule


def sozialticket_eligible(model: QuartierModel, group: np.ndarray, wbs: np.ndarray,
                          year: int) -> np.ndarray:
    """Per household: may it buy the Sozialticket this year (the lever's rule from its year)?"""
    rule = ticket_prices(model, year)[2]
    return {"poverty": group == 0, "wbs": np.asarray(wbs, bool),
            "none": np.zeros(group.size, bool)}[rule]


def travel_modes(model: QuartierModel, group: np.ndarray, size: np.ndarray,
                 children: np.ndarray, hid: np.ndarray, wbs: np.ndarray,
                 net_income: np.ndarray, year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per household: car, monthly ticket price, travel mode (see ``jobs.household_modes``)."""
    jp = model.scenario.parameters.jobs
    price, social, _ = ticket_prices(model, year)
    eligible = sozialticket_eligible(model, group, wbs, year)
    return household_modes(
        group, size, children, hid, np.uint64(model.keys["jobs"]), model.jobs.car_intercept,
        np.log([jp.no_car_odds_poor, jp.no_car_odds_high, jp.no_car_odds_one_person,
                jp.no_car_odds_children]), eligible, net_income, float(price),
        float(social), jp.pt_affordable_share)
