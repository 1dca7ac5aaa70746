"""The results store of an experiment (a comparison or a sweep): one folder, resumable.

Layout of an experiment folder ``DIR``::

    DIR/manifest.json                  provenance: commands, scenarios and their hashes, runs
    DIR/runs/<run_id>.outcomes.parquet     run_id, year, scope, metric, value
    DIR/runs/<run_id>.cells.parquet        optional per-cell snapshots (when the model has them)
    DIR/runs/<run_id>.vital.parquet        exposures, deaths, births by sex and age (run total)
    DIR/runs/<run_id>.experiments.parquet  one row; written last, so it marks the run complete
    DIR/comparison.csv                 (``quartier compare`` only) the paired differences
    DIR/costs.parquet                  (compare) every run's lever cost rows (docs/costs.md)
    DIR/cost_effectiveness.parquet     (compare) extra cost and EUR per unit of effect

A run is identified by its ``run_id`` (the model's: a hash of the scenario content and the seed).
The scenario a run executes has ``years`` set to the run's horizon, and ``years`` is part of the
scenario content, so a 5-year and a 20-year run of the same scenario and seed have different ids
and never collide.

A run's files are first written under temporary names that name their writer (host and process
id), then renamed into place, the ``experiments`` file last: a run counts as stored only when its
``experiments`` file exists, and a crash leaves at most temporary files, which the next command
in the folder removes once their writer is gone (never those of a live command). Re-running a
command therefore skips the stored runs and does only the missing ones.

Scenarios are checked by name: a folder never holds runs of two different scenario contents under
one name (the horizon aside). A command that would mix them is refused unless ``force`` is given,
which first deletes the stored runs of the conflicting scenarios.

Only one command may work in a folder at a time: ``DIR/.lock`` holds its process id, host and a
random token. Workers store a run only while the command that planned it holds the lock
(:func:`check_lock`), so a command whose lock was taken over, or that has died, writes nothing
more; a command that lost its lock leaves the manifest and the new lock alone.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError, io_error
from sim.experiments.files import (
    code_version,
    remove_stale_temporaries,
    write_json_atomic,
)
from sim.experiments.lock import (  # noqa: F401  (lock_holder, LockLost: part of this API)
    LOCK,
    LockLost,
    check_lock,
    lock_holder,
    take_lock,
    utc_now,
)

MANIFEST = "manifest.json"
RUNS = "runs"
FORMAT = 1
OUTCOMES_SUFFIX = ".outcomes.parquet"
EXPERIMENTS_SUFFIX = ".experiments.parquet"
CELLS_SUFFIX = ".cells.parquet"
VITAL_SUFFIX = ".vital.parquet"


@dataclass(frozen=True)
class PlannedRun:
    """One run of an experiment, as recorded in the manifest.

    Attributes:
        run_id: The model's run id (scenario content with the horizon, and seed).
        scenario: Scenario name.
        scenario_hash: Content hash of the scenario as run (``years`` set to the horizon).
        seed: The run's seed.
        replicate: Replicate number, 0-based; replicate r of every scenario shares its seed
            with the others (common random numbers) unless seeds are independent.
        years: Years simulated.
        design_point: Index of the sweep's design point (None in a comparison).
        values: The swept values of this design point, by dotted path.
    """

    run_id: str
    scenario: str
    scenario_hash: str
    seed: int
    replicate: int
    years: int
    design_point: int | None = None
    values: dict[str, Any] = field(default_factory=dict)


def run_paths(root: str | Path, run_id: str) -> dict[str, Path]:
    """The files of one run in an experiment folder."""
    runs = Path(root) / RUNS
    return {
        "outcomes": runs / f"{run_id}{OUTCOMES_SUFFIX}",
        "cells": runs / f"{run_id}{CELLS_SUFFIX}",
        "vital": runs / f"{run_id}{VITAL_SUFFIX}",
        "experiments": runs / f"{run_id}{EXPERIMENTS_SUFFIX}",
    }


def is_store(root: str | Path) -> bool:
    """Whether ``root`` is an experiment folder (has a manifest or a ``runs`` folder)."""
    root = Path(root)
    return (root / MANIFEST).is_file() or (root / RUNS).is_dir()


def stored_run_ids(root: str | Path) -> set[str]:
    """Ids of the complete runs in an experiment folder (those with an experiments file and
    an outcomes file: a run whose outcomes were lost counts as not stored and is run again)."""
    runs = Path(root) / RUNS
    if not runs.is_dir():
        return set()
    outcomes = {p.name[: -len(OUTCOMES_SUFFIX)] for p in runs.glob(f"*{OUTCOMES_SUFFIX}")}
    return {p.name[: -len(EXPERIMENTS_SUFFIX)] for p in runs.glob(f"*{EXPERIMENTS_SUFFIX}")
            if not p.name.startswith(".")} & outcomes


def _parquet_whole(path: Path) -> bool:
    """Whether ``path`` looks like a whole Parquet file (the magic bytes at both ends)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            fh.seek(-4, os.SEEK_END)
            return head == b"PAR1" and fh.read(4) == b"PAR1"
    except OSError:
        return False


def damaged_run_ids(root: str | Path) -> set[str]:
    """Stored runs whose experiments or outcomes file is damaged (not a whole Parquet file)."""
    return {r for r in stored_run_ids(root)
            if not all(_parquet_whole(run_paths(root, r)[k]) for k in ("experiments",
                                                                          "outcomes"))}


class ExperimentStore:
    """An open experiment folder: the manifest in memory, the lock held.

    Use :meth:`open` (or the context manager) rather than the constructor. Only the process that
    opened the store writes the manifest; workers write their runs' Parquet files.
    """

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.manifest = manifest
        self.token = ""  # of the lock this store holds (set by open)
        self._lock_path = root / LOCK
        self._dirty = False
        self._last_save = 0.0

    # -- opening and closing ----------------------------------------------------------------

    @classmethod
    def open(cls, root: str | Path, *, command: str = "") -> ExperimentStore:
        """Open (or create) an experiment folder, take its lock and tidy crash leftovers.

        Raises:
            InputError: if ``root`` is a file, another live command holds the folder, or it
                holds runs without a manifest.
        """
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise InputError("--out", None, f"{root} exists and is not a folder")
        try:
            (root / RUNS).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise io_error(exc, "--out", root) from None
        try:
            token = take_lock(root / LOCK)
        except OSError as exc:
            raise io_error(exc, "--out", root / LOCK) from None
        try:
            manifest = _read_manifest(root)
            store = cls(root, manifest)
            store.token = token
            store._tidy()
            store.manifest.setdefault("commands", []).append(
                {"command": command, "started_utc": utc_now(), "code_version": code_version()}
            )
            store.save()
        except BaseException as exc:
            (root / LOCK).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise io_error(exc, "--out", root) from None
            raise
        return store

    def close(self) -> None:
        """Write the manifest and release the lock (if this store still holds them: a command
        that lost its lock touches neither)."""
        if not self.holds_lock():
            return
        try:
            self.refresh_status()
            self.save()
        finally:
            if self.holds_lock():
                self._lock_path.unlink(missing_ok=True)

    def holds_lock(self) -> bool:
        """Whether the folder's lock is still this store's."""
        return bool(self.token) and lock_holder(self.root).get("token") == self.token

    def __enter__(self) -> ExperimentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- scenarios and runs -----------------------------------------------------------------

    def check_scenarios(self, scenarios: dict[str, dict[str, Any]], *, force: bool = False,
                        source: str = "--out") -> list[str]:
        """Record the experiment's scenarios; refuse a name stored with other content.

        Args:
            scenarios: By name: ``{"hash": <content hash without the horizon>, ...}``; further
                keys (source file, swept values) are kept as provenance.
            force: Replace conflicting scenarios: delete their stored runs first.
            source: Where the error is reported (the option or file that named the folder).

        Returns:
            The names of the scenarios whose stored runs were deleted (``force`` only).

        Raises:
            InputError: on a conflict without ``force``.
        """
        known = self.manifest.setdefault("scenarios", {})
        replaced = []
        for name, info in scenarios.items():
            old = known.get(name)
            if old is not None and old["hash"] != info["hash"]:
                if not force:
                    raise InputError(
                        source, None,
                        f"{self.root} holds runs of scenario '{name}' with different content "
                        f"(hash {old['hash'][:12]}, now {info['hash'][:12]}); use a new folder "
                        "or --force to replace them",
                    )
                self._delete_scenario_runs(name)
                replaced.append(name)
            known[name] = info
        self._dirty = True
        return replaced

    def plan(self, runs: Iterable[PlannedRun]) -> list[PlannedRun]:
        """Record planned runs in the manifest (written at once); return those not yet stored.
        Damaged runs (a file not whole) are removed first, so they are run again."""
        for run_id in damaged_run_ids(self.root):
            paths = run_paths(self.root, run_id)
            for key in ("experiments", "cells", "vital", "outcomes"):
                paths[key].unlink(missing_ok=True)
        done = stored_run_ids(self.root)
        table = self.manifest.setdefault("runs", {})
        todo = []
        for run in runs:
            entry = asdict(run)
            entry.pop("run_id")
            entry["status"] = "done" if run.run_id in done else "pending"
            previous = table.get(run.run_id)
            if previous is not None and previous.get("status") == "done":
                entry.setdefault("finished_utc", previous.get("finished_utc"))
            table[run.run_id] = entry
            if run.run_id not in done:
                todo.append(run)
        self._dirty = True
        self.save()
        return todo

    def mark_done(self, run_id: str, info: dict[str, Any] | None = None,
                  *, min_interval_s: float = 2.0) -> None:
        """Mark a run complete; the manifest is written at most every ``min_interval_s``."""
        entry = self.manifest["runs"][run_id]
        entry["status"] = "done"
        entry["finished_utc"] = utc_now()
        if info:
            entry.update(info)
        self._dirty = True
        if time.monotonic() - self._last_save >= min_interval_s:
            self.save()

    def refresh_status(self) -> None:
        """Set every run's status from the files (the files are the truth).

        A run is ``done`` when its experiments file exists; otherwise it stays ``failed`` if it
        failed in this command, else ``pending``.
        """
        done = stored_run_ids(self.root)
        for run_id, entry in self.manifest.get("runs", {}).items():
            if run_id in done:
                status = "done"
            else:
                status = "failed" if entry.get("status") == "failed" else "pending"
            if entry.get("status") != status:
                entry["status"] = status
                self._dirty = True

    def save(self) -> None:
        """Write the manifest atomically (if it changed)."""
        if not self._dirty and (self.root / MANIFEST).exists():
            return
        check_lock(self.root, self.token)
        self.manifest["updated_utc"] = utc_now()
        write_json_atomic(self.manifest, self.root / MANIFEST)
        self._dirty = False
        self._last_save = time.monotonic()

    # -- internals --------------------------------------------------------------------------

    def _tidy(self) -> None:
        """Remove the temporary files of commands that are gone (crash leftovers; never those of
        a live command). Data files of a run without its experiments file are left: readers
        ignore them, and storing the run again replaces them."""
        remove_stale_temporaries(self.root / RUNS)
        remove_stale_temporaries(self.root)
        self.refresh_status()

    def _delete_scenario_runs(self, name: str) -> None:
        table = self.manifest.get("runs", {})
        for run_id in [r for r, e in table.items() if e.get("scenario") == name]:
            # experiments file first: the run stops counting as stored before its data goes
            paths = run_paths(self.root, run_id)
            for key in ("experiments", "cells", "vital", "outcomes"):
                paths[key].unlink(missing_ok=True)
            del table[run_id]


def _read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if not path.exists():
        if stored_run_ids(root):
            raise InputError("--out", None, f"{root}/runs holds results but {MANIFEST} is "
                             "missing; use a new folder")
        return {"format": FORMAT, "created_utc": utc_now(), "commands": [], "scenarios": {},
                "runs": {}}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(str(path), None, f"unreadable manifest ({exc.__class__.__name__}); "
                         f"{_NEW_FOLDER}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(str(path), "format", f"not a QuartierSim manifest of format {FORMAT}"
                         f"; {_NEW_FOLDER}")
    problem = manifest_problem(manifest)
    if problem is not None:
        raise InputError(str(path), problem[0], f"{problem[1]}; {_NEW_FOLDER}")
    return manifest


_NEW_FOLDER = ("the manifest is damaged or was not written by QuartierSim: use a new folder "
               "(the complete runs stay readable with sim.results.load)")


def manifest_problem(manifest: dict[str, Any]) -> tuple[str, str] | None:
    """(field, what is wrong) for a manifest of the right format but the wrong shape."""
    tables = {"scenarios": dict, "runs": dict, "commands": list}
    for key, kind in tables.items():
        if key in manifest and not isinstance(manifest[key], kind):
            return key, f"must be a {'table' if kind is dict else 'list'}, not " \
                        f"{type(manifest[key]).__name__}"
    for name, info in manifest.get("scenarios", {}).items():
        if not isinstance(info, dict) or not isinstance(info.get("hash"), str):
            return f"scenarios.{name}", "must be a table with a 'hash' (a string)"
    for run_id, entry in manifest.get("runs", {}).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("scenario"), str):
            return f"runs.{run_id}", "must be a table with a 'scenario' (a string)"
    return None


# -- reading ---------------------------------------------------------------------------------


def _read_many(paths: list[Path]) -> pd.DataFrame | None:
    import pyarrow.dataset as ds

    if not paths:
        return None
    try:
        return ds.dataset([str(p) for p in paths], format="parquet").to_table().to_pandas()
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        bad = next((p for p in paths if not _parquet_whole(p)), None)
        raise InputError(str(bad or paths[0].parent), None,
                         f"damaged run file ({exc.__class__.__name__}); run the command that "
                         "wrote this folder again: it recomputes damaged runs") from None


def load_store(root: str | Path, *, run_ids: Iterable[str] | None = None,
               expand_values: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The complete runs of an experiment folder: ``(experiments, outcomes)``.

    Args:
        root: The experiment folder.
        run_ids: Only these runs (default: every complete run).
        expand_values: Add one column per swept dotted path (from ``design_values``).
    """
    root = Path(root)
    ids = sorted(stored_run_ids(root) if run_ids is None
                 else set(run_ids) & stored_run_ids(root))
    experiments = _read_many([run_paths(root, r)["experiments"] for r in ids])
    outcomes = _read_many([run_paths(root, r)["outcomes"] for r in ids])
    if experiments is None:
        experiments = pd.DataFrame(columns=["run_id", "scenario", "scenario_hash", "seed",
                                            "replicate", "years", "design_point",
                                            "design_values"])
    if outcomes is None:
        outcomes = pd.DataFrame({"run_id": pd.Series(dtype=str),
                                 "year": pd.Series(dtype="int32"),
                                 "scope": pd.Series(dtype="category"),
                                 "metric": pd.Series(dtype="category"),
                                 "value": pd.Series(dtype=float)})
    else:
        for col in ("scope", "metric"):
            outcomes[col] = outcomes[col].astype(str).astype("category")
    if expand_values and len(experiments) and "design_values" in experiments:
        values = pd.DataFrame([json.loads(v) for v in experiments["design_values"]],
                              index=experiments.index)
        for col in values.columns:
            if col not in experiments.columns:
                experiments[col] = values[col]
    sort = [c for c in ("scenario", "design_point", "replicate", "run_id")
            if c in experiments.columns]
    experiments = experiments.sort_values(sort, kind="stable").reset_index(drop=True)
    # runs in id order; rows within a run keep the model's order (year, metric, scope)
    outcomes = outcomes.sort_values("run_id", kind="stable").reset_index(drop=True)
    return experiments, outcomes


def load_cells(root: str | Path) -> pd.DataFrame | None:
    """The per-cell snapshots of the complete runs, if the model wrote any."""
    root = Path(root)
    paths = [run_paths(root, r)["cells"] for r in sorted(stored_run_ids(root))]
    return _read_many([p for p in paths if p.exists()])


def load_vital(root: str | Path, *, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Vital statistics of the complete runs: ``run_id, sex, age, exposure, deaths, births``,
    summed over each run's simulated years (see ``QuartierModel.vital_statistics``).

    Runs without vital statistics (the Schelling model, runs stored before they were kept) are
    left out.
    """
    root = Path(root)
    ids = sorted(stored_run_ids(root) if run_ids is None
                 else set(run_ids) & stored_run_ids(root))
    paths = [p for p in (run_paths(root, r)["vital"] for r in ids) if p.exists()]
    table = _read_many(paths)
    if table is None:
        return pd.DataFrame({"run_id": pd.Series(dtype=str), "sex": pd.Series(dtype=str),
                             "age": pd.Series(dtype="int64"),
                             **{c: pd.Series(dtype=float)
                                for c in ("exposure", "deaths", "births")}})
    return table


def read_manifest(root: str | Path) -> dict[str, Any]:
    """The manifest of an experiment folder, as a dict.

    Raises:
        InputError: naming the manifest, for one that is unreadable or of the wrong shape.
    """
    return _read_manifest(Path(root))
