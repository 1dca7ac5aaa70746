"""The cell snapshots: kept compact during the run, the same table however it is asked for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.experiments.results import cells_to_write, write_run


def _model(small, years: int = 3):
    model = sim.build_model(small, seed=4)
    model.run(years)
    return model


def test_the_file_written_year_by_year_reads_as_the_table(small, tmp_path):
    model = _model(small)
    file = model.cell_snapshot_file()
    file.to_parquet(tmp_path / "cells.parquet", index=False)
    table = model.cell_snapshots()
    assert table["year"].nunique() == 4  # the start and three years
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "cells.parquet"), table,
                                  check_exact=True)
    table.to_parquet(tmp_path / "whole.parquet", index=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "cells.parquet"),
                                  pd.read_parquet(tmp_path / "whole.parquet"), check_exact=True)


def test_asking_twice_or_between_years_gives_the_table_of_one_run(small, tmp_path):
    straight = _model(small, years=3).cell_snapshots()
    model = _model(small, years=1)
    first = model.cell_snapshots()
    first.loc[:, "persons"] = -1  # a caller's change does not reach the model's table
    model.run(2)
    pd.testing.assert_frame_equal(model.cell_snapshots(), straight, check_exact=True)
    pd.testing.assert_frame_equal(model.cell_snapshots(), straight, check_exact=True)
    cells = cells_to_write(model)
    cells.to_parquet(tmp_path / "after.parquet", index=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "after.parquet"), straight,
                                  check_exact=True)


def test_quartier_run_writes_the_streamed_cells(small, tmp_path):
    model = _model(small, years=2)
    paths = write_run(model, tmp_path / "run")
    pd.testing.assert_frame_equal(pd.read_parquet(paths["cells"]), model.cell_snapshots(),
                                  check_exact=True)


def test_no_snapshots_no_file(small):
    model = sim.build_model(small.with_values({"outcomes.cell_snapshots": False}), seed=4)
    assert model.cell_snapshot_file() is None
    assert cells_to_write(model) is None


def test_counts_are_kept_in_the_narrowest_exact_type():
    from sim.model.snapshots import _narrow

    small_counts, large = np.array([0, 5, 32767]), np.array([0, 32768, -40000, 2**31 - 1])
    assert _narrow(small_counts).dtype == np.int16
    assert _narrow(large).dtype == np.int32
    assert (_narrow(large).astype(np.int64) == large).all()
    assert (_narrow(small_counts).astype(np.int64) == small_counts).all()


def test_a_table_that_fails_to_be_made_loses_no_year(small, monkeypatch):
    from sim.model.snapshots import column_values

    model = _model(small, years=2)
    kept = [{name: column_values(column).copy() for name, column in columns.items()}
            for _, columns in model.records.snapshots.pieces]
    calls = {"n": 0}
    from_codes = pd.Categorical.from_codes

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise MemoryError("simulated")
        return from_codes(*args, **kwargs)

    monkeypatch.setattr(pd.Categorical, "from_codes", failing)
    try:
        model.cell_snapshots()
    except MemoryError:
        pass
    else:
        raise AssertionError("the simulated failure did not happen")
    assert [set(c) for _, c in model.records.snapshots.pieces] == [set(c) for c in kept]
    for (_, columns), before in zip(model.records.snapshots.pieces, kept, strict=True):
        for name, column in before.items():
            np.testing.assert_array_equal(column_values(columns[name]), column)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(model.cell_snapshots(), _model(small, years=2).cell_snapshots(),
                                  check_exact=True)


def test_the_file_has_no_index(small, tmp_path):
    with pytest.raises(ValueError, match="without an index"):
        _model(small, years=1).cell_snapshot_file().to_parquet(tmp_path / "x.parquet",
                                                               index=True)


def test_kept_columns_are_compressed_without_loss():
    from sim.model.snapshots import _pack, column_values

    rng = np.random.default_rng(5)
    cells = np.sort(rng.choice(100_000, 70_000, replace=False)).astype(np.int32)
    counts = rng.integers(-3, 300, cells.size).astype(np.int16)
    means = np.where(rng.random(cells.size) < 0.1, np.nan, rng.random(cells.size) * 1e4)
    for name, values in (("cell", cells), ("persons", counts), ("mean_income", means),
                         ("cell", cells[:1]), ("cell", cells[:0])):
        kept = _pack(name, values)
        back = column_values(kept)
        assert back.dtype == values.dtype
        np.testing.assert_array_equal(back, values)
    assert len(_pack("cell", cells).data) < cells.nbytes / 4  # the differences: mostly small
