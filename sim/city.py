"""The city: a grid of 100 m cells grouped into quartiers, and its dwellings.

Cells are numbered row by row from the south-west corner: ``cell = row * width + col``. A cell's
``cell_quartier`` is -1 when it lies outside the city. ``cell_weight`` is the cell's relative
residential capacity (0 for parks, industry, water). Dwellings are created once the population
is known (see :func:`furnish_dwellings`), so that the vacancy rate of the scenario holds.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from sim.scenario import Scenario

DEFAULT_HOUSEHOLDS = 30_000

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
        """Relative housing level ``key`` (see ``sim/data/ruhrstadt.toml``); neutral if unset."""
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
        dwelling_tenure: 0 owner-occupied, 1 private rental, 2 social housing (``sim.housing``).
        dwelling_binding_end: Year a social dwelling's rent binding ends (0 if none).
        dwelling_rent_m2: Net cold rent per m² of the tenancy (owner-occupied: the local level).
        cell_rent_m2: Re-letting rent per m² per cell (the local market level).
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


def _load_ruhrstadt_profile() -> dict:
    with resources.as_file(resources.files("sim.data") / "ruhrstadt.toml") as path:
        return tomllib.loads(path.read_text(encoding="utf-8"))


def build_ruhrstadt(households: int, layout_seed: int = 2024) -> City:
    """The built-in synthetic city "Ruhrstadt" (see ``sim/data/ruhrstadt.toml``).

    The grid grows with the square root of the number of households so that densities stay
    those of a real city; the layout depends only on ``layout_seed``.
    """
    spec = _load_ruhrstadt_profile()
    scale = np.sqrt(households / spec["default_households"])
    width = max(16, int(round(spec["grid_width"] * scale)))
    height = max(12, int(round(spec["grid_height"] * scale)))
    rng = np.random.default_rng(layout_seed)
    rows = spec["quartier"]
    centres = np.array([r["centre"] for r in rows], dtype=float)
    area = np.array([r["area_weight"] for r in rows], dtype=float)
    col = (np.arange(width * height) % width + 0.5) / width
    row = (np.arange(width * height) // width + 0.5) / height
    aspect = width / height
    # Weighted Voronoi with a little noise so that borders are not straight lines.
    dx = (col[:, None] - centres[None, :, 0]) * aspect
    dy = row[:, None] - centres[None, :, 1]
    dist = np.sqrt(dx**2 + dy**2) / np.sqrt(area)[None, :]
    dist *= np.exp(rng.normal(0.0, 0.06, size=dist.shape))
    cell_quartier = np.argmin(dist, axis=1).astype(np.int16)
    # Cells far from every centre lie outside the city (its irregular edge).
    outside = dist.min(axis=1) > np.quantile(dist.min(axis=1), 0.93)
    cell_quartier[outside] = -1
    weight = np.exp(rng.normal(0.0, 0.35, size=width * height))
    for q, r in enumerate(rows):
        cells = np.flatnonzero(cell_quartier == q)
        n_open = int(round(r["open_space"] * cells.size))
        weight[rng.choice(cells, size=n_open, replace=False)] = 0.0
    weight[cell_quartier < 0] = 0.0
    quartiers = [
        QuartierProfile(
            id=r["id"], name=r["name"], kind=r.get("kind", ""),
            description=r.get("description", ""), household_share=float(r["household_share"]),
            affinity={k: float(v) for k, v in r.get("affinity", {}).items()},
            housing={k: float(v) for k, v in r.get("housing", {}).items()},
            services={k: float(v) for k, v in r.get("services", {}).items()},
        )
        for r in rows
    ]
    return City(
        name="Ruhrstadt", width=width, height=height, cell_size_m=100.0, origin_x=0.0,
        origin_y=0.0, cell_quartier=cell_quartier, cell_weight=weight, quartiers=quartiers,
    )


def build_city(scenario: Scenario) -> City:
    """The geography a scenario names (dwellings not yet furnished)."""
    if scenario.city.kind == "zensus":
        from sim.zensus import city_from_zensus

        return city_from_zensus(
            scenario.resolve_path(scenario.city.zensus_file or ""),
            quartier_block_m=scenario.city.quartier_block_m,
        )
    return build_ruhrstadt(
        scenario.city.households or DEFAULT_HOUSEHOLDS, scenario.city.layout_seed
    )


def furnish_dwellings(
    city: City, occupied: np.ndarray, vacancy_rate: float, rng: np.random.Generator
) -> None:
    """Create the dwellings: per quartier enough for ``occupied`` households plus vacancy.

    Dwellings are spread over the quartier's cells in proportion to ``cell_weight``.
    """
    cells_out = []
    for q in range(city.n_quartiers):
        n = int(np.ceil(occupied[q] / (1.0 - vacancy_rate))) if occupied[q] else 0
        n = max(n, int(occupied[q]))
        if n == 0:
            continue
        cells = np.flatnonzero((city.cell_quartier == q) & (city.cell_weight > 0))
        if cells.size:
            weight = city.cell_weight[cells]
        else:  # a quartier with no residential weight: spread evenly over its cells
            cells = np.flatnonzero(city.cell_quartier == q)
            weight = np.ones(cells.size)
        counts = rng.multinomial(n, weight / weight.sum())
        cells_out.append(np.repeat(cells, counts))
    city.dwelling_cell = (
        np.concatenate(cells_out).astype(np.int32) if cells_out else np.zeros(0, np.int32)
    )
