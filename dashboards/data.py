"""Reading a result folder for the report and the dashboard, with one-line errors.

A folder is one of:

- an experiment folder of ``quartier compare`` (manifest.json, runs/, comparison.csv);
- an experiment folder of ``quartier sweep`` (manifest.json, runs/);
- the folder of a single run (``quartier run --out``: experiments.parquet, outcomes.parquet,
  optionally cells.parquet).

Only files under the folder are read: every path is resolved and checked to lie inside it
(symbolic links pointing elsewhere are refused). Problems (no such folder, no runs, a corrupt
file, a missing column) raise :class:`sim.errors.InputError` naming the file and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.errors import InputError

OUTCOME_COLUMNS = ("run_id", "year", "scope", "metric", "value")
EXPERIMENT_COLUMNS = ("run_id", "scenario")
CELL_COLUMNS = ("run_id", "year", "cell", "col", "row", "quartier")
COMPARISON_REQUIRED = ("scenario", "metric", "scope", "year", "baseline_mean", "scenario_mean",
                       "difference", "ci_low", "ci_high", "significant")


@dataclass
class Results:
    """The tables of one result folder.

    Attributes:
        root: The folder (resolved).
        kind: ``"comparison"``, ``"sweep"`` or ``"run"``.
        experiments: One row per complete run (``run_id``, ``scenario``, ``replicate``, ...).
        outcomes: Tidy outcomes of every run.
        cells: Per-cell snapshots, or None when the runs recorded none.
        comparison: Paired differences (``comparison.csv`` or computed), or None.
        baseline: The baseline scenario's name (comparisons), else None.
        scenarios: Scenario names in display order (the baseline first).
    """

    root: Path
    kind: str
    experiments: pd.DataFrame
    outcomes: pd.DataFrame
    cells: pd.DataFrame | None = None
    comparison: pd.DataFrame | None = None
    baseline: str | None = None
    scenarios: list[str] = field(default_factory=list)

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.outcomes["year"].unique())

    @property
    def quartiers(self) -> list[str]:
        return sorted(str(s) for s in self.outcomes["scope"].unique() if str(s) != "city")

    @property
    def metrics(self) -> list[str]:
        return [str(m) for m in pd.unique(self.outcomes["metric"].astype(str))]

    def runs_of(self, scenario: str) -> list[str]:
        return self.experiments.loc[self.experiments["scenario"] == scenario, "run_id"].tolist()


def inside(root: str | Path, relative: str | Path) -> Path:
    """``root / relative`` resolved; InputError if it lies outside ``root``.

    Guards every file the report and the dashboard read: names from a manifest, a URL or an
    input never reach files outside the result folder (``..``, absolute paths, symbolic links
    pointing elsewhere).
    """
    base = Path(root).resolve()
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        raise InputError(str(root), str(relative), "path leads outside the result folder")
    return target


def load_results(root: str | Path) -> Results:
    """Read a result folder (comparison, sweep or single run).

    Raises:
        InputError: no such folder, no complete runs, a corrupt or incomplete file.
    """
    given = Path(root)
    if not given.exists():
        raise InputError(str(given), None, "no such folder")
    if not given.is_dir():
        raise InputError(str(given), None, "not a folder (give the folder written by "
                         "quartier run, compare or sweep)")
    base = given.resolve()
    if (base / "manifest.json").exists() or (base / "runs").is_dir():
        return _load_store(given, base)
    if (base / "outcomes.parquet").exists() or (base / "experiments.parquet").exists():
        return _load_run(given, base)
    raise InputError(str(given), None, "holds no results: neither an experiment folder "
                     "(manifest.json, runs/) nor a run folder (outcomes.parquet); run "
                     "quartier run, compare or sweep with --out first")


def _display(given: Path, path: Path, base: Path) -> str:
    return str(given / path.relative_to(base))


def _read_parquet(given: Path, base: Path, relative: str, required: tuple[str, ...]
                  ) -> pd.DataFrame:
    path = inside(base, relative)
    shown = _display(given, path, base)
    if not path.is_file():
        raise InputError(shown, None, "file not found")
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise InputError(shown, None, f"unreadable Parquet file ({exc.__class__.__name__})"
                         ) from None
    _require(df, required, shown)
    return df


def _require(df: pd.DataFrame, columns: tuple[str, ...], shown: str) -> None:
    for column in columns:
        if column not in df.columns:
            raise InputError(shown, column, "missing column")


def _load_run(given: Path, base: Path) -> Results:
    experiments = _read_parquet(given, base, "experiments.parquet", EXPERIMENT_COLUMNS)
    outcomes = _read_parquet(given, base, "outcomes.parquet", OUTCOME_COLUMNS)
    cells = None
    if (base / "cells.parquet").exists():
        cells = _read_parquet(given, base, "cells.parquet", CELL_COLUMNS)
    if outcomes.empty:
        raise InputError(str(given / "outcomes.parquet"), None, "holds no rows")
    if "replicate" not in experiments:
        experiments["replicate"] = 0
    return _finish(Results(root=base, kind="run", experiments=experiments,
                           outcomes=outcomes, cells=cells,
                           scenarios=[str(s) for s in pd.unique(experiments["scenario"])]))


def _load_store(given: Path, base: Path) -> Results:
    from sim.experiments.store import CELLS_SUFFIX, EXPERIMENTS_SUFFIX, OUTCOMES_SUFFIX, RUNS

    manifest: dict = {}
    manifest_path = inside(base, "manifest.json")
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(str(given / "manifest.json"), None,
                             f"unreadable manifest ({exc.__class__.__name__})") from None
        if not isinstance(manifest, dict):
            raise InputError(str(given / "manifest.json"), None, "not a QuartierSim manifest")
    runs_dir = inside(base, RUNS)
    ids = sorted(p.name[: -len(EXPERIMENTS_SUFFIX)] for p in runs_dir.glob(f"*{EXPERIMENTS_SUFFIX}")
                 if not p.name.startswith(".")) if runs_dir.is_dir() else []
    if not ids:
        raise InputError(str(given), None, "holds no complete runs (runs/*.experiments.parquet); "
                         "the command that writes them may still be running or have failed")
    experiments = pd.concat(
        [_read_parquet(given, base, f"{RUNS}/{r}{EXPERIMENTS_SUFFIX}", EXPERIMENT_COLUMNS)
         for r in ids], ignore_index=True)
    outcomes = pd.concat(
        [_read_parquet(given, base, f"{RUNS}/{r}{OUTCOMES_SUFFIX}", OUTCOME_COLUMNS)
         for r in ids], ignore_index=True)
    cell_parts = [_read_parquet(given, base, f"{RUNS}/{r}{CELLS_SUFFIX}", CELL_COLUMNS)
                  for r in ids if (runs_dir / f"{r}{CELLS_SUFFIX}").exists()]
    cells = pd.concat(cell_parts, ignore_index=True) if cell_parts else None
    if "replicate" not in experiments:
        experiments["replicate"] = 0
    sort = [c for c in ("scenario", "design_point", "replicate", "run_id") if c in experiments]
    experiments = experiments.sort_values(sort, kind="stable").reset_index(drop=True)

    experiments = _pool_draws(experiments, manifest)
    roles = {name: info.get("role") for name, info in manifest.get("scenarios", {}).items()
             if isinstance(info, dict)}
    roles.update({info["draw_of"]: info.get("role", "").removesuffix(" draw")
                  for info in manifest.get("scenarios", {}).values()
                  if isinstance(info, dict) and "draw_of" in info})
    baseline = next((n for n, role in roles.items() if role == "baseline"), None)
    present = [str(s) for s in pd.unique(experiments["scenario"])]
    kind = "comparison" if baseline is not None or (base / "comparison.csv").exists() else "sweep"
    comparison = None
    if (base / "comparison.csv").exists():
        comparison = _read_comparison(given, base)
        if baseline is None:
            others = set(comparison["scenario"].astype(str))
            baseline = next((s for s in present if s not in others), None)
    if baseline is not None and baseline not in present:
        baseline = None
    if baseline is not None and comparison is None and len(present) > 1:
        from sim.experiments.comparison import paired_differences

        runs = experiments.drop_duplicates(["scenario", "replicate"])
        comparison = paired_differences(runs, outcomes, baseline=baseline)
    scenarios = ([baseline] if baseline else []) + [s for s in present if s != baseline]
    return _finish(Results(root=base, kind=kind, experiments=experiments, outcomes=outcomes,
                           cells=cells, comparison=comparison, baseline=baseline,
                           scenarios=scenarios))


def _pool_draws(experiments: pd.DataFrame, manifest: dict) -> pd.DataFrame:
    """A comparison over parameter draws stores each scenario once per draw
    (``<name>@draw007``); its runs count as the scenario's, replicate r of draw d as
    replicate ``d * DRAW_SEED_STRIDE + r``."""
    from sim.experiments.draws import DRAW_SEED_STRIDE

    info = {name: entry for name, entry in manifest.get("scenarios", {}).items()
            if isinstance(entry, dict) and "draw_of" in entry}
    mask = experiments["scenario"].isin(list(info))
    if not mask.any():
        return experiments
    draw = experiments.loc[mask, "scenario"].map(lambda n: int(info[n].get("draw", 0)))
    experiments.loc[mask, "replicate"] = (draw * DRAW_SEED_STRIDE
                                          + experiments.loc[mask, "replicate"])
    experiments.loc[mask, "scenario"] = experiments.loc[mask, "scenario"].map(
        lambda n: info[n]["draw_of"])
    return experiments


def _read_comparison(given: Path, base: Path) -> pd.DataFrame:
    path = inside(base, "comparison.csv")
    shown = str(given / "comparison.csv")
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # empty, binary or malformed
        raise InputError(shown, None, f"unreadable CSV file ({exc.__class__.__name__})"
                         ) from None
    _require(df, COMPARISON_REQUIRED, shown)
    for column in ("baseline_mean", "scenario_mean", "difference", "ci_low", "ci_high"):
        if not pd.api.types.is_numeric_dtype(df[column]):
            raise InputError(shown, column, "not numeric")
    df["significant"] = df["significant"].astype(str).str.lower().isin(["true", "1"])
    for column in ("scenario", "metric", "scope"):
        df[column] = df[column].astype(str)
    return df


def _finish(results: Results) -> Results:
    out = results.outcomes
    out["metric"] = out["metric"].astype(str)
    out["scope"] = out["scope"].astype(str)
    try:
        out["year"] = out["year"].astype(int)
        out["value"] = pd.to_numeric(out["value"])
    except (TypeError, ValueError):
        raise InputError(str(results.root), "year/value", "outcomes hold non-numeric years or "
                         "values") from None
    results.experiments["scenario"] = results.experiments["scenario"].astype(str)
    if results.cells is not None:
        results.cells["quartier"] = results.cells["quartier"].astype(str)
    return results
