"""The city: a grid of 100 m cells grouped into quartiers, and its dwellings.

Cells are numbered row by row from the south-west corner: ``cell = row * width + col``. A cell's
``cell_quartier`` is -1 when it lies outside the city. ``cell_weight`` is the cell's relative
residential capacity (0 for parks, industry, water). Dwellings are created once the population
is known (see :func:`sim.inputs.city.furnish_dwellings`), so that the vacancy rate of the
scenario holds. A dwelling's tenure is one of :data:`OWNER`, :data:`PRIVATE`, :data:`SOCIAL`
or :data:`NURSING` (a place in a nursing home, off the housing market).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

OWNER, PRIVATE, SOCIAL = 0, 1, 2
NURSING = 3  # places in nursing homes (one per resident): not on the housing market
WITHDRAWN = 4  # demolished or withdrawn from the market (Rückbau): kept as a row, never let

HOUSEHOLD_CLASSES = (
    "single_young",
    "single_middle",
    "single_old",
    "couple",
    "couple_old",
    "family",
    "single_parent",
)


@dataclass(frozen=True)
class QuartierProfile:
    """One quartier: identity, type and who tends to live there."""

    id: str
    name: str
    kind: str = ""
    description: str = ""
    household_share: float = 0.0
    affinity: dict[str, float] = field(default_factory=dict)
    housing: dict[str, float] = field(default_factory=dict)
    services: dict[str, float] = field(default_factory=dict)

    def service_level(self, key: str) -> float:
        """Relative density of facilities ``key`` (doctors, jobs, schools); neutral if unset."""
        return float(self.services.get(key, 1.0))

    def housing_level(self, key: str) -> float:
        """Relative housing level ``key`` (see ``sim/inputs/data/ruhrstadt.toml``); neutral if
        unset."""
        return float(self.housing.get(key, 0.0 if key == "income" else 1.0))

    def affinity_vector(self) -> np.ndarray:
        """Affinities in the order of :data:`HOUSEHOLD_CLASSES` (missing = 1)."""
        return np.array([float(self.affinity.get(c, 1.0)) for c in HOUSEHOLD_CLASSES])


@dataclass
class City:
    """Geography and dwellings.

    Attributes:
        name: City name.
        width, height: Grid size in cells.
        cell_size_m: Side of a cell in metres (100 for the Zensus grid).
        origin_x, origin_y: Coordinates (m) of the south-west corner of cell 0; EPSG:3035 for
            Zensus cities, local metres for the synthetic city.
        cell_quartier: Quartier index per cell (int16, -1 outside the city).
        cell_weight: Relative residential capacity per cell.
        quartiers: Quartier profiles, indexed like ``cell_quartier``.
        dwelling_cell: Cell of each dwelling (int32); filled by :func:`furnish_dwellings`.
        reported_population: Inhabitants according to the source (Zensus cities), if known.
        dwelling_floor_space: m² per dwelling.
        dwelling_tenure: :data:`OWNER`, :data:`PRIVATE`, :data:`SOCIAL` or :data:`NURSING`.
        dwelling_binding_end: Year a social dwelling's rent binding ends (0 if none).
        dwelling_rent_m2: Net cold rent per m² of the tenancy (owner-occupied: the local level).
        cell_rent_m2: Re-letting rent per m² per cell (the local market level).
        real: For a city built from files (``city.kind = "files"``): its
            :class:`sim.inputs.realcity.RealCityData` (census targets per cell, quartier
            polygons, facility points); None for the other cities.
    """

    name: str
    width: int
    height: int
    cell_size_m: float
    origin_x: float
    origin_y: float
    cell_quartier: np.ndarray
    cell_weight: np.ndarray
    quartiers: list[QuartierProfile]
    dwelling_cell: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    reported_population: int | None = None
    dwelling_floor_space: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    dwelling_tenure: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    dwelling_binding_end: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    dwelling_rent_m2: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    cell_rent_m2: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    real: object | None = None

    DWELLING_COLUMNS = ("dwelling_cell", "dwelling_floor_space", "dwelling_tenure",
                        "dwelling_binding_end", "dwelling_rent_m2")

    def add_dwellings(self, **columns: np.ndarray) -> np.ndarray:
        """Append dwellings (one array per name in ``DWELLING_COLUMNS``); returns their ids."""
        first = self.n_dwellings
        for name in self.DWELLING_COLUMNS:
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, columns[name].astype(old.dtype)]))
        return np.arange(first, self.n_dwellings)

    @property
    def n_cells(self) -> int:
        return self.width * self.height

    @property
    def n_quartiers(self) -> int:
        return len(self.quartiers)

    @property
    def n_dwellings(self) -> int:
        return int(self.dwelling_cell.size)

    @property
    def dwelling_quartier(self) -> np.ndarray:
        """Quartier of each dwelling (int64; cached until ``dwelling_cell`` is replaced)."""
        cache = self.__dict__.get("_dq_cache")
        if cache is None or cache[0] is not self.dwelling_cell:
            cache = (self.dwelling_cell, self.cell_quartier[self.dwelling_cell].astype(np.int64))
            self.__dict__["_dq_cache"] = cache
        return cache[1]

    def quartier_ids(self) -> list[str]:
        return [q.id for q in self.quartiers]

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y coordinates (m) of every cell's midpoint."""
        col = np.arange(self.n_cells) % self.width
        row = np.arange(self.n_cells) // self.width
        return (
            self.origin_x + (col + 0.5) * self.cell_size_m,
            self.origin_y + (row + 0.5) * self.cell_size_m,
        )

    def grid_ids(self) -> np.ndarray:
        """The Zensus/INSPIRE id of every cell, ``CRS3035RES100mN{y}E{x}`` (lower-left corner;
        meaningful when the origin is in EPSG:3035, as for Zensus and real cities)."""
        col = np.arange(self.n_cells) % self.width
        row = np.arange(self.n_cells) // self.width
        x = (self.origin_x + col * self.cell_size_m).astype(np.int64)
        y = (self.origin_y + row * self.cell_size_m).astype(np.int64)
        size = int(self.cell_size_m)
        return np.array([f"CRS3035RES{size}mN{b}E{a}" for a, b in zip(x, y, strict=True)],
                        dtype=object)

    def household_targets(self, households: int) -> np.ndarray:
        """Households per quartier at the start: the profiles' shares, rounded to sum exactly."""
        shares = np.array([q.household_share for q in self.quartiers], dtype=float)
        return round_preserving_sum(shares / shares.sum() * households)


def round_preserving_sum(values: np.ndarray) -> np.ndarray:
    """Largest-remainder rounding: integers that sum to round(sum(values))."""
    floors = np.floor(values).astype(np.int64)
    missing = int(round(values.sum())) - int(floors.sum())
    if missing > 0:
        order = np.argsort(-(values - floors), kind="stable")
        floors[order[:missing]] += 1
    return floors


def on_market(city: City) -> np.ndarray:
    """Dwellings of the housing market (all but nursing-home places and withdrawn ones)."""
    return city.dwelling_tenure < NURSING


def in_nursing_home(dwelling: np.ndarray, city: City) -> np.ndarray:
    """Whether households with these dwellings (-1: none) live in a nursing-home place."""
    return (dwelling >= 0) & (city.dwelling_tenure[np.maximum(dwelling, 0)] == NURSING)


def rented(tenure: np.ndarray) -> np.ndarray:
    """Private or social rental (not owner-occupied, not a nursing-home place)."""
    return (tenure == PRIVATE) | (tenure == SOCIAL)


def cell_of(city: City, *, cell: tuple[int, int] | None = None,
            coordinates: tuple[float, float] | None = None) -> int:
    """Cell number of a lever's location; ValueError if it lies outside the city."""
    if cell is not None:
        col, row = cell
    else:
        x, y = coordinates  # type: ignore[misc]
        col = int(np.floor((x - city.origin_x) / city.cell_size_m))
        row = int(np.floor((y - city.origin_y) / city.cell_size_m))
    if not (0 <= col < city.width and 0 <= row < city.height):
        raise ValueError(f"[{col}, {row}] lies outside the grid ({city.width} × {city.height})")
    c = row * city.width + col
    if city.cell_quartier[c] < 0:
        raise ValueError(f"cell [{col}, {row}] lies outside the city's quartiers")
    return int(c)


def quartier_index(city: City, quartier_id: str) -> int:
    ids = city.quartier_ids()
    if quartier_id not in ids:
        raise ValueError(f"unknown quartier {quartier_id!r} (known: {', '.join(ids)})")
    return ids.index(quartier_id)
