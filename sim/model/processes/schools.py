"""Schools: pupils assigned by catchment and capacity; the schools' social composition.

Each year every child of school age attends a school of its level (Grundschule: ages 6-9,
secondary: 10-18 by default): children take, one at a time in a keyed random order, the
nearest school (airline) among the ``K`` nearest with a free place, else the nearest school
with a free place anywhere, else the nearest school (over capacity). Composition is the share
of pupils from households at risk of poverty. A school's **relative disadvantage**, as
families perceive it, is ``(poor share − city share) / (1 − city share)`` clipped to [0, 1],
less the quality added by school investment (``levers.school_investment``); its
``extra_places`` add school places to the quartier's schools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit
from scipy.spatial import cKDTree

from sim.model.rng import keyed_uniform
from sim.model.services import PRIMARY, SECONDARY
from sim.model.threads import parallel_for
from sim.sorting import stable_order

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.service_parameters import ServicesChoiceParameters

NEAREST = 12


def nearest_schools(x: np.ndarray, y: np.ndarray, school_cells: np.ndarray,
                    k: int = NEAREST) -> np.ndarray:
    """Per cell the ``k`` nearest schools (rows into ``school_cells``, int32), nearest first."""
    k = min(k, school_cells.size)
    xy = np.c_[x, y]
    _, idx = cKDTree(xy[school_cells]).query(xy, k=k)
    return np.asarray(idx, np.int32).reshape(x.size, k)


@njit(cache=True)
def _assign(order, pupil_cell, nearest, capacity, x, y, school_cells, result):
    taken = np.zeros(capacity.size)
    for p in order:
        c = pupil_cell[p]
        chosen = -1
        for j in range(nearest.shape[1]):
            s = nearest[c, j]
            if taken[s] < capacity[s]:
                chosen = s
                break
        if chosen < 0:
            best = 1e300
            for s in range(capacity.size):
                if taken[s] < capacity[s]:
                    d = (x[school_cells[s]] - x[c]) ** 2 + (y[school_cells[s]] - y[c]) ** 2
                    if d < best:
                        best = d
                        chosen = s
        if chosen < 0:
            chosen = nearest[c, 0]
        taken[chosen] += 1.0
        result[p] = chosen


def assign(order: np.ndarray, pupil_cell: np.ndarray, nearest: np.ndarray,
           capacity: np.ndarray, x: np.ndarray, y: np.ndarray,
           school_cells: np.ndarray) -> np.ndarray:
    """School (row into ``school_cells``) of each pupil; ``order`` is the processing order."""
    result = np.full(pupil_cell.size, -1, np.int64)
    if pupil_cell.size and capacity.size:
        _assign(order.astype(np.int64), pupil_cell.astype(np.int64), nearest,
                capacity.astype(np.float64), x, y, school_cells.astype(np.int64), result)
    return result


@njit(cache=True, nogil=True)
def _pupils(lo, hi, household, cell, pid, key, year, slot, pupil_cell, u):
    """Each pupil's home cell and keyed number of the year."""
    for i in range(lo, hi):
        pupil_cell[i] = cell[household[i]]
        u[i] = keyed_uniform(key, year, pid[i], slot)


def keyed_order(u: np.ndarray) -> np.ndarray:
    """``np.argsort(u)`` of keyed uniforms: their stable order in linear time, and where two
    numbers are equal (the sort order of ties differs) ``np.argsort`` itself."""
    order = stable_order(u)
    if _has_ties(u, order):
        return np.argsort(u)
    return order


@njit(cache=True)
def _has_ties(u, order):
    for j in range(1, order.size):
        if u[order[j]] == u[order[j - 1]]:
            return True
    return False


@njit(cache=True)
def _max_by_household(out, household, dis, school):
    """``np.maximum.at(out, household, dis[school])``."""
    for i in range(household.size):
        v = dis[school[i]]
        if v > out[household[i]]:
            out[household[i]] = v


def disadvantage(poor_share: np.ndarray, city_share: float, quality: np.ndarray) -> np.ndarray:
    """Relative disadvantage of each school as families perceive it (0 = none)."""
    if city_share >= 1.0:
        return np.zeros_like(poor_share)
    rel = np.clip((poor_share - city_share) / (1.0 - city_share), 0.0, 1.0)
    return np.clip(rel - quality, 0.0, 1.0)


def step(model: QuartierModel, year: YearState, params: ServicesChoiceParameters,
         draws: Draws) -> None:
    """Assign this year's pupils to primary and secondary schools; each household's school
    dissatisfaction is the largest disadvantage among its pupils' schools."""
    pop, sv = model.population, model.services
    f = sv.facilities
    s = year.situation
    poor_h = s["group"] == 0
    disadvantage_hh = np.zeros(pop.n_households)
    state = {}
    for kind, pupils in zip((PRIMARY, SECONDARY), s["pupils"], strict=True):
        rows = f.open(kind, year.year)
        hh = pop.household[pupils]
        key = ("nearest", kind, f.cell[rows].tobytes())  # the open schools' cells
        if model.schools_cache.get(key) is None:
            for stale in [k for k in model.schools_cache if k[:2] == key[:2]]:
                del model.schools_cache[stale]  # of another set of open schools
            model.schools_cache[key] = nearest_schools(sv.x, sv.y, f.cell[rows])
        nearest = model.schools_cache[key]
        pc = np.empty(pupils.size, np.int64)
        u = np.empty(pupils.size)
        parallel_for(_pupils, pupils.size, hh, s["cell"], pop.pid[pupils], draws.key,
                     np.int64(year.year), np.int64(kind), pc, u)
        order = keyed_order(u)
        capacity = f.capacity[rows] + extra_places(model, year.year, f.cell[rows])
        school = assign(order, pc, nearest, capacity, sv.x, sv.y, f.cell[rows])
        n_s = rows.size
        total = np.bincount(school, minlength=n_s).astype(float)
        poor = np.bincount(school, weights=poor_h[hh].astype(float), minlength=n_s)
        share = np.divide(poor, total, out=np.zeros(n_s), where=total > 0)
        city_share = poor.sum() / max(total.sum(), 1.0)
        dis = disadvantage(share, city_share, school_quality(model, year.year, f.cell[rows]))
        _max_by_household(disadvantage_hh, hh, dis, school)
        state[kind] = {"pupils": total, "poor": poor, "cells": f.cell[rows], "dis": dis,
                       "nearest_dis": dis[nearest[:, 0]], "rows": rows, "school": school,
                       "nearest": nearest}
    s["schools"] = state
    s["school"] = (disadvantage_hh * params.school_weight).astype(np.float32)


def school_quality(model: QuartierModel, year: int, school_cells: np.ndarray) -> np.ndarray:
    """The quality added by school investment (``levers.school_investment``) to each school."""
    quality = np.zeros(school_cells.size)
    cq = model.city.cell_quartier[school_cells]
    ids = model.city.quartier_ids()
    for inv in model.scenario.levers.school_investment:
        if year >= inv.from_year:
            quality[cq == ids.index(inv.quartier)] = np.maximum(
                quality[cq == ids.index(inv.quartier)], inv.quality)
    return quality


def extra_places(model: QuartierModel, year: int, school_cells: np.ndarray) -> np.ndarray:
    """The places added by school investment (``extra_places``) to each school: a quartier's
    places spread evenly over its schools (of each level)."""
    extra = np.zeros(school_cells.size)
    cq = model.city.cell_quartier[school_cells]
    ids = model.city.quartier_ids()
    for inv in model.scenario.levers.school_investment:
        if year >= inv.from_year and inv.extra_places > 0:
            mine = cq == ids.index(inv.quartier)
            if mine.any():
                extra[mine] += inv.extra_places / mine.sum()
    return np.floor(extra)
