"""The choice of dwellings gives the same choices with its cache hints (look-ahead) as without,
and as the choice before them (:func:`_reference_choose`, the kernel of revision 497e35a, kept
here).

The hints are switched on by size (:func:`sim.model.mobility._looks_ahead`: only at city
size), so the golden cases, which are small, would never run them: here they are forced on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numba import njit

from sim.model import mobility
from sim.model.mobility import (
    SLOT_CANDIDATE,
    _commute_term,
    _dwelling_utility,
    keyed_base,
    uniform_from,
)
from tests.golden import CASES, plain, produce


def _choice_args(rng: np.random.Generator, n: int, n_dwellings: int, n_vacant: int,
                 n_cells: int, k: int, tenures: int = 3) -> tuple:
    """Inputs of ``_choose`` (without ``ahead``), in its order: ``n`` searchers, some housed
    (and some of those leaving for the outside), over a list of ``n_vacant`` vacancies that
    empties and fills again as they choose."""
    occupied = rng.permutation(n_dwellings)
    vacant = np.zeros(n_dwellings, np.int32)
    vacant[:n_vacant] = occupied[:n_vacant]
    position = np.full(n_dwellings, -1, np.int32)
    position[vacant[:n_vacant]] = np.arange(n_vacant)
    homes = occupied[n_vacant:]
    current = np.where(rng.random(n) < 0.6, rng.choice(homes, n, replace=False), -1)
    workers = rng.integers(0, 3, n).astype(np.int32)
    w_start = (np.cumsum(workers) - workers).astype(np.int32)
    searcher = (current.astype(np.int64), rng.uniform(800, 4000, n), rng.uniform(30, 90, n),
                rng.integers(0, 3, n).astype(np.int8), rng.integers(0, 2, n).astype(np.int8),
                rng.integers(-1, 4, n).astype(np.int64), rng.random(n) < 0.4,
                rng.random(n) < 0.4)
    cost = rng.uniform(300, 1500, n_dwellings)
    dwellings = (vacant, n_vacant, position, rng.integers(0, n_cells, n_dwellings),
                 rng.integers(0, 4, n_dwellings),
                 rng.integers(0, tenures, n_dwellings).astype(np.int8),
                 np.log(rng.uniform(25, 140, n_dwellings)), cost, cost * 1.1,
                 rng.random((n_cells, 9)), k, 1.5, 0.8, 1.2, 0.4, 0.3)
    ids = rng.permutation(10 * n)[:n].astype(np.uint64)
    draws = (np.uint64(7), np.int64(2030), ids, np.empty(n, np.int64),
             rng.integers(0, 4, n).astype(np.int8), w_start, workers,
             np.where(rng.random(workers.sum()) < 0.9,
                      rng.integers(0, n_cells, workers.sum()), -1).astype(np.int32),
             rng.random(n) < 0.5, rng.uniform(0, 60, n))
    geometry = (rng.uniform(0, 5000, n_cells), rng.uniform(0, 5000, n_cells),
                rng.uniform(0, 800, n_cells), rng.integers(0, n_cells, n_cells), 100.0,
                np.array([1.3, 80.0, 350.0, 500.0, 5.0, 10.0, 0.3, 20.0, 0.1, 15000.0]))
    # The prepared draws: leaving is likely for a third, hopeless for the rest.
    leave = rng.random(n) < 0.35
    prepared = (np.log(-np.log(rng.random((n, k)))), np.where(leave, 50.0, -50.0),
                rng.normal(0, 1, n), np.log(-np.log(rng.random(n))),
                cost[np.maximum(current, 0)], np.zeros(n))
    return (*searcher, *dwellings, *draws, *geometry, *prepared)


def _run(args: tuple, ahead: bool | None) -> tuple:
    """The new kernel with hints on or off, or (``None``) the reference."""
    fresh = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    if ahead is None:
        return _reference_choose(*fresh), fresh
    return mobility._choose(*fresh, ahead), fresh


def _assert_same(one: tuple, other: tuple) -> None:
    assert one[0] == other[0]
    for a, b in zip(one[1], other[1], strict=True):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)


@njit(cache=False)
def _reference_choose(current, net_income, norm, grp_income, grp_origin, home_q, can_own,
            can_social, vacant, n_vacant, position, d_cell, d_quartier, d_tenure, d_log_floor,
            d_cost, relet_cost, cell_rows, k, b_rent, b_space, b_similar, b_attach,
            u_stay, key, year, ids, result, seg, w_start, w_count, w_job, car,
            ticket, x, y, stop_dist, nearest_stop, cell_m, cparams, gumbel, outside_u,
            stay_u, stay_gumbel, stay_cost, no_commute):
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
    for s in range(current.size):
        log_norm = np.log(norm[s])
        base = keyed_base(key, year, ids[s])
        n_c = 0
        tries = 0
        while n_c < k and tries < 2 * k and n_vacant > 0:
            u = uniform_from(base, SLOT_CANDIDATE + tries)
            p = min(int(u * n_vacant), n_vacant - 1)
            tries += 1
            t = vac_tenure[p]
            if (t == 0 and not can_own[s]) or (t == 2 and not can_social[s]):
                continue
            if drawn[p] != s:  # not yet a candidate of this searcher
                drawn[p] = s
                cand[n_c] = p
                n_c += 1
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


@pytest.mark.parametrize("seed", range(40))
def test_the_choice_is_that_of_the_kernel_before_the_hints(seed):
    """Few searchers (fewer than the look-ahead and its ring) and many, few candidates and
    many, every tenure (nursing homes and withdrawn dwellings too), hints on and off."""
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.choice([1, 2, 5, 7, 9, 60]))
    n_vacant = int(rng.integers(0, 20))
    args = _choice_args(rng, n=n, n_dwellings=n + 40, n_vacant=n_vacant, n_cells=12,
                        k=int(rng.integers(1, 11)), tenures=5)
    expected = _run(args, None)
    _assert_same(_run(args, True), expected)
    _assert_same(_run(args, False), expected)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_vacant", [0, 3, 40])
def test_the_choice_is_the_same_with_and_without_look_ahead(seed, n_vacant):
    """Same choices, vacancy list, positions and costs, also when the list runs empty and
    fills again (the candidate numbers kept ahead must not go stale)."""
    rng = np.random.default_rng(seed)
    args = _choice_args(rng, n=300, n_dwellings=400, n_vacant=n_vacant, n_cells=50,
                        k=mobility.LOOK_AHEAD + 4)
    with_hints = _run(args, True)
    _assert_same(with_hints, _run(args, False))
    _assert_same(with_hints, _run(args, None))
    chosen = with_hints[1][27]  # result
    assert (chosen >= 0).any() and (chosen == -1).any()  # both kinds of choice were made


def test_the_list_runs_empty_and_fills_again_in_the_test_inputs():
    """The inputs above exercise the stale-number case: the list is empty for some searcher
    and not empty for a later one."""
    args = _choice_args(np.random.default_rng(0), n=300, n_dwellings=400, n_vacant=3,
                        n_cells=50, k=mobility.LOOK_AHEAD + 4)
    per_searcher = {*range(8), 26, 27, 28, 29, 30, 32, 33, *range(40, 46)}
    counts = []
    for s in range(1, 301):
        part = tuple(a[:s] if i in per_searcher else a for i, a in enumerate(args))
        counts.append(_run(part, False)[0])
    first_empty = counts.index(0)
    assert max(counts[first_empty:]) > 0


GOLDEN = [c for c in CASES if (c.scenario, c.seed) in {("baseline", 1), ("combined", 2)}]


@pytest.mark.parametrize("case", GOLDEN, ids=lambda c: c.name)
def test_golden_outputs_are_reproduced_with_look_ahead_forced_on(case, monkeypatch):
    monkeypatch.setattr(mobility, "LOOK_AHEAD_BYTES", -1)
    fresh = produce(case)
    for table in fresh:
        expected = pd.read_parquet(case.path(table))
        pd.testing.assert_frame_equal(plain(fresh[table]), expected, check_exact=True,
                                      obj=f"{case.name} {table} (look-ahead)")
