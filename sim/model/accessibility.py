"""Travel times on the cell grid and capacity-constrained accessibility (2SFCA).

There is no street or timetable network for the synthetic city, so travel times come from a
documented distance model (:class:`TravelModel`): airline distance between cell centres times a
detour factor, divided by a speed per mode, plus waiting and access legs for public transport
(ÖPNV) and an overhead for the car. Travel times are static unless stops change; build the
model once and reuse the sparse time matrix from :meth:`TravelModel.within` every year.

Accessibility of a facility type (Hausärzte / MVZ, ambulante Pflegedienste, Schulen, employers)
is the two-step floating catchment area method (2SFCA, Luo & Wang 2003) with an optional
distance decay (enhanced 2SFCA, Luo & Qi 2009), see :func:`two_step_fca`. It is cheap to redo
each simulated year from the simulated demand (e.g. residents aged 65+ per cell).

Reach indicators (share of people within N minutes or 1,000 m of the nearest Hausarzt, the
BBSR measure: NRW 80 % within 1,000 m) come from :meth:`TravelModel.nearest_minutes`,
:meth:`TravelModel.nearest_distance_m` and :func:`share_within`.

All times are in minutes, distances in metres, cells numbered ``cell = row * width + col``
from the south-west corner (as in :class:`sim.state.city.City`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.spatial import cKDTree

MODES = ("walk", "pt", "car")
WALK, PT, CAR = range(3)  # indices into MODES
DECAYS = ("uniform", "gaussian")

# Candidate pairs handled per chunk in `TravelModel.within` (bounds peak memory).
_PAIRS_PER_CHUNK = 250_000


def cell_centres(width: int, height: int, cell_size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Centres of all cells in local metres from the south-west corner of the grid.

    Args:
        width: Grid width in cells.
        height: Grid height in cells.
        cell_size_m: Side of a cell in metres.

    Returns:
        ``(x, y)``, two float64 arrays of length ``width * height`` indexed by cell number.
    """
    cells = np.arange(width * height)
    x = (cells % width + 0.5) * cell_size_m
    y = (cells // width + 0.5) * cell_size_m
    return x.astype(np.float64), y.astype(np.float64)


@dataclass(frozen=True, eq=False)
class TravelModel:
    """Door-to-door travel times between grid cells by walking, public transport or car.

    A simple distance model, since the synthetic city has no network data:

    * **Distances**: airline distance between cell centres, floored at half a cell side
      (``intra_cell_m``, 50 m on the 100 m grid) so that a trip inside one cell, or to a stop in
      the own cell, takes a short positive time (the mean distance between two random points in
      a square is 0.52 sides). Street distance = airline distance × ``detour_factor``.
    * **Walking** (zu Fuß): street distance / ``walk_speed_m_s``.
    * **Public transport** (ÖPNV): walk to the origin's nearest stop + ``headway_min`` / 2
      waiting + in-vehicle time (airline distance between the two stops × detour /
      ``pt_speed_kmh``) + walk from the destination's nearest stop; the trip is walked instead
      when that is faster (short trips, or both ends at the same stop). No stops: walking.
      Transfers are not modelled; the mean speed already includes stops.
    * **Car** (Pkw): street distance / ``car_speed_kmh`` + ``car_overhead_min`` (parking,
      walking to and from the car); walked instead when that is faster.

    Parameters and sources:

    * ``walk_speed_m_s = 1.33``: OpenTripPlanner's default walking speed (``RoutingRequest.java``;
      calibration-data/more_mobility.csv).
    * ``pt_speed_kmh = 26.8``: mean speed of public transport in Dortmund (lokalkompass comparison
      of 25 cities; more_mobility.csv; German mean 23.4, Duisburg 33).
    * ``detour_factor = 1.3``: **assumption** (street / airline distance; not in the calibration
      data).
    * ``headway_min = 10``: **assumption** (Takt; mean waiting time is half of it).
    * ``car_speed_kmh = 25``: **assumption** (urban door-to-door speed).
    * ``car_overhead_min = 3``: **assumption** (parking, walking to and from the car).

    Instances are immutable and compare by identity (``eq=False``: the stop array makes field
    equality ambiguous). The nearest stop of every cell is computed once on construction.

    Attributes:
        width: Grid width in cells.
        height: Grid height in cells.
        cell_size_m: Side of a cell in metres.
        stop_cells: Cells with a public-transport stop (duplicates are dropped).
        walk_speed_m_s: Walking speed (m/s).
        detour_factor: Street distance / airline distance.
        pt_speed_kmh: Mean in-vehicle speed of public transport (km/h).
        headway_min: Minutes between departures; waiting is half of it.
        car_speed_kmh: Mean door-to-door car speed (km/h).
        car_overhead_min: Minutes added to every car trip.
    """

    width: int
    height: int
    cell_size_m: float = 100.0
    stop_cells: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    walk_speed_m_s: float = 1.33
    detour_factor: float = 1.3
    pt_speed_kmh: float = 26.8
    headway_min: float = 10.0
    car_speed_kmh: float = 25.0
    car_overhead_min: float = 3.0

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.cell_size_m <= 0:
            raise ValueError("width, height and cell_size_m must be positive")
        if min(self.walk_speed_m_s, self.pt_speed_kmh, self.car_speed_kmh) <= 0:
            raise ValueError("speeds must be positive")
        if self.detour_factor < 1 or self.headway_min < 0 or self.car_overhead_min < 0:
            raise ValueError("detour_factor must be >= 1, headway and overhead >= 0")
        stops = np.unique(np.asarray(self.stop_cells, dtype=np.int64).ravel())
        self._check_cells(stops)
        stops.flags.writeable = False
        object.__setattr__(self, "stop_cells", stops)
        x, y = cell_centres(self.width, self.height, self.cell_size_m)
        object.__setattr__(self, "_x", x)
        object.__setattr__(self, "_y", y)
        if stops.size:
            # Nearest stop (index into stop_cells) and airline distance to it, per cell.
            dist, nearest = cKDTree(np.c_[x[stops], y[stops]]).query(np.c_[x, y])
            object.__setattr__(self, "_stop_dist_m", dist)
            object.__setattr__(self, "_nearest_stop", nearest.astype(np.int64))

    # --- basic quantities -------------------------------------------------------------------

    @property
    def n_cells(self) -> int:
        """Number of cells of the grid."""
        return self.width * self.height

    @property
    def intra_cell_m(self) -> float:
        """Smallest airline distance used (m): half a cell side."""
        return 0.5 * self.cell_size_m

    def centres(self, cells: np.ndarray) -> np.ndarray:
        """Cell centres as an ``(n, 2)`` float64 array of local metres."""
        cells = self._as_cells(cells)
        return np.c_[self._x[cells], self._y[cells]]

    def walk_minutes_for_distance(self, distance_m: np.ndarray | float) -> np.ndarray:
        """Walking minutes for airline distances (m), with the intra-cell floor and detour."""
        street = np.maximum(distance_m, self.intra_cell_m) * self.detour_factor
        return street / (self.walk_speed_m_s * 60.0)

    def car_minutes_for_distance(self, distance_m: np.ndarray | float) -> np.ndarray:
        """Car minutes (or walking, if faster) for airline distances (m)."""
        street = np.maximum(distance_m, self.intra_cell_m) * self.detour_factor
        car = street / (self.car_speed_kmh * 1000.0 / 60.0) + self.car_overhead_min
        return np.minimum(car, self.walk_minutes_for_distance(distance_m))

    def radius_m(self, mode: str, max_minutes: float) -> float:
        """Airline distance (m) beyond which no trip of ``mode`` takes ``max_minutes`` or less.

        Walking needs airline × detour / walk speed; a public-transport trip needs at least
        headway/2 + airline × detour / max(walk speed, PT speed) (triangle inequality over its
        legs); a car trip at least the overhead + airline × detour / car speed.
        """
        self._check_mode(mode)
        walk_m_min = self.walk_speed_m_s * 60.0
        radius = max_minutes * walk_m_min
        if mode == "pt" and self.stop_cells.size:
            fastest = max(walk_m_min, self.pt_speed_kmh * 1000.0 / 60.0)
            radius = max(radius, (max_minutes - 0.5 * self.headway_min) * fastest)
        elif mode == "car":
            car_m_min = self.car_speed_kmh * 1000.0 / 60.0
            radius = max(radius, (max_minutes - self.car_overhead_min) * car_m_min)
        return max(radius, 0.0) / self.detour_factor

    # --- travel times -----------------------------------------------------------------------

    def minutes(self, from_cells: np.ndarray, to_cells: np.ndarray, mode: str) -> np.ndarray:
        """Dense travel times for all pairs; for small problems (see :meth:`within`).

        Args:
            from_cells: Origin cells (e.g. demand cells), shape ``(n,)``.
            to_cells: Destination cells (e.g. facility cells), shape ``(m,)``.
            mode: ``"walk"``, ``"pt"`` or ``"car"``.

        Returns:
            float32 array ``(n, m)`` of minutes, all > 0.
        """
        self._check_mode(mode)
        origins = self._as_cells(from_cells)
        destinations = self._as_cells(to_cells)
        times = self._pair_minutes(origins[:, None], destinations[None, :], mode)
        return times.astype(np.float32)

    def within(
        self, from_cells: np.ndarray, to_cells: np.ndarray, mode: str, max_minutes: float
    ) -> sp.csr_matrix:
        """Sparse travel times of all pairs reachable within ``max_minutes``.

        Candidate pairs come from a ``cKDTree`` radius search with the bound of
        :meth:`radius_m`, so no dense matrix is built (100,000 cells × 2,000 facilities on foot
        within 15 minutes: about 0.5 million pairs). Times are computed like :meth:`minutes`
        (float32, identical values) and kept where ``time <= max_minutes``.

        Every stored time is > 0 (intra-cell floor), so a stored entry always means
        "reachable" and an implicit zero always means "not within ``max_minutes``".
        Public-transport catchments are wide (the radius bound grows with the PT speed): expect
        many more pairs than on foot.

        Args:
            from_cells: Origin cells, shape ``(n,)``.
            to_cells: Destination cells, shape ``(m,)``.
            mode: ``"walk"``, ``"pt"`` or ``"car"``.
            max_minutes: Largest travel time kept (inclusive).

        Returns:
            ``csr_matrix`` of shape ``(n, m)``, float32 minutes, sorted indices.
        """
        self._check_mode(mode)
        origins = self._as_cells(from_cells)
        destinations = self._as_cells(to_cells)
        shape = (origins.size, destinations.size)
        radius = self.radius_m(mode, max_minutes)
        if origins.size == 0 or destinations.size == 0 or max_minutes <= 0:
            return sp.csr_matrix(shape, dtype=np.float32)
        radius = radius * (1 + 1e-9) + 1e-6  # never lose a pair to rounding
        origin_tree = cKDTree(self.centres(origins))
        dest_xy = self.centres(destinations)
        # Chunk the destinations so that the candidate pairs of a chunk stay bounded.
        per_dest = min(origins.size, np.pi * (radius / self.cell_size_m + 1) ** 2)
        chunk = int(max(1, _PAIRS_PER_CHUNK // max(per_dest, 1.0)))
        rows, cols, vals = [], [], []
        for start in range(0, destinations.size, chunk):
            stop = min(start + chunk, destinations.size)
            pairs = cKDTree(dest_xy[start:stop]).sparse_distance_matrix(
                origin_tree, radius, output_type="ndarray"
            )
            j = pairs["i"].astype(np.int64) + start
            i = pairs["j"].astype(np.int64)
            t = self._pair_minutes(origins[i], destinations[j], mode).astype(np.float32)
            keep = t <= max_minutes
            rows.append(i[keep].astype(np.int32))
            cols.append(j[keep].astype(np.int32))
            vals.append(t[keep])
        matrix = sp.coo_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape
        ).tocsr()
        matrix.sort_indices()
        return matrix

    # --- nearest facility -------------------------------------------------------------------

    def nearest_distance_m(self, from_cells: np.ndarray, facility_cells: np.ndarray) -> np.ndarray:
        """Airline distance (m) from each cell centre to the nearest facility cell centre.

        The BBSR reach measure ("im Umkreis von 1.000 m") is airline distance; the distance
        is 0 for a facility in the same cell (no intra-cell floor here). No facilities: inf.

        Returns:
            float64 array ``(n,)``.
        """
        origins = self._as_cells(from_cells)
        facilities = np.unique(self._as_cells(facility_cells))
        if facilities.size == 0:
            return np.full(origins.size, np.inf)
        dist, _ = cKDTree(self.centres(facilities)).query(self.centres(origins))
        return np.asarray(dist, dtype=np.float64)

    def nearest_minutes(
        self, from_cells: np.ndarray, facility_cells: np.ndarray, mode: str
    ) -> np.ndarray:
        """Minutes from each cell to its nearest (fastest) facility by ``mode``.

        Equal to the row minimum of :meth:`minutes` without building it: walking and car times
        grow with distance, so the nearest facility by airline (``cKDTree``) is the fastest; for
        public transport the best stop-to-facility leg is computed once per stop.

        Returns:
            float64 array ``(n,)``; inf where there are no facilities.
        """
        self._check_mode(mode)
        origins = self._as_cells(from_cells)
        facilities = np.unique(self._as_cells(facility_cells))
        if facilities.size == 0:
            return np.full(origins.size, np.inf)
        dist, _ = cKDTree(self.centres(facilities)).query(self.centres(origins))
        if mode == "car":
            return self.car_minutes_for_distance(dist)
        best = self.walk_minutes_for_distance(dist)
        if mode == "walk" or not self.stop_cells.size:
            return best
        # PT: access walk + wait + min over facilities of (in-vehicle + egress walk).
        stop_xy = self.centres(self.stop_cells)
        fac_stop = self._nearest_stop[facilities]
        egress = self.walk_minutes_for_distance(self._stop_dist_m[facilities])
        best_from_stop = np.empty(self.stop_cells.size)
        step = max(1, 2_000_000 // facilities.size)
        for start in range(0, self.stop_cells.size, step):
            block = stop_xy[start : start + step]
            gap = np.hypot(
                block[:, None, 0] - stop_xy[fac_stop][None, :, 0],
                block[:, None, 1] - stop_xy[fac_stop][None, :, 1],
            )
            best_from_stop[start : start + step] = (self._in_vehicle(gap) + egress).min(axis=1)
        pt = (
            self.walk_minutes_for_distance(self._stop_dist_m[origins])
            + 0.5 * self.headway_min
            + best_from_stop[self._nearest_stop[origins]]
        )
        return np.minimum(best, pt)

    # --- internals --------------------------------------------------------------------------

    def _in_vehicle(self, distance_m: np.ndarray) -> np.ndarray:
        return distance_m * self.detour_factor / (self.pt_speed_kmh * 1000.0 / 60.0)

    def _pair_minutes(self, origins: np.ndarray, destinations: np.ndarray, mode: str) -> np.ndarray:
        """float64 minutes for broadcastable arrays of origin and destination cells."""
        dist = np.hypot(
            self._x[origins] - self._x[destinations], self._y[origins] - self._y[destinations]
        )
        if mode == "car":
            return self.car_minutes_for_distance(dist)
        walk = self.walk_minutes_for_distance(dist)
        if mode == "walk" or not self.stop_cells.size:
            return walk
        stop_o = self.stop_cells[self._nearest_stop[origins]]
        stop_d = self.stop_cells[self._nearest_stop[destinations]]
        ride = np.hypot(self._x[stop_o] - self._x[stop_d], self._y[stop_o] - self._y[stop_d])
        pt = (
            self.walk_minutes_for_distance(self._stop_dist_m[origins])
            + 0.5 * self.headway_min
            + self._in_vehicle(ride)
            + self.walk_minutes_for_distance(self._stop_dist_m[destinations])
        )
        return np.minimum(walk, pt)

    def _check_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")

    def _check_cells(self, cells: np.ndarray) -> None:
        if cells.size and (cells.min() < 0 or cells.max() >= self.n_cells):
            raise ValueError(f"cell numbers must lie in [0, {self.n_cells})")

    def _as_cells(self, cells: np.ndarray) -> np.ndarray:
        cells = np.asarray(cells, dtype=np.int64).ravel()
        self._check_cells(cells)
        return cells


# --- two-step floating catchment -------------------------------------------------------------


def gaussian_weight(minutes: np.ndarray, sigma_min: float) -> np.ndarray:
    """Gaussian distance decay ``exp(-t² / (2 σ²))``, 1 at t = 0 (no normalisation).

    Identical to PySAL ``access.weights.gaussian(sigma)`` (access 1.1).
    """
    if sigma_min <= 0:
        raise ValueError("sigma_min must be positive")
    minutes = np.asarray(minutes, dtype=np.float64)
    return np.exp(-minutes * minutes / (2 * sigma_min**2))


TimesLike = np.ndarray | sp.spmatrix | sp.sparray | tuple[np.ndarray, np.ndarray, np.ndarray]


def _pairs(times: TimesLike, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, minutes) of the given pairs; dense arrays give all finite entries."""
    if isinstance(times, tuple):
        rows, cols, vals = (np.asarray(a).ravel() for a in times)
        if not rows.size == cols.size == vals.size:
            raise ValueError("triplets must have equal lengths")
        if rows.size and (rows.min() < 0 or rows.max() >= shape[0]):
            raise ValueError("row index out of range of demand")
        if cols.size and (cols.min() < 0 or cols.max() >= shape[1]):
            raise ValueError("column index out of range of supply")
    elif sp.issparse(times):
        if times.shape != shape:
            raise ValueError(f"times has shape {times.shape}, expected {shape}")
        csr = sp.csr_matrix(times)  # no copy for a csr_matrix
        if not csr.has_canonical_format:
            csr = csr.copy()
            csr.sum_duplicates()
        rows = np.repeat(np.arange(shape[0]), np.diff(csr.indptr))
        cols, vals = csr.indices, csr.data
    else:
        dense = np.asarray(times)
        if dense.shape != shape:
            raise ValueError(f"times has shape {dense.shape}, expected {shape}")
        rows, cols = np.nonzero(np.isfinite(dense))
        vals = dense[rows, cols]
    return rows.astype(np.int64), cols.astype(np.int64), vals.astype(np.float64)


def two_step_fca(
    supply: np.ndarray,
    demand: np.ndarray,
    times: TimesLike,
    catchment_min: float,
    decay: str = "gaussian",
    sigma_min: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two-step floating catchment accessibility (2SFCA, with distance decay: E2SFCA).

    With ``w(t)`` the decay weight and only pairs with ``t_ij <= catchment_min``:

    1. supply-to-demand ratio per facility: ``R_j = S_j / Σ_i P_i w(t_ij)``;
    2. accessibility per demand location: ``A_i = Σ_j R_j w(t_ij)``.

    Decays: ``"uniform"`` (``w = 1``, classic 2SFCA, Luo & Wang 2003) and ``"gaussian"``
    (``w = exp(-t² / (2 σ²))``, ``σ = sigma_min``, by default ``catchment_min / 2``, so
    ``w = 0.135`` at the catchment edge; the same function as PySAL ``access.weights.gaussian``).

    If supply and demand are counts of doctors and persons, ``A_i`` is doctors per person
    reachable from i (× 100,000 for "per 100,000"); Σ_i P_i A_i = Σ_j S_j over facilities
    with demand in reach.

    Conventions (PySAL ``access`` differs in the last two, see ``tests/test_accessibility.py``):

    * ``times`` is a dense ``(n_demand, n_supply)`` array (NaN / inf = unreachable), a scipy
      sparse matrix of that shape (stored entries are the candidate pairs, implicit zeros are
      unreachable; e.g. from :meth:`TravelModel.within`) or ``(rows, cols, minutes)`` triplets.
      Pairs beyond ``catchment_min`` are ignored.
    * A facility with no demand in its catchment (``Σ_i P_i w = 0``) gets ``R_j = 0``: its
      supply is unused (``access`` gives inf or leaves it out).
    * A demand location with no facility in its catchment gets ``A_i = 0`` (``access``: NaN).

    Args:
        supply: Capacity per facility ``S_j`` (e.g. GP full-time equivalents), shape ``(m,)``.
        demand: Demand per location ``P_i`` (e.g. residents aged 65+ per cell), shape ``(n,)``.
        times: Travel minutes demand → facility, see above.
        catchment_min: Catchment size in minutes (inclusive).
        decay: ``"uniform"`` or ``"gaussian"``.
        sigma_min: Width of the Gaussian in minutes (default ``catchment_min / 2``).

    Returns:
        ``(access, ratio)``: float64 arrays ``A`` of shape ``(n,)`` and ``R`` of shape ``(m,)``.
    """
    if decay not in DECAYS:
        raise ValueError(f"decay must be one of {DECAYS}, got {decay!r}")
    supply = np.asarray(supply, dtype=np.float64).ravel()
    demand = np.asarray(demand, dtype=np.float64).ravel()
    if (supply < 0).any() or (demand < 0).any():
        raise ValueError("supply and demand must be non-negative")
    rows, cols, vals = _pairs(times, (demand.size, supply.size))
    inside = vals <= catchment_min  # False for NaN
    rows, cols, vals = rows[inside], cols[inside], vals[inside]
    if decay == "gaussian":
        weight = gaussian_weight(vals, catchment_min / 2 if sigma_min is None else sigma_min)
    else:
        weight = np.ones_like(vals)
    demand_in_reach = np.bincount(cols, weights=demand[rows] * weight, minlength=supply.size)
    ratio = np.divide(supply, demand_in_reach, out=np.zeros_like(supply), where=demand_in_reach > 0)
    access = np.bincount(rows, weights=ratio[cols] * weight, minlength=demand.size)
    return access, ratio


def share_within(demand: np.ndarray, value: np.ndarray, limit: float) -> float:
    """Demand-weighted share with ``value <= limit``, e.g. of people aged 65+ within 1,000 m.

    Args:
        demand: Persons per location.
        value: Minutes or metres to the nearest facility per location (inf = none).
        limit: Threshold (inclusive), same unit as ``value``.

    Returns:
        Share in [0, 1]; NaN if there is no demand.
    """
    demand = np.asarray(demand, dtype=np.float64).ravel()
    value = np.asarray(value, dtype=np.float64).ravel()
    if demand.shape != value.shape:
        raise ValueError("demand and value must have the same length")
    total = demand.sum()
    if total <= 0:
        return float("nan")
    return float(demand[value <= limit].sum() / total)


@njit(cache=True, inline="always")
def commute_cost(from_cell, job_cell, car, ticket, x, y, stop_dist, nearest_stop, width_m,
                 params):
    """Generalised monthly cost (EUR) of one worker's commute.

    ``params``: detour, walk m/min, pt m/min, car m/min, car overhead min, headway min,
    EUR per km, workdays, EUR per minute, outside distance m.
    """
    detour, walk_v, pt_v, car_v, car_over, headway, eur_km, days, eur_min, out_m = (
        params[0], params[1], params[2], params[3], params[4], params[5], params[6],
        params[7], params[8], params[9])
    trips = 2.0 * days
    if job_cell < 0:
        d = out_m
        t_pt = stop_dist[from_cell] * detour / walk_v + 0.5 * headway + d * detour / pt_v
        pt = ticket + trips * eur_min * t_pt
        if car:
            c = trips * (d * detour / 1000.0 * eur_km + eur_min * (d * detour / car_v
                                                                    + car_over))
            if c < pt:
                return c
        return pt
    dx = x[from_cell] - x[job_cell]
    dy = y[from_cell] - y[job_cell]
    d = np.sqrt(dx * dx + dy * dy)
    if d < width_m * 0.5:
        d = width_m * 0.5
    t_walk = d * detour / walk_v
    best = trips * eur_min * t_walk
    s0 = nearest_stop[from_cell]
    s1 = nearest_stop[job_cell]
    sx = x[s0] - x[s1]
    sy = y[s0] - y[s1]
    t_pt = ((stop_dist[from_cell] + stop_dist[job_cell]) * detour / walk_v + 0.5 * headway
            + np.sqrt(sx * sx + sy * sy) * detour / pt_v)
    if t_pt < t_walk:
        pt = ticket + trips * eur_min * t_pt
        if pt < best:
            best = pt
    if car:
        c = trips * (d * detour / 1000.0 * eur_km + eur_min * (d * detour / car_v + car_over))
        if c < best:
            best = c
    return best
