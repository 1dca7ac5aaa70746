"""Residential mobility: who wants to move, where to, or out of the city.

**Dissatisfaction** of a household in its dwelling has six parts, each 0 when all is well:

- rent: ``max(0, burden - threshold) / threshold`` (capped at 2), burden = gross cold rent /
  net household income (tenants only);
- crowding: ``max(0, 1 - floor space / (crowding_threshold × norm))``, norm = 50 m² + 15 m²
  per further person (the NRW norms of adequate size for social housing);
- neighbourhood (Schelling): for income group and for origin, the shortfall of the share of
  own-group households among the other households of the cell and its 8 neighbours below
  ``homophily_threshold``, relative to it; the mean of the two;
- health, school and job (see :mod:`sim.model.processes.dissatisfaction`): GP access (the
  Versorgungsgrad) below ``health_access_threshold`` (weighted by life stage), the perceived
  disadvantage of the children's schools plus the share of children without the Kita place
  their parents want (:mod:`sim.model.processes.kitas`), and commuting costs above
  ``commute_burden_threshold`` of income.

**Moving**: probability ``base(life stage) × exp(dissatisfaction_effect × (sum of the
parts))`` plus ``life_event_move_probability`` after a birth or a partner's death,
capped at 1. Life stages by the oldest member: under 30, families with children, 30-64, 65+.

**Choice** (multinomial logit, as in UrbanSim and SILO): a searching household considers up
to ``choice_set_size`` vacant dwellings drawn at random (at most twice as many draws) among
those it may take (social housing
needs a WBS, buying needs ``owner_min_income`` × the median income), its present dwelling
(if any), and the outside option of leaving the city. Utility of a dwelling::

    - utility_rent_burden × cost / income + utility_space × log(min(floor / norm, 2))
    + utility_similar_neighbours × (own income-group share + own-origin share) / 2
    + utility_quartier_attachment × same quartier
    + amenity(cell, life stage × travel mode)        (doctors; schools for families)
    - utility_rent_burden × commuting cost to jobs in the city / income

plus ``utility_stay`` for the present dwelling. Leaving means renting a dwelling of the norm
size elsewhere at ``outside_rent_m2`` (the regional level), so its utility is
``utility_outside - utility_rent_burden × that cost / income``: poor households cannot escape
high rents by leaving. Each option adds a Gumbel draw. Searchers choose one at a time in
random order; a dwelling taken is no longer vacant and the one left becomes vacant, so no
dwelling is ever over-occupied.
A household that leaves is an out-migrant; its **cause** is counterfactual: the part of its
dissatisfaction (``rent``, ``crowding``, ``neighbourhood``, ``health``, ``school``, ``job``)
without which it would not have searched this year, i.e. with that part at the city's typical
value (the median over housed households) and the same keyed number it would have stayed put.
Several such parts share the household equally; with none it is ``other`` (it would have
searched anyway). Only the search is re-decided, not the choice. ``no_dwelling`` is a new
household that found no home; persons who find no care in the city leave with cause ``care``
(:mod:`sim.model.processes.care`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model import threads
from sim.model.accessibility import commute_cost
from sim.model.causes import PART_CAUSES as PART_CAUSES  # re-exported
from sim.model.causes import counterfactual_causes as counterfactual_causes
from sim.model.causes import typical_parts as typical_parts
from sim.model.prefetch import prefetch, prefetch_at
from sim.model.rng import keyed_base, keyed_uniform, keyed_uniforms, uniform_from
from sim.scenario.parameters import MobilityParameters
from sim.state.city import City

N_PARTS = 6  # dissatisfaction parts, in the order of PART_CAUSES
# Slots of the keyed draws of a searching household (see sim.model.rng).
SLOT_ORDER = 1
SLOT_CANDIDATE = 1000
SLOT_GUMBEL = 2000
# The choice looks ahead (cache hints) this many searchers, when its arrays (cells' rows, the
# vacancy list) take more than LOOK_AHEAD_BYTES; tuned with benchmarks/choice.py.
LOOK_AHEAD = 6
RING = 8  # rows kept of the searchers' candidate numbers: > LOOK_AHEAD, a power of 2
LOOK_AHEAD_BYTES = 8 << 20
STAGES = ("young", "family", "middle", "old")


def space_norm(size: np.ndarray, mp: MobilityParameters) -> np.ndarray:
    """Adequate floor space (m²) for households of ``size`` persons."""
    return mp.space_norm_first_person + mp.space_norm_per_further_person * np.maximum(
        size - 1, 0)


def life_stage(oldest: np.ndarray, children: np.ndarray) -> np.ndarray:
    """0 young (< 30), 1 family (children), 2 middle (30-64), 3 old (65+)."""
    return _life_stage(np.asarray(oldest), np.asarray(children))


@njit(cache=True)
def _life_stage(oldest, children):
    stage = np.empty(oldest.shape, np.int8)
    for i in range(oldest.size):
        if children[i] > 0:
            stage[i] = 1
        elif oldest[i] < 30:
            stage[i] = 0
        elif oldest[i] >= 65:
            stage[i] = 3
        else:
            stage[i] = 2
    return stage


@njit(cache=True)
def neighbourhood(cell, income_group, origin, housed, width, height):
    """Households around each cell (the cell and its 8 neighbours, housed households only):
    total, by income group (3), by origin (2); and each household's share of its own income
    group and own origin among the other households around it (NaN without any)."""
    n_c = width * height
    counts = np.zeros((n_c, 5))
    for h in range(cell.size):
        if housed[h]:
            counts[cell[h], income_group[h]] += 1
            counts[cell[h], 3 + origin[h]] += 1
    nb = np.zeros((n_c, 5))
    for r in range(height):
        for c in range(width):
            k = r * width + c
            for dr in range(-1, 2):
                rr = r + dr
                if rr < 0 or rr >= height:
                    continue
                for dc in range(-1, 2):
                    cc = c + dc
                    if cc < 0 or cc >= width:
                        continue
                    j = rr * width + cc
                    for g in range(5):
                        nb[k, g] += counts[j, g]
    total = nb[:, 0] + nb[:, 1] + nb[:, 2]
    share_i = np.empty(cell.size)
    share_o = np.empty(cell.size)
    for h in range(cell.size):
        k = cell[h]
        others = total[k] - 1.0
        if others > 0:
            share_i[h] = (nb[k, income_group[h]] - 1.0) / others
            share_o[h] = (nb[k, 3 + origin[h]] - 1.0) / others
        else:
            share_i[h] = np.nan
            share_o[h] = np.nan
    return total, nb[:, :3].copy(), nb[:, 3:].copy(), share_i, share_o


def all_parts(burden, floor, norm, share_income, share_origin, gp, school, commute, net,
              children, health_weight, active, rent_thr, crowd_thr, tau, health_thr, job_thr):
    """The six dissatisfaction parts (rent, crowding, neighbourhood, health, school, job) per
    household in one pass, 0 where ``active`` is False (formulas in the module docstring;
    tested against a vectorised version). Float32, one row per household."""
    out = np.empty((burden.size, 6), np.float32)
    threads.parallel_for(_all_parts, burden.size, burden, floor, norm, share_income,
                         share_origin, gp, school, commute, net, children, health_weight,
                         active, float(rent_thr), float(crowd_thr), float(tau),
                         float(health_thr), float(job_thr), out)
    return out


@njit(cache=True, nogil=True)
def _all_parts(lo, hi, burden, floor, norm, share_income, share_origin, gp, school, commute,
               net, children, health_weight, active, rent_thr, crowd_thr, tau, health_thr,
               job_thr, out):
    for h in range(lo, hi):
        for j in range(6):
            out[h, j] = 0.0
        if not active[h]:
            continue
        out[h, 0] = min(max((burden[h] - rent_thr) / rent_thr, 0.0), 2.0)
        out[h, 1] = min(max(1.0 - floor[h] / (crowd_thr * norm[h]), 0.0), 1.0)
        if tau > 0:
            gi = 0.0
            if not np.isnan(share_income[h]):
                gi = min(max((tau - share_income[h]) / tau, 0.0), 1.0)
            go = 0.0
            if not np.isnan(share_origin[h]):
                go = min(max((tau - share_origin[h]) / tau, 0.0), 1.0)
            out[h, 2] = 0.5 * (gi + go)
        out[h, 3] = health_weight[h] * min(max(1.0 - gp[h] / health_thr, 0.0), 1.0)
        if children[h] > 0:
            out[h, 4] = school[h]
        out[h, 5] = min(max((commute[h] / net[h] - job_thr) / job_thr, 0.0), 2.0)


@njit(cache=True, nogil=True)
def _movers(lo, hi, parts, stage, event, active, hid, key, year, base, effect, life_event,
            out):
    for h in range(lo, hi):
        out[h] = False
        if not active[h]:
            continue
        total = 0.0
        for j in range(parts.shape[1]):
            total += parts[h, j]
        p = base[stage[h]] * np.exp(effect * total)
        if event[h]:
            p += life_event
        out[h] = keyed_uniform(key, year, hid[h], 0) < min(p, 1.0)


def movers(parts: np.ndarray, stage: np.ndarray, event: np.ndarray, active: np.ndarray,
           hid: np.ndarray, key: np.uint64, year: int, mp: MobilityParameters) -> np.ndarray:
    """Households that search this year: ``active`` ones whose keyed number (slot 0) is below
    the move probability ``base(stage) × exp(effect × sum of parts)`` (+ life event), capped
    at 1."""
    base = np.array([mp.move_rate_young, mp.move_rate_family, mp.move_rate_middle,
                     mp.move_rate_old])
    out = np.empty(stage.size, np.bool_)
    threads.parallel_for(_movers, stage.size, parts, stage, event, active, hid, np.uint64(key),
                         np.int64(year), base, float(mp.dissatisfaction_effect),
                         float(mp.life_event_move_probability), out)
    return out


@njit(cache=True, inline="always")
def _dwelling_utility(s, log_floor, cost, c, quartier, log_norm, net_income, grp_income,
                      grp_origin, home_q, seg, cell_rows, b_rent, b_space, b_similar, b_attach):
    """Searcher ``s``'s utility of a dwelling (floor space ``exp(log_floor)``, monthly
    ``cost``, in cell ``c`` and ``quartier``) before commuting and the Gumbel draw."""
    log_ratio = log_floor - log_norm  # log(min(floor / norm, 2))
    if log_ratio > np.log(2.0):
        log_ratio = np.log(2.0)
    u = (-b_rent * cost / net_income[s] + b_space * log_ratio
         + b_similar * 0.5 * (cell_rows[c, grp_income[s]] + cell_rows[c, 3 + grp_origin[s]]))
    if quartier == home_q[s]:
        u += b_attach
    return u + cell_rows[c, 5 + seg[s]]


@njit(cache=True, inline="always")
def _commute_term(s, c, net_income, b_rent, w_start, w_count, w_job, car, ticket, x, y,
                  stop_dist, nearest_stop, cell_m, cparams):
    """What commuting from cell ``c`` to the jobs of searcher ``s``'s workers takes off the
    utility."""
    commute = 0.0
    for w in range(w_start[s], w_start[s] + w_count[s]):
        commute += commute_cost(c, w_job[w], car[s], ticket[s], x, y, stop_dist, nearest_stop,
                                cell_m, cparams)
    return b_rent * commute / net_income[s]


@njit(cache=True, nogil=True)
def _choice_draws(lo, hi, current, net_income, norm, grp_income, grp_origin, home_q, d_cell,
                  d_quartier, d_log_floor, d_cost, cell_rows, k, b_rent, b_space, b_similar,
                  b_attach, u_stay, u_out, key, year, ids, seg, w_start, w_count, w_job, car,
                  ticket, x, y, stop_dist, nearest_stop, cell_m, cparams, gumbel, outside_u,
                  stay_u, stay_gumbel, stay_cost, no_commute):
    """What the choice of searchers ``lo..hi-1`` needs that no other searcher's choice
    changes: the candidates' Gumbel draws (``gumbel[s, j]`` = log(-log(u))), the utility of
    leaving, that of staying (with the present dwelling's cost as it is now: ``stay_cost``),
    and the commuting term of a household without workers in the city (``no_commute``).
    Utilities come from :func:`_dwelling_utility` and :func:`_commute_term`, as in
    :func:`_choose`."""
    for s in range(lo, hi):
        base = keyed_base(key, year, ids[s])
        for j in range(k):
            gumbel[s, j] = np.log(-np.log(uniform_from(base, SLOT_GUMBEL + j)))
        outside_u[s] = u_out[s] - np.log(-np.log(uniform_from(base, SLOT_GUMBEL + k + 1)))
        no_commute[s] = b_rent * 0.0 / net_income[s]
        cur = current[s]
        if cur < 0:
            continue
        c = d_cell[cur]
        cost = d_cost[cur]
        u = _dwelling_utility(s, d_log_floor[cur], cost, c, d_quartier[cur], np.log(norm[s]),
                              net_income, grp_income, grp_origin, home_q, seg, cell_rows,
                              b_rent, b_space, b_similar, b_attach)
        u -= _commute_term(s, c, net_income, b_rent, w_start, w_count, w_job, car, ticket, x, y,
                           stop_dist, nearest_stop, cell_m, cparams)
        g = np.log(-np.log(uniform_from(base, SLOT_GUMBEL + k)))
        stay_u[s] = u + (u_stay - g)
        stay_gumbel[s] = g
        stay_cost[s] = cost


@njit(cache=True, nogil=True)
def _choose(current, net_income, norm, grp_income, grp_origin, home_q, can_own,
            can_social, vacant, n_vacant, position, d_cell, d_quartier, d_tenure, d_log_floor,
            d_cost, relet_cost, cell_rows, k, b_rent, b_space, b_similar, b_attach,
            u_stay, key, year, ids, result, seg, w_start, w_count, w_job, car,
            ticket, x, y, stop_dist, nearest_stop, cell_m, cparams, gumbel, outside_u,
            stay_u, stay_gumbel, stay_cost, no_commute, ahead):
    """Sequential choice of the searchers, one after the other in the order given (see the
    module docstring), with what :func:`_choice_draws` prepared.

    ``vacant[:n_vacant]`` lists vacant dwellings, ``position[d]`` is d's index there (-1 if
    occupied). ``d_cost`` is each dwelling's monthly cost as let now; a dwelling given up
    becomes vacant at ``relet_cost``. ``cell_rows[c]`` holds the cell's shares of the three
    income groups and of the two origins, then the amenity of each segment (one row, so that
    a candidate's cell costs few cache lines). Writes the chosen dwelling (or -1 = outside) to
    ``result``; returns the new ``n_vacant``.

    With ``ahead`` (see :func:`_looks_ahead`), the loop looks ahead: it draws the candidate
    numbers of the searcher ``LOOK_AHEAD`` places on (keeping them for its turn) and hints the
    processor to load the vacancies they point to in today's list, and those vacancies' cells
    for the searcher half as far on. The hints change no value; most of them hit (the list
    changes by a few places per searcher).
    """
    # What a candidate needs of its dwelling, by position in the vacancy list and moved with
    # it (one cache line, in a small array): log floor space, cost, cell, quartier.
    cap = n_vacant + current.size
    vac = np.empty((cap, 4))
    vac_tenure = np.empty(cap, np.int8)
    for p in range(n_vacant):
        d = vacant[p]
        vac[p, 0] = d_log_floor[d]
        vac[p, 1] = d_cost[d]
        vac[p, 2] = d_cell[d]
        vac[p, 3] = d_quartier[d]
        vac_tenure[p] = d_tenure[d]
    cand = np.empty(k, np.int64)  # positions in the vacancy list
    drawn = np.full(cap, -1, np.int64)  # the last searcher who drew each position
    # by tenure (sim.state.city: owner-occupied, rented, social, nursing home, withdrawn)
    allowed = np.ones(5, np.bool_)
    n = current.size
    ring = np.empty((RING, k))  # candidate numbers of the searchers ahead
    for s in range(min(LOOK_AHEAD, n) if ahead else 0):
        base = keyed_base(key, year, ids[s])
        for t in range(k):
            ring[s, t] = uniform_from(base, SLOT_CANDIDATE + t)
    for s in range(n):
        if ahead:  # (written out here: as an inlined function it ran slower)
            a = s + LOOK_AHEAD
            if a < n:
                base = keyed_base(key, year, ids[a])
                for t in range(k):
                    u = uniform_from(base, SLOT_CANDIDATE + t)
                    ring[a % RING, t] = u
                    if n_vacant > 0:
                        p = min(int(u * n_vacant), n_vacant - 1)
                        prefetch(vac, p)
                        prefetch(drawn, p)
                if current[a] >= 0:
                    prefetch(d_cost, current[a])
            a = s + LOOK_AHEAD // 2
            if a < n and n_vacant > 0:
                for t in range(k):
                    c = int(vac[min(int(ring[a % RING, t] * n_vacant), n_vacant - 1), 2])
                    prefetch_at(cell_rows, c, grp_income[a])
                    prefetch_at(cell_rows, c, 5 + seg[a])
                    if w_count[a] > 0:
                        prefetch(x, c)
                        prefetch(y, c)
                        prefetch(stop_dist, c)
                        prefetch(nearest_stop, c)
        log_norm = np.log(norm[s])
        base = keyed_base(key, year, ids[s])
        allowed[0] = can_own[s]
        allowed[2] = can_social[s]
        n_c = 0
        tries = 0
        while n_c < k and tries < 2 * k and n_vacant > 0:
            if ahead and tries < k:
                u = ring[s % RING, tries]
            else:
                u = uniform_from(base, SLOT_CANDIDATE + tries)
            p = min(int(u * n_vacant), n_vacant - 1)
            tries += 1
            # a candidate if its tenure is open to the searcher and not drawn before (no
            # branch: drawn[p] = s changes nothing for a position the tenure excludes)
            fresh = allowed[vac_tenure[p]] & (drawn[p] != s)
            drawn[p] = s
            cand[n_c] = p
            n_c += fresh
        best = -1
        best_u = outside_u[s]
        cur = current[s]
        for j in range(n_c):
            p = cand[j]
            c = int(vac[p, 2])
            u = _dwelling_utility(s, vac[p, 0], vac[p, 1], c, vac[p, 3], log_norm, net_income,
                                  grp_income, grp_origin, home_q, seg, cell_rows, b_rent,
                                  b_space, b_similar, b_attach)
            if w_count[s] == 0:
                u -= no_commute[s]
            else:
                u -= _commute_term(s, c, net_income, b_rent, w_start, w_count, w_job, car,
                                   ticket, x, y, stop_dist, nearest_stop, cell_m, cparams)
            u -= gumbel[s, j]
            if u > best_u:
                best_u = u
                best = vacant[p]
        if cur >= 0:
            u = stay_u[s]
            if d_cost[cur] != stay_cost[s]:  # relet since (only if shared: recompute)
                c = d_cell[cur]
                u = _dwelling_utility(s, d_log_floor[cur], d_cost[cur], c, d_quartier[cur],
                                      log_norm, net_income, grp_income, grp_origin, home_q, seg,
                                      cell_rows, b_rent, b_space, b_similar, b_attach)
                u -= _commute_term(s, c, net_income, b_rent, w_start, w_count, w_job, car,
                                   ticket, x, y, stop_dist, nearest_stop, cell_m, cparams)
                u += u_stay - stay_gumbel[s]
            if u > best_u:
                best_u = u
                best = cur
        result[s] = best
        if best >= 0 and best != cur:
            # Take the new dwelling off the vacancy list.
            p = position[best]
            last = n_vacant - 1
            vacant[p] = vacant[last]
            position[vacant[last]] = p
            position[best] = -1
            for col in range(4):
                vac[p, col] = vac[last, col]
            vac_tenure[p] = vac_tenure[last]
            n_vacant -= 1
        if best != cur and cur >= 0:
            # The present dwelling becomes vacant, to be relet.
            vacant[n_vacant] = cur
            position[cur] = n_vacant
            d_cost[cur] = relet_cost[cur]
            vac[n_vacant, 0] = d_log_floor[cur]
            vac[n_vacant, 1] = relet_cost[cur]
            vac[n_vacant, 2] = d_cell[cur]
            vac[n_vacant, 3] = d_quartier[cur]
            vac_tenure[n_vacant] = d_tenure[cur]
            n_vacant += 1
    return n_vacant


def _looks_ahead(cell_rows: np.ndarray, cap: int) -> bool:
    """Whether :func:`_choose` gives cache hints: when the cells' rows and the vacancy list
    (``cap`` places, 41 bytes each) take more than :data:`LOOK_AHEAD_BYTES`: at 1M households
    (some 21 MB) the hints save time, at 100,000 (some 2 MB, within the caches) they save
    nothing measurable (``benchmarks/choice.py``); the bound between is a tuning choice."""
    return cell_rows.nbytes + 41 * cap > LOOK_AHEAD_BYTES


def _log_floor(city: City) -> np.ndarray:
    """log of each dwelling's floor space (cached while the dwellings stay the same)."""
    cache = city.__dict__.get("_log_floor_cache")
    if cache is None or cache[0] is not city.dwelling_floor_space:
        with np.errstate(divide="ignore"):
            cache = (city.dwelling_floor_space,
                     np.log(city.dwelling_floor_space.astype(np.float64)))
        city.__dict__["_log_floor_cache"] = cache
    return cache[1]


class ChoiceAccess:
    """What the choice needs about services: ``amenity`` (n_cells × segments: utility of
    doctors and schools for a segment = life stage × travel mode), the workers' job cells
    (``worker_job``, -1 outside the city) and the geometry of the commute cost."""

    _rows: tuple | None = None
    city_shares: np.ndarray = np.zeros(5)
    """The city's shares of the three income groups and two origins (the neighbours a household
    expects elsewhere in the region, for the outside option)."""

    def __init__(self, amenity: np.ndarray, worker_job: np.ndarray, x: np.ndarray,
                 y: np.ndarray, stop_dist: np.ndarray, nearest_stop: np.ndarray,
                 cell_m: float, cparams: np.ndarray) -> None:
        self.amenity = np.ascontiguousarray(amenity, np.float64)
        self.worker_job = worker_job.astype(np.int32)
        self.x, self.y = x, y
        self.stop_dist = stop_dist.astype(np.float64)
        self.nearest_stop = nearest_stop.astype(np.int64)
        self.cell_m = cell_m
        self.cparams = cparams.astype(np.float64)

    def cell_rows(self, share_income: np.ndarray, share_origin: np.ndarray) -> np.ndarray:
        """One row per cell for the choice: the shares of the three income groups and of the
        two origins, then the amenity of each segment. Built once for a year's shares (both
        choices of a year use it); ``amenity`` then becomes a view into it."""
        if (self._rows is None or self._rows[0] is not share_income
                or self._rows[1] is not share_origin):
            rows = np.concatenate([share_income, share_origin, self.amenity], axis=1)
            self.amenity = rows[:, 5:]
            self._rows = (share_income, share_origin, rows)
        return self._rows[2]

    @classmethod
    def none(cls, n_cells: int) -> ChoiceAccess:
        z = np.zeros(n_cells)
        return cls(np.zeros((n_cells, 1)), np.zeros(0, np.int64), z, z, z,
                   np.zeros(n_cells, np.int64), 100.0, np.ones(10))


class Vacancies:
    """The list of vacant dwellings, shared by all searchers of a year."""

    def __init__(self, n_dwellings: int, occupied_dwellings: np.ndarray) -> None:
        occupied = np.zeros(n_dwellings, bool)
        occupied[occupied_dwellings] = True
        free = np.flatnonzero(~occupied)
        self.list = np.empty(n_dwellings, np.int32)
        self.list[:free.size] = free
        self.count = int(free.size)
        self.position = np.full(n_dwellings, -1, np.int32)
        self.position[free] = np.arange(free.size)


def choose(searchers: dict, vacancies: Vacancies, city: City, cost: np.ndarray,
           relet_cost: np.ndarray, share_income: np.ndarray, share_origin: np.ndarray,
           mp: MobilityParameters, key: np.uint64, year: int, access: ChoiceAccess,
           allow_stay: bool = True, allow_outside: bool = True) -> np.ndarray:
    """Let searchers choose in random order. ``searchers`` holds equal-length arrays:
    ``current`` (dwelling or -1), ``net_income``, ``norm``, ``income_group``, ``origin``,
    ``home_quartier`` (-1 for none), ``can_own``, ``can_social``, ``outside_cost`` (monthly
    cost of a norm-sized dwelling elsewhere), ``id`` (household ids: the order and every draw
    are keyed to them, with the stream ``key`` and the ``year``, see ``sim.model.rng``), and for
    access to services: ``segment`` (column of ``access.amenity``), ``worker_start`` /
    ``worker_count`` (their rows in ``access.worker_job``), ``car``, ``ticket``. ``cost``
    (float64, the monthly cost of each dwelling as let now) is updated in place as dwellings
    are given up.

    ``allow_stay=False``: the present dwelling is no option (newcomers);
    ``allow_outside=False``: leaving (staying away) is no option while a candidate exists.

    Returns the chosen dwelling of each searcher, or -1 for the outside option.
    """
    n = searchers["current"].size
    k = mp.choice_set_size
    ids = searchers["id"].astype(np.uint64)
    order = np.argsort(keyed_uniforms(key, year, ids, SLOT_ORDER))  # distinct keys
    result = np.full(n, -1, np.int64)
    if n == 0:
        return result

    def in_order(name: str, dtype) -> np.ndarray:  # the searchers' arrays in choice order
        return np.ascontiguousarray(searchers[name][order], dtype)

    current = in_order("current", np.int64)
    if not allow_stay:
        current = np.full(n, -1, np.int64)
    net_income = in_order("net_income", np.float64)
    cell_rows = access.cell_rows(share_income, share_origin)
    norm, grp_income = in_order("norm", np.float64), in_order("income_group", np.int8)
    grp_origin, home_q = in_order("origin", np.int8), in_order("home_quartier", np.int64)
    outside = (mp.utility_outside - mp.utility_rent_burden * in_order("outside_cost", np.float64)
               / net_income + mp.utility_similar_neighbours * 0.5 * (
                   access.city_shares[grp_income] + access.city_shares[3 + grp_origin]))
    if not allow_outside:
        outside = np.full(n, -1e300)
    seg, car, ticket = in_order("segment", np.int8), in_order("car", np.bool_), in_order(
        "ticket", np.float64)
    w_start, w_count = in_order("worker_start", np.int32), in_order("worker_count", np.int32)
    ids, log_floor = ids[order], _log_floor(city)
    b_rent, b_space = mp.utility_rent_burden, mp.utility_space
    b_similar, b_attach = mp.utility_similar_neighbours, mp.utility_quartier_attachment
    geometry = (access.x, access.y, access.stop_dist, access.nearest_stop, float(access.cell_m),
                access.cparams)
    gumbel = np.empty((n, k))
    outside_u, stay_u, stay_gumbel, stay_cost, no_commute = (np.empty(n) for _ in range(5))
    # The searchers' own draws and the utilities of leaving and staying, in parallel
    # (a searcher's work is some ten agents' worth: smaller chunks).
    threads.parallel_for(
        _choice_draws, n, current, net_income, norm, grp_income, grp_origin, home_q,
        city.dwelling_cell, city.dwelling_quartier, log_floor, cost, cell_rows, k, b_rent, b_space,
        b_similar, b_attach, mp.utility_stay, outside, np.uint64(key), np.int64(year), ids, seg,
        w_start, w_count, access.worker_job, car, ticket, *geometry, gumbel, outside_u, stay_u,
        stay_gumbel, stay_cost, no_commute, min_chunk=max(1, threads.MIN_CHUNK // 10))
    chosen = np.empty(n, np.int64)
    vacancies.count = _choose(
        current, net_income, norm, grp_income, grp_origin, home_q,
        in_order("can_own", np.bool_), in_order("can_social", np.bool_), vacancies.list,
        vacancies.count, vacancies.position, city.dwelling_cell, city.dwelling_quartier,
        city.dwelling_tenure, log_floor, cost, relet_cost.astype(np.float64, copy=False),
        cell_rows, k, b_rent, b_space, b_similar, b_attach, mp.utility_stay, np.uint64(key),
        np.int64(year), ids, chosen, seg, w_start, w_count, access.worker_job, car, ticket,
        *geometry, gumbel, outside_u, stay_u, stay_gumbel, stay_cost, no_commute,
        _looks_ahead(cell_rows, vacancies.count + n))
    result[order] = chosen
    return result


def warm_up(city: City, mp: MobilityParameters) -> None:
    """Load the compiled kernels (numba's cache) with the model's array types, so that the
    first simulated year does not pay for it. Uses fixed inputs, no random numbers, and
    changes nothing."""
    if city.n_dwellings == 0:
        return
    k = mp.choice_set_size
    one = np.zeros(1, np.int64)
    vacant = np.zeros(1, np.int32)
    position = np.full(city.n_dwellings, -1, np.int32)
    position[0] = 0
    cost = np.zeros(city.n_dwellings)
    small = np.zeros(1, np.int8)
    w = np.zeros(1, np.int32)
    geometry = (np.zeros(city.n_cells), np.zeros(city.n_cells), np.zeros(city.n_cells),
                np.zeros(city.n_cells, np.int64), 100.0, np.ones(10))
    draws = (np.zeros((1, k)), *(np.zeros(1) for _ in range(5)))
    searcher = (np.full(1, -1, np.int64), np.ones(1), np.ones(1), small, small, one)
    dwellings = (city.dwelling_cell, city.dwelling_quartier)
    rows = np.zeros((city.n_cells, 6))
    _choice_draws(0, 1, *searcher, *dwellings, _log_floor(city), cost, rows, k, 0.0, 0.0, 0.0,
                  0.0, 0.0, np.zeros(1), np.uint64(1), np.int64(0), np.zeros(1, np.uint64),
                  small, w, w, w, np.zeros(1, np.bool_), np.zeros(1), *geometry, *draws)
    _choose(*searcher, np.zeros(1, bool), np.zeros(1, bool), vacant, 1, position,
            *dwellings, city.dwelling_tenure, _log_floor(city), cost, cost.copy(), rows, k,
            0.0, 0.0, 0.0, 0.0, 0.0, np.uint64(1), np.int64(0), np.zeros(1, np.uint64),
            one.copy(), small, w, w, w, np.zeros(1, np.bool_), np.zeros(1), *geometry, *draws,
            False)
