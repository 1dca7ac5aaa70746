"""Calibration by the simulated method of moments (SMM) with common random numbers.

The free behavioural parameters θ (scenario fields by dotted path, each in a range) are fitted
so that simulated statistics ("moments") come close to observed targets
(``calibration/targets/targets.csv``). The distance is

    J(θ) = Σ_k ((m_k(θ) − observed_k) / tolerance_k)²,

where m_k(θ) is the mean of target k's statistic over ``replications`` runs with seeds
``seed, seed + 1, …``: every θ sees the same random numbers (common random numbers), so J
changes with θ and not with noise. A target's tolerance is its scale, so J < number of targets
means every target is, on average, within its tolerance.

The search is in two stages: a space-filling design (scrambled Sobol' points in the ranges, plus
the starting values) evaluated as one batch, then Nelder-Mead from the best point (scipy, in
coordinates scaled to [0, 1]). Runs go through the sweep machinery
(:func:`sim.experiments.sweeps.run_points`), so they run on local processes or a Dask cluster and
are stored in an experiment folder: running the same calibration again reuses the stored runs."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from calibration.moments import Target, load_targets, run_statistics
from sim import load_scenario
from sim.errors import InputError, load_toml_model
from sim.scenario import Scenario

EvaluationProgress = Callable[[int, int, float], None]
"""Called as ``progress(evaluations_done, evaluations_max, best_objective)``."""


class CalibrationSpec(BaseModel):
    """The contents of a calibration file (TOML)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: str = Field(..., min_length=1, description="Scenario to fit, relative to this file.")
    households: int | None = Field(
        10_000, ge=100, le=2_000_000,
        description="Households of the calibration runs (default 10,000; None: the base's).")
    years: int = Field(5, ge=1, le=50, description="Simulated years per run.")
    early_years: int = Field(5, ge=1, le=50,
                             description="Simulated years averaged for 'early' targets.")
    replications: int = Field(4, ge=1, le=1000,
                              description="Runs per evaluation (seeds seed … seed + r − 1).")
    seed: int = Field(1, ge=0)
    targets: list[str] = Field(..., min_length=1, description="Targets to fit (by name).")
    targets_file: str | None = Field(
        None, description="Targets table, relative to this file (default: the packaged one).")
    parameters: dict[str, list[float]] = Field(
        ..., description="Dotted path -> [low, high]: the free parameters and their ranges.")
    initial_points: int = Field(8, ge=0, le=4096,
                                description="Space-filling points evaluated first.")
    max_evaluations: int = Field(60, ge=1, le=100_000,
                                 description="Evaluations in all (initial points included); "
                                 "ABC stops after the generation that passes it.")
    xatol: float = Field(0.01, gt=0.0, le=0.5,
                         description="Nelder-Mead stops when the simplex is this small "
                         "(share of each range).")
    fatol: float = Field(0.01, gt=0.0, description="... and J varies by less than this.")
    method: Literal["smm", "abc"] = Field(
        "smm", description="smm: design + Nelder-Mead; abc: ABC-SMC with pyABC (posterior).")
    abc_population: int = Field(40, ge=5, le=10_000, description="ABC particles per generation.")
    abc_generations: int = Field(4, ge=1, le=100, description="ABC generations at most.")


@dataclass(frozen=True)
class Problem:
    """A validated calibration problem."""

    base: Scenario
    run_base: Scenario
    targets: list[Target]
    fit: list[Target]
    names: list[str]
    low: np.ndarray
    high: np.ndarray
    start: np.ndarray
    integer: np.ndarray
    spec: CalibrationSpec
    source: str

    def values(self, theta: np.ndarray) -> dict[str, Any]:
        """A design point (dotted path -> value) for parameter vector ``theta``."""
        from sim.experiments.sweeps import point_values

        return point_values(self.names, self.integer, theta)


@dataclass
class CalibrationResult:
    """What a calibration found.

    Attributes:
        parameters: One row per free parameter: ``parameter, low, high, start, fitted``.
        fit: One row per fitted target: ``target, observed, tolerance, simulated, sd,
            deviation, within_tolerance``.
        trace: One row per evaluation: ``evaluation, stage, objective``, the parameters and
            the simulated moments.
        objective: J at the fitted parameters.
        evaluations: Evaluations made (stored runs are reused, not re-run).
        message: How the search ended.
        posterior: ABC only: per parameter the posterior's weighted median, mean, 5 % and
            95 % quantiles.
        draws: ABC only: the final population's particles (``draw, weight, seed``, one column
            per parameter), a draws file for ``quartier compare --parameter-draws``.
    """

    parameters: pd.DataFrame
    fit: pd.DataFrame
    trace: pd.DataFrame
    objective: float
    evaluations: int
    message: str
    problem: Problem = field(repr=False)
    posterior: pd.DataFrame | None = None
    draws: pd.DataFrame | None = None

    @property
    def fitted(self) -> dict[str, Any]:
        return self.problem.values(self.parameters["fitted"].to_numpy(float))


# -- the problem ---------------------------------------------------------------------------------


def load_calibration_file(path: str | Path) -> CalibrationSpec:
    """Read and validate a calibration file.

    Raises:
        InputError: naming the file and the field.
    """
    from sim.experiments.sweeps import flatten_parameters

    def prepare(raw: dict[str, Any]) -> dict[str, Any]:
        if isinstance(raw.get("parameters"), dict):
            raw["parameters"] = flatten_parameters(raw["parameters"])
        return raw

    def field_name(loc: list[str]) -> str:
        if loc[:1] == ["parameters"] and len(loc) > 1:
            loc = ["parameters", f'"{loc[1]}"', *loc[2:]]
        return ".".join(loc)

    return load_toml_model(path, CalibrationSpec, prepare=prepare, field_name=field_name)


def make_problem(spec: CalibrationSpec, *, base: Scenario | None = None,
                 source: str = "calibration", base_dir: Path | None = None,
                 targets: list[Target] | None = None) -> Problem:
    """Check a calibration spec against the scenario schema and the targets.

    Args:
        spec: The spec (e.g. from :func:`load_calibration_file`).
        base: The base scenario (default: ``spec.base`` read relative to ``base_dir``).
        source: Named in error messages.
        base_dir: Folder of the calibration file.
        targets: The targets table (default: ``spec.targets_file`` or the packaged one).

    Raises:
        InputError: unknown target or parameter path, a range that is empty or excludes
            nothing sensible, a non-numeric field.
    """
    from sim.experiments.sweeps import field_annotation, numeric_kind, parse_range

    base_dir = base_dir or Path.cwd()
    if base is None:
        path = Path(spec.base) if Path(spec.base).is_absolute() else base_dir / spec.base
        if not path.is_file():
            raise InputError(source, "base", f"file not found: {spec.base}")
        base = load_scenario(path)
    if targets is None:
        tpath = None
        if spec.targets_file:
            tpath = (Path(spec.targets_file) if Path(spec.targets_file).is_absolute()
                     else base_dir / spec.targets_file)
            if not tpath.is_file():
                raise InputError(source, "targets_file", f"file not found: {spec.targets_file}")
        targets = load_targets(tpath)
    by_name = {t.key: t for t in targets}
    fit = []
    for i, name in enumerate(spec.targets):
        if name not in by_name:
            raise InputError(source, f"targets[{i}]", f"unknown target {name!r}")
        if by_name[name].missing:
            raise InputError(source, f"targets[{i}]", f"{name!r} has no observed figure")
        if name in [t.key for t in fit]:
            raise InputError(source, f"targets[{i}]", f"{name!r} is listed twice")
        fit.append(by_name[name])
    names, low, high, start, integer = [], [], [], [], []
    for dotted, bounds in spec.parameters.items():
        key = f'parameters."{dotted}"'
        try:
            annotation = field_annotation(dotted, source)
        except InputError:
            raise InputError(source, key, "no such scenario field") from None
        kind = numeric_kind(annotation)
        if kind is None:
            raise InputError(source, key, "not a numeric field")
        lo, hi = parse_range(bounds, source, key)
        current = float(_get(base, dotted))
        names.append(dotted)
        low.append(lo)
        high.append(hi)
        start.append(min(max(current, lo), hi))
        integer.append(kind == "int")
    if not names:
        raise InputError(source, "parameters", "give at least one parameter to fit")
    for name, lo, hi, is_int in zip(names, low, high, integer, strict=True):
        for value in (lo, hi):
            try:
                base.with_values({name: int(round(value)) if is_int else value})
            except InputError as exc:
                raise InputError(source, f'parameters."{name}"',
                                 f"{value:g} is not allowed: {exc.message}") from None
    overrides: dict[str, Any] = {"years": spec.years, "outcomes.cell_snapshots": False,
                                 "outcomes.per_quartier": False}
    if spec.households is not None:
        overrides["city.households"] = spec.households
    run_base = base.with_values(overrides)
    return Problem(base=base, run_base=run_base, targets=targets, fit=fit, names=names,
                   low=np.array(low), high=np.array(high), start=np.array(start),
                   integer=np.array(integer), spec=spec, source=source)


def _get(scenario: Scenario, dotted: str) -> Any:
    node: Any = scenario
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


# -- evaluating moments --------------------------------------------------------------------------


class Evaluator:
    """Simulated moments of parameter vectors, through the sweep machinery (cached)."""

    def __init__(self, problem: Problem, *, out: str | Path, executor=None, workers: int = 1,
                 command: str = "calibration", run_progress=None) -> None:
        self.problem = problem
        self.out = Path(out)
        self.executor = executor
        self.workers = workers
        self.command = command
        self.run_progress = run_progress
        self.cache: dict[str, pd.DataFrame] = {}
        from sim.experiments.runner import scenario_identity

        self._base_identity = scenario_identity(problem.run_base)

    def point_name(self, values: dict[str, Any]) -> str:
        from sim.experiments.sweeps import content_point_name

        return content_point_name(self.problem.run_base, values, "fit", self._base_identity)

    def statistics(self, thetas: np.ndarray) -> list[pd.DataFrame]:
        """Per point, the per-run statistics of every target (rows: replications)."""
        from sim.experiments.store import load_vital
        from sim.experiments.sweeps import run_points

        p = self.problem
        points = [p.values(t) for t in np.atleast_2d(thetas)]
        names = [self.point_name(v) for v in points]
        todo = {n: v for n, v in zip(names, points, strict=True) if n not in self.cache}
        if todo:
            experiments, outcomes = run_points(
                p.run_base, list(todo.values()), names=list(todo), out=self.out,
                replications=p.spec.replications, seed=p.spec.seed, executor=self.executor,
                workers=self.workers, progress=self.run_progress, command=self.command,
                source=p.source, design="calibration")
            vital = load_vital(self.out, run_ids=experiments["run_id"])
            stats = run_statistics(outcomes, vital, p.targets,
                                   early_years=p.spec.early_years)
            by_run = experiments.set_index("run_id")["scenario"]
            for name in todo:
                runs = by_run.index[by_run == name]
                self.cache[name] = stats.loc[runs]
        return [self.cache[n] for n in names]

    def moments(self, thetas: np.ndarray) -> np.ndarray:
        """Mean over replications of the fitted targets' statistics, one row per point."""
        fit = [t.key for t in self.problem.fit]
        return np.array([s[fit].mean().to_numpy(float) for s in self.statistics(thetas)])

    def objective(self, moments: np.ndarray) -> np.ndarray:
        """J for rows of moments (NaN moments count as infinitely far)."""
        observed = np.array([t.observed for t in self.problem.fit], float)
        tolerance = np.array([t.tolerance for t in self.problem.fit], float)
        z = (np.atleast_2d(moments) - observed) / tolerance
        return np.where(np.isfinite(z).all(axis=1), np.nansum(z * z, axis=1), np.inf)


# -- the search ---------------------------------------------------------------------------------


def calibrate(problem: Problem, *, out: str | Path, executor=None, workers: int = 1,
              progress: EvaluationProgress | None = None, run_progress=None,
              command: str = "calibration") -> CalibrationResult:
    """Fit the problem's parameters to its targets (see the module docstring).

    Args:
        problem: From :func:`make_problem`.
        out: Experiment folder for the runs (reused: stored runs are not run again).
        executor: Any ``concurrent.futures.Executor`` (e.g. Dask's); default local processes.
        workers: Local worker processes when no executor is given.
        progress: ``progress(done, max, best_objective)`` after every evaluation.
        run_progress: ``progress(done, total)`` over the runs of a batch (the sweep's).
        command: Recorded as provenance in the experiment folder.
    """
    from scipy.optimize import minimize
    from scipy.stats import qmc

    spec = problem.spec
    evaluator = Evaluator(problem, out=out, executor=executor, workers=workers, command=command,
                          run_progress=run_progress)
    span = problem.high - problem.low
    trace: list[dict[str, Any]] = []
    budget = spec.max_evaluations
    best = {"objective": math.inf, "theta": problem.start.copy()}

    def record(thetas: np.ndarray, stage: str) -> np.ndarray:
        moments = evaluator.moments(thetas)
        values = evaluator.objective(moments)
        for theta, m, j in zip(thetas, moments, values, strict=True):
            row = {"evaluation": len(trace) + 1, "stage": stage, "objective": float(j)}
            row.update(problem.values(theta))
            row.update({t.key: float(v) for t, v in zip(problem.fit, m, strict=True)})
            trace.append(row)
            if j < best["objective"]:
                best.update(objective=float(j), theta=theta.copy())
            if progress is not None:
                progress(len(trace), budget, best["objective"])
        return values

    posterior = None
    if spec.method == "abc":
        from calibration.abc import search

        theta, posterior, message, draws = search(
            problem, evaluator, record, budget=budget, population=spec.abc_population,
            generations=spec.abc_generations, out=Path(out))
        record(theta[None, :], "posterior median")
        best.update(theta=theta, objective=float(trace[-1]["objective"]))
        result = _result(problem, evaluator, best, trace, message, posterior)
        result.draws = draws
        return result

    # stage 1: the starting values and a space-filling design, as one batch
    n_initial = min(spec.initial_points, budget - 1)
    thetas = [problem.start]
    if n_initial > 0:
        rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 7_411]))
        m = max(0, math.ceil(math.log2(n_initial)))
        unit = qmc.Sobol(len(problem.names), scramble=True, rng=rng).random_base2(m)[:n_initial]
        thetas += list(problem.low + unit * span)
    record(np.array(thetas), "design")

    # stage 2: Nelder-Mead from the best point, in [0, 1] coordinates
    message = "evaluation budget spent in the design stage"
    remaining = budget - len(trace)
    if remaining > 0:
        def unit_objective(u: np.ndarray) -> float:
            theta = problem.low + np.clip(u, 0.0, 1.0) * span
            return float(record(theta[None, :], "nelder-mead")[0])

        u0 = (best["theta"] - problem.low) / span
        simplex = [u0]
        for i in range(len(u0)):
            step = np.zeros_like(u0)
            step[i] = 0.1 if u0[i] <= 0.9 else -0.1
            simplex.append(np.clip(u0 + step, 0.0, 1.0))
        result = minimize(unit_objective, u0, method="Nelder-Mead",
                          bounds=[(0.0, 1.0)] * len(u0),
                          options={"maxfev": remaining, "xatol": spec.xatol,
                                   "fatol": spec.fatol, "initial_simplex": np.array(simplex)})
        message = ("converged: the simplex is within xatol and J within fatol"
                   if result.success else "stopped at max_evaluations")

    return _result(problem, evaluator, best, trace, message, posterior)


def _result(problem: Problem, evaluator: Evaluator, best: dict[str, Any],
            trace: list[dict[str, Any]], message: str,
            posterior: pd.DataFrame | None) -> CalibrationResult:
    theta = best["theta"]
    stats = evaluator.statistics(theta[None, :])[0]
    fit_rows = []
    for t in problem.fit:
        values = stats[t.key].to_numpy(float)
        mean = float(values.mean())
        fit_rows.append({"target": t.key, "observed": t.observed, "tolerance": t.tolerance,
                         "simulated": mean,
                         "sd": float(values.std(ddof=1)) if values.size > 1 else math.nan,
                         "deviation": mean - t.observed,
                         "within_tolerance": bool(abs(mean - t.observed) <= t.tolerance)})
    fitted = problem.values(theta)
    parameters = pd.DataFrame({"parameter": problem.names, "low": problem.low,
                               "high": problem.high,
                               "start": [problem.values(problem.start)[n] for n in problem.names],
                               "fitted": [fitted[n] for n in problem.names]})
    return CalibrationResult(parameters=parameters, fit=pd.DataFrame(fit_rows),
                             trace=pd.DataFrame(trace), objective=best["objective"],
                             evaluations=len(trace), message=message, problem=problem,
                             posterior=posterior)


# -- writing the results -------------------------------------------------------------------------


def write_results(result: CalibrationResult, out: str | Path) -> dict[str, Path]:
    """Write the fit table, the parameters (CSV) and the trace (Parquet), each atomically;
    with ABC also the posterior's quantiles (``calibration_posterior.csv``) and its particles
    with their weights (``calibration_draws.csv`` and ``.parquet``, a draws file)."""
    from sim.experiments.files import write_atomic, write_parquet_atomic

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"fit": out / "calibration_fit.csv",
             "parameters": out / "calibration_parameters.csv",
             "trace": out / "calibration_trace.parquet"}
    write_atomic(paths["fit"], lambda tmp: result.fit.to_csv(tmp, index=False))
    write_atomic(paths["parameters"], lambda tmp: result.parameters.to_csv(tmp, index=False))
    write_parquet_atomic(result.trace, paths["trace"])
    if result.posterior is not None:
        paths["posterior"] = out / "calibration_posterior.csv"
        write_atomic(paths["posterior"], lambda tmp: result.posterior.to_csv(tmp, index=False))
    if result.draws is not None:  # the parameter draws of quartier compare --parameter-draws
        paths["draws"] = out / "calibration_draws.csv"
        write_atomic(paths["draws"], lambda tmp: result.draws.to_csv(tmp, index=False))
        write_parquet_atomic(result.draws, out / "calibration_draws.parquet")
    return paths


def scenario_text(result: CalibrationResult, *, name: str = "calibrated",
                  command: str = "") -> str:
    """The fitted parameters as a scenario file (no ``extends``: a baseline can extend it)."""
    from sim.version import __version__

    p = result.problem
    spec = p.spec
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    households = f"{spec.households:,}" if spec.households else "the base's"
    how = ("the simulated method of moments" if spec.method == "smm" else
           "ABC-SMC (pyABC; posterior medians)")
    lines = [
        f"# Behavioural parameters fitted to official figures by {how}",
        f"# (`{command or 'quartier calibrate'}`, {stamp}, QuartierSim {__version__}).",
        f"# Runs: {households} households, {spec.years} years, {spec.replications} "
        f"replications with common random numbers (seeds {spec.seed}-"
        f"{spec.seed + spec.replications - 1}); {result.evaluations} evaluations.",
        f"# Distance J = sum(((simulated - observed) / tolerance)^2) = {result.objective:.3g} "
        f"over {len(p.fit)} targets.",
        "#",
        "# target: simulated vs observed (tolerance)",
    ]
    for row in result.fit.itertuples(index=False):
        lines.append(f"#   {row.target}: {row.simulated:.4g} vs {row.observed:.4g} "
                     f"(±{row.tolerance:.3g}){'' if row.within_tolerance else '  MISSED'}")
    lines += ["#", "# parameter: fitted (start; range)"]
    for row in result.parameters.itertuples(index=False):
        lines.append(f"#   {row.parameter}: {_fmt(row.fitted)} ({_fmt(row.start)}; "
                     f"[{_fmt(row.low)}, {_fmt(row.high)}])")
    if result.posterior is not None:
        lines += ["#", "# posterior: 5 % - 95 % quantiles"]
        lines += [f"#   {row.parameter}: {_fmt(row.q05)} - {_fmt(row.q95)}"
                  for row in result.posterior.itertuples(index=False)]
    lines += ["#", "# Written by `quartier calibrate`; edit the calibration file and run it "
              "again rather than", "# editing this file.", "",
              f'name = "{name}"',
              'description = "Defaults with the behavioural parameters fitted by quartier '
              'calibrate."', ""]
    tables: dict[str, list[tuple[str, Any]]] = {}
    for dotted, value in result.fitted.items():
        table, key = dotted.rsplit(".", 1)
        tables.setdefault(table, []).append((key, value))
    for table, items in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{key} = {_fmt(value)}" for key, value in items]
        lines.append("")
    return "\n".join(lines)


def write_scenario(result: CalibrationResult, path: str | Path, *, name: str = "calibrated",
                   command: str = "") -> Path:
    """Write :func:`scenario_text` atomically; checks that it loads as a scenario first."""
    from sim.experiments.files import write_atomic

    text = scenario_text(result, name=name, command=command)
    Scenario.model_validate(tomllib.loads(text))  # never write a file that does not load
    return write_atomic(Path(path), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _fmt(value: Any) -> str:
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return str(int(value))
    return f"{float(value):.6g}"
