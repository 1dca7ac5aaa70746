"""Kernels split over threads give what one thread gives, and what the single passes they
replaced gave (the kernels of revision 165b16f, kept here as references): the care grades
and the start status's tilt by income rank."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from sim.model import care_need, threads, tilt
from sim.model.rng import keyed_base, uniform_from

SLOT_FRAILTY, SLOT_RANK = care_need.SLOT_FRAILTY, care_need.SLOT_RANK


@njit(cache=False)
def _reference_grades(age, sex, pid, alive, household, household_alive, key, prevalence, cut,
                      spread=4.0):
    """Pflegegrad per person: per (sex, age) cell, the m lowest frailty numbers ``v``.

    ``v`` is uniform, so the m lowest of a cell lie below a bound a few standard deviations
    above p (``spread`` of them); only persons below it are kept and sorted (a cell with too
    few below its bound takes all its persons)."""
    n_age = prevalence.shape[1]
    n_cells = 2 * n_age
    n = age.size
    cell = np.empty(n, np.int64)
    n_in = np.zeros(n_cells, np.int64)
    for i in range(n):
        if alive[i] and household_alive[household[i]]:
            c = sex[i] * n_age + min(age[i], n_age - 1)
            cell[i] = c
            n_in[c] += 1
        else:
            cell[i] = -1
    need = np.zeros(n_cells, np.int64)
    bound = np.zeros(n_cells)
    for c in range(n_cells):
        p = prevalence[c // n_age, c % n_age]
        need[c] = int(np.floor(p * n_in[c] + 0.5))
        if need[c] > 0:
            bound[c] = p + spread * np.sqrt(p * (1.0 - p) / n_in[c]) + 2.0 / n_in[c]
    grade = np.zeros(n, np.int8)
    for _attempt in range(2):
        # attempt 0: persons below their cell's bound; attempt 1: cells short of that
        n_low = np.zeros(n_cells + 1, np.int64)
        cand = np.empty(n, np.int64)
        cand_v = np.empty(n)
        k = 0
        for i in range(n):
            c = cell[i]
            if c < 0 or need[c] == 0:
                continue
            v = uniform_from(keyed_base(key, 0, pid[i]), SLOT_FRAILTY)
            if v < bound[c]:
                cand[k] = i
                cand_v[k] = v
                n_low[c + 1] += 1
                k += 1
        start = np.zeros(n_cells + 1, np.int64)
        for c in range(n_cells):
            start[c + 1] = start[c] + n_low[c + 1]
        fill = start[:-1].copy()
        members = np.empty(k, np.int64)
        mv = np.empty(k)
        for j in range(k):
            c = cell[cand[j]]
            members[fill[c]] = cand[j]
            mv[fill[c]] = cand_v[j]
            fill[c] += 1
        short = False
        for c in range(n_cells):
            m = need[c]
            if m == 0:
                continue
            lo = start[c]
            n_c = start[c + 1] - lo
            if n_c < m:
                short = True
                bound[c] = 2.0  # next attempt: every person of the cell
                continue
            order = np.argsort(mv[lo:lo + n_c])
            for r in range(m):
                i = members[lo + order[r]]
                s = (r + uniform_from(keyed_base(key, 0, pid[i]), SLOT_RANK)) / m
                g = 5
                for j in range(cut.size):
                    if s < cut[j]:
                        break
                    g -= 1
                grade[i] = max(g, 1)
            need[c] = 0  # done
        if not short:
            break
    return grade


def _population(seed: int, n: int):
    rng = np.random.default_rng(seed)
    age = rng.integers(0, 105, n).astype(np.int16)
    sex = rng.integers(0, 2, n).astype(np.int8)
    pid = rng.permutation(4 * n)[:n].astype(np.uint64)
    alive = rng.random(n) < 0.97
    household = rng.integers(0, max(n // 2, 1), n).astype(np.int32)
    household_alive = rng.random(max(n // 2, 1)) < 0.98
    ages = np.arange(101)
    prevalence = np.stack([np.clip(0.002 * np.exp(0.075 * ages), 0, 0.9)] * 2)
    cut = np.array([0.04, 0.16, 0.42, 0.78, 1.0])
    return age, sex, pid, alive, household, household_alive, prevalence, cut


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("spread", [4.0, 0.0])
@pytest.mark.parametrize(("seed", "n"), [(1, 40_000), (2, 40_000), (3, 0), (4, 150)])
def test_grades_in_threads_equal_the_single_pass(seed, n, spread, n_threads, monkeypatch):
    """Also with ``spread = 0``, where most cells are short of candidates in the first
    attempt and take all their persons in the second; and with no persons or a few."""
    age, sex, pid, alive, household, household_alive, prevalence, cut = _population(seed, n)
    key = np.uint64(1234 + seed)
    expected = _reference_grades(age, sex, pid, alive, household, household_alive, key,
                                 prevalence, cut, spread)
    monkeypatch.setattr(threads, "MIN_CHUNK", 64)
    threads.set_threads(n_threads)
    try:
        got = care_need._grades(age, sex, pid, alive, household, household_alive, key,
                                prevalence, cut, spread)
    finally:
        threads.set_threads(1)
    np.testing.assert_array_equal(got, expected)
    if n >= 40_000:
        assert (got > 0).sum() > 1000 and set(np.unique(got)) == {0, 1, 2, 3, 4, 5}


@njit(cache=False)
def _reference_bisection(logit, cell, want, n_cells):
    """Logistic probabilities ``1 / (1 + exp(-(logit + shift[cell])))``, one shift per cell by
    60 bisection steps on [-30, 30] so that their sum per cell is ``want`` (as the arrays did)."""
    lo, hi = np.full(n_cells, -30.0), np.full(n_cells, 30.0)
    mid, got = np.empty(n_cells), np.empty(n_cells)
    for _ in range(60):
        for j in range(n_cells):
            mid[j] = 0.5 * (lo[j] + hi[j])
            got[j] = 0.0
        for i in range(cell.size):
            got[cell[i]] += 1.0 / (1.0 + np.exp(-(logit[i] + mid[cell[i]])))
        for j in range(n_cells):
            lo[j], hi[j] = (mid[j], hi[j]) if got[j] < want[j] else (lo[j], mid[j])
    out = np.empty(cell.size)
    for j in range(n_cells):
        mid[j] = 0.5 * (lo[j] + hi[j])
    for i in range(cell.size):
        out[i] = 1.0 / (1.0 + np.exp(-(logit[i] + mid[cell[i]])))
    return out


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_tilt_in_threads_equals_the_single_pass(seed, n_threads, monkeypatch):
    rng = np.random.default_rng(seed)
    n, n_cells = 30_000, 120
    # uneven cells (geometric sizes), the first one empty
    cell = np.minimum(rng.geometric(0.03, n), n_cells - 1).astype(np.int64)
    p = rng.uniform(0.0, 0.3, n)
    odds = np.exp(rng.normal(0.0, 0.8, n))
    among = rng.random(n) < 0.7
    rows = np.flatnonzero(among)
    c = cell[rows]
    want = np.bincount(c, weights=p[rows], minlength=n_cells)
    base = np.clip(p[rows], 1e-12, 1.0 - 1e-12)
    logit = np.log(base / (1.0 - base)) + np.log(odds[rows])
    expected = _reference_bisection(logit, c, want, n_cells)
    monkeypatch.setattr(threads, "MIN_CHUNK", 64)
    threads.set_threads(n_threads)
    try:
        got = tilt._tilted_bisection(logit, c, want, n_cells)
        whole = tilt.tilted(p, odds, among, cell, n_cells)
    finally:
        threads.set_threads(1)
    np.testing.assert_array_equal(got, expected)
    assert np.bincount(c, minlength=n_cells)[0] == 0 and len(np.unique(c)) > 30
    # the tilted probabilities keep each cell's sum over ``among``
    np.testing.assert_allclose(np.bincount(c, weights=whole[rows], minlength=n_cells), want,
                               rtol=1e-9, atol=1e-9)
