"""Why out-migrants left: the counterfactual causes of a household's search.

A searching household's cause is the part of its dissatisfaction without which it would not
have searched this year (see :mod:`sim.model.mobility`, whose module docstring gives the rule).
:func:`typical_parts` gives the city's typical value of each part, :func:`counterfactual_causes`
the weights of the causes per household.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model import threads
from sim.model.rng import keyed_uniform
from sim.scenario.parameters import MobilityParameters

PART_CAUSES = ("rent", "crowding", "neighbourhood", "health", "school", "commuting")
"""The causes named after the dissatisfaction parts, in the order of the parts' columns."""


def typical_parts(parts: np.ndarray, active: np.ndarray) -> np.ndarray:
    """The city's typical value of each dissatisfaction part this year: its median over the
    ``active`` households (housed, not in a nursing home; zeros when there are none).

    Most parts are 0 for most households, and then so is the median: one pass counts the
    negative, zero and positive values, and where the zeros are no majority only the order
    statistics that make the median are selected, among the positive (or negative) values;
    ``np.median`` of those gives exactly ``np.median`` of the column."""
    parts = np.ascontiguousarray(parts)
    m = parts.shape[1]
    ranges = threads.chunks(parts.shape[0])
    counts = np.zeros((len(ranges), 4, m), np.int64)  # per chunk: active, negative, zero, > 0
    threads.per_chunk(_sign_counts, ranges, parts, active, counts)
    n_active, negative, zeros, positive = counts.sum(axis=0)
    n_active = int(n_active[0]) if m else 0
    typical = np.zeros(m)
    for j in range(m):
        if n_active == 0 or (negative[j] == 0 and 2 * zeros[j] > n_active):
            continue
        if negative[j] + zeros[j] + positive[j] < n_active:  # NaN: as np.median does
            typical[j] = np.median(parts[active, j])
            continue
        middle = []
        for i in sorted({(n_active - 1) // 2, n_active // 2}):
            if i < negative[j]:
                values = _column_values(parts, active, j, -1)
                middle.append(np.partition(values, i)[i])
            elif i < negative[j] + zeros[j]:
                middle.append(parts.dtype.type(0))
            else:
                r = i - negative[j] - zeros[j]
                values = _column_values(parts, active, j, 1)
                middle.append(np.partition(values, r)[r])
        typical[j] = np.median(np.array(middle, parts.dtype))
    return typical


@njit(cache=True, nogil=True)
def _sign_counts(k, lo, hi, parts, active, counts):
    """For households ``lo..hi-1`` (chunk ``k``): per part, the active households, and their
    negative, zero and positive values (NaN is none of these)."""
    m = parts.shape[1]
    for h in range(lo, hi):
        if not active[h]:
            continue
        for j in range(m):
            v = parts[h, j]
            counts[k, 0, j] += 1
            counts[k, 1, j] += v < 0
            counts[k, 2, j] += v == 0
            counts[k, 3, j] += v > 0


@njit(cache=True)
def _column_values(parts, active, j, sign):
    """The active households' values of part ``j`` that are positive (``sign`` 1) or
    negative (-1)."""
    out = np.empty(parts.shape[0], parts.dtype)
    n = 0
    for h in range(parts.shape[0]):
        if active[h]:
            v = parts[h, j]
            if (sign > 0 and v > 0) or (sign < 0 and v < 0):
                out[n] = v
                n += 1
    return out[:n]


def counterfactual_causes(parts: np.ndarray, typical: np.ndarray, stage: np.ndarray,
                          event: np.ndarray, hid: np.ndarray, key: np.uint64, year: int,
                          mp: MobilityParameters) -> np.ndarray:
    """Why searching households searched: one row per household, one column per part
    (:data:`PART_CAUSES`) and a last one for ``other``; each row sums to 1.

    A part is decisive when the household, with that part set to ``typical`` and everything
    else (its keyed number of slot 0, its life event) unchanged, would not have searched (see
    :func:`movers`). Parts at or below the typical value are never decisive. The decisive
    parts share the household equally; without any, the row is all ``other``: it would have
    searched anyway (base rate, life event, or no single part enough).
    """
    base = np.array([mp.move_rate_young, mp.move_rate_family, mp.move_rate_middle,
                     mp.move_rate_old])
    return _counterfactual_causes(
        np.ascontiguousarray(parts), np.ascontiguousarray(typical, np.float64), stage, event,
        hid, np.uint64(key), np.int64(year), base, mp.dissatisfaction_effect,
        mp.life_event_move_probability)


@njit(cache=True)
def _counterfactual_causes(parts, typical, stage, event, hid, key, year, base, effect,
                           life_event):
    n, m = parts.shape
    weights = np.zeros((n, m + 1))
    for h in range(n):
        u = keyed_uniform(key, year, hid[h], 0)
        decisive = 0
        for j in range(m):
            if not parts[h, j] > typical[j]:
                continue
            total = 0.0  # summed in the order of _movers, with part j replaced
            for k in range(m):
                total += typical[j] if k == j else parts[h, k]
            p = base[stage[h]] * np.exp(effect * total)
            if event[h]:
                p += life_event
            if u >= min(p, 1.0):
                weights[h, j] = 1.0
                decisive += 1
        if decisive == 0:
            weights[h, m] = 1.0
        else:
            for j in range(m):
                weights[h, j] /= decisive
    return weights
