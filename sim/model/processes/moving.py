"""Residential mobility with the outside option: who searches, where they move, who leaves the
city and why (:mod:`sim.model.mobility` holds the rules of searching and choosing).

Housed households search with a probability that rises with their dissatisfaction (and after a
life event); households in nursing homes never search; new households without a dwelling always
search. Searchers choose one at a time, in keyed random order, among a sample of vacancies,
staying, and leaving the city. A household that leaves is an out-migrant with a cause: the
parts of its dissatisfaction without which it would not have searched this year (shared
equally; ``other`` if none: see :func:`sim.model.mobility.counterfactual_causes`), or
``no_dwelling`` for a new household that found none. Dwellings empty between two tenancies
(``housing.vacancy_reserve``, :func:`between_tenancies`) are no option this year.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.mobility import (
    PART_CAUSES,
    Vacancies,
    choose,
    counterfactual_causes,
    movers,
    typical_parts,
)
from sim.model.rng import keyed_uniforms
from sim.state.city import on_market

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.parameters import MobilityParameters

# What in-migration still needs of the households' situation (the rest is freed before the
# choice: at a million households these arrays set the peak memory).
KEPT_FOR_IN_MIGRATION = ("cost", "relet_cost", "cell_share_income", "cell_share_origin",
                         "choice_access", "size", "group", "origin", "old", "children")


SLOT_RESERVE = 3000  # of the moving key, keyed to the dwelling's row


def between_tenancies(city, occupied_dwellings: np.ndarray, share: float, key, year: int,
                      last: np.ndarray | None = None) -> np.ndarray:
    """The vacant market dwellings that stand empty between two tenancies this year (the
    Fluktuationsreserve, ``housing.vacancy_reserve``): in each quartier ``share`` of its
    market dwellings, or every vacant one if fewer are vacant, chosen by keyed random numbers
    (the same dwellings in every run of the seed). Last year's (``last``) are not chosen
    again: a dwelling between two tenancies stands empty for one year at most. None are let
    this year."""
    market = on_market(city)
    if share <= 0.0 or not market.any():
        return np.zeros(0, np.int64)
    n_q = city.n_quartiers
    quartier = city.dwelling_quartier.astype(np.int64)
    quartier = np.where(quartier >= 0, quartier, n_q)  # dwellings outside the quartiers
    wanted = np.rint(share * np.bincount(quartier[market], minlength=n_q + 1)).astype(np.int64)
    free = market.copy()
    free[occupied_dwellings[occupied_dwellings >= 0]] = False
    if last is not None and last.size:
        free[last] = False
    candidates = np.flatnonzero(free)
    u = keyed_uniforms(key, year, candidates.astype(np.uint64), SLOT_RESERVE)
    group = quartier[candidates]
    order = np.lexsort((u, group))  # by quartier, then by the keyed number
    group = group[order]
    rank = np.arange(order.size) - np.searchsorted(group, group, side="left")
    return np.sort(candidates[order[rank < wanted[group]]])


def step(model: QuartierModel, year: YearState, params: MobilityParameters,
         draws: Draws) -> dict[str, np.ndarray]:
    """Searchers choose; movers move in, out-migrants leave (by cause and group). Returns the
    moves within the city and the new households that found a home (``leaving_home``)."""
    pop, city = model.population, model.city
    s = year.situation
    housed = s["housed"]
    active = housed & ~s["nursing"]
    searching = np.flatnonzero(
        movers(s["parts"], s["stage"], year.life_event, active, pop.hid,
               np.uint64(draws.key), year.year, params)
        | (year.household_alive & (pop.dwelling < 0)))
    searchers = _searchers(model, year, searching)
    why = {"parts": s["parts"][searching], "stage": s["stage"][searching],
           "typical": typical_parts(s["parts"], active)}  # for the causes of leaving
    s = year.situation = {key: s[key] for key in KEPT_FOR_IN_MIGRATION}
    reserve = model.market.between_tenancies = between_tenancies(
        city, pop.dwelling[housed], model.scenario.parameters.housing.vacancy_reserve,
        np.uint64(draws.key), year.year, model.market.between_tenancies)
    year.vacancies = Vacancies(city.n_dwellings, np.r_[
        pop.dwelling[housed], np.flatnonzero(~on_market(city)), reserve])
    chosen = choose(searchers, year.vacancies, city, s["cost"], s["relet_cost"],
                    s["cell_share_income"], s["cell_share_origin"], params, draws.key,
                    year.year, s["choice_access"])
    del searchers
    current = pop.dwelling[searching]
    moving = (chosen >= 0) & (chosen != current)
    moved = searching[moving]
    left = searching[chosen < 0]
    moved_from_home = moved[current[moving] >= 0]
    pop.dwelling[moved] = chosen[moving]
    pop.moved_in[moved] = year.year
    model.market.let(chosen[moving])
    size = s["size"]
    _record_causes(model, year, left, why, chosen < 0, size, draws, params)
    year.household_alive[left] = False
    weight = size[left].astype(float)
    year.add_out_migrant_groups({
        "out_migrants_poor": year.count(left, weight * (s["group"][left] == 0)),
        "out_migrants_migration_background": year.count(left, weight * s["origin"][left]),
        "out_migrants_65plus": year.count(left, s["old"][left].astype(float)),
        "out_migrants_families": year.count(left, weight * (s["children"][left] > 0)),
    })
    return {"moves_within_city": year.count(moved_from_home,
                                            size[moved_from_home].astype(float)),
            "leaving_home": year.count(moved[current[moving] < 0])}


def _record_causes(model: QuartierModel, year: YearState, left: np.ndarray, why: dict,
                   leaving: np.ndarray, size: np.ndarray, draws: Draws,
                   params: MobilityParameters) -> None:
    """Record the out-migrants ``left`` (persons) by cause: ``no_dwelling`` for those that
    had no home, else their counterfactual causes (fractions of a household where several
    parts were each decisive). ``why`` holds the searchers' parts and life stages and the
    year's typical parts; ``leaving`` marks the searchers in ``left``."""
    homeless = model.population.dwelling[left] < 0
    housed = left[~homeless]
    year.add_out_migrants("no_dwelling", year.count(left[homeless],
                                                    size[left[homeless]].astype(float)))
    weights = counterfactual_causes(
        why["parts"][leaving][~homeless], why["typical"], why["stage"][leaving][~homeless],
        year.life_event[housed], model.population.hid[housed], np.uint64(draws.key),
        year.year, params)
    persons = size[housed].astype(float)
    for c, name in enumerate((*PART_CAUSES, "other")):
        year.add_out_migrants(name, year.count(housed, persons * weights[:, c]))


def _searchers(model: QuartierModel, year: YearState, rows: np.ndarray) -> dict:
    """The choice's table of the searching households (``rows``)."""
    pop, s = model.population, year.situation
    hp = model.scenario.parameters.housing
    inc = pop.income[rows]
    return {
        "current": pop.dwelling[rows], "net_income": s["net_income"][rows],
        "norm": s["norm"][rows], "income_group": s["group"][rows],
        "origin": s["origin"][rows], "home_quartier": year.household_quartier[rows],
        "can_own": inc >= hp.owner_min_income * model.median_income,
        "can_social": s["wbs"][rows], "id": pop.hid[rows],
        "outside_cost": s["norm"][rows] * outside_cost_m2(model, year.year),
        "segment": s["segment"][rows], "worker_start": s["worker_start"][rows],
        "worker_count": s["worker_count"][rows], "car": s["car"][rows],
        "ticket": s["ticket"][rows],
    }


def outside_cost_m2(model: QuartierModel, year: int) -> float:
    """Monthly gross cold rent per m² of a dwelling outside the city in ``year`` (the regional
    level, grown like market rents, plus operating costs)."""
    hp = model.scenario.parameters.housing
    mp = model.scenario.parameters.mobility
    years = year - model.scenario.start_year + 1
    return mp.outside_rent_m2 * (1.0 + hp.market_rent_growth) ** years + (
        model.market.operating_costs_m2)
