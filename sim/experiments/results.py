"""Tidy result tables and how they are written.

Per run two tables: ``experiments`` (one row: run id, scenario name and content hash, seed,
years, code version, parameters as JSON) and ``outcomes`` (run id, year, scope, metric, value).
``quartier run`` writes one run's folder (:func:`write_run`); experiments with many runs
(comparisons, sweeps) keep one file per run in an experiment folder
(:mod:`sim.experiments.store`); :func:`load` reads both layouts.

A run's folder changes as one unit: its files are written into a temporary folder beside it,
which then takes its place with one rename (:func:`sim.experiments.files.replace_folder`), so a
reader sees the earlier run or the new one, never a mix, and a failed write leaves the earlier
run as it was.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim.errors import InputError
from sim.experiments.files import TMP_SUFFIX, check_output_folder, code_version, replace_folder
from sim.experiments.store import LOCK, MANIFEST, RUNS, is_store, load_store

MAX_SEED = 2**63 - 1  # seeds are stored as 64-bit integers
RUN_FILES = ("experiments.parquet", "outcomes.parquet", "cells.parquet")
COMPARISON_FILE = "comparison.csv"  # of quartier compare, in its experiment folder
COST_FILES = ("costs.parquet", "cost_effectiveness.parquet")  # of quartier compare, beside it
REPLACED_WITH_THE_RUN = (*RUN_FILES, "report.html")  # a report describes the earlier run


def check_seed(seed: int, source: str = "--seed") -> None:
    """Refuse a seed the results tables cannot store (before anything is simulated)."""
    if not 0 <= int(seed) <= MAX_SEED:
        raise InputError(source, None, f"must be between 0 and {MAX_SEED:,} (got {seed})")


def check_run_folder(out_dir: str | Path, source: str = "--out") -> None:
    """``quartier run`` replaces its folder whole, so the folder must be new, empty, or one
    that ``quartier run`` wrote (its files and a report of it, nothing else).

    Raises:
        InputError: naming the folder and what is wrong.
    """
    out_dir = Path(out_dir)
    check_output_folder(out_dir, source)
    if not out_dir.exists():
        return
    if is_store(out_dir):
        raise InputError(source, None, f"{out_dir} is an experiment folder (of compare or "
                         "sweep); give the run a folder of its own")
    others = sorted(p.name for p in out_dir.iterdir() if p.name not in REPLACED_WITH_THE_RUN
                    and not (p.name.startswith(".") and p.name.endswith(TMP_SUFFIX)))
    if others:
        raise InputError(source, None, f"{out_dir} holds other files ({', '.join(others[:3])}"
                         f"{', ...' if len(others) > 3 else ''}); a run replaces its folder "
                         "whole: give a new or empty folder")


def experiment_row(model, command: str | None = None) -> pd.DataFrame:
    """The ``experiments`` table of one run (one row)."""
    from sim.experiments.gis import provenance

    scenario = model.scenario
    row = {
        "run_id": model.run_id,
        "scenario": scenario.name,
        "scenario_hash": model.scenario_hash,
        "seed": model.seed,
        "start_year": scenario.start_year,
        "years": model.year - scenario.start_year + 1,
        "households_start": _households_start(model),
        "code_version": code_version(),
        "parameters": json.dumps(_stored_scenario(scenario), sort_keys=True,
                                 ensure_ascii=False),
        "command": command or "",
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    row.update(provenance(model))  # cities built from files: grid, files, facility kinds
    row["facilities"] = _facilities(model)
    return pd.DataFrame([row])


def _facilities(model) -> str | None:
    """The run's facilities at its end (kind, col, row, capacity, opening_year, name; those of
    levers included) as JSON, for the report's map markers; employers are left out (many, and
    no planner's question is about one)."""
    services = getattr(model, "services", None)
    if services is None or getattr(services, "facilities", None) is None:
        return None
    keep = ("kind", "col", "row", "capacity", "opening_year", "name")
    rows = [{k: f[k] for k in keep} for f in services.facilities.table(model.city)
            if f["kind"] != "employer"]
    return json.dumps(rows, ensure_ascii=False)


def _stored_scenario(scenario) -> dict:
    """The scenario as stored with the run; a city built from files names its files by
    absolute path, so that the stored scenario builds the same city from anywhere."""
    data = scenario.model_dump()
    city = data["city"]
    if city.get("kind") == "files":
        def absolute(path: str) -> str:
            return str(scenario.resolve_path(path).resolve())

        city["census"] = [absolute(f) for f in city.get("census") or []]
        if city.get("boundaries"):
            city["boundaries"] = absolute(city["boundaries"])
        for spec in city.get("facilities") or []:
            spec["file"] = absolute(spec["file"])
    return data


def _households_start(model) -> int:
    out = model.outcomes()
    first = out[(out.metric == "households") & (out.scope == "city")]
    return int(first.sort_values("year")["value"].iloc[0])


def check_output_file(path: str | Path, source: str = "--out") -> None:
    """A file a command writes (a report) must not replace what results and scenarios are
    made of: a scenario file (``.toml``), the manifest, lock or comparison table of an
    experiment folder, anything in its ``runs/`` folder, or the tables of a run's folder.

    Raises:
        InputError: naming ``source`` (the option), the file and why it is refused.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(source, None, f"{path} is a folder; give a file name")
    if path.suffix.lower() == ".toml" and path.exists():
        raise InputError(source, None, f"{path} is a scenario or settings file; give another "
                         "file name")
    resolved = path.resolve()
    folder = resolved.parent
    if folder.name == RUNS and is_store(folder.parent):
        raise InputError(source, None, f"{path} lies in the runs folder of an experiment; give "
                         "another file name")
    if is_store(folder) and resolved.name in (MANIFEST, LOCK, COMPARISON_FILE,
                                                      *COST_FILES):
        raise InputError(source, None, f"{path} is a file of the experiment folder "
                         f"{folder}; give another file name")
    if resolved.name in RUN_FILES and (folder / "outcomes.parquet").exists():
        raise InputError(source, None, f"{path} is a table of the run in {folder}; give "
                         "another file name")


def cells_to_write(model):
    """The model's cell snapshots for ``to_parquet`` (None without them): written one year at
    a time where the model offers it (``cell_snapshot_file``), else its table."""
    stream = getattr(model, "cell_snapshot_file", None)
    file = stream() if callable(stream) else None
    if file is not None:
        return file
    table = getattr(model, "cell_snapshots", None)
    return table() if callable(table) else None


def write_run(model, out_dir: str | Path, command: str | None = None) -> dict[str, Path]:
    """Write a finished run as one unit: ``experiments.parquet``, ``outcomes.parquet`` (and
    ``cells.parquet`` when the scenario records cell snapshots) replace the folder's earlier
    run with one rename. Nothing is written if any table fails to convert.

    Raises:
        InputError: if ``out_dir`` holds files that are not an earlier run's.
    """
    out_dir = Path(out_dir)
    check_run_folder(out_dir)
    check_seed(model.seed, "seed")
    tables = {"outcomes": model.outcomes()}
    cells = cells_to_write(model)
    if cells is not None:
        tables["cells"] = cells
    tables["experiments"] = experiment_row(model, command)

    def fill(folder: Path) -> None:
        for name, table in tables.items():
            table.to_parquet(folder / f"{name}.parquet", index=False)

    replace_folder(out_dir, fill)
    return {name: out_dir / f"{name}.parquet" for name in tables}


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
