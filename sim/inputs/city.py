"""The built-in synthetic city "Ruhrstadt", the choice of a scenario's city, and its dwellings.

The Zensus grid reader is :mod:`sim.inputs.zensus`.
"""

from __future__ import annotations

import tomllib
from importlib import resources

import numpy as np

from sim.scenario import Scenario
from sim.state.city import City, QuartierProfile

DEFAULT_HOUSEHOLDS = 30_000


def _load_ruhrstadt_profile() -> dict:
    with resources.as_file(resources.files("sim.inputs.data") / "ruhrstadt.toml") as path:
        return tomllib.loads(path.read_text(encoding="utf-8"))


def build_ruhrstadt(households: int, layout_seed: int = 2024) -> City:
    """The built-in synthetic city "Ruhrstadt" (see ``sim/inputs/data/ruhrstadt.toml``).

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
    if scenario.city.kind == "files":
        from sim.inputs.realcity import build_real_city

        return build_real_city(scenario)
    if scenario.city.kind == "zensus":
        from sim.inputs.zensus import city_from_zensus

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
