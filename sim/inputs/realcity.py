"""A real city from its files: census grids, boundaries with named quartiers, facilities.

The scenario's ``[city]`` section (``kind = "files"``) names the files; :func:`build_real_city`
reads them and returns a :class:`~sim.state.city.City` whose quartiers are the boundary file's
quartiers (Stadtteile) and whose ``real`` attribute holds a :class:`RealCityData`: per
populated 100 m cell the census targets the start state follows
(:mod:`sim.inputs.realpopulation` draws the households), the quartier polygons and the facility
points.

How the census becomes per-cell targets (docs/ODD.md, "Real-city start state"):

- The grid is the 100 m Zensus grid over the city's bounding box; a cell belongs to the
  quartier that holds its centre (cells whose centre lies in no quartier are outside).
- Each cell takes the attributes of its 1 km cell (mean age, shares under 18, 65+, foreign,
  household size, vacancy, floor space per resident) unless the 100 m grid gives the value.
  1 km values the census left out are the population-weighted mean of the city's 1 km cells.
- Persons: the 100 m population where the files give it (Zensus 2022); otherwise the 1 km
  population times the share of the 1 km cell inside the city, spread over its 100 m cells in
  proportion to their occupied dwellings (100 m dwellings minus vacant ones).
- Foreigners: the 100 m count where published (counts under 3 are suppressed); the rest of the
  1 km cell's foreigners is spread over its other cells by population.
- Dwellings: the 100 m floor-space classes give the sizes; vacant dwellings are the 100 m count,
  or where suppressed at most 2 (the suppression limit), at the 1 km vacancy rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inputs.boundaries import read_outline, read_quartiers
from sim.inputs.census import read_census
from sim.inputs.facilities import read_facilities
from sim.scenario import Scenario
from sim.state.city import City, QuartierProfile

CELL_M = 100
KM = 1000
# The 1 km attributes used (Zensus 2011 names; Zensus 2022 names are mapped to them).
KM_ATTRIBUTES = ("Einwohner", "Alter_D", "unter18_A", "ab65_A", "Auslaender_A", "HHGroesse_D",
                 "Leerstandsquote", "Wohnfl_Bew_D", "Wohnfl_Whg_D")
# Zensus 2011 floor-space classes of dwellings (WOHNFLAECHE_10S 1-17): under 30, 30-39, …,
# 170-179, 180 and more m². Class midpoints; the open classes at 25 and 195 m² (ASSUMPTION).
FLOOR_CLASS_MID = np.r_[25.0, np.arange(35.0, 180.0, 10.0), 195.0]
FLOOR_PREFIX = "dwellings_WOHNFLAECHE_10S_"
VACANT = "dwellings_NUTZUNG_DETAIL_HHGEN_4"
FOREIGN = "demography_STAATSANGE_KURZ_2"
SUPPRESSION_LIMIT = 2  # Zensus 2011 100 m counts of 1 and 2 are not published
# Facility kinds the model uses (synthesised where the files give none).
MODEL_KINDS = ("gp", "ambulant_care", "nursing_home", "primary_school", "secondary_school",
               "kita", "stop")


@dataclass
class RealCityData:
    """What a city built from files carries besides its grid.

    Attributes:
        cells: One row per populated cell (``cell`` = grid index, ``quartier`` index,
            ``km_cell``, ``persons``, ``households``, ``dwellings`` (model), census
            ``census_dwellings``/``census_vacant``, shares ``under18``/``age65``/``foreign``,
            ``mean_age``, ``household_size``, ``floor_per_resident``, ``vacancy``).
        floor_classes: Share of dwellings per floor-space class (rows as ``cells``; NaN rows
            where the 100 m grid gives none).
        quartiers: GeoDataFrame ``quartier_id, name, geometry`` (EPSG:3035).
        outline: The city outline (shapely, EPSG:3035).
        facilities: ``kind, name, x, y, capacity, source, cell``.
        census_year: The census year.
        files: The files read (census, boundaries, facilities).
        scale: The city's households as a share of the census's (1 = the whole city).
    """

    cells: pd.DataFrame
    floor_classes: np.ndarray
    quartiers: object
    outline: object
    facilities: pd.DataFrame
    census_year: int | None
    files: list[str] = field(default_factory=list)
    scale: float = 1.0

    def real_kinds(self) -> list[str]:
        """Facility kinds given by the files."""
        return sorted(set(self.facilities["kind"]))

    def synthesised_kinds(self) -> list[str]:
        """Kinds the model uses that the files do not give (synthesised)."""
        return [k for k in MODEL_KINDS if k not in set(self.facilities["kind"])]


_CACHE: dict[str, City] = {}
CACHE_SIZE = 2  # cities kept per process (runs of a comparison or sweep share their city)


def build_real_city(scenario: Scenario) -> City:
    """The city a ``kind = "files"`` scenario describes (dwellings not yet furnished).

    The files are read once per process: later calls with the same ``[city]`` section and
    unchanged files (same size and modification time) get a copy of the city built then.
    """
    import copy
    import json

    cfg = scenario.city
    files = [scenario.resolve_path(f) for f in cfg.referenced_files()]
    stamps = [(str(f), f.stat().st_size, f.stat().st_mtime_ns) if f.exists() else str(f)
              for f in files]
    key = json.dumps([cfg.model_dump(), stamps], sort_keys=True, default=str)
    if key not in _CACHE:
        city = _build(scenario)
        while len(_CACHE) >= CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = city
    return copy.deepcopy(_CACHE[key])


def _build(scenario: Scenario) -> City:
    cfg = scenario.city
    boundaries = scenario.resolve_path(cfg.boundaries or "")
    quartiers = read_quartiers(boundaries, cfg.quartier_layer, cfg.quartier_name_field,
                               cfg.quartier_id_field)
    outline = read_outline(boundaries, cfg.city_layer, quartiers)
    census_paths = [scenario.resolve_path(f) for f in cfg.census or []]
    # Large national files are cut while reading (1 km cells reaching into the city kept).
    near = outline.buffer(KM)
    census = pd.concat([read_census(p, area=near) for p in census_paths], ignore_index=True)
    grid = _grid(outline)
    cell_quartier = _assign_cells(grid, quartiers)
    cells, floor_classes = census_targets(census, grid, cell_quartier, outline,
                                          source=", ".join(map(str, census_paths)))
    facilities = _facilities(scenario, outline, grid)
    scale = 1.0
    if cfg.households is not None:  # a smaller copy of the city (quick runs and tests)
        scale = min(1.0, cfg.households / cells["households"].sum())
        for column in ("persons", "households", "dwellings", "census_dwellings",
                       "census_vacant"):
            cells[column] = cells[column] * scale
        facilities["capacity"] = facilities["capacity"] * scale
    n_q = len(quartiers)
    persons_q = np.bincount(cells["quartier"], weights=cells["persons"], minlength=n_q)
    households_q = np.bincount(cells["quartier"], weights=cells["households"], minlength=n_q)
    foreign_q = np.bincount(cells["quartier"], weights=cells["persons"] * cells["foreign"],
                            minlength=n_q)
    level = income_levels(cells, facilities, grid, n_q)
    profiles = []
    for q, row in quartiers.iterrows():
        share = households_q[q] / households_q.sum()
        profiles.append(QuartierProfile(
            id=str(row["quartier_id"]), name=str(row["name"]), kind="Stadtteil",
            description=f"{persons_q[q]:,.0f} residents (census), foreign "
                        f"{100 * foreign_q[q] / max(persons_q[q], 1):.1f} %",
            household_share=float(share),
            housing={"income": float(level[q]), "rent": rent_level(float(level[q]))}))
    weight = np.zeros(grid["width"] * grid["height"])
    weight[cells["cell"].to_numpy()] = cells["persons"].to_numpy()
    city = City(
        name=cfg.name or Path(boundaries).stem, width=grid["width"], height=grid["height"],
        cell_size_m=float(CELL_M), origin_x=float(grid["origin_x"]),
        origin_y=float(grid["origin_y"]), cell_quartier=cell_quartier, cell_weight=weight,
        quartiers=profiles, reported_population=int(round(cells["persons"].sum())),
    )
    city.real = RealCityData(
        cells=cells, floor_classes=floor_classes, quartiers=quartiers, outline=outline,
        facilities=facilities, census_year=cfg.census_year,
        files=[str(p) for p in (*census_paths, boundaries)], scale=scale)
    return city


def _grid(outline) -> dict:
    minx, miny, maxx, maxy = outline.bounds
    origin_x = int(np.floor(minx / CELL_M) * CELL_M)
    origin_y = int(np.floor(miny / CELL_M) * CELL_M)
    width = int(np.ceil((maxx - origin_x) / CELL_M))
    height = int(np.ceil((maxy - origin_y) / CELL_M))
    return {"origin_x": origin_x, "origin_y": origin_y, "width": width, "height": height}


def _centres(grid: dict) -> tuple[np.ndarray, np.ndarray]:
    n = grid["width"] * grid["height"]
    col, row = np.arange(n) % grid["width"], np.arange(n) // grid["width"]
    return (grid["origin_x"] + col * CELL_M + CELL_M // 2,
            grid["origin_y"] + row * CELL_M + CELL_M // 2)


def _assign_cells(grid: dict, quartiers) -> np.ndarray:
    """Quartier index of every grid cell by its centre (-1: in no quartier)."""
    import shapely

    x, y = _centres(grid)
    points = shapely.points(x, y)
    point_index, quartier_index = quartiers.sindex.query(points, predicate="within")
    out = np.full(x.size, -1, np.int16)
    # A centre on a shared border lies in neither polygon's interior; the first match wins.
    order = np.argsort(point_index, kind="stable")
    first = np.unique(point_index[order], return_index=True)[1]
    out[point_index[order][first]] = quartier_index[order][first]
    return out


def _cell_index(grid: dict, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    col = (x - grid["origin_x"]) // CELL_M
    row = (y - grid["origin_y"]) // CELL_M
    ok = (col >= 0) & (col < grid["width"]) & (row >= 0) & (row < grid["height"])
    return np.where(ok, row * grid["width"] + col, -1).astype(np.int64)


def census_targets(census: pd.DataFrame, grid: dict, cell_quartier: np.ndarray, outline,
                   source: str = "census") -> tuple[pd.DataFrame, np.ndarray]:
    """Per populated cell, the census values the start state follows (see the module doc)."""
    import shapely

    km = census[census["resolution"] == KM]
    hm = census[census["resolution"] == CELL_M]
    if km.empty:
        raise InputError(source, "1 km grid", "no 1 km cell: the 1 km attributes (Einwohner, "
                         "Alter_D, …) are needed")
    missing = [a for a in ("Einwohner", "HHGroesse_D") if a not in set(km["attribute"])]
    if missing:
        raise InputError(source, "1 km grid", f"missing attribute(s) {', '.join(missing)}")
    table = km.pivot_table(index=["x", "y"], columns="attribute", values="value",
                           aggfunc="first", dropna=False)
    kx = table.index.get_level_values("x").to_numpy()
    ky = table.index.get_level_values("y").to_numpy()
    boxes = shapely.box(kx - KM / 2, ky - KM / 2, kx + KM / 2, ky + KM / 2)
    frac = shapely.area(shapely.intersection(boxes, outline)) / KM**2
    if "frac_in_city" in km.columns and km["frac_in_city"].notna().all():
        given = km.groupby(["x", "y"])["frac_in_city"].first()
        frac = given.reindex(table.index).to_numpy(float)
    pop_km = np.nan_to_num(table["Einwohner"].to_numpy(float)) * frac
    inside_km = pop_km > 0
    if not inside_km.any():
        raise InputError(source, "Einwohner", "no populated census cell inside the boundary")
    attrs = {}
    for name in KM_ATTRIBUTES[1:]:
        values = table[name].to_numpy(float) if name in table else np.full(len(table), np.nan)
        known = inside_km & ~np.isnan(values)
        fill = np.average(values[known], weights=pop_km[known]) if known.any() else np.nan
        attrs[name] = np.where(np.isnan(values), fill, values)
    km_key = pd.MultiIndex.from_arrays([kx, ky])

    # The grid's cells inside the city and their 1 km cell.
    cells = np.flatnonzero(cell_quartier >= 0)
    cx, cy = _centres(grid)
    cx, cy = cx[cells], cy[cells]
    km_of = km_key.get_indexer(pd.MultiIndex.from_arrays([cx // KM * KM + KM // 2,
                                                          cy // KM * KM + KM // 2]))
    hm_values = {}
    if not hm.empty:
        idx = _cell_index(grid, hm["x"].to_numpy(), hm["y"].to_numpy())
        pos = pd.Series(np.arange(cells.size), index=cells).reindex(idx).to_numpy()
        ok = ~np.isnan(pos)
        hm = hm[ok].assign(pos=pos[ok].astype(np.int64))
        for name, part in hm.groupby("attribute"):
            vector = np.full(cells.size, np.nan)
            vector[part["pos"].to_numpy()] = part["value"].to_numpy(float)
            hm_values[name] = vector
    floor_names = [f"{FLOOR_PREFIX}{k}" for k in range(1, FLOOR_CLASS_MID.size + 1)]
    have_floor = any(n in hm_values for n in floor_names)
    if have_floor:
        counts = np.column_stack([np.nan_to_num(hm_values.get(n, np.zeros(cells.size)))
                                  for n in floor_names])
        census_dwellings = counts.sum(axis=1)
    else:
        counts = np.zeros((cells.size, FLOOR_CLASS_MID.size))
        census_dwellings = np.zeros(cells.size)
    rate = np.where(km_of >= 0, attrs["Leerstandsquote"][np.maximum(km_of, 0)], np.nan) / 100
    rate = np.nan_to_num(rate, nan=float(np.nanmean(attrs["Leerstandsquote"])) / 100)
    vacant = hm_values.get(VACANT, np.full(cells.size, np.nan))
    vacant = np.where(np.isnan(vacant), np.minimum(SUPPRESSION_LIMIT, rate * census_dwellings),
                      vacant)
    vacant = np.minimum(vacant, census_dwellings)

    # Persons per cell.
    if "Einwohner" in hm_values:
        persons = np.nan_to_num(hm_values["Einwohner"])
    else:
        weight = np.maximum(census_dwellings - vacant, 0.0) if have_floor else np.ones(
            cells.size)
        weight = np.where(km_of >= 0, weight, 0.0)
        km_sum = np.bincount(np.maximum(km_of, 0), weights=weight, minlength=len(table))
        n_in = np.bincount(np.maximum(km_of, 0), weights=(km_of >= 0), minlength=len(table))
        # A 1 km cell with people but no dwellings in the 100 m grid: spread evenly.
        even = km_sum[np.maximum(km_of, 0)] <= 0
        share = np.where(even, 1.0 / np.maximum(n_in[np.maximum(km_of, 0)], 1),
                         weight / np.maximum(km_sum[np.maximum(km_of, 0)], 1e-12))
        persons = np.where(km_of >= 0, pop_km[np.maximum(km_of, 0)] * share, 0.0)

    def km_value(name: str) -> np.ndarray:
        return np.where(km_of >= 0, attrs[name][np.maximum(km_of, 0)], np.nan)

    foreign = _foreign_shares(persons, km_of, km_value("Auslaender_A") / 100,
                              hm_values.get(FOREIGN), len(table))
    household_size = np.maximum(km_value("HHGroesse_D"), 1.0)
    households = persons / household_size
    vacancy = np.where(census_dwellings > 0, vacant / np.maximum(census_dwellings, 1e-12), rate)
    vacancy = np.clip(vacancy, 0.0, 0.5)
    out = pd.DataFrame({
        "cell": cells, "quartier": cell_quartier[cells].astype(np.int64),
        "km_cell": km_of, "persons": persons, "households": households,
        "dwellings": households / (1.0 - vacancy), "census_dwellings": census_dwellings,
        "census_vacant": vacant, "vacancy": vacancy,
        "under18": km_value("unter18_A") / 100, "age65": km_value("ab65_A") / 100,
        "foreign": foreign, "mean_age": km_value("Alter_D"),
        "household_size": household_size, "floor_per_resident": km_value("Wohnfl_Bew_D"),
        "floor_per_dwelling": km_value("Wohnfl_Whg_D"),
    })
    # Cells with people, and cells whose dwellings all stand empty (they count in vacancy).
    keep = ((out["persons"] > 0) | (out["census_vacant"] > 0)).to_numpy()
    totals = counts.sum(axis=1, keepdims=True)
    floor_classes = np.divide(counts, totals, out=np.full_like(counts, np.nan),
                              where=totals > 0)
    return out[keep].reset_index(drop=True), floor_classes[keep]


def _foreign_shares(persons, km_of, km_share, count_100m, n_km) -> np.ndarray:
    """Foreign share per cell: published 100 m counts, the rest of the 1 km cell's
    foreigners spread over its other cells by population."""
    km_share = np.nan_to_num(km_share)
    if count_100m is None:
        return km_share
    k = np.maximum(km_of, 0)
    known = ~np.isnan(count_100m) & (persons > 0)
    known_count = np.where(known, np.minimum(np.nan_to_num(count_100m), persons), 0.0)
    total = np.bincount(k, weights=persons * km_share, minlength=n_km)
    rest = np.maximum(total - np.bincount(k, weights=known_count, minlength=n_km), 0.0)
    other_pop = np.bincount(k, weights=np.where(known, 0.0, persons), minlength=n_km)
    rest_share = np.divide(rest, other_pop, out=np.zeros(n_km), where=other_pop > 0)
    share = np.where(known, known_count / np.maximum(persons, 1e-12),
                     np.minimum(rest_share[k], 1.0))
    return np.where(km_of >= 0, share, km_share)


def _facilities(scenario: Scenario, outline, grid: dict) -> pd.DataFrame:
    parts = [read_facilities(spec, scenario.resolve_path(spec.file), outline)
             for spec in scenario.city.facilities or []]
    if not parts:
        return pd.DataFrame(columns=["kind", "name", "x", "y", "capacity", "source", "cell"])
    out = pd.concat(parts, ignore_index=True)
    out["cell"] = _cell_index(grid, np.floor(out["x"].to_numpy()).astype(np.int64),
                              np.floor(out["y"].to_numpy()).astype(np.int64))
    return out


# Poverty proxy (no income grid exists): the school Sozialindex near a quartier's residents and
# its foreign share, equally weighted z-scores (ASSUMPTION), scaled to income-rank shifts with
# the spread of the built-in city's quartier profiles (ASSUMPTION, docs/ODD.md).
SOZIALINDEX_NEIGHBOURS = 3
POVERTY_WEIGHT_SOZIALINDEX = 0.5
INCOME_LEVEL_SPREAD = 0.5
# Rent level of a quartier per unit of its income level (no rent grid of the census year is in
# the data): the weighted least-squares slope of rent on income over the built-in city's eight
# quartier profiles, 0.27 (ASSUMPTION, docs/ODD.md; in the sensitivity analysis).
RENT_PER_INCOME_LEVEL = 0.27


def rent_level(income_level: float) -> float:
    """Relative rent of a quartier's tenancies and re-lettings (1 = the city's level) from its
    income level; bounded below so that no quartier's rent falls under half the city's."""
    return max(0.5, 1.0 + RENT_PER_INCOME_LEVEL * income_level)


def income_levels(cells: pd.DataFrame, facilities: pd.DataFrame, grid: dict, n_q: int
                  ) -> np.ndarray:
    """Shift of the income rank per quartier (the ``income`` housing level; negative = poorer)
    from the poverty proxy; 0 everywhere when neither proxy varies."""
    weight = cells["persons"].to_numpy()
    q = cells["quartier"].to_numpy()
    persons_q = np.bincount(q, weights=weight, minlength=n_q)
    foreign_q = np.divide(np.bincount(q, weights=weight * cells["foreign"].to_numpy(),
                                      minlength=n_q), persons_q, out=np.zeros(n_q),
                          where=persons_q > 0)
    parts = [(_zscore(foreign_q, persons_q), 1.0 - POVERTY_WEIGHT_SOZIALINDEX)]
    index = sozialindex_by_cell(cells, facilities, grid)
    if index is not None:
        social_q = np.divide(np.bincount(q, weights=weight * index, minlength=n_q), persons_q,
                             out=np.zeros(n_q), where=persons_q > 0)
        parts.append((_zscore(social_q, persons_q), POVERTY_WEIGHT_SOZIALINDEX))
    score = sum(z * w for z, w in parts) / sum(w for _, w in parts)
    return -INCOME_LEVEL_SPREAD * _zscore(score, persons_q)


def sozialindex_by_cell(cells: pd.DataFrame, facilities: pd.DataFrame, grid: dict):
    """Inverse-distance mean Sozialindex of the nearest primary schools with one, per cell
    (None when no facility layer has a ``sozialindex``)."""
    from scipy.spatial import cKDTree

    if "sozialindex" not in facilities.columns:
        return None
    schools = facilities[(facilities["kind"] == "primary_school")
                         & facilities["sozialindex"].notna()]
    if len(schools) < SOZIALINDEX_NEIGHBOURS:
        return None
    x, y = _centres(grid)
    xy = np.c_[x[cells["cell"]], y[cells["cell"]]]
    dist, idx = cKDTree(schools[["x", "y"]].to_numpy()).query(xy, k=SOZIALINDEX_NEIGHBOURS)
    w = 1.0 / np.maximum(dist, CELL_M)
    return (w * schools["sozialindex"].to_numpy(float)[idx]).sum(axis=1) / w.sum(axis=1)


def _zscore(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    mean = np.average(values, weights=weight)
    sd = np.sqrt(np.average((values - mean) ** 2, weights=weight))
    return (values - mean) / sd if sd > 0 else np.zeros_like(values)
