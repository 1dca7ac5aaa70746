"""Validation: simulated vs observed for every target, with tolerance and pass/fail.

A scenario (normally the baseline, which extends the calibrated parameters) runs
``replications`` times; every target's statistic is computed per run
(:mod:`calibration.moments`), and the mean over the runs is compared with the observed figure:
a target passes when ``|mean − observed| <= tolerance``. The replications give the uncertainty
band: the 95 % t-interval of the mean and the range of single runs.

Each target has a role: ``fitted`` (used by the calibration, so its fit is no evidence by
itself), ``input`` (the figure is also an input of the model; the check shows that the
synthesis and processes reproduce it), ``held out`` (independent of the inputs and of the fit:
the real test), ``missing`` (the data has no figure; the simulated value is shown only).
A targets table with a ``role`` column (``calibration/targets/essen_targets.csv``) fixes the
roles itself. Year-specific targets (``when`` = a calendar year) compare that year of the runs.

The targets follow the city: :func:`default_targets_file` picks
``calibration/targets/essen_targets.csv`` for a scenario whose city is Essen, the NRW/Ruhr
table ``targets.csv`` otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from calibration.moments import (
    EARLY_YEARS,
    SCALED,
    Target,
    load_targets,
    run_statistics,
    targets_file,
)
from sim.scenario import Scenario

ROLES = ("fitted", "input", "held out", "missing")
ROLE_LABELS = {"fitted": ("kalibriert", "fitted"), "input": ("Eingabe", "input"),
               "held out": ("zurückgehalten", "held out"), "missing": ("fehlt", "missing")}


@dataclass
class ValidationResult:
    """The validation table and its runs.

    Attributes:
        table: One row per target: ``target, label_de, label_en, group, role, unit, observed,
            tolerance, simulated, sd, ci_low, ci_high, run_min, run_max, deviation, passed,
            when, cited, source, note``. ``passed`` is missing (NA) for missing figures.
        per_run: The statistic of every target in every run (index ``run_id``).
        scenario: Name of the validated scenario.
        replications: Runs.
        years: Simulated years per run.
    """

    table: pd.DataFrame
    per_run: pd.DataFrame
    scenario: str
    replications: int
    years: int
    households: int | None
    early_years: int
    targets_source: str = "calibration/targets/targets.csv"
    scale: float = 1.0

    def counts(self, roles: tuple[str, ...] = ("fitted", "input", "held out")) -> tuple[int, int]:
        """(passed, compared) over targets of the given roles."""
        rows = self.table[self.table["role"].isin(roles)]
        return int(rows["passed"].sum()), len(rows)


CITY_TARGETS = {"essen": "essen_targets.csv"}
"""City name (lower case) -> its targets table in ``calibration/targets/``."""


def default_targets_file(scenario: Scenario) -> Path:
    """The targets table for the scenario's city: the city's own table if there is one
    (:data:`CITY_TARGETS`), else the NRW/Ruhr table ``targets.csv``."""
    name = (scenario.city.name or "").strip().lower()
    if scenario.city.kind == "files" and name in CITY_TARGETS:
        return targets_file().with_name(CITY_TARGETS[name])
    return targets_file()


def has_calendar_years(targets: list[Target]) -> bool:
    """True if some target compares a calendar year (the run should cover the scenario's
    years, not only the first few)."""
    return any(t.year is not None for t in targets)


def validation_scenario(scenario: Scenario, *, years: int, households: int | None) -> Scenario:
    """The scenario as the validation runs it: its horizon, citywide outcomes only."""
    values = {"years": years, "outcomes.cell_snapshots": False, "outcomes.per_quartier": False}
    if households is not None:
        values["city.households"] = households
    return scenario.with_values(values)


def validate(scenario: Scenario, *, out: str | Path, replications: int = 5, years: int = 5,
             households: int | None = None, seed: int = 1, early_years: int = EARLY_YEARS,
             fitted: set[str] | frozenset[str] = frozenset(), targets: list[Target] | None = None,
             executor=None, workers: int = 1, progress=None,
             command: str = "validation", targets_source: str | None = None) -> ValidationResult:
    """Run a scenario and compare it with every target.

    Args:
        scenario: The scenario to validate.
        out: Experiment folder for the runs (stored runs are reused).
        replications: Runs, seeds ``seed … seed + replications − 1``.
        years: Simulated years per run.
        households: Households (default: the scenario's).
        seed: First seed.
        early_years: Simulated years averaged for ``early`` targets.
        fitted: Names of the targets the calibration used.
        targets: The targets (default: the table of the scenario's city,
            :func:`default_targets_file`).
        executor: Any ``concurrent.futures.Executor``; default local processes.
        workers: Local worker processes when no executor is given.
        progress: ``progress(done, total)`` over runs.
        command: Recorded as provenance.
        targets_source: The targets file's name, for the report.
    """
    from sim.experiments.store import load_vital
    from sim.experiments.sweeps import run_points

    if targets is None:
        table_file = default_targets_file(scenario)
        targets = load_targets(table_file)
        targets_source = targets_source or f"calibration/targets/{table_file.name}"
    run_base = validation_scenario(scenario, years=years, households=households)
    experiments, outcomes = run_points(
        run_base, [{}], names=[f"{scenario.name}-validation"], out=out,
        replications=replications, seed=seed, executor=executor, workers=workers,
        progress=progress, command=command, source=scenario.source_file or scenario.name,
        design="validation")
    vital = load_vital(out, run_ids=experiments["run_id"])
    scale = 1.0
    if any(t.target in SCALED for t in targets):
        from sim.experiments.startstate import population_scale

        scale = population_scale(run_base)
    per_run = run_statistics(outcomes, vital, targets, early_years=early_years, scale=scale)
    table = compare(per_run, targets, fitted=set(fitted))
    return ValidationResult(table=table, per_run=per_run, scenario=scenario.name,
                            replications=replications, years=years, households=households,
                            early_years=early_years, scale=scale,
                            targets_source=targets_source or "calibration/targets/targets.csv")


def compare(per_run: pd.DataFrame, targets: list[Target], *,
            fitted: set[str] = frozenset(), confidence: float = 0.95) -> pd.DataFrame:
    """The validation table from per-run statistics (see :class:`ValidationResult`)."""
    rows = []
    n = len(per_run)
    t_crit = float(sps.t.ppf(0.5 + confidence / 2, n - 1)) if n > 1 else math.nan
    for t in targets:
        values = per_run[t.key].to_numpy(float)
        values = values[np.isfinite(values)]
        mean = float(values.mean()) if values.size else math.nan
        sd = float(values.std(ddof=1)) if values.size > 1 else math.nan
        half = t_crit * sd / math.sqrt(values.size) if values.size > 1 else math.nan
        role = ("missing" if t.missing else t.role if t.role is not None
                else "fitted" if t.target in fitted else "input" if t.input else "held out")
        passed = pd.NA if t.missing or not math.isfinite(mean) else bool(
            abs(mean - t.observed) <= t.tolerance + 1e-12)
        rows.append({
            "target": t.key, "label_de": t.label_de, "label_en": t.label_en,
            "group": t.group, "role": role, "unit": t.unit, "observed": t.observed,
            "tolerance": t.tolerance, "simulated": mean, "sd": sd,
            "ci_low": mean - half, "ci_high": mean + half,
            "run_min": float(values.min()) if values.size else math.nan,
            "run_max": float(values.max()) if values.size else math.nan,
            "deviation": (mean - t.observed) if t.observed is not None else math.nan,
            "passed": passed, "when": t.when, "cited": t.cited, "source": t.source,
            "note": t.note,
        })
    table = pd.DataFrame(rows)
    table["observed"] = table["observed"].astype(float)
    table["tolerance"] = table["tolerance"].astype(float)
    table["passed"] = table["passed"].astype("boolean")
    return table


def fitted_targets(calibration_file: str | Path | None) -> set[str]:
    """Names of the targets a calibration file fits (empty if there is no file)."""
    if calibration_file is None:
        return set()
    from calibration.smm import load_calibration_file

    return set(load_calibration_file(calibration_file).targets)


def write_table(result: ValidationResult, path: str | Path) -> Path:
    """The validation table as CSV, atomically."""
    from sim.experiments.files import write_atomic

    return write_atomic(Path(path), lambda tmp: result.table.to_csv(tmp, index=False))
