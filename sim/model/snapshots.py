"""Cell snapshots: per year and cell with dwellings, the dwellings, households and persons
there (``outcomes.cell_snapshots``), for the maps of the report and the dashboard.

A year's snapshot is kept as compact columns (counts as int16 or int32, no repeated year,
column or row), each compressed without loss (zstd; the cells as differences), until a table or
a file is asked for. :meth:`CellSnapshots.table` makes the
table column by column, freeing each year's piece as soon as it is copied, and keeps it;
:class:`CellSnapshotFile` writes the Parquet file one year at a time without making the whole
table (the result writers use it). Measured in docs/performance.md ("A planner's run").
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
from numba import njit

from sim.model.metrics import EndSums
from sim.state.city import NURSING, PRIVATE, SOCIAL
from sim.state.population import Population

CELL_COUNTS = ("dwellings", "vacant", "social", "households", "persons", "poor", "middle",
               "high", "migration_background", "age_65plus")
"""The count columns of a cell snapshot (int64 in the table; int16 or int32 while kept)."""


def cell_snapshot(pop: Population, city, sums: EndSums) -> dict[str, np.ndarray]:
    """One year's per-cell columns (cells with dwellings on the market only), compact:
    ``cell`` (int32), the ``quartier`` codes (int16), :data:`CELL_COUNTS`, ``mean_income``
    (persons' mean of the equivalised income) and ``mean_rent_m2`` (tenants' mean, EUR/m²).
    The persons by income group, origin and age and their income come from the year's
    :class:`~sim.model.metrics.EndSums` (``cells``, ``cell_income``)."""
    counts, rent_sum = _cell_sums(pop.dwelling, city.dwelling_cell, city.dwelling_tenure,
                                  city.dwelling_rent_m2, city.n_cells)
    dwellings, social, households, tenants = (counts[:, j] for j in range(4))
    by_group = sums.cells  # persons poor, middle, high; with migration background; 65+
    persons = by_group[:, 0] + by_group[:, 1] + by_group[:, 2]
    built = np.flatnonzero(dwellings > 0)
    columns = {"cell": built.astype(np.int32),
               "quartier": city.cell_quartier[built].astype(np.int16)}
    values = {"dwellings": dwellings, "vacant": dwellings - households, "social": social,
              "households": households, "persons": persons,
              "poor": by_group[:, 0], "middle": by_group[:, 1], "high": by_group[:, 2],
              "migration_background": by_group[:, 3], "age_65plus": by_group[:, 4]}
    columns.update((name, _narrow(values[name][built])) for name in CELL_COUNTS)
    people = persons[built].astype(np.float64)
    columns["mean_income"] = np.divide(sums.cell_income[built], people,
                                       out=np.full(built.size, np.nan), where=people > 0)
    columns["mean_rent_m2"] = np.divide(rent_sum[built], tenants[built],
                                        out=np.full(built.size, np.nan),
                                        where=tenants[built] > 0)
    return columns


@njit(cache=True)
def _cell_sums(dwelling, d_cell, d_tenure, rent_m2, n_c):
    """Per cell: dwellings on the market, social dwellings, households on the market, tenant
    households; and the tenants' rent per m² summed in the households' order."""
    counts = np.zeros((n_c, 4), np.int64)
    rent_sum = np.zeros(n_c)
    for d in range(d_cell.size):
        t = d_tenure[d]
        if t < NURSING:
            counts[d_cell[d], 0] += 1
        if t == SOCIAL:
            counts[d_cell[d], 1] += 1
    for h in range(dwelling.size):
        d = dwelling[h]
        if d < 0:  # as numpy's indexing with -1
            d += d_cell.size
            if d < 0:
                raise IndexError("a household's dwelling is out of range")
        c = d_cell[d]
        t = d_tenure[d]
        if t < NURSING:
            counts[c, 2] += 1
        if t == PRIVATE or t == SOCIAL:
            counts[c, 3] += 1
            rent_sum[c] += np.float64(rent_m2[d])
    return counts, rent_sum


def _narrow(counts: np.ndarray) -> np.ndarray:
    """``counts`` as int16 if they fit, else int32 (exact either way)."""
    if counts.size == 0 or (counts.min() >= -2**15 and counts.max() < 2**15):
        return counts.astype(np.int16)
    return counts.astype(np.int32)


class _Packed:
    """A snapshot column kept compressed (zstd, lossless); with ``delta`` as the differences
    of its values (the ascending cells: almost all 1)."""

    __slots__ = ("data", "dtype", "size", "delta")

    def __init__(self, values: np.ndarray, delta: bool = False) -> None:
        self.dtype, self.size, self.delta = values.dtype, int(values.size), delta
        raw = np.diff(values, prepend=values.dtype.type(0)) if delta else values
        self.data = pa.compress(np.ascontiguousarray(raw), codec="zstd", asbytes=True)

    def array(self) -> np.ndarray:
        raw = np.frombuffer(pa.decompress(self.data, self.size * self.dtype.itemsize,
                                          codec="zstd", asbytes=True), self.dtype)
        return np.cumsum(raw, dtype=self.dtype) if self.delta else raw


def _pack(name: str, values: np.ndarray) -> _Packed | np.ndarray:
    return _Packed(values, delta=name == "cell") if values.size else values


def column_values(column: _Packed | np.ndarray) -> np.ndarray:
    """A kept snapshot column's values (decoded where it was kept compressed; not to be
    written to)."""
    return column.array() if isinstance(column, _Packed) else column


class CellSnapshots:
    """The yearly cell snapshots of a run (see the module)."""

    def __init__(self) -> None:
        self.pieces: list[tuple[int, dict[str, np.ndarray]]] = []
        self.width = 1
        self.quartiers: list[str] = []
        self._table: pd.DataFrame | None = None

    def add(self, year: int, city, columns: dict[str, np.ndarray]) -> None:
        self.width, self.quartiers = city.width, city.quartier_ids()
        self.pieces.append((year, {name: _pack(name, values)
                                   for name, values in columns.items()}))

    def table(self) -> pd.DataFrame:
        """All years' rows (without ``run_id``): year, cell, col, row, quartier, the counts
        (int64), mean_income, mean_rent_m2."""
        if self.pieces or self._table is None:
            new = self._frame(self.pieces, consume=True)
            self.pieces = []
            self._table = (new if self._table is None
                           else pd.concat([self._table, new], ignore_index=True))
        return self._table

    def parquet(self, run_id: str) -> CellSnapshotFile:
        """What ``to_parquet`` writes as ``table()`` with ``run_id`` first, year by year."""
        return CellSnapshotFile(self, run_id)

    def frames(self) -> Iterator[pd.DataFrame]:
        """The rows in their order: the table made so far, then one frame per year."""
        if self._table is not None or not self.pieces:
            yield self.table() if self._table is None else self._table
        for piece in self.pieces:
            yield self._frame([piece], consume=False)

    def _frame(self, pieces: list[tuple[int, dict[str, np.ndarray]]],
               consume: bool) -> pd.DataFrame:
        """The rows of ``pieces`` as a table; with ``consume``, each piece's column is dropped
        once copied (and put back, as a part of the copy, if making the table fails)."""
        sizes = [columns["cell"].size for _, columns in pieces]
        copied: list[tuple[str, np.ndarray]] = []

        def take(name: str, dtype) -> np.ndarray:
            out = np.empty(sum(sizes), dtype)
            start = 0
            for (_, columns), n in zip(pieces, sizes, strict=True):
                out[start:start + n] = column_values(columns[name])
                start += n
            if consume:
                copied.append((name, out))
                for _, columns in pieces:
                    del columns[name]
            return out

        try:
            year = np.repeat(np.array([y for y, _ in pieces], np.int32), sizes)
            cell = take("cell", np.int32)
            data = {"year": year, "cell": cell, "col": cell % np.int32(self.width),
                    "row": cell // np.int32(self.width),
                    "quartier": pd.Categorical.from_codes(take("quartier", np.int16),
                                                          categories=self.quartiers)}
            for name in CELL_COUNTS:
                data[name] = take(name, np.int64)
            for name in ("mean_income", "mean_rent_m2"):
                data[name] = take(name, np.float64)
            return pd.DataFrame(data, copy=False)
        except BaseException:
            for name, out in copied:  # the pieces as they were (their parts of the copies)
                start = 0
                for (_, columns), n in zip(pieces, sizes, strict=True):
                    columns[name] = out[start:start + n]
                    start += n
            raise


class CellSnapshotFile:
    """A run's cell snapshots as a Parquet file to be: ``to_parquet`` writes what
    ``QuartierModel.cell_snapshots().to_parquet(path, index=False)`` would (the same rows and
    types when read), one row group per kept year, so the whole table is not made. (Once
    ``cell_snapshots()`` has been asked for, the model keeps the table made then, and it is
    written as one row group.)"""

    def __init__(self, snapshots: CellSnapshots, run_id: str) -> None:
        self.snapshots, self.run_id = snapshots, run_id

    def to_parquet(self, path, index: bool = False) -> None:
        if index:
            raise ValueError("cell snapshots are written without an index (index=False)")
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        try:
            for frame in self.snapshots.frames():
                frame = frame.copy(deep=False)
                frame.insert(0, "run_id", self.run_id)
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()
