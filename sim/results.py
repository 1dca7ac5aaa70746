"""Tidy result tables and how they are written.

Per run two tables: ``experiments`` (one row: run id, scenario name and content hash, seed,
years, code version, parameters as JSON) and ``outcomes`` (run id, year, scope, metric, value).
Experiments with many runs (comparisons, sweeps) keep one file per run in an experiment folder
(:mod:`sim.store`); :func:`load` reads both layouts. Files are written atomically: to a
temporary name in the same folder, then renamed, so a file is either complete or absent, never
half-written.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

import sim


def code_version() -> str:
    """Package version, plus the git commit when run from a checkout."""
    version = sim.__version__
    root = Path(__file__).resolve().parent.parent
    if (root / ".git").exists():
        try:
            commit = subprocess.run(
                ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                capture_output=True, text=True, timeout=5, check=False,
            ).stdout.strip()
            if commit:
                version = f"{version}+g{commit}"
        except (OSError, subprocess.SubprocessError):
            pass
    return version


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


def write_atomic(path: str | Path, write) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it to ``path``
    atomically: the file is either complete or absent, never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_parquet_atomic(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` to ``path`` as Parquet via a temporary file and an atomic rename."""
    return write_atomic(path, lambda tmp: df.to_parquet(tmp, index=False))


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
    parameters become columns of ``experiments``, see :mod:`sim.store`).
    """
    from sim.store import is_store, load_store

    out_dir = Path(out_dir)
    if is_store(out_dir):
        return load_store(out_dir)
    return (pd.read_parquet(out_dir / "experiments.parquet"),
            pd.read_parquet(out_dir / "outcomes.parquet"))
