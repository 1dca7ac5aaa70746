"""Probabilities tilted by odds, kept on their mean per cell (the employment step's risk
gradient at the start status: :func:`sim.model.processes.employment.start_status`)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model import threads


def tilted(p: np.ndarray, odds: np.ndarray, among: np.ndarray, cell: np.ndarray,
            n_cells: int) -> np.ndarray:
    """Probabilities ``p`` with their odds scaled by ``odds``, and by one factor per cell
    (found by bisection on its log) so that their mean over ``among`` in each cell is that of
    ``p``."""
    out = p.copy()
    rows = np.flatnonzero(among)
    if rows.size == 0:
        return out
    c = cell[rows]
    want = np.bincount(c, weights=p[rows], minlength=n_cells)
    count = np.bincount(c, minlength=n_cells)
    base = np.clip(p[rows], 1e-12, 1.0 - 1e-12)
    logit = np.log(base / (1.0 - base)) + np.log(odds[rows])
    tilted = _tilted_bisection(logit, c, want, n_cells)
    out[rows] = np.where((p[rows] > 0.0) & (p[rows] < 1.0) & (count[c] > 0), tilted, p[rows])
    return out


def _tilted_bisection(logit: np.ndarray, cell: np.ndarray, want: np.ndarray,
                      n_cells: int) -> np.ndarray:
    """Logistic probabilities ``1 / (1 + exp(-(logit + shift[cell])))``, one shift per cell by
    60 bisection steps on [-30, 30] so that their sum per cell is ``want`` (as the arrays did).
    Each cell's rows in their order, cells in ranges in threads: the sums are those of one
    pass."""
    order = np.argsort(cell, kind="stable")
    start = np.zeros(n_cells + 1, np.int64)
    np.cumsum(np.bincount(cell, minlength=n_cells), out=start[1:])
    by_cell = np.empty(cell.size)
    threads.per_chunk(_bisect_cells, threads.balanced(start), np.ascontiguousarray(logit[order]),
                      start, want.astype(np.float64), by_cell)
    out = np.empty(cell.size)
    out[order] = by_cell
    return out


@njit(cache=True, nogil=True)
def _bisect_cells(k, lo, hi, logit, start, want, out):
    """Cells ``lo..hi-1`` of :func:`_tilted_bisection`; ``logit`` and ``out`` by cell."""
    for j in range(lo, hi):
        first, last = start[j], start[j + 1]
        if last == first:
            continue
        low, high = -30.0, 30.0
        for _ in range(60):
            mid = 0.5 * (low + high)
            got = 0.0
            for i in range(first, last):
                got += 1.0 / (1.0 + np.exp(-(logit[i] + mid)))
            if got < want[j]:
                low = mid
            else:
                high = mid
        mid = 0.5 * (low + high)
        for i in range(first, last):
            out[i] = 1.0 / (1.0 + np.exp(-(logit[i] + mid)))
