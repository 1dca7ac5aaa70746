"""Dissatisfaction and what the choice weighs: each housed household's six dissatisfaction
parts (rent burden, crowding, neighbourhood, health, school, job; :mod:`sim.model.mobility`),
the income and origin shares around every cell, and the amenity of every cell for each segment
(life stage × travel mode: doctors for all, schools for families) with the workers' jobs for the
commuting term of the choice (docs/ODD.md 7.16)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.model.mobility import ChoiceAccess, all_parts, neighbourhood
from sim.model.processes.doctors import health_weights
from sim.model.processes.jobs import commute_params
from sim.model.services import PRIMARY
from sim.model.threads import chunks, parallel_for, per_chunk

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.year import YearState
    from sim.scenario.parameters import MobilityParameters

N_SEGMENTS = 12  # life stage (4) × travel mode (3)


def step(model: QuartierModel, year: YearState, params: MobilityParameters,
         draws: None) -> None:
    """Add the dissatisfaction parts, the cells' neighbourhood shares and the choice's access
    inputs to ``year.situation``."""
    pop, city, sv = model.population, model.city, model.services
    cp = model.scenario.parameters.choice
    s = year.situation
    housed, cell = s["housed"], s["cell"]
    # Amenity per (cell, stage × mode); workers with a job in the city, grouped by household.
    amenity = np.zeros((city.n_cells, N_SEGMENTS))
    weights = health_weights(cp)
    fam_dis = s["schools"][PRIMARY]["nearest_dis"]
    kita_short = s.get("kita_shortfall_cell", 0.0)  # Kita places missing (processes.kitas)
    for st in range(4):
        for m in range(3):
            a = cp.utility_health * weights[st] * np.minimum(sv.gp_access[m], cp.health_access_cap)
            if st == 1:
                a = a - cp.utility_school * (cp.school_weight * fam_dis + kita_short)
            amenity[:, st * 3 + m] = a
    start, counts, worker_job = jobs_by_household(s["workers"], pop.job, pop.household,
                                                  pop.n_households)
    s.update({
        "segment": (s["stage"] * 3 + s["mode"]).astype(np.int8),
        "worker_start": start,
        "worker_count": counts,
        "choice_access": ChoiceAccess(amenity, worker_job, sv.x, sv.y, sv.stop_dist_m,
                                      sv.nearest_stop, float(city.cell_size_m),
                                      commute_params(model)),
    })
    total, nb_income, nb_origin, share_i, share_o = neighbourhood(
        cell, s["group"], s["origin"], housed, city.width, city.height)
    with np.errstate(invalid="ignore", divide="ignore"):
        city_i = nb_income.sum(axis=0) / max(total.sum(), 1.0)
        city_o = nb_origin.sum(axis=0) / max(total.sum(), 1.0)
        s["cell_share_income"] = np.where(total[:, None] > 0, nb_income / total[:, None],
                                          city_i[None, :])
        s["cell_share_origin"] = np.where(total[:, None] > 0, nb_origin / total[:, None],
                                          city_o[None, :])
    s["choice_access"].city_shares = np.nan_to_num(np.r_[city_i, city_o])
    n = housed.size
    floor, active = np.empty(n, city.dwelling_floor_space.dtype), np.empty(n, np.bool_)
    parallel_for(_floor_and_active, n, city.dwelling_floor_space, s["dwelling"], housed,
                 s["nursing"], floor, active)
    s["parts"] = all_parts(
        s["burden"], floor, np.asarray(s["norm"], np.float64),
        share_i, share_o, s["gp"], s["school"], s["commute"], s["net_income"], s["children"],
        s["health_weight"], active, params.rent_burden_threshold,
        params.crowding_threshold, params.homophily_threshold, cp.health_access_threshold,
        cp.commute_burden_threshold)


@njit(cache=True, nogil=True)
def _floor_and_active(lo, hi, floor_space, dwelling, housed, nursing, floor, active):
    for h in range(lo, hi):
        floor[h] = floor_space[dwelling[h]]
        active[h] = housed[h] and not nursing[h]


def jobs_by_household(workers: np.ndarray, job: np.ndarray, household: np.ndarray,
                      n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The job cells of the ``workers`` (person rows) with a job in the city, grouped by
    household in the workers' order; each household's first position and number of them.
    A counting sort over chunks of workers: each chunk counts, then places its own."""
    m = workers.size
    ranges = chunks(m)
    counts = np.zeros((len(ranges), n), np.int32)
    per_chunk(_count_jobs, ranges, workers, job, household, counts)
    start, total, pos = _job_starts(counts)
    out = np.empty(total, np.int32)
    per_chunk(_place_jobs, ranges, workers, job, household, pos, out)
    return start, counts.sum(axis=0, dtype=np.int32) if len(ranges) > 1 else counts[0], out


@njit(cache=True, nogil=True)
def _count_jobs(k, lo, hi, workers, job, household, counts):
    for i in range(lo, hi):
        p = workers[i]
        if job[p] >= 0:
            counts[k, household[p]] += 1


@njit(cache=True)
def _job_starts(counts):
    """Each household's first position, the total, and each chunk's first position per
    household."""
    k, n = counts.shape
    start = np.empty(n, np.int32)
    pos = np.empty((k, n), np.int32)
    total = 0
    for h in range(n):
        start[h] = total
        for j in range(k):
            pos[j, h] = total
            total += counts[j, h]
    return start, total, pos


@njit(cache=True, nogil=True)
def _place_jobs(k, lo, hi, workers, job, household, pos, out):
    for i in range(lo, hi):
        p = workers[i]
        if job[p] >= 0:
            h = household[p]
            out[pos[k, h]] = job[p]
            pos[k, h] += 1


@njit(cache=True)
def group_rows(group, n):
    """A counting sort: the order that groups rows by ``group`` (0…n-1), keeping their order
    within a group (as a stable argsort), and the rows per group (as ``np.bincount``)."""
    counts = np.zeros(n, np.int64)
    for i in range(group.size):
        counts[group[i]] += 1
    start = np.empty(n, np.int64)
    total = 0
    for g in range(n):
        start[g] = total
        total += counts[g]
    order = np.empty(group.size, np.int64)
    for i in range(group.size):
        order[start[group[i]]] = i
        start[group[i]] += 1
    return order, counts
