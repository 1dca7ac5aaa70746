"""Census grids in their official layouts, read into one tidy table.

Every reader returns the same columns: ``cell_id`` (the INSPIRE id,
``CRS3035RES100mN{y}E{x}`` or ``CRS3035RES1000mN{y}E{x}``, lower-left corner in metres),
``x``, ``y`` (the cell centre, EPSG:3035, int64), ``resolution`` (100 or 1000),
``attribute`` (str) and ``value`` (float64, NaN where the census suppressed or gave no value).

Layouts read:

- Zensus 2011 "Merkmale im 100 m-Gitter" (long: ``Gitter_ID_100m, Merkmal, Auspraegung_Code,
  Anzahl, Anzahl_q``); the table (persons, households, families, dwellings, buildings) comes
  from the file name (``Bevoelkerung100m.csv`` …); attributes are named
  ``{table}_{Merkmal}_{Auspraegung_Code}``, e.g. ``dwellings_WOHNFLAECHE_10S_3``.
- Zensus 2011 1 km "spitze Werte" (wide: ``Gitter_ID_1km;x_mp_1km;y_mp_1km;Einwohner;…``,
  decimal point, -1 and -9 for no value).
- Zensus 2022 100 m and 1 km population and attribute CSVs (wide, ``;``, decimal comma, '–' for
  suppressed values, a ``werterlaeuternde_Zeichen`` column), also straight from the ZIP as
  downloaded. Column names of 2022 are mapped to those of 2011 (:data:`NAMES_2022`).
- The tidy Parquet files of the bundled Essen data (``zensus2011_1km.parquet``,
  ``zensus2011_100m.parquet``).

A national file is cut to a city while streaming: :func:`cut_to_boundary`.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError

COLUMNS = ("cell_id", "x", "y", "resolution", "attribute", "value")
SUPPRESSED = ("–", "—", "-", "", "\x96", "\x97", ".", "/", "x")
# Names of the 1 km attributes in the Zensus 2022 files, mapped to those of 2011 (lower case).
NAMES_2022 = {
    "einwohner": "Einwohner",
    "durchschnalter": "Alter_D",
    "anteilunter18": "unter18_A",
    "anteilueber65": "ab65_A",
    "anteilauslaender": "Auslaender_A",
    "durchschnhhgroesse": "HHGroesse_D",
    "leerstandsquote": "Leerstandsquote",
    "durchschnflaechejebew": "Wohnfl_Bew_D",
    "durchschnflaechejewohn": "Wohnfl_Whg_D",
}
_TABLES = (("bevoelkerung", "demography"), ("demograph", "demography"),
           ("haushalt", "households"), ("famil", "families"), ("wohnung", "dwellings"),
           ("gebaeude", "buildings"), ("geb", "buildings"))
_ID = re.compile(r"^(?:CRS3035RES)?(100m|1000m|1km)N(\d+)E(\d+)$")


# CSV and ZIP files larger than this are read by streaming, keeping only the cells near the city.
STREAM_BYTES = 64 * 1024**2


def read_census(path: str | Path, area=None) -> pd.DataFrame:
    """Read one census file of any layout above (by content and suffix); see the module doc.

    With ``area`` (a shapely geometry in EPSG:3035), a large CSV or ZIP of the wide layouts
    (with ``x_mp_*``/``y_mp_*`` columns, e.g. a national Zensus 2022 file) is cut to the cells
    whose centre lies in ``area`` while streaming (:func:`cut_to_boundary`).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, None, "file not found")
    if (area is not None and path.suffix.lower() in (".csv", ".zip")
            and path.stat().st_size > STREAM_BYTES):
        columns = _coordinate_columns(path)
        if columns is not None:
            kept = cut_to_boundary(path, area, x_column=columns[0], y_column=columns[1])
            text = kept.astype(str).to_csv(sep=";", index=False)
            return read_csv_text(text, str(path), path.name)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return read_tidy_parquet(path)
    if suffix == ".zip":
        return read_zip(path)
    if suffix in (".csv", ".txt"):
        return read_csv_text(_decode(path.read_bytes(), path), str(path), path.name)
    raise InputError(path, None, f"unknown census file type {suffix!r} (csv, zip or parquet)")


def read_zip(path: str | Path) -> pd.DataFrame:
    """Every CSV inside a ZIP as downloaded from the Zensus portal, concatenated."""
    source = str(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(source, None, f"not a readable ZIP ({exc.__class__.__name__})") from None
    with archive:
        members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
        if not members:
            raise InputError(source, None, "the ZIP holds no .csv file")
        parts = [read_csv_text(_decode(archive.read(m), f"{source}:{m}"), f"{source}:{m}", m)
                 for m in members]
    return pd.concat(parts, ignore_index=True)


def read_csv_text(text: str, source: str, name: str) -> pd.DataFrame:
    """A census CSV given as text; ``name`` (the file name) tells the 2011 table."""
    try:
        raw = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False,
                          skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(source, None, f"not a ';'-separated table ({exc})") from None
    raw.columns = [str(c).strip().strip('"').lstrip("\ufeff") for c in raw.columns]
    lower = {c.lower(): c for c in raw.columns}
    if len(raw.columns) == 1 and "," in raw.columns[0]:
        raise InputError(source, "header", "the separator must be ';'")
    if "merkmal" in lower:
        return _long_2011(raw, lower, source, name)
    return _wide(raw, lower, source, name)


def _long_2011(raw: pd.DataFrame, lower: dict, source: str, name: str) -> pd.DataFrame:
    for column in ("gitter_id_100m", "merkmal", "auspraegung_code", "anzahl"):
        if column not in lower:
            raise InputError(source, "header", f"missing column {column!r} (Zensus 2011 long "
                             "layout: Gitter_ID_100m, Merkmal, Auspraegung_Code, Anzahl)")
    table = next((t for key, t in _TABLES if key in name.lower()), "demography")
    ids = raw[lower["gitter_id_100m"]].str.strip()
    x, y, res = _centres(ids, source, lower["gitter_id_100m"])
    value = _numbers(raw[lower["anzahl"]], source, lower["anzahl"], decimal=".")
    attribute = (table + "_" + raw[lower["merkmal"]].str.strip() + "_"
                 + raw[lower["auspraegung_code"]].str.strip())
    return _frame(x, y, res, attribute.to_numpy(object), value)


def _wide(raw: pd.DataFrame, lower: dict, source: str, name: str) -> pd.DataFrame:
    id_col = next((lower[c] for c in ("gitter_id_100m", "gitter_id_1km", "gitter_id_1000m")
                   if c in lower), None)
    if id_col is None:
        raise InputError(source, "header", "missing column 'GITTER_ID_100m' or "
                         "'GITTER_ID_1km'")
    # Zensus 2022 files (decimal comma) have a werterlaeuternde_Zeichen column or say 2022 in
    # their name; the 2011 files use a decimal point.
    is_2022 = "werterlaeuternde_zeichen" in lower or "2022" in name
    skip = {id_col, *(c for c in raw.columns if c.lower().startswith(("x_mp", "y_mp")))}
    skip |= {c for c in raw.columns if c.lower() in ("werterlaeuternde_zeichen",
                                                      "gitter_id_100m_neu")}
    x, y, res = _centres(raw[id_col].str.strip(), source, id_col)
    parts = []
    for column in raw.columns:
        if column in skip:
            continue
        attribute = NAMES_2022.get(column.lower(), column)
        value = _numbers(raw[column], source, column, decimal="," if is_2022 else ".",
                         missing_codes=() if is_2022 else (-1.0, -9.0))
        parts.append(_frame(x, y, res, np.full(len(raw), attribute, object), value))
    if not parts:
        raise InputError(source, "header", "no attribute column besides the grid id")
    return pd.concat(parts, ignore_index=True)


def read_tidy_parquet(path: str | Path) -> pd.DataFrame:
    """The tidy Parquet of the bundle (1 km: ``attribute, value, missing``; 100 m: ``table,
    feature, cat_code, value``)."""
    source = str(path)
    try:
        raw = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's input error
        raise InputError(source, None, f"not a readable Parquet file ({exc.__class__.__name__})"
                         ) from None
    for column in ("cell_id", "value"):
        if column not in raw.columns:
            raise InputError(source, column, "missing column")
    if not pd.api.types.is_numeric_dtype(raw["value"]):
        raise InputError(source, "value", "must be numeric")
    ids = raw["cell_id"].astype(str)
    if {"x", "y"} <= set(raw.columns) and ids.str.startswith("CRS3035RES").all():
        # The bundle's own centres; the resolution from the id.
        x, y = raw["x"].to_numpy(np.int64), raw["y"].to_numpy(np.int64)
        res = np.where(ids.str.startswith("CRS3035RES100m").to_numpy(), 100, 1000)
    else:
        x, y, res = _centres(ids, source, "cell_id")
    if "feature" in raw.columns:
        attribute = (raw["table"].astype(str) + "_" + raw["feature"].astype(str) + "_"
                     + raw["cat_code"].astype(str))
    elif "attribute" in raw.columns:
        attribute = raw["attribute"].astype(str)
    else:
        raise InputError(source, "attribute", "missing column")
    value = raw["value"].to_numpy(float).copy()
    if "missing" in raw.columns:
        value[raw["missing"].to_numpy(bool)] = np.nan
    given = ids.to_numpy(object) if ids.str.startswith("CRS3035RES").all() else None
    out = _frame(x, y, res, attribute.to_numpy(object), value, cell_id=given)
    if "frac_in_city" in raw.columns:
        out["frac_in_city"] = raw["frac_in_city"].to_numpy(float)
    return out


def _frame(x, y, res, attribute, value, cell_id=None) -> pd.DataFrame:
    if cell_id is None:  # the INSPIRE id from the lower-left corner
        corner_x, corner_y = x - res // 2, y - res // 2
        label = np.where(res == 100, "100m", "1000m")
        cell_id = ("CRS3035RES" + pd.Series(label) + "N" + pd.Series(corner_y).astype(str)
                   + "E" + pd.Series(corner_x).astype(str)).to_numpy(object)
    return pd.DataFrame({"cell_id": cell_id, "x": x, "y": y,
                         "resolution": res, "attribute": attribute, "value": value})


def _centres(ids: pd.Series, source: str, column: str):
    """Cell centres and resolution from grid ids (2011 short and INSPIRE forms)."""
    parts = ids.str.extract(_ID)
    bad = parts[0].isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(source, f"row {i + 2}: {column}",
                         f"{ids.iloc[i]!r} is not a Zensus grid id (CRS3035RES100mN…E…)")
    res = np.where(parts[0].to_numpy(object) == "100m", 100, 1000).astype(np.int64)
    north = parts[1].astype(np.int64).to_numpy()
    east = parts[2].astype(np.int64).to_numpy()
    short = ~ids.str.startswith("CRS3035").to_numpy()
    # 2011 short ids count in units of the resolution (100mN26840E43337, 1kmN2684E4333).
    north = np.where(short, north * res, north)
    east = np.where(short, east * res, east)
    return east + res // 2, north + res // 2, res


def _numbers(values: pd.Series, source: str, column: str, decimal: str,
             missing_codes: tuple = ()) -> np.ndarray:
    """Numbers of a census column; suppressed marks become NaN. A decimal separator of the
    wrong kind is an error naming the row and column."""
    text = values.str.strip().str.strip('"')
    suppressed = text.isin(SUPPRESSED).to_numpy()
    other = "," if decimal == "." else "."
    # 2022: decimal comma, optionally a point between thousands (1.204).
    pattern = (r"^-?\d+(\.\d+)?$" if decimal == "." else
               r"^-?\d{1,3}(\.\d{3})*(,\d+)?$|^-?\d+(,\d+)?$")
    ok = text.str.match(pattern).to_numpy() | suppressed
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        value = text.iloc[i]
        hint = (" (a decimal comma where a number with a decimal point is expected)"
                if other in value and decimal == "." else "")
        raise InputError(source, f"row {i + 2}: {column}", f"{value!r} is not a number{hint}")
    clean = text.where(~suppressed, "nan")
    if decimal == ",":
        clean = clean.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    out = np.array(clean.astype(float), dtype=float)
    for code in missing_codes:
        out[out == code] = np.nan
    return out


def _header(path: Path) -> list[str]:
    """The column names in the first line of a CSV (or of the first CSV in a ZIP)."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            member = next((m for m in archive.namelist() if m.lower().endswith(".csv")), None)
            if member is None:
                return []
            with archive.open(member) as fh:
                first = fh.readline()
    else:
        with Path(path).open("rb") as fh:
            first = fh.readline()
    return [h.strip().strip('"') for h in _decode(first, path).strip().split(";")]


def _coordinate_columns(path: Path) -> tuple[str, str] | None:
    """The centre columns (``x_mp_100m``/``y_mp_100m`` or ``x_mp_1km``/``y_mp_1km``) of a
    CSV, or None."""
    header = _header(path)
    xs = [h for h in header if h.lower().startswith("x_mp")]
    ys = [h for h in header if h.lower().startswith("y_mp")]
    return (xs[0], ys[0]) if xs and ys else None


def _decode(data: bytes, source) -> str:
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def cut_to_boundary(path: str | Path, boundary, *, x_column: str = "x_mp_100m",
                    y_column: str = "y_mp_100m", batch_rows: int = 1 << 20) -> pd.DataFrame:
    """The rows of a national grid file whose cell centre lies inside ``boundary``.

    The file (Parquet, or a ';'-separated CSV, also inside a ZIP) is streamed in batches:
    each batch is first filtered on the boundary's bounding box (Arrow compute), then by
    point in polygon (shapely), so memory stays that of one batch and the kept rows, never a
    dense grid of the country.

    Args:
        path: The national file.
        boundary: A shapely (multi)polygon in EPSG:3035.
        x_column, y_column: Columns of the cell centre (case-insensitive).
        batch_rows: Rows per batch.

    Returns:
        The kept rows with all columns of the file (as read by Arrow).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import shapely

    source = str(path)
    minx, miny, maxx, maxy = boundary.bounds
    shapely.prepare(boundary)
    kept = []

    def cut(batch: pa.RecordBatch) -> None:
        names = {n.lower(): n for n in batch.schema.names}
        if x_column.lower() not in names or y_column.lower() not in names:
            raise InputError(source, "header", f"missing column {x_column!r} or {y_column!r}")
        x = pc.cast(batch.column(names[x_column.lower()]), pa.float64())
        y = pc.cast(batch.column(names[y_column.lower()]), pa.float64())
        box = pc.and_(pc.and_(pc.greater_equal(x, minx), pc.less_equal(x, maxx)),
                      pc.and_(pc.greater_equal(y, miny), pc.less_equal(y, maxy)))
        small = batch.filter(box)
        if small.num_rows == 0:
            return
        xs = pc.cast(small.column(names[x_column.lower()]), pa.float64()).to_numpy()
        ys = pc.cast(small.column(names[y_column.lower()]), pa.float64()).to_numpy()
        inside = shapely.contains_xy(boundary, xs, ys)
        if inside.any():
            kept.append(small.filter(pa.array(inside)))

    path = Path(path)
    if not path.exists():
        raise InputError(source, None, "file not found")
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            cut(batch)
    else:
        import pyarrow.csv as pacsv

        # Every column as text, as in the file (numbers with a decimal comma, '–').
        names = _header(path)

        def stream(fh) -> None:
            reader = pacsv.open_csv(
                fh, read_options=pacsv.ReadOptions(block_size=64 << 20),
                parse_options=pacsv.ParseOptions(delimiter=";"),
                convert_options=pacsv.ConvertOptions(
                    strings_can_be_null=False,
                    column_types={name: pa.string() for name in names}))
            for batch in reader:
                cut(batch)

        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                member = next((m for m in archive.namelist() if m.lower().endswith(".csv")),
                              None)
                if member is None:
                    raise InputError(source, None, "the ZIP holds no .csv file")
                with archive.open(member) as fh:
                    stream(fh)
        else:
            with path.open("rb") as fh:
                stream(fh)
    if not kept:
        raise InputError(source, None, "no cell of the file lies inside the boundary")
    return pa.Table.from_batches(kept).to_pandas()
