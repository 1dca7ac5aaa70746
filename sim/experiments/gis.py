"""Results back into a city's GIS: per-cell and per-quartier layers as GeoPackage or GeoJSON.

- ``cells``: one row per populated 100 m cell, scenario and year: ``GITTER_ID_100m`` (the
  census id, ``CRS3035RES100mN{y}E{x}``), the scenario, the year and the cell snapshot's
  values (mean over the scenario's runs), with the cell's square in EPSG:3035.
- ``quartiers``: one row per quartier and scenario: the quartier's polygon (from the boundary
  file the runs were built from), the outcomes of the year (mean over runs) and, for a
  comparison, the paired differences against the baseline (``diff_<metric>``, with
  ``sig_<metric>`` = 1 where the 95 % interval excludes 0).

Only runs of cities built from files (``city.kind = "files"``) carry the grid's position
(``grid`` in their ``experiments`` row) and their boundary file (``city_files``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.experiments.files import share_like_new_file

CRS = "EPSG:3035"
CELL_ID = "GITTER_ID_100m"
FORMATS = ("gpkg", "geojson")
# Columns of a cell snapshot that are not values.
CELL_KEYS = ("run_id", "year", "cell", "col", "row", "quartier")


def provenance(model) -> dict:
    """Columns of the ``experiments`` row of a run of a city built from files: where its grid
    lies, which files it was built from, and which facility kinds are real or synthesised."""
    city = model.city
    real = getattr(city, "real", None)
    if real is None:
        return {}
    cfg = model.scenario.city
    return {
        "grid": json.dumps({"origin_x": city.origin_x, "origin_y": city.origin_y,
                            "width": city.width, "height": city.height,
                            "cell_size_m": city.cell_size_m, "crs": CRS}),
        "city_files": json.dumps({
            "census": [str(model.scenario.resolve_path(f).resolve()) for f in cfg.census or []],
            "boundaries": str(model.scenario.resolve_path(cfg.boundaries or "").resolve()),
            "city_layer": cfg.city_layer, "quartier_layer": cfg.quartier_layer,
            "quartier_name_field": cfg.quartier_name_field,
            "quartier_id_field": cfg.quartier_id_field,
            "facilities": [{**spec.model_dump(), "file": str(
                model.scenario.resolve_path(spec.file).resolve())}
                for spec in cfg.facilities or []]},
            ensure_ascii=False),
        "facilities_real": ",".join(real.real_kinds()),
        "facilities_synthesised": ",".join(real.synthesised_kinds()),
    }


def _georeference(experiments: pd.DataFrame, source: str) -> tuple[dict, dict]:
    if "grid" not in experiments.columns or experiments["grid"].isna().all():
        raise InputError(source, "experiments: grid", "the runs carry no georeference: only "
                         "runs of a city built from files (city.kind = 'files') can be exported")
    grids = experiments["grid"].dropna().unique()
    if len(grids) > 1:
        raise InputError(source, "experiments: grid", "the runs lie on different grids")
    return json.loads(grids[0]), json.loads(experiments["city_files"].dropna().iloc[0])


def cell_layer(experiments: pd.DataFrame, cells: pd.DataFrame, year: int, grid: dict):
    """The ``cells`` layer (see the module doc)."""
    import geopandas as gpd
    import shapely

    part = cells[cells["year"] == year].merge(experiments[["run_id", "scenario"]], on="run_id")
    values = [c for c in part.columns if c not in (*CELL_KEYS, "scenario")
              and pd.api.types.is_numeric_dtype(part[c])]
    table = part.groupby(["scenario", "cell"], as_index=False)[values].mean()
    size = float(grid["cell_size_m"])
    col = table["cell"].to_numpy() % int(grid["width"])
    row = table["cell"].to_numpy() // int(grid["width"])
    x0 = grid["origin_x"] + col * size
    y0 = grid["origin_y"] + row * size
    ids = [f"CRS3035RES{int(size)}mN{int(y)}E{int(x)}" for x, y in zip(x0, y0, strict=True)]
    table.insert(0, CELL_ID, ids)
    table.insert(2, "year", int(year))
    geometry = shapely.box(x0, y0, x0 + size, y0 + size)
    return gpd.GeoDataFrame(table.drop(columns="cell"), geometry=geometry, crs=CRS)


def quartier_layer(experiments: pd.DataFrame, outcomes: pd.DataFrame, year: int, files: dict,
                   comparison: pd.DataFrame | None):
    """The ``quartiers`` layer (see the module doc)."""
    import geopandas as gpd

    from sim.inputs.boundaries import read_quartiers

    shapes = read_quartiers(files["boundaries"], files["quartier_layer"],
                            files["quartier_name_field"], files.get("quartier_id_field"))
    part = outcomes[(outcomes["year"] == year) & (outcomes["scope"].astype(str) != "city")]
    part = part.merge(experiments[["run_id", "scenario"]], on="run_id")
    wide = part.pivot_table(index=["scenario", "scope"], columns="metric", values="value",
                            aggfunc="mean", observed=True).reset_index()
    wide.columns = [str(c) for c in wide.columns]
    wide = wide.rename(columns={"scope": "quartier_id"})
    if comparison is not None and len(comparison):
        diff = comparison[(comparison["year"] == year)
                          & (comparison["scope"].astype(str) != "city")]
        if len(diff):
            d = diff.pivot_table(index=["scenario", "scope"], columns="metric",
                                 values="difference", aggfunc="first").add_prefix("diff_")
            s = diff.assign(sig=diff["significant"].astype(int)).pivot_table(
                index=["scenario", "scope"], columns="metric", values="sig",
                aggfunc="first").add_prefix("sig_")
            extra = d.join(s).reset_index().rename(columns={"scope": "quartier_id"})
            extra.columns = [str(c) for c in extra.columns]
            wide = wide.merge(extra, on=["scenario", "quartier_id"], how="left")
    wide.insert(2, "year", int(year))
    merged = shapes.merge(wide, on="quartier_id", how="inner")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=CRS)


def export(experiments: pd.DataFrame, outcomes: pd.DataFrame, cells: pd.DataFrame | None,
           comparison: pd.DataFrame | None, target: str | Path, fmt: str, *,
           year: int | None = None, source: str = "results") -> list[Path]:
    """Write the ``cells`` and ``quartiers`` layers; returns the files written.

    ``gpkg``: one GeoPackage with both layers at ``target``. ``geojson``: two files,
    ``<target stem>_cells.geojson`` and ``<target stem>_quartiers.geojson``. Files are written
    under temporary names and renamed into place once complete, so an error leaves any earlier
    export as it was.
    """
    if fmt not in FORMATS:
        raise InputError("--format", None, f"must be gpkg or geojson (got {fmt!r})")
    grid, files = _georeference(experiments, source)
    years = sorted(int(y) for y in outcomes["year"].unique())
    year = years[-1] if year is None else int(year)
    if year not in years:
        raise InputError("--year", None, f"{year} is not a year of the runs "
                         f"({years[0]}-{years[-1]})")
    if cells is None or cells.empty:
        raise InputError(source, "cells", "the runs recorded no cell snapshots (set "
                         "outcomes.cell_snapshots = true)")
    layers = {"cells": cell_layer(experiments, cells, year, grid),
              "quartiers": quartier_layer(experiments, outcomes, year, files, comparison)}
    target = Path(target)
    if fmt == "gpkg":
        outputs = {name: target for name in layers}
    else:
        outputs = {name: target.with_name(f"{target.stem}_{name}.geojson") for name in layers}
    temporary = {path: path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
                 for path in set(outputs.values())}
    try:
        for name, layer in layers.items():
            tmp = temporary[outputs[name]]
            driver = "GPKG" if fmt == "gpkg" else "GeoJSON"
            layer.to_file(tmp, layer=name, driver=driver, engine="pyogrio")
        for path, tmp in temporary.items():
            share_like_new_file(tmp)
            os.replace(tmp, path)
    finally:
        for tmp in temporary.values():
            if tmp.exists():
                tmp.unlink()
    return sorted(set(outputs.values()))



def map_geography(experiments: pd.DataFrame) -> dict | None:
    """What the report and dashboard draw on the maps of a city built from files, in the
    maps' cell coordinates (column, row of the grid): the quartier outlines (``outlines``:
    quartier_id, name, col, row; rings separated by NaN), a point inside each quartier for its
    name (``labels``) and the facilities the files give (``facilities``: kind, name, col, row,
    capacity). None for other cities, or when the files have moved."""
    import shapely

    from sim.inputs.boundaries import read_outline, read_quartiers
    from sim.inputs.facilities import read_facilities
    from sim.scenario.schema import FacilityFile

    if "grid" not in experiments.columns or experiments["grid"].isna().all():
        return None
    grid = json.loads(experiments["grid"].dropna().iloc[0])
    files = json.loads(experiments["city_files"].dropna().iloc[0])
    try:
        shapes = read_quartiers(files["boundaries"], files["quartier_layer"],
                                files["quartier_name_field"], files.get("quartier_id_field"))
        outline = read_outline(files["boundaries"], files.get("city_layer"), shapes)
        facilities = [read_facilities(FacilityFile(**spec), spec["file"], outline)
                      for spec in files.get("facilities", [])]
    except InputError:
        return None
    size = float(grid["cell_size_m"])

    def col_row(x, y):
        return ((np.asarray(x) - grid["origin_x"]) / size - 0.5,
                (np.asarray(y) - grid["origin_y"]) / size - 0.5)

    rows = []
    for qid, name, geometry in zip(shapes["quartier_id"], shapes["name"], shapes.geometry,
                                   strict=True):
        for polygon in getattr(geometry, "geoms", [geometry]):
            xy = np.asarray(polygon.exterior.coords)
            col, row = col_row(xy[:, 0], xy[:, 1])
            rows.append(pd.DataFrame({"quartier_id": qid, "name": name,
                                      "col": np.r_[col, np.nan], "row": np.r_[row, np.nan]}))
    points = shapely.point_on_surface(shapes.geometry.to_numpy())
    label_col, label_row = col_row(shapely.get_x(points), shapely.get_y(points))
    labels = pd.DataFrame({"quartier_id": shapes["quartier_id"], "name": shapes["name"],
                           "col": label_col, "row": label_row})
    if facilities:
        table = pd.concat(facilities, ignore_index=True)
        fcol, frow = col_row(table["x"], table["y"])
        table = pd.DataFrame({"kind": table["kind"], "name": table["name"], "col": fcol,
                              "row": frow, "capacity": table["capacity"]})
    else:
        table = pd.DataFrame(columns=["kind", "name", "col", "row", "capacity"])
    return {"outlines": pd.concat(rows, ignore_index=True), "labels": labels,
            "facilities": table}
