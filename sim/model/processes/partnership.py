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

from typing import TYPE_CHECKING

import numpy as np

from sim.model.rng import keyed_uniforms
from sim.state.city import NURSING

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.parameters import DemographyParameters

SLOT_LOOK, SLOT_ORDER = 0, 1


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


def step(model: QuartierModel, year: YearState, params: DemographyParameters,
         draws: Draws) -> dict[str, np.ndarray]:
    """Pair people living alone (:func:`form_couples`); the joiner's move counts as a move
    within the city."""
    host, _, given_up = form_couples(model, year, params, draws)
    return {"partnerships": year.count(host), "moves_within_city": year.count(given_up)}


def form_couples(model: QuartierModel, year: YearState, params: DemographyParameters,
                 draws: Draws) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair people living alone: the joiner's household dissolves, the host's income becomes
    the couple's (equivalence weight 1.5) and its move is a life event.

    Returns:
        ``(host, joiner, given_up)`` as :func:`couples`.
    """
    pop, city = model.population, model.city
    empty = np.zeros(0, np.int64)
    if params.partnership_rate <= 0.0:
        return empty, empty, empty
    household_alive = year.household_alive
    alive_members = np.bincount(pop.household[year.person_alive], minlength=pop.n_households)
    housed = household_alive & (pop.dwelling >= 0)
    private = np.zeros(pop.n_households, bool)
    private[housed] = city.dwelling_tenure[pop.dwelling[housed]] != NURSING
    alone = private & (alive_members == 1)
    candidate = (year.person_alive & ~pop.is_child & alone[pop.household]
                 & (pop.age >= params.partnership_min_age)
                 & (pop.age <= params.partnership_max_age))
    floor = np.zeros(pop.n_households, np.float32)
    floor[housed] = city.dwelling_floor_space[pop.dwelling[housed]]
    u_look = np.ones(pop.n_persons)  # numbers keyed to the person: drawn for candidates only
    u_order = np.ones(pop.n_persons)
    who = np.flatnonzero(candidate)
    u_look[who] = keyed_uniforms(draws.key, year.year, pop.pid[who], SLOT_LOOK)
    u_order[who] = keyed_uniforms(draws.key, year.year, pop.pid[who], SLOT_ORDER)
    host, joiner, given_up = couples(pop.age, pop.sex, pop.household, candidate,
                                     params.partnership_rate, u_look, u_order, floor)
    if host.size:
        single = pop.income[host].astype(np.float64) + pop.income[given_up]
        pop.income[host] = (single / 1.5).astype(pop.income.dtype)
        pop.migration_background[host] = np.maximum(pop.migration_background[host],
                                                    pop.migration_background[given_up])
        pop.household[joiner] = host.astype(pop.household.dtype)
        household_alive[given_up] = False
        year.life_event[host] = True
    return host, joiner, given_up
