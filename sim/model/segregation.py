"""Residential segregation indices over areal units and grid cells.

Pure numpy functions, O(units x groups), meant to be called every simulated year. Counts are
per areal unit (a cell, a block or a quartier). The aspatial indices reproduce the definitions
of PySAL ``segregation`` 2.5 (see each docstring for where this module deliberately differs),
and :func:`morans_i` reproduces ``esda.Moran`` with queen contiguity on a lattice.

Conventions shared by all functions:

* Units with zero total population are dropped before an index is computed; they change
  nothing.
* An index that is undefined for the data returns ``nan`` instead of raising: e.g. the group
  (or, for dissimilarity, the rest of the population) is empty, fewer than two groups are
  present, or fewer than two units are populated for the evenness indices.
* Invalid input (negative or non-finite counts, a group larger than the total, mismatched
  shapes) raises :class:`ValueError`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

__all__ = [
    "counts_by_unit",
    "dissimilarity",
    "exposure",
    "isolation",
    "location_quotients",
    "morans_i",
    "multigroup_dissimilarity",
    "origin_over_squares",
    "over_squares",
    "square_indices",
    "squares",
    "theil_h",
]


# ----------------------------------------------------------------------------- validation


def _group_total(group, total) -> tuple[np.ndarray, np.ndarray]:
    g = np.asarray(group, dtype=np.float64)
    t = np.asarray(total, dtype=np.float64)
    if g.ndim != 1 or t.shape != g.shape:
        raise ValueError(f"group and total must be 1-D of equal length, got {g.shape}, {t.shape}")
    if not (np.isfinite(g).all() and np.isfinite(t).all()):
        raise ValueError("counts must be finite")
    if (g < 0).any():
        raise ValueError("counts must be non-negative")
    if (g > t).any():
        raise ValueError("a unit's group count exceeds its total")
    return g, t


def _table(counts) -> np.ndarray:
    x = np.asarray(counts, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"counts must be 2-D (units, groups), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("counts must be finite")
    if (x < 0).any():
        raise ValueError("counts must be non-negative")
    return x


def _margins(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit totals and group totals (matrix-vector products: much faster than sum(axis=1))."""
    return x @ np.ones(x.shape[1]), np.ones(x.shape[0]) @ x


def _defined(t: np.ndarray, big_x: np.ndarray) -> bool:
    """At least two populated units and two non-empty groups."""
    return np.count_nonzero(t) >= 2 and np.count_nonzero(big_x) >= 2


# ----------------------------------------------------------------------------- helpers


def counts_by_unit(
    unit: np.ndarray,
    group: np.ndarray,
    n_units: int,
    n_groups: int,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Cross-tabulate individuals into a (units, groups) count table.

    Args:
        unit: Integer unit index of each individual, in ``[0, n_units)``.
        group: Integer group index of each individual, in ``[0, n_groups)``.
        n_units: Number of units (rows of the result).
        n_groups: Number of groups (columns of the result).
        weights: Optional weight of each individual (e.g. household size); counts are then
            sums of weights.

    Returns:
        Array of shape ``(n_units, n_groups)``: int64 counts, or float64 sums of weights.

    Raises:
        ValueError: On mismatched lengths or indices out of range.
    """
    u = np.asarray(unit)
    g = np.asarray(group)
    if u.ndim != 1 or g.shape != u.shape:
        raise ValueError("unit and group must be 1-D of equal length")
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != u.shape:
            raise ValueError("weights must have the same length as unit")
    if u.size == 0:
        dtype = np.int64 if weights is None else np.float64
        return np.zeros((n_units, n_groups), dtype=dtype)
    if not (np.issubdtype(u.dtype, np.integer) and np.issubdtype(g.dtype, np.integer)):
        raise ValueError("unit and group must be integer arrays")
    if u.min() < 0 or u.max() >= n_units or g.min() < 0 or g.max() >= n_groups:
        raise ValueError("unit or group index out of range")
    flat = u.astype(np.int64) * n_groups + g
    out = np.bincount(flat, weights=weights, minlength=n_units * n_groups)
    return out.reshape(n_units, n_groups)


# ----------------------------------------------------------------------------- evenness


def dissimilarity(group: np.ndarray, total: np.ndarray) -> float:
    """Index of dissimilarity D of a group versus the rest of the population.

    .. math::

        D = \\tfrac12 \\sum_i \\left| \\frac{g_i}{G} - \\frac{t_i - g_i}{T - G} \\right|

    with ``g_i``/``t_i`` the group/total count of unit ``i`` and ``G``/``T`` their sums. D is
    the share of either population that would have to move to another unit for every unit to
    have the citywide composition: 0 is perfect evenness, 1 complete separation. It equals
    PySAL's ``singlegroup.Dissim`` (written there as
    ``sum t_i |p_i - P| / (2 T P (1 - P))``).

    Reference: Duncan, O. D. & Duncan, B. (1955). A methodological analysis of segregation
    indexes. *American Sociological Review* 20(2), 210-217.

    Args:
        group: Group count per unit.
        total: Total population per unit (``total >= group``).

    Returns:
        D in ``[0, 1]``; ``nan`` if the group or the rest is empty, or fewer than two units
        are populated.
    """
    g, t = _group_total(group, total)
    big_g = g.sum()
    big_r = t.sum() - big_g
    if big_g <= 0 or big_r <= 0 or np.count_nonzero(t) < 2:
        return float("nan")
    return float(0.5 * np.abs(g / big_g - (t - g) / big_r).sum())


def multigroup_dissimilarity(counts: np.ndarray) -> float:
    """Sakoda's generalised (multigroup) index of dissimilarity.

    .. math::

        D = \\frac{1}{2 T I} \\sum_i \\sum_m t_i \\, |p_{im} - P_m|,
        \\qquad I = \\sum_m P_m (1 - P_m)

    with ``p_im = x_im / t_i`` the share of group ``m`` in unit ``i``, ``P_m = X_m / T`` its
    citywide share and ``I`` the Simpson interaction (Gini-Simpson diversity) of the city. For
    two groups it equals :func:`dissimilarity`. Same as PySAL's ``multigroup.MultiDissim``;
    a group with no members contributes nothing, so it does not matter whether it is present.

    Reference: Sakoda, J. M. (1981). A generalized index of dissimilarity. *Demography* 18(2),
    245-250.

    Args:
        counts: Array of shape ``(units, groups)`` of counts.

    Returns:
        D in ``[0, 1]``; ``nan`` if fewer than two groups are present or fewer than two units
        are populated.
    """
    x = _table(counts)
    t, big_x = _margins(x)
    if not _defined(t, big_x):
        return float("nan")
    big_t = big_x.sum()
    p = big_x / big_t
    simpson = (p * (1.0 - p)).sum()
    dev = np.abs(x - np.outer(t, p)).sum()  # empty units and groups add 0
    return float(dev / (2.0 * big_t * simpson))


def theil_h(counts: np.ndarray) -> float:
    """Theil's information theory index H (multigroup entropy index).

    .. math::

        H = \\frac{1}{T E} \\sum_i \\sum_m t_i \\, p_{im} \\ln\\frac{p_{im}}{P_m}
          = 1 - \\sum_i \\frac{t_i E_i}{T E},
        \\qquad E = -\\sum_m P_m \\ln P_m

    ``E_i`` is the entropy of unit ``i``'s composition and ``0 ln 0 = 0``. H is the share of
    the city's diversity that is not found within units: 0 when every unit has the citywide
    composition, 1 when every unit holds one group only. The log base cancels; natural logs are
    used, as in PySAL. Equals PySAL's ``multigroup.MultiInfoTheory`` and, for a two-group table
    ``[g, t - g]``, ``singlegroup.Entropy``.

    Difference from PySAL: a group with no members is dropped here (its terms are all
    ``0 ln 0 = 0``), whereas ``MultiInfoTheory`` returns ``nan`` for such a table.

    References: Theil, H. & Finizza, A. J. (1971). A note on the measurement of racial
    integration of schools by means of informational concepts. *Journal of Mathematical
    Sociology* 1(2), 187-193. Reardon, S. F. & Firebaugh, G. (2002). Measures of multigroup
    segregation. *Sociological Methodology* 32, 33-67.

    Args:
        counts: Array of shape ``(units, groups)`` of counts.

    Returns:
        H in ``[0, 1]``; ``nan`` if fewer than two groups are present or fewer than two units
        are populated.
    """
    x = _table(counts)
    t, big_x = _margins(x)
    if not _defined(t, big_x):
        return float("nan")
    if not (big_x > 0).all():
        x, big_x = x[:, big_x > 0], big_x[big_x > 0]
    big_t = big_x.sum()
    p = big_x / big_t
    entropy = -(p * np.log(p)).sum()
    # p_im / P_m where x_im > 0, else 1 (0 ln 0 = 0); empty units have x = 0
    ratio = np.divide(x, np.outer(t, p), out=np.ones_like(x), where=x > 0)
    return float((x * np.log(ratio)).sum() / (big_t * entropy))


# ----------------------------------------------------------------------------- exposure


def isolation(group: np.ndarray, total: np.ndarray) -> float:
    """Isolation index xPx: the group share in the unit of the average group member.

    .. math::

        {}_xP_x = \\sum_i \\frac{g_i}{G} \\cdot \\frac{g_i}{t_i}

    It ranges from ``P = G / T`` (even spread, also the value for a single unit) to 1. Same as
    PySAL's ``singlegroup.Isolation``; ``isolation + exposure == 1``.

    Difference from PySAL: an empty group gives ``nan`` here, 0 in PySAL.

    Reference: Massey, D. S. & Denton, N. A. (1988). The dimensions of residential
    segregation. *Social Forces* 67(2), 281-315.

    Args:
        group: Group count per unit.
        total: Total population per unit (``total >= group``).

    Returns:
        xPx in ``[0, 1]``; ``nan`` if the group is empty.
    """
    g, t = _group_total(group, total)
    big_g = g.sum()
    if big_g <= 0:
        return float("nan")
    share = np.divide(g, t, out=np.zeros_like(g), where=t > 0)
    return float((g * share).sum() / big_g)


def exposure(group: np.ndarray, total: np.ndarray) -> float:
    """Exposure (interaction) index xPy of the group to the rest of the population.

    .. math::

        {}_xP_y = \\sum_i \\frac{g_i}{G} \\cdot \\frac{t_i - g_i}{t_i}

    The share of non-members in the unit of the average group member. Same as PySAL's
    ``singlegroup.Interaction``; equals ``1 - isolation(group, total)``.

    Difference from PySAL: an empty group gives ``nan`` here, 0 in PySAL.

    Reference: Massey, D. S. & Denton, N. A. (1988). The dimensions of residential
    segregation. *Social Forces* 67(2), 281-315.

    Args:
        group: Group count per unit.
        total: Total population per unit (``total >= group``).

    Returns:
        xPy in ``[0, 1]``; ``nan`` if the group is empty.
    """
    g, t = _group_total(group, total)
    big_g = g.sum()
    if big_g <= 0:
        return float("nan")
    share = np.divide(t - g, t, out=np.zeros_like(g), where=t > 0)
    return float((g * share).sum() / big_g)


def location_quotients(counts: np.ndarray) -> np.ndarray:
    """Location quotient of every group in every unit.

    .. math::

        LQ_{im} = \\frac{x_{im} / t_i}{X_m / T}

    Above 1 the group is over-represented in the unit relative to the city. Same as PySAL's
    ``local.MultiLocationQuotient``.

    Reference: Isard, W. (1960). *Methods of Regional Analysis*. MIT Press.

    Args:
        counts: Array of shape ``(units, groups)`` of counts.

    Returns:
        Array of the same shape; ``nan`` in the rows of unpopulated units and the columns of
        empty groups (the shape is kept so rows still line up with units).
    """
    x = _table(counts)
    t, big_x = _margins(x)
    big_t = big_x.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = x * (big_t / big_x)
        lq /= t[:, None]
    lq[t <= 0, :] = np.nan
    lq[:, big_x <= 0] = np.nan
    return lq


# ----------------------------------------------------------------------------- spatial


def _neighbour_sum(padded: np.ndarray) -> np.ndarray:
    """Sum over the 8 queen neighbours; ``padded`` has a one-cell zero border."""
    out = padded[:-2, :-2].copy()
    out += padded[:-2, 1:-1]
    out += padded[:-2, 2:]
    out += padded[1:-1, :-2]
    out += padded[1:-1, 2:]
    out += padded[2:, :-2]
    out += padded[2:, 1:-1]
    out += padded[2:, 2:]
    return out


def _grid(a, width: int, height: int, name: str, dtype) -> np.ndarray:
    arr = np.asarray(a, dtype=dtype)
    if arr.shape not in ((width * height,), (height, width)):
        raise ValueError(
            f"{name} must have shape ({width * height},) or ({height}, {width}), got {arr.shape}"
        )
    return arr.reshape(height, width)


def morans_i(
    values: np.ndarray,
    width: int,
    height: int,
    mask: np.ndarray | None = None,
) -> float:
    """Global Moran's I of a value per grid cell, queen contiguity, row-standardised weights.

    .. math::

        I = \\frac{n}{S_0} \\cdot \\frac{\\sum_i z_i \\sum_j w_{ij} z_j}{\\sum_i z_i^2},
        \\qquad w_{ij} = \\frac{c_{ij}}{\\sum_k c_{ik}}

    over the ``n`` cells where ``mask`` is true, with ``z_i = y_i - \\bar y`` (mean over those
    cells), ``c_ij = 1`` when cells ``i != j`` share an edge or a corner and both are in the
    mask, and ``S_0 = \\sum_{ij} w_ij``. This is ``esda.Moran(y, w)`` with its default
    ``transformation="r"`` and ``w = libpysal.weights.lat2W(height, width, rook=False)``,
    restricted to the mask with ``libpysal.weights.w_subset``: cells are numbered row-major
    (``cell = row * width + col``) in both.

    Islands (masked cells with no masked neighbour) are treated as esda treats them: their row
    of ``w`` is all zeros, so they count in ``n``, the mean and ``sum z_i^2`` but add nothing
    to the cross-product, and ``S_0`` is the number of non-island cells.

    Neighbour sums use eight shifted views of a zero-padded grid, so the cost is a few passes
    over the grid and no weights matrix is built.

    Reference: Moran, P. A. P. (1950). Notes on continuous stochastic phenomena.
    *Biometrika* 37(1/2), 17-23.

    Args:
        values: Value per cell, shape ``(width * height,)`` or ``(height, width)``. Cells
            outside the mask are ignored and may be ``nan``.
        width: Number of grid columns.
        height: Number of grid rows.
        mask: Optional boolean per cell (same shapes as ``values``); default all cells.

    Returns:
        Moran's I; ``nan`` if fewer than two cells are in the mask, the values are constant
        over them, or every one of them is an island.

    Raises:
        ValueError: On wrong shapes or non-finite values inside the mask.
    """
    y = _grid(values, width, height, "values", np.float64)
    if mask is None:
        m = np.ones((height, width), dtype=bool)
        ym = y.ravel()
    else:
        m = _grid(mask, width, height, "mask", bool)
        ym = y[m]
    if not np.isfinite(ym).all():
        raise ValueError("values must be finite inside the mask")
    n = ym.size
    if n < 2 or ym.min() == ym.max():
        return float("nan")
    zm = ym - ym.mean()

    z = np.zeros((height + 2, width + 2))
    z[1:-1, 1:-1][m] = zm
    inside = np.zeros((height + 2, width + 2), dtype=np.int8)
    inside[1:-1, 1:-1] = m

    n_nb = _neighbour_sum(inside)  # masked neighbours per cell
    n_nb[~m] = 0
    s0 = np.count_nonzero(n_nb)
    if s0 == 0:
        return float("nan")
    # an island's neighbour sum is exactly 0, so dividing it by 1 instead of 0 is harmless
    lag = _neighbour_sum(z)
    lag /= np.maximum(n_nb, 1)
    cross = (z[1:-1, 1:-1] * lag).sum()
    return float(n / s0 * cross / (zm @ zm))


# ----------------------------------------------------------------------------- 1 km squares


@lru_cache(maxsize=8)
def squares(width: int, height: int, cell_size_m: float, origin_x: float, origin_y: float,
            square_m: float = 1000.0) -> tuple[np.ndarray, int, int]:
    """The square of ``square_m`` metres holding each grid cell's centre, aligned to
    multiples of ``square_m`` of the city's coordinates: for a city on the census grid
    (EPSG:3035) the census 1 km cells (``floor(x / 1000)``, ``floor(y / 1000)`` of the cell
    centre); the synthetic city's grid starts at (0, 0), so its squares are blocks of 10 × 10
    of its 100 m cells counted from the grid origin. Returns the (read-only, cached) square of
    every cell, row-major over a lattice covering the grid (``square = row * n_cols + col``,
    rows from the south, as the cells), and the lattice's columns and rows."""
    if width * height == 0:
        return np.zeros(0, np.int64), 0, 0
    sx = np.floor((origin_x + (np.arange(width) + 0.5) * cell_size_m) / square_m)
    sy = np.floor((origin_y + (np.arange(height) + 0.5) * cell_size_m) / square_m)
    sx = (sx - sx.min()).astype(np.int64)
    sy = (sy - sy.min()).astype(np.int64)
    n_cols = int(sx.max()) + 1
    square = (sy[:, None] * n_cols + sx[None, :]).ravel()
    square.flags.writeable = False
    return square, n_cols, int(sy.max()) + 1


def over_squares(group: np.ndarray, total: np.ndarray, square: np.ndarray, n_cols: int,
                 n_rows: int) -> tuple[float, float]:
    """D and Moran's I of a group over squares (:func:`squares`) from counts per cell: D is
    :func:`dissimilarity` over the squares, Moran's I :func:`morans_i` of the group's share
    over the lattice of squares, masked to the populated ones (queen, row-standardised)."""
    n = n_cols * n_rows
    return square_indices(np.bincount(square, weights=group, minlength=n),
                          np.bincount(square, weights=total, minlength=n), n_cols, n_rows)


def origin_over_squares(table: np.ndarray, square: np.ndarray, n_cols: int,
                        n_rows: int) -> tuple[float, float]:
    """:func:`over_squares` of persons with a migration background vs all, from the model's
    cell table (poor, middle, high, background, 65+), in one compiled pass over the cells."""
    group, total = _origin_by_square(np.ascontiguousarray(table, dtype=np.int64), square,
                                     n_cols * n_rows)
    return square_indices(group, total, n_cols, n_rows)


@njit(cache=True)
def _origin_by_square(table, square, n):
    group = np.zeros(n)
    total = np.zeros(n)
    for c in range(table.shape[0]):
        s = square[c]
        total[s] += table[c, 0] + table[c, 1] + table[c, 2]
        group[s] += table[c, 3]
    return group, total


def square_indices(group: np.ndarray, total: np.ndarray, n_cols: int,
                   n_rows: int) -> tuple[float, float]:
    """D and Moran's I of the group's share from counts per square (row-major lattice)."""
    share = np.divide(group, total, out=np.zeros(total.size), where=total > 0)
    return dissimilarity(group, total), morans_i(share, n_cols, n_rows, mask=total > 0)


# ----------------------------------------------------------------------------- by area


@njit(cache=True, error_model="numpy")
def _by_area(x, area, n_areas, whole):
    """Compiled :func:`by_area`: per-area sums in a first pass over the units, the indices'
    unit terms in a second (sums in unit order, as ``np.bincount`` adds them). With ``whole``
    the last area holds every unit besides its own area's."""
    nan = np.nan
    populated = np.zeros(n_areas)
    big_t = np.zeros(n_areas)
    big = np.zeros((n_areas, 5))  # poor, middle, high, background, 65+
    last = n_areas - 1 if whole else -1
    for i in range(x.shape[0]):
        t = x[i, 0] + x[i, 1] + x[i, 2]
        for r in range(2):
            a = area[i] if r == 0 else last
            if a < 0:
                continue
            if t > 0:
                populated[a] += 1.0
            big_t[a] += t
            for k in range(5):
                big[a, k] += x[i, k]
    p = np.zeros((n_areas, 3))
    for a in range(n_areas):
        for m in range(3):
            p[a, m] = big[a, m] / big_t[a] if big_t[a] != 0 else nan
    # two-group sums for poor (0), background (3), 65+ (4): dissimilarity, isolation, exposure
    dis = np.zeros((n_areas, 3))
    iso = np.zeros((n_areas, 2))
    expo = np.zeros(n_areas)
    dev = np.zeros(n_areas)
    theil = np.zeros(n_areas)
    for i in range(x.shape[0]):
        t = x[i, 0] + x[i, 1] + x[i, 2]
        for r in range(2):
            a = area[i] if r == 0 else last
            if a < 0:
                continue
            for j in range(3):
                k = (0, 3, 4)[j]
                g = x[i, k]
                big_g = big[a, k]
                big_r = big_t[a] - big_g
                dis[a, j] += abs(g / big_g - (t - g) / big_r)
                if j < 2:
                    share = g / t if t > 0 else 0.0
                    iso[a, j] += g / big_g * share
                    if j == 0:
                        expo[a] += g / big_g * (1.0 - share) * (1.0 if t > 0 else 0.0)
            s = 0.0
            lr = 0.0
            for m in range(3):
                e = t * p[a, m]
                s += abs(x[i, m] - e)
                ratio = x[i, m] / e if x[i, m] > 0 else 1.0
                lr += x[i, m] * np.log(ratio)
            dev[a] += s
            theil[a] += lr
    out = np.full((n_areas, 8), nan)
    for a in range(n_areas):
        for j in range(3):
            big_g = big[a, (0, 3, 4)[j]]
            if big_g > 0 and big_t[a] - big_g > 0 and populated[a] >= 2:
                out[a, j] = 0.5 * dis[a, j]
        if big[a, 0] > 0:
            out[a, 3] = iso[a, 0]
            out[a, 4] = expo[a]
        if big[a, 3] > 0:
            out[a, 5] = iso[a, 1]
        present = 0
        simpson = 0.0
        entropy = 0.0
        for m in range(3):
            if big[a, m] > 0:
                present += 1
            simpson += p[a, m] * (1.0 - p[a, m])
            if p[a, m] > 0:
                entropy -= p[a, m] * np.log(p[a, m])
        if present >= 2 and populated[a] >= 2:
            out[a, 6] = dev[a] / (2.0 * big_t[a] * simpson)
            out[a, 7] = theil[a] / (big_t[a] * entropy)
    return out


_BY_AREA = ("dissimilarity_income", "dissimilarity_origin", "dissimilarity_age65",
            "isolation_poor", "exposure_poor", "isolation_origin",
            "multigroup_dissimilarity_income", "theil_h_income")


def by_area(counts: np.ndarray, area: np.ndarray, n_areas: int,
            whole: bool = False) -> dict[str, np.ndarray]:
    """The indices within each of several areas at once (e.g. over the cells of each quartier).

    ``counts`` has shape ``(units, 5)``: persons at risk of poverty, middle, high income, with
    migration background, aged 65+ (the first three partition the population). ``area`` gives
    each unit's area (negative: none). Returns, per index name, an array of ``n_areas`` values
    equal to calling the single-area function on that area's units (tested), in one compiled
    pass over the units. With ``whole``, one more value (index ``n_areas``) covers all units
    (e.g. the city).
    """
    x = _table(counts)
    n_out = int(n_areas) + 1 if whole else int(n_areas)
    with np.errstate(all="ignore"):
        out = _by_area(np.ascontiguousarray(x), np.asarray(area, np.int64), n_out, bool(whole))
    return {name: out[:, j].copy() for j, name in enumerate(_BY_AREA)}
