"""Stable argsorts of floating-point keys: faster than ``np.argsort(key, kind="stable")``
(numpy's merge sort on float64), and always in its order.

- :func:`stable_order`, for keys in [0, 1) such as keyed uniforms: in linear time, by buckets.
- :func:`argsort_stable`, for any keys (normal draws, scores with a random term). When no two
  keys are equal every correct sort gives the same order, so it sorts with numpy's default
  introsort (vectorised on x86-64), checks the sorted keys for equal neighbours, and only then
  sorts again stably. Random keys almost never tie, so the result is the stable order at the
  unstable sort's speed; keys with ties cost one sort more than the stable sort alone.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def argsort_stable(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` of a 1-d float array, identical in every case (equal
    keys, 0.0 and -0.0, NaN: the stable sort decides)."""
    key = np.asarray(key)
    order = np.argsort(key)
    if key.size > 1:
        s = key[order]
        if np.isnan(s[-1]) or bool(np.any(s[1:] == s[:-1])):  # NaN sorts last
            return np.argsort(key, kind="stable")
    return order


@njit(cache=True)
def stable_order(p):
    """``np.argsort(p, kind="stable")`` for numbers spread over [0, 1) such as keyed uniforms,
    in linear time: counted into ``p.size`` buckets by value, then sorted within each."""
    n = p.size
    nb = max(n, 1)
    start = np.zeros(nb + 1, np.int64)
    bucket = np.empty(n, np.int64)
    for i in range(n):
        k = min(max(int(p[i] * nb), 0), nb - 1)
        bucket[i] = k
        start[k + 1] += 1
    for k in range(nb):
        start[k + 1] += start[k]
    pos = start[:-1].copy()
    out = np.empty(n, np.int64)
    for i in range(n):
        out[pos[bucket[i]]] = i
        pos[bucket[i]] += 1
    for k in range(nb):  # insertion sort, equal numbers kept in row order
        lo = start[k]
        for j in range(lo + 1, start[k + 1]):
            v = out[j]
            m = j - 1
            while m >= lo and p[out[m]] > p[v]:
                out[m + 1] = out[m]
                m -= 1
            out[m + 1] = v
    return out
