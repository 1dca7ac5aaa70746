"""The choice of dwellings gives the same choices with its cache hints (look-ahead) as without.

The hints are switched on by size (:func:`sim.model.mobility._looks_ahead`: only at city
size), so the golden cases, which are small, would never run them: here they are forced on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.model import mobility
from tests.golden import CASES, plain, produce


def _choice_args(rng: np.random.Generator, n: int, n_dwellings: int, n_vacant: int,
                 n_cells: int, k: int) -> tuple:
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
                 rng.integers(0, 4, n_dwellings), rng.integers(0, 3, n_dwellings).astype(np.int8),
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


def _run(args: tuple, ahead: bool) -> tuple:
    fresh = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    n_vacant = mobility._choose(*fresh, ahead)
    return n_vacant, fresh


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_vacant", [0, 3, 40])
def test_the_choice_is_the_same_with_and_without_look_ahead(seed, n_vacant):
    """Same choices, vacancy list, positions and costs, also when the list runs empty and
    fills again (the candidate numbers kept ahead must not go stale)."""
    rng = np.random.default_rng(seed)
    args = _choice_args(rng, n=300, n_dwellings=400, n_vacant=n_vacant, n_cells=50,
                        k=mobility.LOOK_AHEAD + 4)
    count_with, with_hints = _run(args, True)
    count_without, without = _run(args, False)
    assert count_with == count_without
    for a, b in zip(with_hints, without, strict=True):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
    chosen = with_hints[27]  # result
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
