"""Kitas: day-care places for children under 3 and aged 3 to under 6, who wants one, who gets
one; and the education outcomes of children from poor households.

**Places.** Where the city file gives Kitas (Essen), each given Kita is a facility at its
location with the file's places, or, without places in the file, the NRW average per Kita
(``places_per_kita_*``, times the city's scale); a Kita taking children only from 3 (or only
under 3) has no places of the other group. Otherwise (Ruhrstadt) Kitas are synthesised
once, in the start state: each quartier gets the places its children would use at NRW's take-up
rates of the two age groups (the Betreuungsquote under 3 and 3 to under 6; places are planned
per age group, so the under-3 places do not follow the start population's mix of ages 0, 1
and 2 within the group), in Kitas of the NRW average size, placed in cells drawn in
proportion to residents with the city's layout seed. ``levers.kitas`` adds Kitas with an
opening year. Tagespflege places count as Kita places (the Betreuungsquote includes them).

**Demand.** Each child has a fixed keyed number; it wants a place at age ``a`` when that number
is below take-up(a) × the wish factor (the wish exceeds the use; ASSUMPTION). Since take-up
grows with age, a child who wants a place keeps wanting one as it grows older.

**Assignment.** Every year, children who want a place take, one at a time in a fixed keyed
priority order, the nearest Kita (airline) with a free place of their age group among the
``NEAREST`` nearest, within ``max_distance_m``; otherwise they have none.

**Families.** A family's share of children who want a place and have none, × ``kita_weight``,
adds to its dissatisfaction with schools (the ``school`` part and cause: education). In the
choice, families lose ``utility_school × kita_weight`` per unit of a quartier's shortfall of
places above the city's.

**Outcomes** (measured at the start of the move season, like the access outcomes): coverage
under 3 and 3-6, unmet demand, places, coverage of children from poor households; and the share
of poor pupils in disadvantaged schools (high Sozialindex where the school file gives it, else a
share of poor pupils ``disadvantaged_poor_share_factor`` times the city's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit
from scipy.spatial import cKDTree

from sim.model.metrics import count, ratio, with_city
from sim.model.rng import keyed_uniform, make_streams
from sim.model.services import (
    KIND_NAMES,
    KITA_3TO6,
    KITA_UNDER3,
    PRIMARY,
    SECONDARY,
    _spread,
    draw_cells,
    expected_residents,
)
from sim.model.threads import chunks, parallel_for, per_chunk
from sim.sorting import stable_order
from sim.state.city import quartier_index

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.kita_parameters import KitaParameters

NEAREST = 24
SLOT_WISH, SLOT_PRIORITY = 1, 2  # the fixed keyed numbers of a child (year 0)
GROUPS = ((KITA_UNDER3, 0, 3), (KITA_3TO6, 3, 6))  # kind, ages from, to (exclusive)

METRICS = ("kita_coverage_under3", "kita_coverage_3to6", "kita_unmet_demand",
           "kita_places_under3", "kita_places_3to6", "kita_coverage_poor",
           "kita_coverage_not_poor", "poor_pupils_disadvantaged_school_share")


@dataclass
class KitaState:
    """The Kitas' origin (``"file"`` or ``"synthesised"``), each facility row's school
    Sozialindex (NaN where none), and the nearest-Kita tables by the open Kitas' cells."""

    origin: str
    sozialindex: np.ndarray
    nearest: dict


def nearest_kitas(state: KitaState, x: np.ndarray, y: np.ndarray, kita_cells: np.ndarray,
                  cells: np.ndarray) -> np.ndarray:
    """Per cell the ``NEAREST`` nearest of the Kitas at ``kita_cells`` (rows into it), nearest
    first, as :func:`~sim.model.processes.schools.nearest_schools` gives them; only the rows
    of ``cells`` are sure to be filled (each cell's row is found once, when first needed)."""
    key = kita_cells.tobytes()
    entry = state.nearest.get(key)
    k = min(NEAREST, kita_cells.size)
    if entry is None:
        entry = state.nearest[key] = (np.zeros((x.size, k), np.int32),
                                      np.zeros(x.size, np.bool_),
                                      cKDTree(np.c_[x, y][kita_cells]))
    table, done, tree = entry
    need = cells[~done[cells]]
    if need.size:
        need = np.unique(need)
        _, idx = tree.query(np.c_[x[need], y[need]], k=k)
        table[need] = np.asarray(idx, np.int32).reshape(need.size, k)
        done[need] = True
    return table


def take_up(age: np.ndarray, kp: KitaParameters) -> np.ndarray:
    """The Betreuungsquote by single age (0 for ages 6+)."""
    u3 = np.asarray(kp.take_up_by_age_under3)
    return np.where(age < 3, u3[np.clip(age, 0, 2)], np.where(age < 6, kp.take_up_3to6, 0.0))


def group_take_up(age: np.ndarray, kp: KitaParameters) -> np.ndarray:
    """The Betreuungsquote of each child's age group: under 3 the mean of the single ages'
    (NRW's rate of the group, their cohorts being of about equal size), 3 to under 6
    ``take_up_3to6``; 0 for ages 6+."""
    u3 = float(np.mean(kp.take_up_by_age_under3))
    return np.where(age < 3, u3, np.where(age < 6, kp.take_up_3to6, 0.0))


def wish_rate(age: np.ndarray, kp: KitaParameters) -> np.ndarray:
    """Share of children of each age whose parents want a place."""
    factor = np.where(age < 3, kp.wish_factor_under3, kp.wish_factor_3to6)
    return np.minimum(take_up(age, kp) * factor, 1.0)


def setup(model: QuartierModel, kp: KitaParameters, children: np.ndarray) -> KitaState:
    """Place the Kitas (file or synthesised, then the lever's) and read the schools'
    Sozialindex; ``children`` are the rows of the start state's children under 6."""
    city, sv = model.city, model.services
    f = sv.facilities
    real = city.real.facilities if city.real is not None else None
    given = real is not None and (real["kind"] == "kita").any()
    if given:
        points = real[real["kind"] == "kita"]
        scale = getattr(city.real, "scale", 1.0)
        total = points["capacity"].to_numpy(float)
        share_u3 = kp.places_per_kita_under3 / (kp.places_per_kita_under3
                                                + kp.places_per_kita_3to6)
        u3 = np.where(np.isnan(total), kp.places_per_kita_under3 * scale, total * share_u3)
        o3 = np.where(np.isnan(total), kp.places_per_kita_3to6 * scale,
                      total * (1.0 - share_u3))
        if "from_age" in points:  # the ages a Kita takes, where the file gives them
            u3 = np.where(points["from_age"].to_numpy(float) >= 3, 0.0, u3)
            o3 = np.where(points["to_age"].to_numpy(float) <= 3, 0.0, o3)
        # Whole places, the total kept (a scaled-down city has fractions of a Kita's places).
        u3, o3 = _spread(u3.sum(), u3), _spread(o3.sum(), o3)
        for cell, a, b, label in zip(points["cell"], u3, o3, points["name"], strict=True):
            f.add(KITA_UNDER3, int(cell), a, 0, str(label))
            f.add(KITA_3TO6, int(cell), b, 0, str(label))
    else:
        pop = model.population
        age = pop.age[children]
        q = city.dwelling_quartier[pop.dwelling[pop.household[children]]].astype(np.int64)
        rate = group_take_up(age, kp)
        n_q = city.n_quartiers
        u3_q = np.bincount(q, weights=rate * (age < 3), minlength=n_q)
        o3_q = np.bincount(q, weights=rate * (age >= 3), minlength=n_q)
        per_kita = kp.places_per_kita_under3 + kp.places_per_kita_3to6
        rng = make_streams(model.scenario.city.layout_seed, ("kita",))["kita"]
        weight = expected_residents(city)
        cq = city.cell_quartier.astype(np.int64)
        for k in range(n_q):
            n_kitas = max(1, int(round((u3_q[k] + o3_q[k]) / per_kita)))
            cells = draw_cells(rng, np.where(cq == k, weight + 1e-12, 0.0), n_kitas)
            f.add(KITA_UNDER3, cells, _spread(u3_q[k], np.ones(cells.size)), 0, "Kita")
            f.add(KITA_3TO6, cells, _spread(o3_q[k], np.ones(cells.size)), 0, "Kita")
    for lever in model.scenario.levers.kitas:
        k = quartier_index(city, lever.quartier)
        cells = np.flatnonzero(city.cell_quartier == k)
        c = int(cells[np.argmax(city.cell_weight[cells])])
        name = lever.name or "Kita (Hebel)"
        f.add(KITA_UNDER3, c, float(lever.places_under3), lever.opening_year, name)
        f.add(KITA_3TO6, c, float(lever.places_3to6), lever.opening_year, name)
    return KitaState("file" if given else "synthesised", school_sozialindex(model), {})


def school_sozialindex(model: QuartierModel) -> np.ndarray:
    """Each facility row's Sozialindex: the given schools' (in the file's order), else NaN."""
    f, city = model.services.facilities, model.city
    out = np.full(f.kind.size, np.nan)
    if city.real is None or "sozialindex" not in city.real.facilities:
        return out
    points = city.real.facilities
    for kind in (PRIMARY, SECONDARY):
        given = points[points["kind"] == KIND_NAMES[kind]]
        rows = np.flatnonzero(f.kind == kind)
        if len(given) and len(given) <= rows.size:
            out[rows[:len(given)]] = given["sozialindex"].to_numpy(float)
    return out


@njit(cache=True)
def _assign(order, child_cell, nearest, capacity, x, y, kita_cells, max_d2, result):
    taken = np.zeros(capacity.size)
    for i in order:
        c = child_cell[i]
        for j in range(nearest.shape[1]):
            k = nearest[c, j]
            dx = x[kita_cells[k]] - x[c]
            dy = y[kita_cells[k]] - y[c]
            if dx * dx + dy * dy > max_d2:
                break
            if taken[k] + 1.0 <= capacity[k]:
                taken[k] += 1.0
                result[i] = k
                break


def assign(order: np.ndarray, child_cell: np.ndarray, nearest: np.ndarray,
           capacity: np.ndarray, x: np.ndarray, y: np.ndarray, kita_cells: np.ndarray,
           max_distance_m: float) -> np.ndarray:
    """The Kita (row into ``kita_cells``) of each child, -1 for none: in ``order``, the nearest
    of the ``nearest`` Kitas of its cell with a free place within ``max_distance_m``."""
    result = np.full(child_cell.size, -1, np.int64)
    if child_cell.size and capacity.size:
        _assign(order.astype(np.int64), child_cell.astype(np.int64), nearest,
                capacity.astype(np.float64), x, y, kita_cells.astype(np.int64),
                float(max_distance_m) ** 2, result)
    return result


def step(model: QuartierModel, year: YearState, params: KitaParameters, draws: Draws) -> None:
    """Assign this year's children to Kita places; add the outcomes to ``year.access``, the
    families' shortfall to their school dissatisfaction and the cells' shortfall for the
    choice (``situation["kita_shortfall_cell"]``)."""
    pop, city, sv = model.population, model.city, model.services
    f, s, kp = sv.facilities, year.situation, params
    children = children_rows(s["alive_p"], pop.age, pop.household, s["housed"], s["nursing"])
    state = getattr(model, "kitas", None)
    if state is None:
        state = model.kitas = setup(model, kp, children)
    n = children.size
    age, hh, cell, q = (np.empty(n, np.int64), np.empty(n, pop.household.dtype),
                        np.empty(n, np.int64), np.empty(n, np.int64))
    wish, poor, priority = np.empty(n, np.bool_), np.empty(n, np.bool_), np.empty(n)
    parallel_for(_child_draws, n, children, pop.age, pop.household, pop.pid, s["cell"],
                 year.household_quartier, s["group"], draws.key,
                 wish_rate(np.arange(6), kp).astype(np.float64), age, hh, cell, q, wish, poor,
                 priority)
    placed = np.zeros(children.size, np.bool_)
    n_q = city.n_quartiers
    places, used = {}, set()
    for kind, lo, hi in GROUPS:
        rows = f.open(kind, year.year)
        rows = rows[f.capacity[rows] > 0]
        places[kind] = count(city.cell_quartier[f.cell[rows]].astype(np.int64), n_q,
                             f.capacity[rows])
        sel = np.flatnonzero(wish & (age >= lo) & (age < hi))
        if not rows.size or not sel.size:
            continue
        nearest = nearest_kitas(state, sv.x, sv.y, f.cell[rows], cell[sel])
        used.add(f.cell[rows].tobytes())
        order = stable_order(priority[sel])
        got = assign(order, cell[sel], nearest, f.capacity[rows], sv.x, sv.y,
                     f.cell[rows], kp.max_distance_m)
        placed[sel] = got >= 0
    for stale in [k for k in state.nearest if k not in used]:
        del state.nearest[stale]  # tables of Kitas since opened or closed
    t = _tallies(q, age < 3, wish, placed, poor, n_q)
    year.access.update({
        "kita_coverage_under3": ratio(t[:, 1], t[:, 0]),
        "kita_coverage_3to6": ratio(t[:, 3], t[:, 2]),
        "kita_unmet_demand": t[:, 5] - t[:, 6],
        "kita_places_under3": places[KITA_UNDER3],
        "kita_places_3to6": places[KITA_3TO6],
        "kita_coverage_poor": ratio(t[:, 8], t[:, 7]),
        "kita_coverage_not_poor": ratio(t[:, 1] + t[:, 3] - t[:, 8],
                                        t[:, 0] + t[:, 2] - t[:, 7]),
        "poor_pupils_disadvantaged_school_share": disadvantaged_school_share(
            model, year, state, kp),
    })
    # Families: their share of children wanting a place and without one.
    s["school"] = _add_shortfall(s["school"], hh, wish, placed, kp.kita_weight)
    # The choice: each quartier's shortfall of places above the city's.
    short = np.divide(t[:, 5] - t[:, 6], t[:, 5], out=np.zeros(n_q + 1), where=t[:, 5] > 0)
    rel = np.clip((short[:-1] - short[-1]) / max(1.0 - short[-1], 1e-9), 0.0, 1.0)
    cq = city.cell_quartier.astype(np.int64)
    s["kita_shortfall_cell"] = np.where(cq >= 0, kp.kita_weight * rel[np.maximum(cq, 0)], 0.0)


@njit(cache=True)
def _tallies(q, under3, wish, placed, poor, n_q):
    """Per quartier (the city last): children under 3 and placed, aged 3-5 and placed, wanting
    a place and placed, poor and poor placed (columns 0-8; column 4 unused)."""
    t = np.zeros((n_q + 1, 9))
    for i in range(q.size):
        for r in (q[i], n_q):
            g = 0 if under3[i] else 2
            t[r, g] += 1.0
            if placed[i]:
                t[r, g + 1] += 1.0
                t[r, 6] += 1.0
            if wish[i]:
                t[r, 5] += 1.0
            if poor[i]:
                t[r, 7] += 1.0
                if placed[i]:
                    t[r, 8] += 1.0
    return t


@njit(cache=True)
def _add_shortfall(school, hh, wish, placed, weight):
    """``school`` (per household) plus ``weight`` × each household's share of its children
    wanting a place who have none."""
    out = school.copy()
    wants = np.zeros(school.size)
    lacks = np.zeros(school.size)
    for i in range(hh.size):
        if wish[i]:
            wants[hh[i]] += 1.0
            if not placed[i]:
                lacks[hh[i]] += 1.0
    for i in range(hh.size):
        h = hh[i]
        if wants[h] > 0:
            out[h] = school[h] + weight * lacks[h] / wants[h]
            wants[h] = 0.0  # once per household
    return out


def disadvantaged_school_share(model: QuartierModel, year: YearState, state: KitaState,
                               kp: KitaParameters) -> np.ndarray:
    """Share of pupils from poor households (primary and secondary) attending a disadvantaged
    school, by the quartier they live in, and for the city."""
    pop, s = model.population, year.situation
    n_q = model.city.n_quartiers
    num, den = np.zeros(n_q), np.zeros(n_q)
    for kind, pupils in zip((PRIMARY, SECONDARY), s["pupils"], strict=True):
        sch = s["schools"][kind]
        total, poor = sch["pupils"], sch["poor"]
        city_share = poor.sum() / max(total.sum(), 1.0)
        share = np.divide(poor, total, out=np.zeros(poor.shape), where=total > 0)
        index = state.sozialindex[sch["rows"]]
        bad = np.where(np.isnan(index),
                       (total > 0) & (share >= kp.disadvantaged_poor_share_factor * city_share),
                       index >= kp.high_sozialindex)
        _poor_pupils(pupils, sch["school"], bad, pop.household, s["group"],
                     year.household_quartier, num, den)
    return ratio(with_city(num), with_city(den))


@njit(cache=True)
def _poor_pupils(pupils, school, bad, household, group, hq, num, den):
    """Add to ``num`` and ``den`` (per quartier) the poor ``pupils`` (rows, each at ``school``)
    in a ``bad`` school and all poor pupils."""
    for i in range(pupils.size):
        h = household[pupils[i]]
        if group[h] == 0:
            k = hq[h]
            den[k] += 1.0
            num[k] += bad[school[i]]


def children_rows(alive: np.ndarray, age: np.ndarray, household: np.ndarray,
                  housed: np.ndarray, nursing: np.ndarray) -> np.ndarray:
    """Rows of the living children under 6 of housed private households, in row order."""
    m = household.size
    ranges = chunks(m)
    out = np.empty(m, np.int64)
    found = np.zeros(len(ranges), np.int64)
    per_chunk(_children, ranges, alive, age, household, housed, nursing, out, found)
    return np.concatenate([out[lo:lo + found[j]] for j, (lo, _) in enumerate(ranges)])


@njit(cache=True, nogil=True)
def _children(k, lo, hi, alive, age, household, housed, nursing, out, found):
    """This chunk's children, written from ``lo`` on; their number in ``found``."""
    n = lo
    for i in range(lo, hi):
        if age[i] < 6 and alive[i]:
            h = household[i]
            if housed[h] and not nursing[h]:
                out[n] = i
                n += 1
    found[k] = n - lo


@njit(cache=True, nogil=True)
def _child_draws(lo, hi, children, age_p, household, pid, cell_h, quartier_h, group_h, key,
                 wish_by_age, age, hh, cell, q, wish, poor, priority):
    """Per child: age, household, its cell and quartier, whether its parents want a place
    (its fixed keyed number below the wish rate of its age), poor, and its priority."""
    for j in range(lo, hi):
        i = children[j]
        h = household[i]
        a = np.int64(age_p[i])
        age[j] = a
        hh[j] = h
        cell[j] = cell_h[h]
        q[j] = quartier_h[h]
        poor[j] = group_h[h] == 0
        wish[j] = keyed_uniform(key, 0, pid[i], SLOT_WISH) < wish_by_age[a]
        priority[j] = keyed_uniform(key, 0, pid[i], SLOT_PRIORITY)
