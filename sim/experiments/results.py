"""Tidy result tables and how they are written.

Per run two tables: ``experiments`` (one row: run id, scenario name and content hash, seed,
years, code version, parameters as JSON) and ``outcomes`` (run id, year, scope, metric, value).
Experiments with many runs (comparisons, sweeps) keep one file per run in an experiment folder
(:mod:`sim.experiments.store`); :func:`load` reads both layouts. Files are written atomically: to a
temporary name in the same folder, then renamed, so a file is either complete or absent, never
half-written.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim.experiments.files import code_version, write_parquet_atomic
from sim.experiments.store import is_store, load_store


def experiment_row(model, command: str | None = None) -> pd.DataFrame:
    """The ``experiments`` table of one run (one row)."""
    scenario = model.scenario
    return pd.DataFrame([{
        "run_id": model.run_id,
        "scenario": scenario.name,
        "scenario_hash": model.scenario_hash,
        "seed": model.seed,
        "start_year": scenario.start_year,
        "years": model.year - scenario.start_year + 1,
        "households_start": _households_start(model),
        "code_version": code_version(),
        "parameters": json.dumps(scenario.model_dump(), sort_keys=True, ensure_ascii=False),
        "command": command or "",
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }])


def _households_start(model) -> int:
    out = model.outcomes()
    first = out[(out.metric == "households") & (out.scope == "city")]
    return int(first.sort_values("year")["value"].iloc[0])


def write_run(model, out_dir: str | Path, command: str | None = None) -> dict[str, Path]:
    """Write ``experiments.parquet`` and ``outcomes.parquet`` of a finished run (and
    ``cells.parquet`` when the scenario records cell snapshots); experiments last."""
    out_dir = Path(out_dir)
    outcomes = model.outcomes()
    experiments = experiment_row(model, command)
    paths = {"outcomes": write_parquet_atomic(outcomes, out_dir / "outcomes.parquet")}
    cells = model.cell_snapshots() if hasattr(model, "cell_snapshots") else None
    if cells is not None:
        paths["cells"] = write_parquet_atomic(cells, out_dir / "cells.parquet")
    paths["experiments"] = write_parquet_atomic(experiments, out_dir / "experiments.parquet")
    return paths


def load(out_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a result folder: (experiments, outcomes).

    Works for the folder of ``quartier run`` (one run) and for an experiment folder of
    ``quartier compare`` / ``quartier sweep`` / :func:`sim.sweep` (every complete run; swept
    parameters become columns of ``experiments``, see :mod:`sim.experiments.store`).
    """
    out_dir = Path(out_dir)
    if is_store(out_dir):
        return load_store(out_dir)
    return (pd.read_parquet(out_dir / "experiments.parquet"),
            pd.read_parquet(out_dir / "outcomes.parquet"))
