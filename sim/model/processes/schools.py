"""Schools: pupils assigned by catchment and capacity; the schools' social composition.

Each year every child of school age attends a school of its level (Grundschule: ages 6-9,
secondary: 10-18 by default): children take, one at a time in a keyed random order, the
nearest school (airline) among the ``K`` nearest with a free place, else the nearest school
with a free place anywhere, else the nearest school (over capacity). Composition is the share
of pupils from households at risk of poverty. A school's **relative disadvantage**, as
families perceive it, is ``(poor share − city share) / (1 − city share)`` clipped to [0, 1],
less the quality added by school investment (``levers.school_investment``).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.spatial import cKDTree

NEAREST = 12


def nearest_schools(x: np.ndarray, y: np.ndarray, school_cells: np.ndarray,
                    k: int = NEAREST) -> np.ndarray:
    """Per cell the ``k`` nearest schools (rows into ``school_cells``), nearest first."""
    k = min(k, school_cells.size)
    xy = np.c_[x, y]
    _, idx = cKDTree(xy[school_cells]).query(xy, k=k)
    return np.asarray(idx, np.int64).reshape(x.size, k)


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


def disadvantage(poor_share: np.ndarray, city_share: float, quality: np.ndarray) -> np.ndarray:
    """Relative disadvantage of each school as families perceive it (0 = none)."""
    if city_share >= 1.0:
        return np.zeros_like(poor_share)
    rel = np.clip((poor_share - city_share) / (1.0 - city_share), 0.0, 1.0)
    return np.clip(rel - quality, 0.0, 1.0)
