"""Partnership formation: people living alone, single parents and young adults leaving home
find a partner.

Each adult aged ``partnership_min_age`` to ``partnership_max_age`` who lives alone in a private
dwelling looks for a partner with the yearly probability ``partnership_rate``; the one adult
of a single-parent household there with ``households.single_parent_partnership_rate``. Of
those looking, the share ``households.outside_partner_share`` finds a partner from outside the
city, who moves in (an in-migrant of the opposite sex, aged like a partner of the synthetic
couples, with an income drawn for a single adult). The others look in the city, together with
the share ``households.leaving_home_partner_share`` of this year's young adults leaving home
(in the age range), who leave to move in with a partner. Those looking in the city are paired
man with woman: the larger group is cut at random to the size of the smaller, then both are
sorted by age and paired by rank (partners of similar age). The couple lives in the single
parent's dwelling, else in the larger of the two; a young adult leaving home moves in with the
partner (two leaving home together search a dwelling in the ``moving`` step). The other
household's members move in and its dwelling is given up (a move within the city). The
couple's net income is the sum of the two households' net incomes; the union starts this year
(``separation``). No official figure of the rate is in the data: it is fitted by ``quartier
calibrate`` to the share of one-person households.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit
from scipy.special import ndtri

from sim.inputs.synthesis import COUPLE_AGE_GAP_MEAN, COUPLE_AGE_GAP_SD
from sim.model.rng import keyed_base, keyed_uniforms, uniform_from
from sim.sorting import stable_order
from sim.state.city import NURSING
from sim.state.income import income_group, oecd_scale
from sim.state.population import Members

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.parameters import DemographyParameters

SLOT_LOOK, SLOT_ORDER, SLOT_OUTSIDE, SLOT_PARTNER_AGE, SLOT_PARTNER_INCOME = range(5)
SLOT_LEAVER_LOOK = 5  # of the partnership key: a young adult leaving home looks for a partner
SLOT_MOVE_OUT = 6  # of the partnership key: a couple across the boundary lives outside
SLOT_PARTNER_ID = 3  # of the ids key: 8 × year + 3, keyed to the person the partner joins


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
    men = men[stable_order(u_order[men])[:n]]
    women = women[stable_order(u_order[women])[:n]]
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
    """Pair people in the city (:func:`form_couples`) and bring partners from outside
    (:func:`outside_partners`); the joiners' moves count as moves within the city, the partners
    from outside as in-migrants."""
    lookers = _lookers(model, year, params, draws) if params.partnership_rate > 0 else None
    host, _, given_up, moved = form_couples(model, year, params, draws, lookers)
    if lookers is not None:
        lookers = _move_out_to_partners(model, year, draws, lookers)
    outside = outside_partners(model, year, params, draws, lookers)
    return {"partnerships": year.count(host),
            "moves_within_city": year.count(given_up, moved.astype(float)),
            "partners_from_outside": year.count(outside),
            "in_migrants": year.count(outside)}


NO_LOOK, LEAVING, ALONE, SINGLE_PARENT = 0, 1, 2, 3  # household kinds of those looking


@njit(cache=True)
def looking_households(household, is_child, age, alive, household_alive, dwelling, tenure,
                       floor_space, min_age, max_age):
    """Who may look for a partner: living adults (not children) aged ``min_age`` to
    ``max_age`` (rows, ascending) in a household whose kind is living alone or single parent
    in a private dwelling, or leaving home (one member, no dwelling yet).

    Returns:
        ``(who, kind, floor, size, young)``: the persons; per household its kind
        (:data:`NO_LOOK`, :data:`LEAVING`, :data:`ALONE`, :data:`SINGLE_PARENT`), the floor
        space of its private dwelling (-1: none), living members and members under 14.
    """
    n = household_alive.size
    adults = np.zeros(n, np.int32)
    size = np.zeros(n, np.int32)
    young = np.zeros(n, np.int32)
    for i in range(household.size):  # branch-free
        h = household[i]
        a = np.int32(alive[i])
        size[h] += a
        young[h] += a & np.int32(age[i] < 14)
        adults[h] += a & np.int32(not is_child[i])
    kind = np.zeros(n, np.int8)
    floor = np.full(n, -1.0, np.float64)
    for h in range(n):
        if not household_alive[h]:
            continue
        d = dwelling[h]
        if d < 0:
            if size[h] == 1:
                kind[h] = LEAVING
        elif tenure[d] != NURSING:
            floor[h] = floor_space[d]
            if size[h] == 1:
                kind[h] = ALONE
            elif adults[h] == 1:
                kind[h] = SINGLE_PARENT
    who = np.empty(household.size, np.int64)
    k = 0
    for i in range(household.size):
        who[k] = i
        k += np.int64(alive[i] & (not is_child[i]) & (age[i] >= min_age) & (age[i] <= max_age)
                      & (kind[household[i]] != NO_LOOK))
    who = who[:k].copy()
    return who, kind, floor, size, young


@dataclass(frozen=True)
class Lookers:
    """Who looks for a partner this year, and their households before anyone pairs.

    Attributes:
        inside, outside: Persons looking in the city, and finding a partner from outside.
        priority: Per person looking in the city (as ``inside``), whether their household
            hosts the couple (single parent: 2, living alone: 1, leaving home: 0).
        floor: Per household, the floor space of its private dwelling (-1: none).
        size, young: Per household, living members and members under 14.
    """

    inside: np.ndarray
    outside: np.ndarray
    priority: np.ndarray
    floor: np.ndarray
    size: np.ndarray
    young: np.ndarray


def _lookers(model: QuartierModel, year: YearState, params: DemographyParameters,
             draws: Draws) -> Lookers:
    """Persons looking for a partner this year (see :class:`Lookers`)."""
    pop, city = model.population, model.city
    hp = model.scenario.parameters.households
    who, kind, floor, size, young = looking_households(
        pop.household, pop.is_child, pop.age, year.person_alive, year.household_alive,
        pop.dwelling, city.dwelling_tenure, city.dwelling_floor_space,
        int(params.partnership_min_age), int(params.partnership_max_age))
    inside, outside, priority = _who_looks(
        who, pop.household, kind, pop.pid, np.uint64(draws.key), year.year,
        float(params.partnership_rate), float(hp.single_parent_partnership_rate),
        float(hp.leaving_home_partner_share), float(hp.outside_partner_share))
    return Lookers(inside, outside, priority, floor, size, young)


@njit(cache=True)
def _who_looks(who, household, kind, pid, key, year, rate, single_parent_rate, leaver_share,
               outside_share):
    """Of the persons ``who`` may look: those looking in the city (ascending), their
    priority as host (single parent 2, living alone 1, leaving home 0) and those finding a
    partner from outside. Housed persons look by their household's rate (keyed slot
    SLOT_LOOK) and find the partner outside by SLOT_OUTSIDE; those leaving home look by
    SLOT_LEAVER_LOOK."""
    inside = np.empty(who.size, np.int64)
    outside = np.empty(who.size, np.int64)
    priority = np.empty(who.size, np.int8)
    k_in = k_out = 0
    for j in range(who.size):
        i = who[j]
        hk = kind[household[i]]
        base = keyed_base(key, year, pid[i])
        if hk == SINGLE_PARENT or hk == ALONE:
            r = single_parent_rate if hk == SINGLE_PARENT else rate
            if not uniform_from(base, SLOT_LOOK) < r:
                continue
            if uniform_from(base, SLOT_OUTSIDE) < outside_share:
                outside[k_out] = i
                k_out += 1
                continue
            priority[k_in] = 2 if hk == SINGLE_PARENT else 1
        else:
            if not uniform_from(base, SLOT_LEAVER_LOOK) < leaver_share:
                continue
            priority[k_in] = 0
        inside[k_in] = i
        k_in += 1
    return inside[:k_in].copy(), outside[:k_out].copy(), priority[:k_in].copy()


def form_couples(model: QuartierModel, year: YearState, params: DemographyParameters,
                 draws: Draws, lookers: Lookers | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pair those looking in the city: the joiner's household moves in with the host's and
    dissolves, the couple's net income is the sum of both, its move is a life event.

    Returns:
        ``(host, joiner, given_up, moved)`` as :func:`couples`, and the persons who moved
        with each joiner (the joiner included).
    """
    pop = model.population
    empty = np.zeros(0, np.int64)
    if params.partnership_rate <= 0.0:
        return empty, empty, empty, empty
    lookers = lookers or _lookers(model, year, params, draws)
    inside, priority, floor = lookers.inside, lookers.priority, lookers.floor
    u_order = keyed_uniforms(draws.key, year.year, pop.pid[inside], SLOT_ORDER)
    # hosting: a single parent's household first, then the larger dwelling
    rank = np.zeros(pop.n_households)
    hh_inside = pop.household[inside]
    rank[hh_inside] = priority * 1e6 + floor[hh_inside]
    # over those looking only (ascending rows, so the same pairs as over all persons)
    host, joiner, given_up = couples(pop.age[inside], pop.sex[inside], hh_inside,
                                     np.ones(inside.size, bool), 1.0, np.zeros(inside.size),
                                     u_order, rank)
    joiner = inside[joiner]
    if host.size == 0:
        return host, joiner, given_up, empty
    size, young = lookers.size, lookers.young
    net = (pop.income[host].astype(np.float64) * oecd_scale(size[host] - young[host],
                                                             young[host])
           + pop.income[given_up] * oecd_scale(size[given_up] - young[given_up],
                                               young[given_up]))
    total, total_young = size[host] + size[given_up], young[host] + young[given_up]
    pop.income[host] = (net / oecd_scale(total - total_young, total_young)).astype(
        pop.income.dtype)
    pop.migration_background[host] = np.maximum(pop.migration_background[host],
                                                pop.migration_background[given_up])
    target = np.full(pop.n_households, -1, np.int64)
    target[given_up] = host
    move_in(pop.household, year.person_alive, target)
    year.household_alive[given_up] = False
    year.life_event[host] = True
    pop.union_start[host] = year.year
    return host, joiner, given_up, size[given_up]


@njit(cache=True)
def move_in(household, alive, target):
    """Living persons of households with a ``target`` (>= 0) move into that household."""
    for i in range(household.size):
        t = target[household[i]]
        if t >= 0 and alive[i]:
            household[i] = t


def _move_out_to_partners(model: QuartierModel, year: YearState, draws: Draws,
                          lookers: Lookers) -> Lookers:
    """Of those who found a partner outside the city, the share
    ``households.outside_partner_moves_out_share`` (keyed to the person) leaves the city with
    its household to live with the partner (out-migrants, cause ``partner``). Returns the
    lookers without them."""
    share = model.scenario.parameters.households.outside_partner_moves_out_share
    outside = lookers.outside
    if share <= 0.0 or outside.size == 0:
        return lookers
    pop = model.population
    away = keyed_uniforms(draws.key, year.year, pop.pid[outside], SLOT_MOVE_OUT) < share
    rows = pop.household[outside[away]]
    year.household_alive[rows] = False
    year.add_leaving_households(
        "partner", rows, lookers.size[rows].astype(float),
        income_group(pop.income[rows], model.median_income) == 0, pop.migration_background[rows])
    return Lookers(lookers.inside, outside[~away], lookers.priority, lookers.floor,
                   lookers.size, lookers.young)


def outside_partners(model: QuartierModel, year: YearState, params: DemographyParameters,
                     draws: Draws, lookers: Lookers | None = None) -> np.ndarray:
    """Partners from outside move in with those looking outside; returns their households.

    The partner is of the opposite sex, older (a woman's partner) or younger (a man's) by the
    synthetic couples' age gap, and brings an income drawn for a single adult.
    """
    pop = model.population
    if (params.partnership_rate <= 0.0
            or model.scenario.parameters.households.outside_partner_share <= 0.0):
        return np.zeros(0, np.int64)
    lookers = lookers or _lookers(model, year, params, draws)
    outside = lookers.outside
    if outside.size == 0:
        return outside
    hh = pop.household[outside]
    size, young = lookers.size, lookers.young  # their households took no part in form_couples
    key, pid = draws.key, pop.pid[outside]
    gap = COUPLE_AGE_GAP_MEAN + COUPLE_AGE_GAP_SD * ndtri(
        keyed_uniforms(key, year.year, pid, SLOT_PARTNER_AGE))
    sign = np.where(pop.sex[outside] == 1, 1.0, -1.0)
    age = np.clip(np.rint(pop.age[outside] + sign * gap), 18,
                  model.scenario.parameters.demography.max_age - 1).astype(pop.age.dtype)
    own = model.draw_incomes(np.ones(outside.size), np.zeros(outside.size), z=ndtri(
        keyed_uniforms(key, year.year, pid, SLOT_PARTNER_INCOME)))
    net = pop.income[hh].astype(np.float64) * oecd_scale(size[hh] - young[hh], young[hh]) + own
    pop.income[hh] = (net / oecd_scale(size[hh] + 1 - young[hh], young[hh])).astype(
        pop.income.dtype)
    pop.add_persons(Members(age, (1 - pop.sex[outside]).astype(pop.sex.dtype),
                            hh.astype(pop.household.dtype), np.zeros(outside.size, bool)),
                    model.new_ids(pid, 8 * year.year + SLOT_PARTNER_ID))
    year.add_persons(outside.size)
    year.life_event[hh] = True
    pop.union_start[hh] = year.year
    return hh
