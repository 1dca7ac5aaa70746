"""Facilities on the grid and access to them: doctors (Hausärzte, MVZ), ambulant care services,
nursing homes, schools, employers and public-transport stops.

Supply is set per inhabitant from NRW figures (``parameters.services``) and placed once at the
start in cells drawn in proportion to their residents and the quartier's service level
(``services`` in ``sim/inputs/data/ruhrstadt.toml``; neutral for Zensus cities). Levers add supply:
MVZ (``levers.mvz``), incentives for doctors (by default in the weakest-served quartier), school
investment, ambulant care and public transport (stops, headways, fares). Every GP is a doctor
with an age who retires and may get a successor (:mod:`sim.model.gp_supply`); a GP facility's
capacity is its active doctors.

Each year :meth:`Services.update` recomputes access from the simulated population:

- **Doctors**: multi-modal 2SFCA (demand = residents by cell and travel mode: walking,
  public transport if the household can afford the tickets, car if it has one), Gaussian decay
  within ``gp_catchment_min`` (by car ``gp_catchment_car_min``). Access is the
  Bedarfsplanung's Versorgungsgrad: doctors within reach per inhabitant ×
  ``gp_inhabitants_per_gp`` (1 = one GP per 1,671 inhabitants), not relative to the city, so
  more doctors anywhere never lower any cell's access. Reach: residents within ``gp_reach_m``
  airline of a practice with a doctor.
- **Ambulant care**: 2SFCA of service capacity (clients) over the persons who need it, by car
  (services drive to clients).
- **Schools**: see :mod:`sim.model.processes.schools`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.model import gp_supply
from sim.model.accessibility import MODES, TravelModel, cell_centres, gaussian_weight
from sim.model.rng import make_streams
from sim.scenario import Scenario
from sim.state.city import City, cell_of, quartier_index

GP, AMBULANT, NURSING_HOME, PRIMARY, SECONDARY, EMPLOYER, KITA_UNDER3, KITA_3TO6 = range(8)
KIND_NAMES = ("gp", "ambulant_care", "nursing_home", "primary_school", "secondary_school",
              "employer", "kita_under3", "kita_3to6")
JOBS_PER_EMPLOYER = 50  # workplaces are grouped into sites of about this size (a design choice)


@dataclass
class Facilities:
    """Facility columns (one row per facility)."""

    kind: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    cell: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    capacity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    opening_year: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    quality: np.ndarray = field(default_factory=lambda: np.zeros(0))
    name: list[str] = field(default_factory=list)

    def add(self, kind: int, cells: np.ndarray, capacity: np.ndarray, opening_year: int = 0,
            name: str = "") -> np.ndarray:
        """Append facilities; returns their rows."""
        cells = np.atleast_1d(np.asarray(cells, np.int64))
        first = self.kind.size
        self.kind = np.r_[self.kind, np.full(cells.size, kind, np.int8)]
        self.cell = np.r_[self.cell, cells]
        self.capacity = np.r_[self.capacity, np.broadcast_to(
            np.asarray(capacity, float), cells.shape)]
        self.opening_year = np.r_[self.opening_year, np.full(cells.size, opening_year, np.int32)]
        self.quality = np.r_[self.quality, np.zeros(cells.size)]
        self.name += [name] * cells.size
        return np.arange(first, self.kind.size)

    def open(self, kind: int, year: int) -> np.ndarray:
        """Rows of the facilities of ``kind`` open in ``year``."""
        return np.flatnonzero((self.kind == kind) & (self.opening_year <= year))

    def table(self, city: City) -> list[dict]:
        """One dict per facility (for maps and reports)."""
        return [
            {"kind": KIND_NAMES[int(k)], "cell": int(c), "col": int(c % city.width),
             "row": int(c // city.width), "capacity": float(cap), "opening_year": int(y),
             "name": n}
            for k, c, cap, y, n in zip(self.kind, self.cell, self.capacity, self.opening_year,
                                       self.name, strict=True)
        ]


def _weighted_pairs(times, catchment_min: float) -> tuple:
    """Gaussian weights of a sparse time matrix as a CSR matrix (demand × facility) and its
    transpose (a CSC view, no copy: it sums in the same order as a CSR copy would), computed
    once per network."""
    import scipy.sparse as sps

    coo = times.tocoo()
    keep = coo.data <= catchment_min
    w = sps.csr_matrix((gaussian_weight(coo.data[keep], catchment_min / 2),
                        (coo.row[keep], coo.col[keep])), shape=coo.shape)
    return w, w.T


def _fca(supply: np.ndarray, demand: np.ndarray, pairs: tuple) -> np.ndarray:
    """2SFCA accessibility from precomputed weights (the same arithmetic as
    :func:`sim.model.accessibility.two_step_fca` with the Gaussian decay; tested equal)."""
    w, wt = pairs
    in_reach = wt @ demand
    ratio = np.divide(supply, in_reach, out=np.zeros_like(supply, dtype=float),
                      where=in_reach > 0)
    return w @ ratio


def expected_residents(city: City) -> np.ndarray:
    """Share of the city's residents expected in each cell: the quartier's share of households
    spread over its cells by their residential weight (Zensus cities: the weights alone)."""
    w = np.where(city.cell_quartier >= 0, city.cell_weight, 0.0).astype(float)
    shares = np.array([q.household_share for q in city.quartiers])
    if shares.sum() > 0:
        cq = city.cell_quartier.astype(np.int64)
        inside = cq >= 0
        per_q = np.bincount(cq[inside], weights=w[inside], minlength=city.n_quartiers)
        scale = np.divide(shares / shares.sum(), per_q, out=np.zeros_like(per_q),
                          where=per_q > 0)
        w = np.where(inside, w * scale[np.maximum(cq, 0)], 0.0)
    total = w.sum()
    return w / total if total > 0 else w


def draw_cells(rng: np.random.Generator, weight: np.ndarray, n: int) -> np.ndarray:
    """``n`` cells drawn with probability ∝ ``weight``, spread without repeats while possible."""
    weight = np.maximum(weight, 0.0)
    positive = np.count_nonzero(weight)
    if n <= 0 or positive == 0:
        return np.zeros(0, np.int64)
    p = weight / weight.sum()
    if n <= positive:
        return rng.choice(weight.size, size=n, replace=False, p=p).astype(np.int64)
    return rng.choice(weight.size, size=n, replace=True, p=p).astype(np.int64)


def _local_nursing_homes(f: Facilities, city: City, places: float, per_home: float,
                         rng: np.random.Generator) -> None:
    """Nursing homes of a city built from files whose files give none: each quartier gets
    places in proportion to its residents 65+ (census), in homes of at most ``per_home``
    places, in cells drawn by their residents 65+. ASSUMPTION: homes stand where their
    residents lived, so that moving the persons in need of a home into one keeps each
    quartier's age structure (the census counts home residents where the homes are)."""
    cells = city.real.cells  # type: ignore[union-attr]
    old = np.zeros(city.n_cells)
    old[cells["cell"].to_numpy()] = cells["persons"].to_numpy() * np.nan_to_num(
        cells["age65"].to_numpy())
    cq = city.cell_quartier.astype(np.int64)
    inside = cq >= 0
    per_q = _spread(places, np.bincount(cq[inside], weights=old[inside],
                                        minlength=city.n_quartiers))
    for q in np.flatnonzero(per_q):
        n_homes = int(np.ceil(per_q[q] / per_home))
        cells_q = draw_cells(rng, np.where(cq == q, old + 1e-9, 0.0), n_homes)
        f.add(NURSING_HOME, cells_q, _spread(per_q[q], np.ones(cells_q.size)).astype(float))


def _spread(total: float, weight: np.ndarray) -> np.ndarray:
    """Integer counts per group summing to round(total), in proportion to ``weight``."""
    n = int(round(total))
    if n <= 0 or weight.sum() <= 0:
        return np.zeros(weight.size, np.int64)
    exact = n * weight / weight.sum()
    base = np.floor(exact).astype(np.int64)
    rest = n - base.sum()
    base[np.argsort(-(exact - base), kind="stable")[:rest]] += 1
    return base


def _real_facilities(f: Facilities, city: City, sp) -> Facilities:
    """The synthesised facilities with every kind the city's files give replaced by the given
    points (capacity: the file's, else the synthesised mean; schools get the capacity reserve).
    Kitas are placed by :mod:`sim.model.processes.kitas`."""
    points = city.real.facilities  # type: ignore[attr-defined]
    given = [k for k in KIND_NAMES if k in set(points["kind"])]
    keep = ~np.isin(f.kind, [KIND_NAMES.index(k) for k in given])
    out = Facilities(f.kind[keep], f.cell[keep], f.capacity[keep], f.opening_year[keep],
                     f.quality[keep], [n for n, k in zip(f.name, keep, strict=True) if k])
    for name in given:
        kind = KIND_NAMES.index(name)
        rows = points[points["kind"] == name]
        default = f.capacity[f.kind == kind].mean() if (f.kind == kind).any() else 1.0
        capacity = rows["capacity"].fillna(default).to_numpy(float)
        if kind in (PRIMARY, SECONDARY):
            capacity = np.ceil(capacity * (1.0 + sp.school_capacity_reserve))
        for cell, cap, label in zip(rows["cell"], capacity, rows["name"], strict=True):
            out.add(kind, int(cell), cap, 0, str(label))
    return out


class Services:
    """Facilities, travel times and the yearly access indicators of a city.

    Attributes:
        facilities: All facilities (including those a lever opens later).
        doctors: The GPs' seats (:class:`sim.model.gp_supply.Doctors`); the capacity of a GP
            facility is the weight of its active seats.
        gp_access: GP access (Versorgungsgrad) per (mode, cell): 2SFCA doctors per
            inhabitant × ``gp_inhabitants_per_gp``, 1 = the Bedarfsplanung's ratio.
        gp_within_reach: Per cell, whether a GP practice with a doctor lies within
            ``gp_reach_m``.
        ambulant_access: Ambulant capacity per person in need within reach, per cell.
    """

    def __init__(self, city: City, population_total: float,
                 pupils: tuple[float, float], scenario: Scenario, layout_seed: int) -> None:
        """Place the facilities of a city of ``population_total`` residents with ``pupils``
        (primary, secondary). Facilities are geography: placed with ``rng`` (from the city's
        layout seed) in proportion to the cells' expected residents, so that every run of
        a city has the same facilities."""
        self.city = city
        self.scenario = scenario
        sp = scenario.parameters.services
        self.params = sp
        n_c = city.n_cells
        pop_total = float(population_total)
        rngs = make_streams(layout_seed, KIND_NAMES)
        self.rngs = rngs
        residents = expected_residents(city) * pop_total
        level = {key: np.array([q.service_level(key) for q in city.quartiers] + [0.0])
                 for key in ("doctors", "jobs", "schools")}
        cq = city.cell_quartier.astype(np.int64)  # -1 → the 0 level appended above
        f = Facilities()
        # Doctors: practices of one or two GPs.
        n_doctors = sp.gps_per_100k * pop_total / 1e5
        n_prac = max(1, int(round(n_doctors / (2.0 - sp.single_handed_share))))
        rng = rngs["gp"]
        sizes = np.where(rng.random(n_prac) < sp.single_handed_share, 1.0, 2.0)
        gp_rows = f.add(GP, draw_cells(rng, residents * level["doctors"][cq], n_prac), sizes)
        # Their doctors' ages, with the same layout generator (after the placement).
        self.doctors = gp_supply.Doctors()
        seat_rows = np.repeat(gp_rows, sizes.astype(np.int64))
        self.doctors.add(np.arange(seat_rows.size, dtype=np.uint64), seat_rows,
                         np.ones(seat_rows.size),
                         gp_supply.draw_start_ages(rng, seat_rows.size, sp.gp_start_age_edges,
                                                   sp.gp_start_age_shares))
        self.doctors_level = level["doctors"][:-1]
        # Ambulant care services (capacity in clients) and nursing homes (places).
        clients = sp.ambulant_clients_per_1000 * pop_total / 1000.0
        n_amb = max(1, int(round(clients / sp.ambulant_clients_per_service)))
        f.add(AMBULANT, draw_cells(rngs["ambulant_care"], residents, n_amb),
              clients * (1.0 + sp.ambulant_capacity_reserve) / n_amb)
        places = sp.nursing_places_per_1000 * pop_total / 1000.0
        n_homes = max(1, int(np.ceil(places / sp.nursing_places_per_home)))
        if city.real is None:
            f.add(NURSING_HOME, draw_cells(rngs["nursing_home"], residents, n_homes),
                  np.full(n_homes, 0.0))
            f.capacity[f.kind == NURSING_HOME] = _spread(places, np.ones(n_homes))
        else:
            _local_nursing_homes(f, city, places, sp.nursing_places_per_home,
                                 rngs["nursing_home"])
        # Schools: per quartier in proportion to its pupils.
        for kind, total, per_school in ((PRIMARY, pupils[0], sp.pupils_per_primary_school),
                                        (SECONDARY, pupils[1], sp.pupils_per_secondary_school)):
            n_schools = max(1, int(round(total / per_school)))
            by_q = np.bincount(cq[cq >= 0], weights=residents[cq >= 0],
                               minlength=city.n_quartiers)
            per_q = _spread(n_schools, by_q * level["schools"][:-1])
            for q in range(city.n_quartiers):
                if per_q[q]:
                    w = np.where(cq == q, residents + 1e-9 * (cq == q), 0.0)
                    f.add(kind, draw_cells(rngs[KIND_NAMES[kind]], w, int(per_q[q])), 0.0)
            rows = np.flatnonzero(f.kind == kind)
            f.capacity[rows] = np.ceil(total * (1.0 + sp.school_capacity_reserve) / rows.size)
        if city.real is not None:  # a city built from files: its given kinds replace these
            f = _real_facilities(f, city, sp)
        # Employers: sites of about JOBS_PER_EMPLOYER jobs (capacity is set by Jobs).
        site_weight = (city.cell_weight + 0.25 * (cq >= 0)) * level["jobs"][cq]
        self.employer_weight = site_weight
        # Levers: MVZ centres.
        lev = scenario.levers
        if lev.mvz is not None:
            for i, centre in enumerate(lev.mvz.centres):
                c = cell_of(city, cell=centre.cell, coordinates=centre.coordinates)
                row = f.add(GP, c, centre.doctors, centre.opening_year, centre.name or "MVZ")
                self._add_lever_doctors(row[0], centre.doctors, gp_supply.MVZ_TAG, i,
                                        centre.opening_year)
        self._ambulant_lever_pending = lev.ambulant_care is not None
        self.facilities = f
        # Stops on a lattice over the city's cells.
        k = max(1, int(round(sp.stop_spacing_m / city.cell_size_m)))
        col = np.arange(n_c) % city.width
        row = np.arange(n_c) // city.width
        lattice = (col % k == k // 2) & (row % k == k // 2) & (cq >= 0)
        self.stop_cells = np.flatnonzero(lattice)
        self.headway_min = sp.headway_min
        self._pt_applied = False
        self._build_travel()
        self.x, self.y = cell_centres(city.width, city.height, city.cell_size_m)
        self._gp_cache: tuple | None = None
        self._reach_cells: dict[int, np.ndarray] = {}  # GP row → cells within gp_reach_m
        self._cell_tree = None
        self.gp_access = np.ones((3, n_c))
        rows = f.open(GP, scenario.start_year - 1)
        self.gp_within_reach = self.travel.nearest_distance_m(
            np.arange(n_c), f.cell[rows]) <= sp.gp_reach_m
        self.ambulant_access = np.zeros(n_c)

    # -- public transport -------------------------------------------------------------------

    def _build_travel(self) -> None:
        sp, city = self.params, self.city
        self.travel = TravelModel(
            width=city.width, height=city.height, cell_size_m=city.cell_size_m,
            stop_cells=self.stop_cells, walk_speed_m_s=sp.walk_speed_m_s,
            detour_factor=sp.detour_factor, pt_speed_kmh=sp.pt_speed_kmh,
            headway_min=self.headway_min, car_speed_kmh=sp.car_speed_kmh,
            car_overhead_min=sp.car_overhead_min,
        )
        self._gp_cache = None
        self._reach_rows = None
        # Per cell: distance to the nearest stop and that stop's cell (for the commute kernel).
        if self.stop_cells.size:
            from scipy.spatial import cKDTree

            x, y = cell_centres(city.width, city.height, city.cell_size_m)
            xy = np.c_[x, y]
            dist, idx = cKDTree(xy[self.stop_cells]).query(xy)
            self.stop_dist_m = np.asarray(dist, float)
            self.nearest_stop = self.stop_cells[idx].astype(np.int64)
        else:
            self.stop_dist_m = np.full(city.n_cells, np.inf)
            self.nearest_stop = np.zeros(city.n_cells, np.int64)

    def apply_transport_lever(self, year: int) -> bool:
        """New stops and headways from ``levers.public_transport`` once its year comes.
        Returns True when the network changed this year."""
        lever = self.scenario.levers.public_transport
        if lever is None or self._pt_applied or year < lever.from_year:
            return False
        self._pt_applied = True
        extra = [cell_of(self.city, cell=c) for c in lever.extra_stops]
        if not extra and lever.headway_factor == 1.0:
            return False
        self.stop_cells = np.unique(np.r_[self.stop_cells, np.asarray(extra, np.int64)])
        self.headway_min = self.params.headway_min * lever.headway_factor
        self._build_travel()
        return True

    # -- doctors ----------------------------------------------------------------------------

    def _add_lever_doctors(self, row: int, capacity: float, tag: np.uint64, group: int,
                           year: int) -> None:
        """Seats of a facility a lever opens; their doctors get ages when it opens."""
        weights = gp_supply.seat_weights(capacity)
        self.doctors.add(gp_supply.lever_ids(tag, group, weights.size, year),
                         np.full(weights.size, row), weights,
                         np.full(weights.size, gp_supply.NO_AGE))

    def incentive_quartier(self, year: int, quartier_of_cell: np.ndarray,
                           residents_65: np.ndarray) -> int | None:
        """The quartier the doctor incentive targets in ``year`` (None if it does not act):
        its ``quartier``, else the one whose 65+ residents have the lowest GP access (by last
        year's access, the weakest mode of each cell)."""
        lever = self.scenario.levers.mvz
        if lever is None or lever.incentive is None:
            return None
        inc = lever.incentive
        if not inc.from_year <= year <= inc.until_year:
            return None
        if inc.quartier is not None:
            return quartier_index(self.city, inc.quartier)
        n_q = self.city.n_quartiers
        inside = quartier_of_cell >= 0
        weight = residents_65[inside]
        acc = self.gp_access.min(axis=0)[inside]  # the weakest mode's access
        num = np.bincount(quartier_of_cell[inside], weights=weight * acc, minlength=n_q)
        den = np.bincount(quartier_of_cell[inside], weights=weight, minlength=n_q)
        mean = np.where(den > 0, num / np.maximum(den, 1e-12), np.inf)
        return int(np.argmin(mean))

    def add_incentive_doctors(self, year: int, quartier: int, quartier_of_cell: np.ndarray,
                              residents_65: np.ndarray) -> None:
        """Incentive lever: ``doctors_per_year`` doctors in ``quartier``, in its cell with the
        most 65+ residents."""
        inc = self.scenario.levers.mvz.incentive
        if inc.doctors_per_year <= 0:
            return
        cells = np.flatnonzero(quartier_of_cell == quartier)
        c = int(cells[np.argmax(residents_65[cells])])
        row = self.facilities.add(GP, c, inc.doctors_per_year, year, "Förderpraxis")
        self._add_lever_doctors(row[0], inc.doctors_per_year, gp_supply.INCENTIVE_TAG, 0, year)

    def refill_probabilities(self, incentive_quartier: int | None) -> np.ndarray:
        """Per seat: the probability that a retiring doctor gets a successor,
        min(1, ``gp_refill_probability`` × the quartier's doctors level), at least the
        incentive's ``refill_probability`` in the quartier it targets this year."""
        q = self.city.cell_quartier[self.facilities.cell[self.doctors.facility]].astype(
            np.int64)
        level = np.where(q >= 0, self.doctors_level[np.maximum(q, 0)], 1.0)
        p = np.minimum(1.0, self.params.gp_refill_probability * level)
        if incentive_quartier is not None:
            raised = self.scenario.levers.mvz.incentive.refill_probability
            p = np.where(q == incentive_quartier, np.maximum(p, raised), p)
        return p

    def set_gp_capacity(self) -> None:
        """GP facilities' capacity = their active doctors."""
        f = self.facilities
        gp = f.kind == GP
        f.capacity[gp] = self.doctors.capacity(f.kind.size)[gp]

    def update_gp(self, year: int, residents_by_mode: np.ndarray) -> None:
        """GP access per (mode, cell) from residents by (mode, cell), shape (3, n_cells): the
        2SFCA doctors per inhabitant × ``gp_inhabitants_per_gp`` (the Versorgungsgrad). The
        weights are rebuilt only when practices open or the network changes; doctors retiring
        or arriving change capacities only."""
        f, sp = self.facilities, self.params
        rows = f.open(GP, year)
        key = (rows.size, self.travel)
        if self._gp_cache is None or self._gp_cache[0] != key:
            demand_cells = np.flatnonzero(self.city.cell_quartier >= 0)
            import scipy.sparse as sps

            mats = [_weighted_pairs(self.travel.within(demand_cells, f.cell[rows], m, c), c)[0]
                    for m, c in zip(MODES, (sp.gp_catchment_min, sp.gp_catchment_min,
                                                 sp.gp_catchment_car_min), strict=True)]
            w = sps.vstack(mats).tocsr()
            self._gp_cache = (key, demand_cells, (w, w.T))
        _, demand_cells, pairs = self._gp_cache
        staffed = rows[f.capacity[rows] > 0]
        if self._reach_rows is None or not np.array_equal(self._reach_rows, staffed):
            self._reach_rows = staffed
            self.gp_within_reach = self._within_reach(staffed)
        demand = residents_by_mode[:, demand_cells].ravel()
        access = _fca(f.capacity[rows], demand, pairs)
        self.last_gp_demand = residents_by_mode
        out = np.zeros((3, self.city.n_cells))
        out[:, demand_cells] = access.reshape(3, -1)
        self.gp_access = out * sp.gp_inhabitants_per_gp

    def _within_reach(self, rows: np.ndarray) -> np.ndarray:
        """Per cell: does one of the facility ``rows`` lie within ``gp_reach_m`` (airline,
        centre to centre; the same test as ``TravelModel.nearest_distance_m(...) <= reach``)?
        The cells within reach of each facility are found once and kept."""
        reach = np.zeros(self.city.n_cells, bool)
        missing = [r for r in rows.tolist() if r not in self._reach_cells]
        if missing:
            from scipy.spatial import cKDTree

            if self._cell_tree is None:
                self._cell_tree = cKDTree(np.c_[self.x, self.y])
            radius = float(self.params.gp_reach_m)
            fx, fy = self.x[self.facilities.cell[missing]], self.y[self.facilities.cell[missing]]
            found = self._cell_tree.query_ball_point(np.c_[fx, fy], radius * (1 + 1e-9) + 1e-6)
            for r, cx, cy, cells in zip(missing, fx, fy, found, strict=True):
                cells = np.sort(np.asarray(cells, np.int64))
                dx, dy = self.x[cells] - cx, self.y[cells] - cy
                # The distance as the KD-tree's nearest-neighbour query computes it.
                self._reach_cells[r] = cells[np.sqrt(dx * dx + dy * dy) <= radius]
        if rows.size:
            reach[np.concatenate([self._reach_cells[r] for r in rows.tolist()])] = True
        return reach

    # -- ambulant care ----------------------------------------------------------------------

    def add_ambulant_lever(self, year: int, unmet_by_cell: np.ndarray) -> None:
        lever = self.scenario.levers.ambulant_care
        if lever is None or not self._ambulant_lever_pending or year < lever.from_year:
            return
        self._ambulant_lever_pending = False
        cq = self.city.cell_quartier
        if lever.quartier is not None:
            q = quartier_index(self.city, lever.quartier)
        else:
            q = int(np.argmax(np.bincount(cq[cq >= 0], weights=unmet_by_cell[cq >= 0],
                                          minlength=self.city.n_quartiers)))
        cells = np.flatnonzero(cq == q)
        c = int(cells[np.argmax(unmet_by_cell[cells] + 1e-9 * self.city.cell_weight[cells])])
        self.facilities.add(AMBULANT, c, lever.extra_clients, year, "Pflegedienst (Hebel)")
        self._amb_cache = None

    def update_ambulant(self, year: int, need_by_cell: np.ndarray) -> None:
        f, sp = self.facilities, self.params
        rows = f.open(AMBULANT, year)
        cache = getattr(self, "_amb_cache", None)
        if cache is None or cache[0] != rows.size:
            cells = np.flatnonzero(self.city.cell_quartier >= 0)
            cache = (rows.size, cells, _weighted_pairs(self.travel.within(
                cells, f.cell[rows], "car", sp.ambulant_catchment_min),
                sp.ambulant_catchment_min))
            self._amb_cache = cache
        _, cells, pairs = cache
        demand = need_by_cell[cells]
        supply = f.capacity[rows]
        access = _fca(supply, demand, pairs)
        # A second round: capacity unused where access exceeds 1 serves, within its own
        # catchment, those left unserved by the first.
        w, wt = pairs
        in_reach = wt @ demand
        ratio = np.divide(supply, in_reach, out=np.zeros_like(supply, dtype=float),
                          where=in_reach > 0)
        excess = np.where(access > 1.0, 1.0 - 1.0 / np.maximum(access, 1e-12), 0.0)
        leftover = ratio * (wt @ (demand * excess))
        short = np.maximum(1.0 - access, 0.0)
        second = _fca(leftover, demand * short, pairs)
        self.ambulant_access = np.zeros(self.city.n_cells)
        self.ambulant_access[cells] = np.minimum(access, 1.0) + short * np.minimum(second, 1.0)
