"""Boundaries of a real city: its outline and its quartiers (Stadtteile) with names.

Read with geopandas/pyogrio from a GeoPackage, GeoJSON or Shapefile in any CRS and reprojected
to EPSG:3035 (ETRS89-LAEA, the CRS of the Zensus grid). Problems are :class:`InputError` naming
the file, the layer and the field.
"""

from __future__ import annotations

from pathlib import Path

from sim.errors import InputError

CRS = "EPSG:3035"


def layer_names(path: str | Path) -> list[str]:
    """The layers of a vector file."""
    import pyogrio

    source = str(path)
    if not Path(path).exists():
        raise InputError(source, None, "file not found")
    try:
        return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds for unreadable files
        raise InputError(source, None, f"not a readable vector file ({exc.__class__.__name__})"
                         ) from None


def read_layer(path: str | Path, layer: str | None, *, what: str):
    """One layer as a GeoDataFrame in EPSG:3035; ``what`` names it in errors."""
    import geopandas as gpd

    source = str(path)
    names = layer_names(path)
    if layer is None:
        if len(names) != 1:
            raise InputError(source, None, f"{len(names)} layers ({', '.join(names)}): name "
                             f"the {what} layer")
        layer = names[0]
    elif layer not in names:
        raise InputError(source, f"layer {layer}", f"no such layer (the file has: "
                         f"{', '.join(names)})")
    frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    where = f"layer {layer}"
    if frame.crs is None:
        raise InputError(source, where, "no CRS: the layer must declare its coordinate "
                         "reference system")
    if frame.empty:
        raise InputError(source, where, "the layer is empty")
    if frame.crs.to_epsg() != 3035:
        frame = frame.to_crs(CRS)
    frame.attrs["layer"] = layer
    return frame


def read_quartiers(path: str | Path, layer: str, name_field: str, id_field: str | None = None):
    """Quartier polygons: columns ``quartier_id``, ``name``, ``geometry`` (EPSG:3035), in the
    order of their ids."""
    source = str(path)
    frame = read_layer(path, layer, what="quartier")
    where = f"layer {layer}"
    for field in (name_field, id_field):
        if field and field not in frame.columns:
            raise InputError(source, f"{where}: field {field}", "no such column (the layer "
                             f"has: {', '.join(c for c in frame.columns if c != 'geometry')})")
    kinds = set(frame.geometry.geom_type.dropna())
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise InputError(source, f"{where}: geometry", f"quartiers must be polygons, not "
                         f"{', '.join(sorted(kinds))}")
    names = frame[name_field].astype(str).str.strip()
    ids = frame[id_field].astype(str).str.strip() if id_field else names
    if (names == "").any() or frame[name_field].isna().any():
        raise InputError(source, f"{where}: field {name_field}", "a quartier without a name")
    duplicated = ids[ids.duplicated()]
    if not duplicated.empty:
        raise InputError(source, f"{where}: field {id_field or name_field}",
                         f"quartier {duplicated.iloc[0]!r} appears twice")
    out = frame[["geometry"]].copy()
    out.insert(0, "name", names.to_numpy())
    out.insert(0, "quartier_id", ids.to_numpy())
    return out.reset_index(drop=True)


def read_outline(path: str | Path, layer: str | None, quartiers):
    """The city's outline (one shapely geometry, EPSG:3035): the union of ``layer``'s features,
    or of the quartiers when no layer is named."""
    if layer is None:
        return quartiers.geometry.union_all()
    return read_layer(path, layer, what="city").geometry.union_all()
