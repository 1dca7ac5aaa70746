"""The yearly care step: Pflegegrade, where care is given, and who leaves for lack of it.

Each year every person's Pflegegrad is set from age, sex and the fixed frailty number
(:func:`sim.model.care_need.assign_grades`); the grade and age give the setting the person
needs. Care at home with an ambulant service needs capacity within reach (2SFCA of the
services' clients over the persons in need, see :mod:`sim.model.services`): a person is served
while a fixed number ``z`` is below the cell's capacity per person in need. Who needs a nursing
home, or an ambulant service that is not within reach, moves into the nearest nursing home of
the city with a free place, else leaves the city (out-migration with cause ``care``); Tagespflege
places of a lever keep some who need a home at home (docs/care.md). A person living alone moves
with the household; otherwise the person founds a one-person household in the home, and the
household left behind has a life event.

Nursing-home places are dwellings of tenure ``NURSING`` (one per resident), off the housing
market; they are added when the model is built (:func:`add_nursing_places`) and when a home of
the ``nursing_homes`` lever opens, and at the start those who need a home live in one
(:func:`admit_initial_residents`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.model.care_need import (
    SLOT_PRIORITY,
    SLOT_SERVICE,
    SLOT_SEVERITY,
    CareTables,
    assign_grades,
    settings,
)
from sim.model.metrics import count
from sim.model.rng import keyed_base, keyed_uniforms, uniform_from
from sim.model.services import NURSING_HOME
from sim.sorting import stable_order
from sim.state.city import NURSING, in_nursing_home, quartier_index
from sim.state.income import income_group

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.service_parameters import CareParameters

SLOT_NURSING_ID = 6  # of the ids key: a person who founds a household in a nursing home
SLOT_CARE_ORDER = 7  # of the care key: the order in which persons take free places


@dataclass
class CareState:
    """What the care step keeps from year to year.

    Attributes:
        tables: Prevalence of care need and the setting shares by grade
            (:func:`sim.model.care_need.rate_tables`).
        unmet_by_cell: Persons whose ambulant care was not within reach last year, by cell
            (where the ambulant-care lever adds capacity).
        unmet: Persons with unmet ambulant care this year, by quartier (city last).
        unmet_inpatient: Persons needing a nursing home who found no place in the city this
            year, by quartier (city last).
        tagespflege: Persons kept at home by Tagespflege places of the lever this year, by
            quartier (city last).
        homes_opened: Indices of the ``nursing_homes`` lever's homes already opened.
    """

    tables: CareTables
    unmet_by_cell: np.ndarray
    unmet: np.ndarray
    unmet_inpatient: np.ndarray | None = None
    tagespflege: np.ndarray | None = None
    homes_opened: set | None = None


def add_nursing_places(model: QuartierModel) -> None:
    """One dwelling of tenure ``NURSING`` per place of every nursing home."""
    f, city = model.services.facilities, model.city
    homes = np.flatnonzero((f.kind == NURSING_HOME) & (f.opening_year == 0))
    _add_places(city, f.cell[homes], f.capacity[homes].astype(np.int64))


def open_lever_homes(model: QuartierModel, year: int) -> None:
    """Homes of the ``nursing_homes`` lever open in their opening year (first run year at the
    latest): a facility in the quartier's cell with the most residents, and its places."""
    state, city = model.care, model.city
    if state.homes_opened is None:
        state.homes_opened = set()
    for i, home in enumerate(model.scenario.levers.nursing_homes):
        if i in state.homes_opened or home.opening_year > year:
            continue
        state.homes_opened.add(i)
        q = quartier_index(city, home.quartier)
        cells = np.flatnonzero(city.cell_quartier == q)
        cell = int(cells[np.argmax(city.cell_weight[cells])])
        model.services.facilities.add(NURSING_HOME, np.array([cell]), float(home.places),
                                      year, home.name or "Pflegeheim (Hebel)")
        _add_places(city, np.array([cell]), np.array([home.places], np.int64))


def _add_places(city, cells: np.ndarray, places: np.ndarray) -> None:
    """One dwelling of tenure ``NURSING`` per place."""
    n = int(places.sum())
    city.add_dwellings(
        dwelling_cell=np.repeat(cells, places),
        dwelling_floor_space=np.zeros(n), dwelling_tenure=np.full(n, NURSING),
        dwelling_binding_end=np.zeros(n), dwelling_rent_m2=np.zeros(n))


def admit_initial_residents(model: QuartierModel) -> None:
    """At the start, the care step's rules place people: who needs a nursing home, or needs an
    ambulant service that is not within reach, lives in a home (those who need a home first;
    those for whom no place is free stay at home). Dwellings emptied this way were never
    private dwellings: they are removed, so that the start's vacancy rate holds."""
    pop, city = model.population, model.city
    alive_p = np.ones(pop.n_persons, bool)
    alive_h = np.ones(pop.n_households, bool)
    key = model.keys["care"]
    start = model.scenario.start_year - 1
    pop.pflegegrad = assign_grades(pop.age, pop.sex, pop.pid, alive_p, key, model.care.tables)
    inpatient, ambulant, z = settings(pop.age, pop.sex, pop.pid, pop.pflegegrad, key,
                                      model.care.tables)
    may = _may_move_to_home(model, alive_p, alive_h)
    adult_home = ~pop.is_child & (pop.dwelling[pop.household] >= 0)
    cell = city.dwelling_cell[np.maximum(pop.dwelling, 0)[pop.household]].astype(np.int64)
    model.services.update_ambulant(start, np.bincount(
        cell[ambulant & adult_home], minlength=city.n_cells).astype(float))
    unserved = ambulant & (z >= model.services.ambulant_access[cell])
    movers = np.concatenate([np.flatnonzero(inpatient & may),
                             np.flatnonzero(unserved & ~inpatient & may)])
    old_dwelling = pop.dwelling.copy()
    to_nursing_home(model, movers, model.scenario.start_year - 1, alive_h, None)
    freed = _freed_dwellings(old_dwelling, pop.dwelling, city.n_dwellings)
    freed = freed[city.dwelling_tenure[freed] != NURSING]
    if freed.size:
        keep = np.ones(city.n_dwellings, bool)
        keep[freed] = False
        new_index = np.cumsum(keep) - 1
        pop.dwelling = new_index[pop.dwelling].astype(pop.dwelling.dtype)
        for name in city.DWELLING_COLUMNS:
            setattr(city, name, getattr(city, name)[keep])
    # Ambulant access at the start, for the start's care settings.
    at_home = ~in_nursing_home(pop.dwelling, city)[pop.household] & ~pop.is_child
    _, ambulant, _ = settings(pop.age, pop.sex, pop.pid, pop.pflegegrad, key, model.care.tables)
    cell = city.dwelling_cell[pop.dwelling[pop.household]].astype(np.int64)
    model.services.update_ambulant(model.scenario.start_year - 1, np.bincount(
        cell[ambulant & at_home], minlength=city.n_cells).astype(float))


def _freed_dwellings(old: np.ndarray, new: np.ndarray, n_dwellings: int) -> np.ndarray:
    """Sorted distinct dwellings of ``old`` not among ``new``'s (as ``np.setdiff1d(old,
    new[new >= 0])``, by a mark per dwelling instead of sorting)."""
    taken = np.zeros(n_dwellings, bool)
    taken[new[new >= 0]] = True
    was = np.zeros(n_dwellings, bool)
    was[old[old >= 0]] = True
    freed = np.flatnonzero(was & ~taken)
    negative = old[old < 0]
    if negative.size:  # no dwelling (never taken by ``new[new >= 0]``)
        freed = np.concatenate([np.unique(negative), freed])
    return freed.astype(old.dtype, copy=False)


def step(model: QuartierModel, year: YearState, params: CareParameters,
         draws: Draws) -> None:
    """Who needs care, who gets it at home, who moves into a home or leaves (cause ``care``)."""
    pop, city = model.population, model.city
    n_q = city.n_quartiers
    sv = model.services
    person_alive, household_alive = year.person_alive, year.household_alive
    tables = model.care.tables
    open_lever_homes(model, year.year)
    pop.pflegegrad = assign_grades(pop.age, pop.sex, pop.pid, person_alive, np.uint64(draws.key),
                                   tables, pop.household, household_alive)
    size, adults, kids, amb_by_cell, cand, cand_inpatient, cand_z, cand_d = care_pass(
        pop.household, pop.pflegegrad, pop.age, pop.sex, pop.pid, pop.is_child, person_alive,
        household_alive, pop.dwelling, city.dwelling_tenure, city.dwelling_cell,
        np.uint64(draws.key), tables.inpatient, tables.ambulant, city.n_cells)
    sv.add_ambulant_lever(year.year, model.care.unmet_by_cell)
    sv.update_ambulant(year.year, amb_by_cell)
    cand_h = pop.household[cand]
    cand_cell = city.dwelling_cell[cand_d].astype(np.int64)
    cand_q = city.dwelling_quartier[cand_d]
    ambulant = ~cand_inpatient
    served = ambulant & (cand_z < sv.ambulant_access[cand_cell])
    unserved = ambulant & ~served
    model.care.unmet_by_cell = np.bincount(cand_cell[unserved], minlength=city.n_cells)
    model.care.unmet = count(cand_q[unserved], n_q)
    # Who moves to a home: not the last adult of a household with children, nor who
    # Tagespflege keeps at home.
    may = (kids[cand_h] == 0) | (adults[cand_h] > 1)
    day = tagespflege_kept(model, year.year, cand_inpatient & may,
                           pop.pflegegrad[cand], cand_q, cand_z)
    model.care.tagespflege = count(cand_q[day], n_q)
    moving = np.flatnonzero((cand_inpatient | unserved) & may & ~day)  # among the candidates
    order = stable_order(keyed_uniforms(draws.key, year.year, pop.pid[cand[moving]],
                                          SLOT_CARE_ORDER))
    moving = moving[order]
    movers = cand[moving]
    mover_h = cand_h[moving]
    mover_q = cand_q[moving]
    mover_inpatient = cand_inpatient[moving]
    placed, new_rows = to_nursing_home(model, movers, year.year, household_alive,
                                       person_alive, size.copy())
    leave = movers[~placed]
    leave_h = mover_h[~placed]
    model.care.unmet_inpatient = count(mover_q[~placed & mover_inpatient], n_q)
    # every member left (moved to a home or leaving): the household leaves
    whole = (size[leave_h] - _occurrences(mover_h[placed], leave_h)
             == _occurrences(leave_h, leave_h))
    household_alive[leave_h[whole]] = False
    person_alive[leave[~whole]] = False
    q_leave = mover_q[~placed]
    poor = income_group(pop.income[leave_h], model.median_income) == 0
    year.add_out_migrants("care", count(q_leave, n_q), {
        "out_migrants_poor": count(q_leave, n_q, poor.astype(float)),
        "out_migrants_migration_background": count(
            q_leave, n_q, pop.migration_background[leave_h].astype(float)),
        "out_migrants_65plus": count(q_leave, n_q, (pop.age[leave] >= 65).astype(float)),
    })
    # After the masks above: registering the new households replaces the year's arrays.
    year.add_households(city.dwelling_quartier[pop.dwelling[new_rows]] if new_rows.size
                        else np.zeros(0, np.int64))
    year.life_event[mover_h[placed & (pop.household[movers] != mover_h)]] = True


def _occurrences(values: np.ndarray, of: np.ndarray) -> np.ndarray:
    """How often each element of ``of`` occurs in ``values``."""
    values = np.sort(values)
    return (np.searchsorted(values, of, side="right")
            - np.searchsorted(values, of, side="left"))


def tagespflege_kept(model: QuartierModel, year: int, wants_home: np.ndarray,
                     grade: np.ndarray, quartier: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Candidates kept at home by the lever's Tagespflege places: per quartier, of those who
    need a nursing home with a grade up to ``tagespflege_max_grade``, the first (by ``z``)
    places × users per place × share who would otherwise need a home."""
    kept = np.zeros(wants_home.size, bool)
    levers = model.scenario.levers.tagespflege
    if not levers:
        return kept
    cg = model.scenario.parameters.care_grades
    n_q = model.city.n_quartiers
    places = np.zeros(n_q)
    for item in levers:
        if item.opening_year <= year:
            places[quartier_index(model.city, item.quartier)] += item.places
    slots = np.floor(places * cg.tagespflege_users_per_place * cg.tagespflege_home_share)
    eligible = np.flatnonzero(wants_home & (grade <= cg.tagespflege_max_grade)
                              & (slots[quartier] > 0))
    eligible = eligible[np.lexsort((z[eligible], quartier[eligible]))]
    q = quartier[eligible]
    first = np.searchsorted(q, q)  # rank within the quartier
    rank = np.arange(eligible.size) - first
    kept[eligible[rank < slots[q]]] = True
    return kept


def _may_move_to_home(model: QuartierModel, person_alive: np.ndarray,
                      household_alive: np.ndarray) -> np.ndarray:
    """Adults of living, housed households not yet in a home; not the last adult of a
    household with children."""
    pop = model.population
    n = pop.n_households
    alive = person_alive & household_alive[pop.household]
    by_kind = np.bincount(pop.household[alive].astype(np.int64) * 2 + pop.is_child[alive],
                          minlength=2 * n).reshape(n, 2)
    adults = by_kind[:, 0]
    with_children = by_kind[:, 1] > 0
    ok_h = household_alive & (pop.dwelling >= 0) & ~in_nursing_home(pop.dwelling, model.city)
    ok_h &= ~with_children | (adults > 1)
    return alive & ~pop.is_child & ok_h[pop.household]


def to_nursing_home(model: QuartierModel, movers: np.ndarray, year: int,
                    household_alive: np.ndarray, person_alive: np.ndarray | None,
                    size: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Move persons (rows, in order) into free places of the nearest home with one.

    A person alone takes the place with the household; else the person founds a new
    one-person household there. Returns (placed mask over ``movers``, new household rows).
    """
    pop, city = model.population, model.city
    placed = np.zeros(movers.size, bool)
    if movers.size == 0:
        return placed, np.zeros(0, np.int64)
    nursing_d = np.flatnonzero(city.dwelling_tenure == NURSING)
    taken = np.zeros(city.n_dwellings, bool)
    live = household_alive & (pop.dwelling >= 0)
    taken[pop.dwelling[live]] = True
    free = nursing_d[~taken[nursing_d]]
    if free.size == 0:
        return placed, np.zeros(0, np.int64)
    # Free places grouped by home (sorted by cell, then dwelling).
    free = free[np.lexsort((free, city.dwelling_cell[free]))]
    home_cells, first, counts = np.unique(city.dwelling_cell[free], return_index=True,
                                          return_counts=True)
    if size is None:  # living members per household
        alive = np.ones(pop.n_persons, bool) if person_alive is None else person_alive
        size = np.bincount(pop.household[alive & household_alive[pop.household]],
                           minlength=pop.n_households)
    mover_cell = city.dwelling_cell[pop.dwelling[pop.household[movers]]].astype(np.int64)
    home = _nearest_free_home(mover_cell, (home_cells % city.width).astype(np.float64),
                              (home_cells // city.width).astype(np.float64),
                              float(city.width), counts.astype(np.int64))
    placed = home >= 0
    # The k-th person sent to a home takes its k-th free place.
    rank = np.zeros(movers.size, np.int64)
    for j in np.unique(home[placed]):
        sel = np.flatnonzero(home == j)
        rank[sel] = np.arange(sel.size)
    place = np.where(placed, free[first[np.maximum(home, 0)] + rank], -1)
    h = pop.household[movers]
    whole, founds = _whole_or_new(placed, h, size)
    pop.dwelling[h[whole]] = place[whole]
    pop.moved_in[h[whole]] = year
    new_rows = np.zeros(0, np.int64)
    if founds.any():
        parents = movers[founds].astype(np.int64)
        hh = pop.household[parents]
        new_rows = pop.add_households(
            place[founds], pop.income[hh].copy(), pop.migration_background[hh],
            moved_in=year, hid=model.new_ids(pop.pid[parents], SLOT_NURSING_ID))
        pop.household[parents] = new_rows
    return placed, new_rows


@njit(cache=True)
def _whole_or_new(placed, household, size):
    """Per placed mover, in order (a household may send two persons): the whole household
    moves (last living member), or the person founds a new household; ``size`` is reduced."""
    whole = np.zeros(placed.size, np.bool_)
    founds = np.zeros(placed.size, np.bool_)
    for i in range(placed.size):
        if placed[i]:
            h = household[i]
            if size[h] == 1:
                whole[i] = True
            else:
                size[h] -= 1
                founds[i] = True
    return whole, founds


@njit(cache=True)
def _nearest_free_home(mover_cell, hx, hy, width, free):
    """Home (index) of each mover in order: the nearest with a free place left, or -1."""
    out = np.full(mover_cell.size, -1, np.int64)
    left = free.copy()
    for i in range(mover_cell.size):
        cx = mover_cell[i] % width
        cy = mover_cell[i] // width
        best = -1
        best_d = 1e300
        for j in range(hx.size):
            if left[j] > 0:
                d = (hx[j] - cx) ** 2 + (hy[j] - cy) ** 2
                if d < best_d:
                    best_d = d
                    best = j
        if best >= 0:
            out[i] = best
            left[best] -= 1
    return out


@njit(cache=True)
def _grow(a, n):
    out = np.empty(n, a.dtype)
    for i in range(a.size):  # a loop, not a slice: a slice compiles numba's error formatting
        out[i] = a[i]
    return out


@njit(cache=True)
def care_pass(household, grade, age, sex, pid, is_child, person_alive, household_alive,
              dwelling, tenure, dwelling_cell, key, inpatient, ambulant, n_cells):
    """One pass over the persons for the yearly care step.

    Returns per household the living members, adults and children; per cell the persons at
    home who need an ambulant service; and the candidates for professional care at home or in
    a nursing home (persons at home, in a private dwelling, who need a home, or an ambulant
    service), with whether they need a home, their service priority ``z`` and their
    household's dwelling."""
    n_h = household_alive.size
    size = np.zeros(n_h, np.int64)
    adults = np.zeros(n_h, np.int64)
    kids = np.zeros(n_h, np.int64)
    amb_by_cell = np.zeros(n_cells)
    cap = 1024
    cand = np.empty(cap, np.int64)
    cand_inp = np.empty(cap, np.bool_)
    cand_z = np.empty(cap)
    cand_d = np.empty(cap, np.int64)
    n_c = 0
    top = inpatient.shape[1] - 1
    for i in range(household.size):
        h = household[i]
        if not (person_alive[i] and household_alive[h]):
            continue
        size[h] += 1
        if is_child[i]:
            kids[h] += 1
            continue
        adults[h] += 1
        g = grade[i]
        if g == 0:
            continue
        d = dwelling[h]
        if d < 0 or tenure[d] == NURSING:
            continue
        a = min(age[i], top)
        s = sex[i]
        base = keyed_base(key, 0, pid[i])
        inp = uniform_from(base, SLOT_SEVERITY) < inpatient[s, a, g]
        if not inp and uniform_from(base, SLOT_SERVICE) >= ambulant[s, a, g]:
            continue  # cared for by relatives
        if not inp:
            amb_by_cell[dwelling_cell[d]] += 1
        if n_c == cap:  # grow (candidates are a few per cent of the persons)
            cap *= 2
            cand = _grow(cand, cap)
            cand_inp = _grow(cand_inp, cap)
            cand_z = _grow(cand_z, cap)
            cand_d = _grow(cand_d, cap)
        cand[n_c] = i
        cand_inp[n_c] = inp
        cand_z[n_c] = uniform_from(base, SLOT_PRIORITY)
        cand_d[n_c] = d
        n_c += 1
    return (size, adults, kids, amb_by_cell, cand[:n_c], cand_inp[:n_c], cand_z[:n_c],
            cand_d[:n_c])
