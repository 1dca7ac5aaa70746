"""Zensus 100 m grid CSV files: reading them and turning them into a :class:`~sim.state.city.City`.

The Zensus 2022 population grid (``Zensus2022_Bevoelkerungszahl``) looks like this::

    GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner
    CRS3035RES100mN2689100E4337000;4337050;2689150;4

``x_mp_100m``/``y_mp_100m`` are the cell's midpoint in EPSG:3035 (ETRS89-LAEA); the
``GITTER_ID_100m`` encodes the cell's lower-left corner. Suppressed counts are shown as an en
dash ('–') or em dash ('—'). The Zensus 2011 file has the header
``Gitter_ID_100m;x_mp_100m;y_mp_100m;Einwohner``, marks undisclosed counts with -1 and its IDs
look like ``100mN26840E43337`` (corner in units of 100 m). Both are read here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sim.errors import InputError
from sim.state.city import City, QuartierProfile

CELL_M = 100
# Largest bounding box we build a grid for (cells); Germany as a whole is about 56 M.
MAX_CELLS = 20_000_000
# Quartier indices are stored as int16 with -1 for "outside".
MAX_QUARTIERS = int(np.iinfo(np.int16).max)

_REQUIRED = ("gitter_id_100m", "x_mp_100m", "y_mp_100m", "einwohner")
_OPTIONAL = ("quartier",)
# Marks for a suppressed or undisclosed count. '\x96'/'\x97' are the en/em dash of a
# Windows-1252 file decoded as Latin-1.
_SUPPRESSED = ("–", "—", "-", "-1", "", "\x96", "\x97")
# Prefixes of the grid IDs whose form we know (2022: corner in m, 2011: in units of 100 m).
_ID_FORMS = (("CRS3035RES100mN", 1), ("100mN", CELL_M))


def read_zensus_grid(path: str | Path) -> pd.DataFrame:
    """Read a Zensus 100 m population grid CSV (2022 or 2011 layout).

    The file must use ';' as separator and may be UTF-8 (with or without BOM) or Latin-1.
    Columns are matched case-insensitively, so ``GITTER_ID_100m`` and ``Gitter_ID_100m`` both
    work; an optional ``Quartier`` column (a quartier name per cell) is kept, other extra
    columns are ignored. Blank lines are skipped; blanks and double quotes around a field are
    dropped.

    Suppressed or undisclosed counts ('–', '—', '-', '-1' or an empty field) are read as 0
    inhabitants: the true values are small (the Zensus suppresses small counts), so treating
    them as empty changes totals very little and keeps the cell in the grid. How many were
    replaced is stored in ``df.attrs["suppressed"]``.

    A grid ID of the 2022 form (``CRS3035RES100mN{y}E{x}``, lower-left corner in m) or the
    2011 form (``100mN{y/100}E{x/100}``) must match the midpoint; other IDs are kept as they
    are.

    Args:
        path: The CSV file.

    Returns:
        One row per cell with columns ``gitter_id`` (str), ``x_mp`` and ``y_mp`` (int64, the
        midpoint in EPSG:3035 metres), ``einwohner`` (int64, >= 0) and, if the file has it,
        ``quartier`` (str, '' when empty).

    Raises:
        InputError: for an unreadable or empty file, a missing column, a line with the wrong
            number of fields, a value that is not a whole number, a negative count other than
            -1, a midpoint off the 100 m lattice, an ID that contradicts its midpoint or a cell
            listed twice. The field names the line and the column.
    """
    source = str(path)
    text = _read_text(path)
    # All string work runs in Arrow (C++), so a few hundred thousand rows take well under 1 s.
    lines = pc.utf8_rtrim(pa.array(text.split("\n"), type=pa.string()), characters="\r")
    filled = pc.not_equal(pc.utf8_trim_whitespace(lines), "").to_numpy(zero_copy_only=False)
    if not filled.any():
        raise InputError(source, None, "file is empty")

    header = [_clean(h) for h in lines[0].as_py().split(";")]
    columns = _header_columns(source, header)
    rows = np.flatnonzero(filled[1:]) + 1
    if rows.size == 0:
        raise InputError(source, None, "no data rows (only a header)")
    body = lines.take(pa.array(rows))
    line_no = rows + 1  # file lines are 1-based, the header is line 1

    n_fields = pc.count_substring(body, ";").to_numpy() + 1
    bad = np.flatnonzero(n_fields != len(header))
    if bad.size:
        i = bad[0]
        raise InputError(
            source, f"line {line_no[i]}",
            f"expected {len(header)} fields separated by ';', found {n_fields[i]}",
        )
    # Every line has len(header) fields, so field j of line i is flat[i * width + j].
    flat = pc.list_flatten(pc.split_pattern(body, ";"))

    def field(key: str) -> pa.Array:
        index = np.arange(columns[key], len(flat), len(header))
        return pc.utf8_trim(flat.take(pa.array(index)), characters=' \t"')

    gitter_id = field("gitter_id_100m")
    x_mp = _whole_numbers(source, field("x_mp_100m"), line_no, header[columns["x_mp_100m"]])
    y_mp = _whole_numbers(source, field("y_mp_100m"), line_no, header[columns["y_mp_100m"]])
    raw_count = field("einwohner")
    suppressed = pc.is_in(raw_count, value_set=pa.array(_SUPPRESSED)).to_numpy(
        zero_copy_only=False
    )
    einwohner = np.zeros(len(raw_count), dtype=np.int64)
    einwohner[~suppressed] = _whole_numbers(
        source, raw_count.filter(pa.array(~suppressed)), line_no[~suppressed],
        header[columns["einwohner"]], count=True,
    )

    for values, key in ((x_mp, "x_mp_100m"), (y_mp, "y_mp_100m")):
        off = np.flatnonzero(values % CELL_M != CELL_M // 2)
        if off.size:
            i = off[0]
            raise InputError(
                source, f"line {line_no[i]}: {header[columns[key]]}",
                f"{values[i]} is not a 100 m cell midpoint (must end in 50)",
            )
    _check_ids(source, gitter_id, x_mp, y_mp, line_no, header[columns["gitter_id_100m"]])
    _check_duplicates(source, x_mp, y_mp, line_no, header, columns)

    df = pd.DataFrame({
        "gitter_id": gitter_id.to_numpy(zero_copy_only=False),
        "x_mp": x_mp,
        "y_mp": y_mp,
        "einwohner": einwohner,
    })
    if "quartier" in columns:
        df["quartier"] = field("quartier").to_numpy(zero_copy_only=False)
    df.attrs["suppressed"] = int(suppressed.sum())
    return df


def city_from_zensus(path: str | Path, quartier_block_m: int = 1000) -> City:
    """Build a city from a Zensus 100 m grid CSV.

    The grid is the bounding box of the listed cells; ``origin_x``/``origin_y`` are the
    lower-left corner of the south-west-most cell in EPSG:3035 metres. ``cell_weight`` is the
    number of inhabitants; cells not in the file lie outside the city.

    Quartiers come from the ``Quartier`` column when the file has one (one quartier per
    distinct name, ``kind="Quartier"``); cells without a name, or all cells when there is no
    such column, are grouped into square blocks of ``quartier_block_m`` metres aligned to
    multiples of the block size in EPSG:3035 (``kind="Zensus-Block"``). A cell belongs to the
    block holding its midpoint. Block ids follow the short form of the EEA reference grid, with
    northing first as in the Zensus IDs: ``{size}N{y // size}E{x // size}``, where ``size`` is
    written in km when divisible by 1000, e.g. ``1kmN2689E4337`` (1 km) or ``500mN5378E8674``.
    Only quartiers with at least one inhabitant are kept; the cells of the others count as
    outside. Quartiers are sorted by id and their ``household_share`` is their share of the
    inhabitants.

    Args:
        path: The CSV file (see :func:`read_zensus_grid`).
        quartier_block_m: Side length of the quartier blocks in metres.

    Returns:
        The city, without dwellings; ``name`` is the file's stem and ``reported_population``
        the total number of inhabitants in the file.

    Raises:
        InputError: for any problem with the file, also when it lists nobody, spans more than
            :data:`MAX_CELLS` cells or yields more than :data:`MAX_QUARTIERS` quartiers.
        ValueError: if ``quartier_block_m`` is not a positive whole number.
    """
    block = int(quartier_block_m)
    if block != quartier_block_m or block <= 0:
        raise ValueError(f"quartier_block_m must be a positive whole number: {quartier_block_m}")
    source = str(path)
    df = read_zensus_grid(path)
    x_mp = df["x_mp"].to_numpy()
    y_mp = df["y_mp"].to_numpy()
    pop = df["einwohner"].to_numpy()
    total = int(pop.sum())
    if total == 0:
        raise InputError(source, "Einwohner", "no inhabitants in the file")

    # Grid: bounding box of the listed cells.
    origin_x = int(x_mp.min()) - CELL_M // 2
    origin_y = int(y_mp.min()) - CELL_M // 2
    col = (x_mp - CELL_M // 2 - origin_x) // CELL_M
    row = (y_mp - CELL_M // 2 - origin_y) // CELL_M
    width, height = int(col.max()) + 1, int(row.max()) + 1
    if width * height > MAX_CELLS:
        raise InputError(
            source, None,
            f"the cells span {width} x {height} = {width * height:,} grid cells (at most "
            f"{MAX_CELLS:,}); cut out the city first",
        )
    cell = row * width + col

    # Quartier key per listed cell: its name, else its block's id.
    key = _block_ids(x_mp, y_mp, block)
    named = np.zeros(len(df), dtype=bool)
    if "quartier" in df.columns:
        names = df["quartier"].to_numpy(dtype=object)
        named = names != ""
        key[named] = names[named]
    pop_by_key = pd.Series(pop).groupby(key).sum()
    kept = sorted(str(k) for k in pop_by_key.index[pop_by_key.to_numpy() > 0])
    if len(kept) > MAX_QUARTIERS:
        raise InputError(
            source, None,
            f"{len(kept)} quartiers (at most {MAX_QUARTIERS}); choose a larger quartier_block_m",
        )
    code = pd.Index(kept, dtype=object).get_indexer(key)

    cell_quartier = np.full(width * height, -1, dtype=np.int16)
    cell_quartier[cell] = code
    cell_weight = np.zeros(width * height, dtype=float)
    cell_weight[cell] = np.where(code >= 0, pop, 0)

    named_ids = set(key[named])
    n_cells = pd.Series(code).value_counts()
    quartiers = []
    for q, qid in enumerate(kept):
        inhabitants = int(pop_by_key[qid])
        quartiers.append(QuartierProfile(
            id=qid, name=qid, kind="Quartier" if qid in named_ids else "Zensus-Block",
            description=f"{int(n_cells[q])} Zensus cells, {inhabitants} inhabitants",
            household_share=inhabitants / total,
        ))
    return City(
        name=Path(path).stem, width=width, height=height, cell_size_m=float(CELL_M),
        origin_x=float(origin_x), origin_y=float(origin_y), cell_quartier=cell_quartier,
        cell_weight=cell_weight, quartiers=quartiers, reported_population=total,
    )


def block_label(block_m: int) -> str:
    """The size part of a block id: ``1km`` for 1000 m, ``500m`` for 500 m."""
    return f"{block_m // 1000}km" if block_m % 1000 == 0 else f"{block_m}m"


def _block_ids(x_mp: np.ndarray, y_mp: np.ndarray, block: int) -> np.ndarray:
    """Block id of each cell (object array); strings are formatted once per block."""
    bx, by = x_mp // block, y_mp // block
    # One integer per block (1-D unique is much faster than unique rows).
    span = int(bx.max() - bx.min()) + 1
    flat = (by - by.min()) * span + (bx - bx.min())
    blocks, inverse = np.unique(flat, return_inverse=True)
    north, east = blocks // span + by.min(), blocks % span + bx.min()
    label = block_label(block)
    ids = np.array([f"{label}N{n}E{e}" for n, e in zip(north, east, strict=True)], dtype=object)
    return ids[inverse.ravel()]


def _read_text(path: str | Path) -> str:
    """The file's text: UTF-8 (BOM dropped) if it decodes as such, else Latin-1."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except OSError as exc:
        raise InputError(path, None, f"cannot read file ({exc.__class__.__name__})") from None
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _clean(value: str) -> str:
    """A header name without surrounding blanks and quotes."""
    return value.strip().strip('"').strip()


def _header_columns(source: str, header: list[str]) -> dict[str, int]:
    """Position of each known column in the header (keys lower-case)."""
    lower = [h.lower() for h in header]
    for i, name in enumerate(lower):
        if name and name in lower[:i]:
            raise InputError(source, "header", f"column {header[i]!r} appears twice")
    missing = [c for c in _REQUIRED if c not in lower]
    if missing:
        names = {"gitter_id_100m": "GITTER_ID_100m", "einwohner": "Einwohner"}
        message = "missing column(s) " + ", ".join(names.get(c, c) for c in missing)
        if len(header) == 1 and ("," in header[0] or "\t" in header[0]):
            message += " (the separator must be ';')"
        raise InputError(source, "header", message)
    return {c: lower.index(c) for c in (*_REQUIRED, *_OPTIONAL) if c in lower}


def _whole_numbers(
    source: str, values: pa.Array, line_no: np.ndarray, column: str, count: bool = False
) -> np.ndarray:
    """Parse non-negative whole numbers; the first bad one raises naming line and column."""
    ok = pc.match_substring_regex(values, r"^[0-9]{1,15}$").to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(~ok)
    if bad.size:
        i = bad[0]
        value = values[int(i)].as_py()
        if re.fullmatch(r"-\d+", value):
            message = f"{value!r} is negative"
            if count:
                message += " (only -1 may mark an undisclosed count)"
        else:
            message = f"{value!r} is not a whole number"
        raise InputError(source, f"line {line_no[i]}: {column}", message)
    return pc.cast(values, pa.int64()).to_numpy()


def _check_ids(
    source: str, ids: pa.Array, x_mp: np.ndarray, y_mp: np.ndarray, line_no: np.ndarray,
    column: str,
) -> None:
    """Grid IDs must be present and, where their form is known, match the midpoint."""
    empty = np.flatnonzero(pc.equal(ids, "").to_numpy(zero_copy_only=False))
    if empty.size:
        raise InputError(source, f"line {line_no[empty[0]]}: {column}", "empty grid ID")
    for prefix, scale in _ID_FORMS:
        has = pc.starts_with(ids, prefix).to_numpy(zero_copy_only=False)
        if not has.any():
            continue
        # The ID each of these cells should have, built from its lower-left corner.
        north = pa.array((y_mp[has] - CELL_M // 2) // scale).cast(pa.string())
        east = pa.array((x_mp[has] - CELL_M // 2) // scale).cast(pa.string())
        expected = pc.binary_join_element_wise(prefix, north, "E", east, "")
        wrong = np.flatnonzero(
            pc.not_equal(ids.filter(pa.array(has)), expected).to_numpy(zero_copy_only=False)
        )
        if wrong.size:
            i = np.flatnonzero(has)[wrong[0]]
            raise InputError(
                source, f"line {line_no[i]}: {column}",
                f"{ids[int(i)].as_py()!r} does not match the midpoint {x_mp[i]}/{y_mp[i]} "
                f"(expected {expected[int(wrong[0])].as_py()!r}, the lower-left corner)",
            )


def _check_duplicates(
    source: str, x_mp: np.ndarray, y_mp: np.ndarray, line_no: np.ndarray, header: list[str],
    columns: dict[str, int],
) -> None:
    """Each cell (midpoint) may be listed once."""
    cells = pd.DataFrame({"x": x_mp, "y": y_mp})
    dup = np.flatnonzero(cells.duplicated(keep="first").to_numpy())
    if dup.size:
        i = dup[0]
        first = np.flatnonzero((x_mp == x_mp[i]) & (y_mp == y_mp[i]))[0]
        raise InputError(
            source,
            f"line {line_no[i]}: {header[columns['x_mp_100m']]}/{header[columns['y_mp_100m']]}",
            f"cell {x_mp[i]}/{y_mp[i]} is already listed on line {line_no[first]}",
        )
