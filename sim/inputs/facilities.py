"""Facility locations of a real city: schools (pupils), Kitas, GP practices and MVZ
(doctors), nursing homes (places), ambulant care services, stops.

From GeoJSON, GeoPackage, Shapefile or CSV with coordinates (``x_field``, ``y_field``, ``crs``),
reprojected to EPSG:3035. Every point must lie inside the city. A kind the city does not give is
synthesised by the model as for the built-in city (see ``sim/model/services.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inputs.boundaries import CRS, read_layer

# School types (Schulform) that count as primary schools; other general schools are secondary.
PRIMARY_TYPES = ("grundschule",)
# Not general schools: vocational colleges and schools of continuing education are left out.
NOT_GENERAL = ("berufskolleg", "weiterbildungskolleg", "abendgymnasium", "abendrealschule",
               "kolleg", "förderschule", "klinikschule")
COLUMNS = ("kind", "name", "x", "y", "capacity", "sozialindex", "from_age", "to_age",
           "source")


def read_facilities(spec, path: str | Path, outline) -> pd.DataFrame:
    """One facility layer (a :class:`sim.scenario.schema.FacilityFile`) as a table with
    :data:`COLUMNS` (x, y in EPSG:3035; capacity NaN when the file gives none)."""
    import shapely

    source = str(path)
    if Path(path).suffix.lower() == ".csv":
        frame = _read_csv(spec, path)
        where = "csv"
    else:
        frame = read_layer(path, spec.layer, what="facility")
        where = f"layer {frame.attrs['layer']}"
    for field in (spec.capacity_field, spec.name_field, spec.school_type_field,
                  spec.sozialindex_field, spec.age_range_field):
        if field and field not in frame.columns:
            raise InputError(source, f"{where}: field {field}", "no such column")
    if not set(frame.geometry.geom_type.dropna()) <= {"Point"}:
        raise InputError(source, f"{where}: geometry", "facilities must be points")
    frame = frame[~frame.geometry.is_empty & frame.geometry.notna()]
    x, y = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    inside = shapely.contains_xy(outline, x, y)
    dropped = int((~inside).sum()) if spec.outside == "drop" else 0
    if dropped:
        frame, x, y = frame[inside], x[inside], y[inside]
    elif not inside.all():
        i = int(np.flatnonzero(~inside)[0])
        label = frame[spec.name_field].iloc[i] if spec.name_field else f"feature {i + 1}"
        raise InputError(source, f"{where}: geometry", f"facility {label!r} at "
                         f"{x[i]:.0f}/{y[i]:.0f} (EPSG:3035) lies outside the city")
    capacity = np.full(len(frame), np.nan)
    if spec.capacity_field:
        column = frame[spec.capacity_field]
        number = pd.to_numeric(column, errors="coerce")
        bad = number.isna() & column.notna() & (column.astype(str).str.strip() != "")
        if bad.any():
            raise InputError(source, f"{where}: field {spec.capacity_field}",
                             f"{column[bad].iloc[0]!r} is not a number")
        if (number < 0).any():
            raise InputError(source, f"{where}: field {spec.capacity_field}",
                             "a negative capacity")
        capacity = number.to_numpy(float)
    index = np.full(len(frame), np.nan)
    if spec.sozialindex_field:
        index = pd.to_numeric(frame[spec.sozialindex_field], errors="coerce").to_numpy(float)
    from_age, to_age = np.full(len(frame), np.nan), np.full(len(frame), np.nan)
    if spec.age_range_field:
        from_age, to_age = age_range(frame[spec.age_range_field].astype(str))
    names = (frame[spec.name_field].astype(str).to_numpy(object) if spec.name_field
             else np.full(len(frame), spec.kind, object))
    kind = np.full(len(frame), spec.kind, object)
    if spec.kind == "school":
        if not spec.school_type_field:
            raise InputError(source, f"{where}: school_type_field", "kind = 'school' needs "
                             "the column with the school type")
        school_type = frame[spec.school_type_field].astype(str).str.lower()
        general = ~school_type.str.contains("|".join(NOT_GENERAL)).to_numpy()
        primary = school_type.str.contains("|".join(PRIMARY_TYPES)).to_numpy()
        kind = np.where(primary, "primary_school", "secondary_school").astype(object)
        keep = general
        x, y, capacity, names, kind, index = (x[keep], y[keep], capacity[keep], names[keep],
                                              kind[keep], index[keep])
        from_age, to_age = from_age[keep], to_age[keep]
    out = pd.DataFrame({"kind": kind, "name": names, "x": x, "y": y, "capacity": capacity,
                        "sozialindex": index, "from_age": from_age, "to_age": to_age,
                        "source": source})
    out.attrs["dropped_outside"] = dropped
    return out


def age_range(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """First age and the age before which care ends (exclusive) from texts such as 'Betreuung
    für Kinder von 2 J. - Schulpflicht' (2, 6) or 'von 0 bis unter 3J.' (0, 3); NaN where the
    text gives none (e.g. a Kita still to open)."""
    first = pd.to_numeric(text.str.extract(r"von\s*(\d+)", expand=False), errors="coerce")
    below = pd.to_numeric(text.str.extract(r"bis unter\s*(\d+)", expand=False),
                          errors="coerce")
    below = below.where(below.notna() | ~text.str.contains("Schulpflicht"), 6.0)
    return first.to_numpy(float), below.to_numpy(float)


def _read_csv(spec, path: str | Path):
    import geopandas as gpd

    source = str(path)
    if not (spec.x_field and spec.y_field and spec.crs):
        raise InputError(source, "x_field", "a CSV of facilities needs x_field, y_field and crs")
    try:
        raw = pd.read_csv(path, sep=None, engine="python", dtype=str)
    except (OSError, pd.errors.ParserError) as exc:
        raise InputError(source, None, f"cannot read the CSV ({exc.__class__.__name__})"
                         ) from None
    coords = {}
    for field in (spec.x_field, spec.y_field):
        if field not in raw.columns:
            raise InputError(source, f"csv: field {field}", "no such column")
        number = pd.to_numeric(raw[field].str.strip(), errors="coerce")
        if number.isna().any():
            i = int(np.flatnonzero(number.isna().to_numpy())[0])
            hint = " (a decimal comma?)" if "," in str(raw[field].iloc[i]) else ""
            raise InputError(source, f"csv: row {i + 2}: {field}",
                             f"{raw[field].iloc[i]!r} is not a number{hint}")
        coords[field] = number.to_numpy(float)
    try:
        points = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(
            coords[spec.x_field], coords[spec.y_field]), crs=spec.crs)
    except Exception as exc:  # noqa: BLE001 - pyproj raises its own CRSError
        raise InputError(source, "crs", f"unknown CRS {spec.crs!r} ({exc.__class__.__name__})"
                         ) from None
    return points.to_crs(CRS)
