"""Global sensitivity analysis of the model's headline outcomes (``quartier sensitivity``).

Which behavioural parameters (move rates, utilities, in-migration) drive segregation,
out-migration and unmet care, and which hardly matter? Two methods, both from SALib:

- **Morris screening** (elementary effects; Morris 1991, with mu* of Campolongo et al. 2007):
  ``trajectories`` one-at-a-time walks through a grid of ``levels`` values per parameter, each
  of ``d + 1`` design points. ``mu*`` is the mean absolute change of an output when a parameter
  moves across its whole range (output units), ``sigma`` the spread of these changes
  (non-linearity or interactions), ``mu`` their signed mean. Cheap: ``trajectories × (d + 1)``
  design points; ranks the parameters, does not apportion the variance.
- **Sobol indices** (variance-based; Saltelli 2002, Saltelli et al. 2010 estimators):
  ``S1`` is the share of an output's variance a parameter explains alone, ``ST`` its share
  including all interactions. ``N × (d + 2)`` design points (``N`` a power of 2) without
  second-order indices, ``N × (2d + 2)`` with them.

Pure analysis (:class:`Problem`, :func:`morris`, :func:`sobol`, the sample and analyse steps)
is separate from execution (:class:`ModelEvaluator`: design rows -> model runs through
:func:`sim.experiments.sweeps.run_points` -> outputs; :func:`run_spec`: a spec file end to end).

Every random draw is seeded: designs are drawn with ``seed``, the bootstrap of the confidence
intervals with ``seed + 1`` (SALib's Sobol analysis takes 0 for "no seed"). Confidence
intervals are ``index ± conf`` with ``conf`` SALib's bootstrap half-width (normal
approximation, ``conf_level``).

The model output of a design point: per run, the mean of the citywide value over the last
``last_years`` simulated years (flows such as ``out_migration_rate`` have no value in the
start year, which is the initial state and never averaged); then the mean over the
``replications`` runs of the point (seeds ``seed + r``, common random numbers across points).

A spec file (TOML)::

    base = "../scenarios/baseline.toml"   # relative to the spec file
    method = "both"                       # morris | sobol | both
    samples = 256                         # Sobol N (a power of 2)
    trajectories = 20                     # Morris trajectories
    levels = 4                            # Morris grid levels (even)
    replications = 2                      # runs per design point
    years = 10                            # default: the base scenario's
    households = 5000                     # default: the base scenario's
    last_years = 5                        # years averaged into an output
    seed = 1
    outputs = ["dissimilarity_income_quartiers", "out_migration_rate", "unmet_care"]

    [parameters]                          # dotted path = [low, high]
    "parameters.mobility.utility_outside" = [2.3, 4.3]

    [scales.service_weights]              # one factor × several fields' base values
    fields = ["parameters.choice.health_weight_old", "parameters.choice.school_weight"]
    range = [0.5, 2.0]

    [[effects]]                           # lever effects (lever - base) as outputs
    scenario = "../scenarios/mvz_hochfeld.toml"
    label = "MVZ Hochfeld"
    outputs = ["out_migrants", "out_migrants_poor"]

Lever effects and scales are described in :mod:`calibration.lever_effects`: an effect output
``effect:<lever scenario>:<metric>`` is, per design point, the mean over replications of the
paired difference lever - base (same seeds), so its indices say what the lever's effect
depends on.

Sensitivity runs never record cell snapshots or per-quartier metrics (``outcomes.*`` set to
false): only citywide outputs enter the analysis.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from calibration.lever_effects import (
    EffectFile,
    Lever,
    ScaleFile,
    city_rows,
    effect_statistics,
    load_levers,
    paired_effects,
    scale_fields,
    scaled_values,
)
from sim import load_scenario
from sim.errors import InputError, display_path, load_toml_model
from sim.experiments.bounds import check_design_size
from sim.experiments.runner import Progress, scenario_identity, with_horizon
from sim.experiments.sweeps import (
    content_point_name,
    field_annotation,
    flatten_parameters,
    numeric_kind,
    parse_range,
    point_values,
    run_point_sets,
    validate_point,
)
from sim.scenario import Scenario

METHODS = ("morris", "sobol", "both")
DEFAULT_OUTPUTS = ("dissimilarity_income_quartiers", "out_migration_rate", "unmet_care")
"""Headline outcomes: segregation, out-migration, unmet care."""
MORRIS_FILE = "sensitivity_morris.parquet"
SOBOL_FILE = "sensitivity_sobol.parquet"
SAMPLES_FILE = "sensitivity_samples.parquet"
SETTINGS_FILE = "sensitivity.json"
MORRIS_COLUMNS = ("output", "parameter", "mu", "mu_star", "mu_star_conf", "mu_star_low",
                  "mu_star_high", "sigma", "low", "high", "trajectories", "levels",
                  "conf_level")
SOBOL_COLUMNS = ("output", "parameter", "S1", "S1_conf", "S1_low", "S1_high", "ST", "ST_conf",
                 "ST_low", "ST_high", "low", "high", "samples", "conf_level")
_FORCED = {"outcomes.cell_snapshots": False, "outcomes.per_quartier": False}

Evaluate = Callable[[np.ndarray], np.ndarray]
"""``evaluate(X)``: design rows ``X`` (n, d) -> outputs (n, k) or (n,)."""


# -- the problem ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """The varied parameters and their ranges (uniform over ``[low, high]``).

    Attributes:
        names: Parameter names (for the model: dotted scenario paths).
        bounds: ``(low, high)`` per parameter.
        integer: Per parameter, whether its values are rounded to integers before a run.
    """

    names: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    integer: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        if not self.integer:
            object.__setattr__(self, "integer", (False,) * len(self.names))
        if not (len(self.names) == len(self.bounds) == len(self.integer)) or not self.names:
            raise ValueError("a problem needs at least one parameter, each with (low, high)")
        if len(set(self.names)) != len(self.names):
            raise ValueError("parameter names must be unique")
        for name, (low, high) in zip(self.names, self.bounds, strict=True):
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValueError(f"{name}: need finite low < high (got [{low}, {high}])")

    @classmethod
    def from_ranges(cls, ranges: Mapping[str, Sequence[float]]) -> Problem:
        """A problem from ``{name: [low, high]}`` (no scenario checks; for test functions)."""
        bounds = []
        for name, spec in ranges.items():
            if len(spec) != 2:
                raise ValueError(f"{name}: give a range [low, high]")
            bounds.append((float(spec[0]), float(spec[1])))
        return cls(names=tuple(ranges), bounds=tuple(bounds))

    @property
    def d(self) -> int:
        """The number of parameters."""
        return len(self.names)

    def salib(self) -> dict[str, Any]:
        """The problem as SALib's dict (a fresh one: SALib adds keys to it)."""
        return {"num_vars": self.d, "names": list(self.names),
                "bounds": [list(b) for b in self.bounds]}


def _problem(problem: Problem | Mapping[str, Sequence[float]]) -> Problem:
    return problem if isinstance(problem, Problem) else Problem.from_ranges(problem)


def _key(dotted: str) -> str:
    return f'parameters."{dotted}"'


def scenario_problem(parameters: Mapping[str, Any], base: Scenario | None = None, *,
                     source: str = "parameters") -> Problem:
    """The problem of a spec's ``[parameters]`` table: dotted scenario path -> ``[low, high]``.

    Checked like a sweep's ranges: a known, numeric scenario field; two finite numbers;
    ``low < high``; with ``base``, both ends are valid values of the field (so is everything
    between them). Values of integer fields are rounded when run.

    Raises:
        InputError: naming ``source`` and ``parameters."<path>"``.
    """
    if not isinstance(parameters, Mapping) or not parameters:
        raise InputError(source, "parameters", "give at least one dotted path = [low, high]")
    flat = flatten_parameters(dict(parameters))
    names, bounds, integer = [], [], []
    for dotted, spec in flat.items():
        if dotted == "name":
            raise InputError(source, _key(dotted), "a design point's name is set by the "
                             "analysis")
        kind = numeric_kind(field_annotation(dotted, source))
        if kind is None:
            raise InputError(source, _key(dotted), "needs a numeric field")
        low, high = parse_range(spec, source, _key(dotted))
        if base is not None:
            for value in (low, high):
                validate_point(base, {dotted: int(round(value)) if kind == "int" else value},
                                source)
        names.append(dotted)
        bounds.append((low, high))
        integer.append(kind == "int")
    return Problem(names=tuple(names), bounds=tuple(bounds), integer=tuple(integer))


# -- Morris ---------------------------------------------------------------------------------


def _check_levels(levels: int) -> None:
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
        raise ValueError(f"levels must be an even integer >= 2 (got {levels!r})")


def morris_sample(problem: Problem | Mapping[str, Sequence[float]], *, trajectories: int = 10,
                  levels: int = 4, seed: int = 1) -> np.ndarray:
    """The Morris design: ``trajectories × (d + 1)`` rows (SALib, seeded with ``seed``)."""
    from SALib.sample import morris as morris_sampler

    problem = _problem(problem)
    _check_levels(levels)
    if isinstance(trajectories, bool) or not isinstance(trajectories, int) or trajectories < 2:
        raise ValueError(f"trajectories must be an integer >= 2 (got {trajectories!r})")
    return morris_sampler.sample(problem.salib(), trajectories, num_levels=levels,
                                 seed=int(seed))


def morris_analyze(problem: Problem | Mapping[str, Sequence[float]], X: np.ndarray,
                   Y: np.ndarray, *, outputs: Sequence[str] | None = None, levels: int = 4,
                   conf_level: float = 0.95, resamples: int = 1000,
                   seed: int = 1) -> pd.DataFrame:
    """Morris indices of each output column of ``Y`` for the design ``X``.

    Returns:
        One row per (output, parameter) in problem order: ``mu``, ``mu_star``,
        ``mu_star_conf`` and its bounds ``mu_star_low/high``, ``sigma``, the range
        ``low/high`` and the design (``trajectories``, ``levels``, ``conf_level``). An output
        with a missing (NaN) value gets NaN indices.
    """
    from SALib.analyze import morris as morris_analyzer

    problem = _problem(problem)
    _check_levels(levels)
    X = np.asarray(X, dtype=float)
    Y = _as_outputs(Y, len(X))
    outputs = _output_names(outputs, Y.shape[1])
    trajectories = len(X) // (problem.d + 1)
    rows = []
    for k, output in enumerate(outputs):
        y = Y[:, k]
        if np.isfinite(y).all():
            si = morris_analyzer.analyze(problem.salib(), X, y, num_resamples=resamples,
                                         conf_level=conf_level, num_levels=levels,
                                         seed=int(seed) + 1)
            values = {key: np.asarray(si[key], dtype=float)
                      for key in ("mu", "mu_star", "mu_star_conf", "sigma")}
        else:
            values = {key: np.full(problem.d, np.nan)
                      for key in ("mu", "mu_star", "mu_star_conf", "sigma")}
        for i, name in enumerate(problem.names):
            mu_star, conf = values["mu_star"][i], values["mu_star_conf"][i]
            rows.append({"output": output, "parameter": name, "mu": values["mu"][i],
                         "mu_star": mu_star, "mu_star_conf": conf,
                         "mu_star_low": mu_star - conf, "mu_star_high": mu_star + conf,
                         "sigma": values["sigma"][i], "low": problem.bounds[i][0],
                         "high": problem.bounds[i][1], "trajectories": trajectories,
                         "levels": levels, "conf_level": conf_level})
    return pd.DataFrame(rows, columns=list(MORRIS_COLUMNS))


def morris(evaluate: Evaluate, problem: Problem | Mapping[str, Sequence[float]], *,
           trajectories: int = 10, levels: int = 4, seed: int = 1, conf_level: float = 0.95,
           resamples: int = 1000, outputs: Sequence[str] | None = None) -> pd.DataFrame:
    """Morris screening: sample, evaluate all rows in one call, analyse (SALib).

    Args:
        evaluate: ``evaluate(X)`` -> outputs (n, k) or (n,); called once with every row.
        problem: A :class:`Problem` or ``{name: [low, high]}``.
        trajectories: Morris trajectories r; the design has ``r × (d + 1)`` rows.
        levels: Grid levels p (even); the step is ``p / (2 (p - 1))`` of each range.
        seed: Seeds the design; the bootstrap uses ``seed + 1``.
        conf_level: Confidence level of ``mu_star_conf``.
        resamples: Bootstrap resamples for ``mu_star_conf``.
        outputs: Output names (default: ``evaluate.outputs`` if set, else y or y0, y1, ...).

    Returns:
        The tidy table of :func:`morris_analyze`.
    """
    X = morris_sample(problem, trajectories=trajectories, levels=levels, seed=seed)
    Y = _as_outputs(evaluate(X), len(X))
    return morris_analyze(problem, X, Y, outputs=outputs or getattr(evaluate, "outputs", None),
                          levels=levels, conf_level=conf_level, resamples=resamples, seed=seed)


# -- Sobol ----------------------------------------------------------------------------------


def _check_samples(samples: int) -> None:
    if (isinstance(samples, bool) or not isinstance(samples, int) or samples < 2
            or samples & (samples - 1)):
        raise ValueError(f"samples must be a power of 2, at least 2 (got {samples!r})")


def sobol_sample(problem: Problem | Mapping[str, Sequence[float]], *, samples: int = 1024,
                 seed: int = 1, calc_second_order: bool = False) -> np.ndarray:
    """Saltelli's design on a scrambled Sobol' sequence (SALib, seeded with ``seed``):
    ``N × (d + 2)`` rows, ``N × (2d + 2)`` with second-order indices."""
    from SALib.sample import sobol as sobol_sampler

    problem = _problem(problem)
    _check_samples(samples)
    return sobol_sampler.sample(problem.salib(), samples, calc_second_order=calc_second_order,
                                seed=int(seed))


def sobol_analyze(problem: Problem | Mapping[str, Sequence[float]], Y: np.ndarray, *,
                  outputs: Sequence[str] | None = None, calc_second_order: bool = False,
                  conf_level: float = 0.95, resamples: int = 1000,
                  seed: int = 1) -> pd.DataFrame:
    """Sobol indices of each output column of ``Y`` (rows in the order of
    :func:`sobol_sample`).

    Returns:
        One row per (output, parameter) in problem order: ``S1``, ``S1_conf``,
        ``S1_low/high``, ``ST``, ``ST_conf``, ``ST_low/high``, the range ``low/high``, the
        base sample size ``samples`` (N) and ``conf_level``. An output with a missing (NaN)
        value, or the same value everywhere (no variance to apportion), gets NaN indices.
        With ``calc_second_order`` the second-order indices are in
        ``table.attrs["second_order"]`` (output, parameter, other, S2, S2_conf).
    """
    from SALib.analyze import sobol as sobol_analyzer

    problem = _problem(problem)
    Y = _as_outputs(Y, None)
    outputs = _output_names(outputs, Y.shape[1])
    n = len(Y) // ((2 if calc_second_order else 1) * problem.d + 2)
    keys = ("S1", "S1_conf", "ST", "ST_conf")
    rows, pairs = [], []
    for k, output in enumerate(outputs):
        y = Y[:, k]
        values: dict[str, np.ndarray] = {key: np.full(problem.d, np.nan) for key in keys}
        s2 = np.full((problem.d, problem.d), np.nan)
        s2_conf = np.full((problem.d, problem.d), np.nan)
        if np.isfinite(y).all() and not _constant(y):
            with warnings.catch_warnings():  # bootstraps of tiny N may hit constant resamples
                warnings.simplefilter("ignore", RuntimeWarning)
                si = sobol_analyzer.analyze(problem.salib(), y,
                                            calc_second_order=calc_second_order,
                                            num_resamples=resamples, conf_level=conf_level,
                                            seed=int(seed) + 1)
            values = {key: np.asarray(si[key], dtype=float) for key in keys}
            if calc_second_order:
                s2 = np.asarray(si["S2"], dtype=float)
                s2_conf = np.asarray(si["S2_conf"], dtype=float)
        for i, name in enumerate(problem.names):
            row = {"output": output, "parameter": name}
            for key in ("S1", "ST"):
                value, conf = values[key][i], values[f"{key}_conf"][i]
                row.update({key: value, f"{key}_conf": conf, f"{key}_low": value - conf,
                            f"{key}_high": value + conf})
            row.update({"low": problem.bounds[i][0], "high": problem.bounds[i][1],
                        "samples": n, "conf_level": conf_level})
            rows.append(row)
            for j in range(i + 1, problem.d) if calc_second_order else ():
                pairs.append({"output": output, "parameter": name,
                              "other": problem.names[j], "S2": s2[i, j],
                              "S2_conf": s2_conf[i, j]})
    table = pd.DataFrame(rows, columns=list(SOBOL_COLUMNS))
    if calc_second_order:
        table.attrs["second_order"] = pd.DataFrame(
            pairs, columns=["output", "parameter", "other", "S2", "S2_conf"])
    return table


def sobol(evaluate: Evaluate, problem: Problem | Mapping[str, Sequence[float]], *,
          samples: int = 1024, seed: int = 1, calc_second_order: bool = False,
          conf_level: float = 0.95, resamples: int = 1000,
          outputs: Sequence[str] | None = None) -> pd.DataFrame:
    """Sobol indices: sample, evaluate all rows in one call, analyse (SALib).

    Args:
        evaluate: ``evaluate(X)`` -> outputs (n, k) or (n,); called once with every row.
        problem: A :class:`Problem` or ``{name: [low, high]}``.
        samples: Base sample size N, a power of 2; the design has ``N × (d + 2)`` rows
            (``N × (2d + 2)`` with second order).
        seed: Seeds the design (scrambling of the Sobol' sequence); the bootstrap uses
            ``seed + 1``.
        calc_second_order: Also estimate pairwise interactions S2.
        conf_level: Confidence level of the ``*_conf`` half-widths.
        resamples: Bootstrap resamples.
        outputs: Output names (default: ``evaluate.outputs`` if set, else y or y0, y1, ...).

    Returns:
        The tidy table of :func:`sobol_analyze`.
    """
    X = sobol_sample(problem, samples=samples, seed=seed, calc_second_order=calc_second_order)
    Y = _as_outputs(evaluate(X), len(X))
    return sobol_analyze(problem, Y, outputs=outputs or getattr(evaluate, "outputs", None),
                         calc_second_order=calc_second_order, conf_level=conf_level,
                         resamples=resamples, seed=seed)


def _as_outputs(Y: Any, n: int | None) -> np.ndarray:
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or (n is not None and len(Y) != n):
        raise ValueError(f"evaluate must return one row of outputs per design row ({n}); got "
                         f"shape {Y.shape}")
    return Y


def _constant(y: np.ndarray) -> bool:
    """Whether values are all equal up to rounding (no variance to apportion)."""
    y = y[np.isfinite(y)]
    return y.size == 0 or float(np.ptp(y)) <= 1e-12 * max(1.0, float(np.abs(y).max()))


def _output_names(outputs: Sequence[str] | None, k: int) -> list[str]:
    if outputs is None:
        return ["y"] if k == 1 else [f"y{j}" for j in range(k)]
    outputs = list(outputs)
    if len(outputs) != k:
        raise ValueError(f"{len(outputs)} output names for {k} output columns")
    return outputs


# -- the model as evaluate(X) ---------------------------------------------------------------


def run_outputs(outcomes: pd.DataFrame, outputs: Sequence[str], *,
                last_years: int = 5) -> pd.DataFrame:
    """The statistic of each output per run: the mean citywide value over the last
    ``last_years`` simulated years (the start year, the initial state, never counts; missing
    values, such as a flow's, are skipped).

    Returns:
        Index ``run_id``, one column per output (NaN where a run has no value).
    """
    city, first, last = city_rows(outcomes, outputs)
    city = city[(city["year"] > first) & (city["year"] > last - last_years)]
    stat = city.groupby(["run_id", "metric"])["value"].mean().unstack("metric")
    return stat.reindex(columns=list(outputs))


def prepare_base(base: Scenario, *, years: int | None = None, households: int | None = None,
                 source: str = "parameters") -> Scenario:
    """The base of sensitivity runs: horizon and city size set, cell snapshots and
    per-quartier metrics off.

    Raises:
        InputError: naming ``source`` and ``years`` or ``households``.
    """
    values: dict[str, Any] = dict(_FORCED)
    if households is not None:
        try:
            base.with_values({"city.households": households})
        except InputError as exc:
            raise InputError(source, "households", f"{exc.message} (got {households!r})"
                             ) from None
        values["city.households"] = households
    base = base.with_values(values)
    try:
        return with_horizon(base, years)
    except InputError as exc:
        raise InputError(source, "years", f"{exc.message} (got {years!r})") from None


def check_outputs(outputs: Sequence[str], source: str = "parameters") -> tuple[str, ...]:
    """The outputs, checked against the model's metrics (``quartier metrics``).

    Raises:
        InputError: naming ``source`` and ``outputs``.
    """
    from sim.state.outcomes import METRICS

    if isinstance(outputs, str) or not outputs:
        raise InputError(source, "outputs", "give a list of at least one metric name")
    for name in outputs:
        if name not in METRICS:
            raise InputError(source, "outputs", f"unknown metric {name!r} (see quartier "
                             "metrics)")
    if len(set(outputs)) != len(outputs):
        raise InputError(source, "outputs", "a metric is listed twice")
    return tuple(outputs)


class ModelEvaluator:
    """``evaluate(X)`` for SALib designs: every row a design point of the base scenario.

    A call turns the rows into design points (dotted path -> value; integer fields rounded),
    runs each distinct point ``replications`` times (seeds ``seed + r``) through
    :func:`sim.experiments.sweeps.run_points` into the experiment folder ``out`` (stored runs are
    skipped, so an interrupted analysis resumes), and returns per row the mean over replications of
    :func:`run_outputs`. Rows keep their order; equal rows share their runs. The analysis uses the
    sampled values (a Morris step of an integer field narrower than 1 may round to no change: give
    integer fields ranges of several units). A point is named ``<base>-sa-<hash>`` by a hash of the
    base's content and its values, so the same
    point of another analysis with the same base reuses its runs.

    Args:
        base: The scenario the design points modify (``years`` and ``households`` override
            its horizon and size; cell snapshots and per-quartier outcomes are turned off).
        problem: The varied dotted paths and ranges (:func:`scenario_problem`).
        outputs: Metric names (``quartier metrics``); their citywide values are analysed.
        out: The experiment folder (runs in ``out/runs``).
        last_years: Simulated years at the end of a run averaged into an output.
        executor, workers, progress, force, command: As for
            :func:`sim.experiments.sweeps.run_points`.
        source: Named in error messages (the spec file).
        scales: ``scale.<name>`` -> the fields the factor multiplies (their base values).
        levers: Lever scenarios whose effects (lever - base, same seeds) are outputs
            after the metrics (:mod:`calibration.lever_effects`).

    Raises:
        InputError: bad outputs, years, households, replications (nothing runs).

    Attributes:
        outputs: The output names (columns of the returned array): the metrics, then
            every lever's effect outputs.
        points: After a call, one row per distinct design point: ``scenario`` (its name),
            the parameter values, and per output its mean, ``<output>_sd`` over replications
            and the number of runs ``runs``.
        runs, simulated: Runs of the last call, and how many of them were simulated (the
            rest were stored already).
    """

    def __init__(self, base: Scenario, problem: Problem, outputs: Sequence[str], *,
                 out: str | Path, replications: int = 1, seed: int = 1,
                 years: int | None = None, households: int | None = None,
                 last_years: int = 5, executor=None, workers: int = 1,
                 progress: Progress | None = None, force: bool = False,
                 command: str = "calibration.sensitivity (Python)",
                 source: str = "parameters",
                 scales: Mapping[str, Sequence[str]] | None = None,
                 levers: Sequence[Lever] = ()) -> None:
        if isinstance(replications, bool) or not isinstance(replications, int) or (
                replications < 1):
            raise InputError(source, "replications", f"must be a positive integer (got "
                             f"{replications!r})")
        if isinstance(last_years, bool) or not isinstance(last_years, int) or last_years < 1:
            raise InputError(source, "last_years", f"must be a positive integer (got "
                             f"{last_years!r})")
        self.metrics = check_outputs(outputs, source)
        self.base = prepare_base(base, years=years, households=households, source=source)
        self.problem = problem
        self.scales = {k: tuple(v) for k, v in (scales or {}).items()}
        self.levers = tuple(levers)
        self.outputs = self.metrics + tuple(o for lever in self.levers for o in lever.outputs)
        self.out = Path(out)
        self.replications = replications
        self.seed = int(seed)
        self.last_years = last_years
        self.executor = executor
        self.workers = workers
        self.progress = progress
        self.force = force
        self.command = command
        self.source = source
        self._identity = scenario_identity(self.base)
        self.points: pd.DataFrame | None = None
        self.runs = 0
        self.simulated = 0

    def factors(self, row: Sequence[float]) -> dict[str, Any]:
        """A design row's factor values (parameter or ``scale.<name>`` -> value)."""
        return point_values(self.problem.names, self.problem.integer, row)

    def values(self, row: Sequence[float]) -> dict[str, Any]:
        """A design row as a design point (dotted path -> value; a scale sets each of its
        fields to the factor × the base's value)."""
        values: dict[str, Any] = {}
        for name, value in self.factors(row).items():
            if name in self.scales:
                values.update(scaled_values(self.base, self.scales[name], value))
            else:
                values[name] = value
        return values

    def point_name(self, values: dict[str, Any]) -> str:
        """``<base>-sa-<hash>`` of the base's content and the point's values."""
        return content_point_name(self.base, values, "sa", self._identity)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.problem.d:
            raise ValueError(f"design rows need {self.problem.d} columns (got {X.shape})")
        unique: dict[str, dict[str, Any]] = {}
        factors: dict[str, dict[str, Any]] = {}
        row_names = []
        for row in X:
            values = self.values(row)
            name = self.point_name(values)
            unique.setdefault(name, values)
            factors.setdefault(name, self.factors(row))
            row_names.append(name)
        # the lever scenarios at the same points, with the same seeds
        sets = [(self.base, list(unique.values()), list(unique))]
        pairs: list[dict[str, str]] = []
        for lever in self.levers:
            identity = scenario_identity(lever.scenario)
            points = {name: lever.point(values) for name, values in unique.items()}
            names = {name: content_point_name(lever.scenario, v, "sa", identity)
                     for name, v in points.items()}
            sets.append((lever.scenario, list(points.values()), list(names.values())))
            pairs.append({lever_name: name for name, lever_name in names.items()})
        first: list[int] = []

        def tick(done: int, total: int) -> None:
            if not first:
                first.append(done)
            if self.progress is not None:
                self.progress(done, total)

        experiments, outcomes = run_point_sets(
            sets, out=self.out, replications=self.replications, seed=self.seed,
            executor=self.executor, workers=self.workers, force=self.force, progress=tick,
            command=self.command, source=self.source, design="sensitivity")
        self.runs = len(experiments)
        self.simulated = self.runs - (first[0] if first else self.runs)
        metrics = list(self.metrics)
        stats = run_outputs(outcomes, metrics, last_years=self.last_years)
        stats = stats.join(experiments.set_index("run_id")["scenario"], how="right")
        stats = stats[stats["scenario"].isin(set(unique))]
        grouped = stats.groupby("scenario")[metrics]
        means, sds = grouped.mean(), grouped.std(ddof=1)
        counts = grouped.size()
        for lever, pair in zip(self.levers, pairs, strict=True):
            lever_stats = effect_statistics(outcomes, lever.metrics)
            m, sd = paired_effects(lever_stats, experiments, pair, lever.metrics)
            m.columns = sd.columns = list(lever.outputs)
            means, sds = means.join(m, how="outer"), sds.join(sd, how="outer")
        means = means.reindex(columns=list(self.outputs))
        sds = sds.reindex(columns=list(self.outputs))
        table = pd.DataFrame({"scenario": list(unique)})
        for name in self.problem.names:
            table[name] = [factors[point][name] for point in unique]
        for output in self.outputs:
            table[output] = means[output].reindex(table["scenario"]).to_numpy(float)
            table[f"{output}_sd"] = sds[output].reindex(table["scenario"]).to_numpy(float)
        table["runs"] = counts.reindex(table["scenario"]).fillna(0).astype(int).to_numpy()
        self.points = table
        return means.reindex(row_names).to_numpy(float)


def noise_share(points: pd.DataFrame, outputs: Sequence[str], replications: int
                ) -> dict[str, float]:
    """Per output, the share of the variance of Y over design points that is noise: the mean
    variance of a point's replicate mean (sd² / replications) over the variance of the point
    means. NaN with one replication. Sobol indices of a noisy output sum to less than 1 by
    about this share."""
    shares = {}
    for output in outputs:
        means = points[output].to_numpy(float)
        total = float(np.var(means, ddof=1)) if len(means) > 1 and not _constant(means) else 0.0
        within = math.nan
        if replications > 1 and len(means):
            with warnings.catch_warnings():  # all-NaN sd: no replicate spread to report
                warnings.simplefilter("ignore", RuntimeWarning)
                within = float(np.nanmean(points[f"{output}_sd"].to_numpy(float) ** 2))
            within /= replications
        shares[output] = within / total if total > 0 and math.isfinite(within) else math.nan
    return shares


# -- spec files -----------------------------------------------------------------------------


class SensitivityFile(BaseModel):
    """The contents of a sensitivity spec file (TOML)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: str = Field(..., min_length=1, description="Base scenario file, relative to this file.")
    method: Literal["morris", "sobol", "both"] = "both"
    samples: int = Field(256, ge=2, le=1_048_576,
                         description="Sobol base sample size N (a power of 2).")
    trajectories: int = Field(20, ge=2, le=100_000, description="Morris trajectories.")
    levels: int = Field(4, ge=2, le=100, description="Morris grid levels (even).")
    replications: int = Field(2, ge=1, le=10_000)
    years: int | None = Field(None, ge=1, le=300,
                              description="Years to simulate (default: the base scenario's).")
    households: int | None = Field(None, gt=0, le=20_000_000,
                                   description="Households (default: the base scenario's).")
    last_years: int = Field(5, ge=1, le=300,
                            description="Simulated years at the end averaged into an output.")
    seed: int = Field(1, ge=0, le=2**31 - 2,
                      description="Seeds the designs and the runs (replicate r: seed + r).")
    outputs: list[str] = Field(list(DEFAULT_OUTPUTS), min_length=1,
                               description="Metric names analysed (citywide).")
    conf_level: float = Field(0.95, gt=0.0, lt=1.0)
    resamples: int = Field(1000, ge=10, le=100_000,
                           description="Bootstrap resamples of the confidence intervals.")
    parameters: dict[str, Any] = Field(..., description="Dotted path -> [low, high].")
    scales: dict[str, ScaleFile] = Field(
        default_factory=dict, description="Factors multiplying several fields at once.")
    effects: list[EffectFile] = Field(
        default_factory=list, description="Lever scenarios whose effects (lever - base) are "
        "outputs.")


def load_spec(path: str | Path) -> SensitivityFile:
    """Read and validate a spec file (its parameters are checked by
    :func:`scenario_problem`).

    Raises:
        InputError: naming the file and the field.
    """
    source = _display(Path(path))
    spec = load_toml_model(path, SensitivityFile)
    if spec.levels % 2:
        raise InputError(source, "levels", f"must be even, e.g. 4 or 6 (got {spec.levels})")
    return spec


@dataclass
class SensitivityResult:
    """What :func:`run_spec` computed and wrote.

    Attributes:
        morris: The Morris table (:func:`morris_analyze`), if Morris ran.
        sobol: The Sobol table (:func:`sobol_analyze`), if Sobol ran.
        samples: Every design row: ``method``, ``row``, ``scenario`` (its design point), the
            parameter values as sampled, and the outputs Y.
        settings: The analysis as run (spec, design sizes, runs, noise shares, seconds);
            written as ``sensitivity.json``.
        paths: The files written, by kind.
    """

    morris: pd.DataFrame | None
    sobol: pd.DataFrame | None
    samples: pd.DataFrame
    settings: dict[str, Any]
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The index tables by method."""
        return {k: v for k, v in (("morris", self.morris), ("sobol", self.sobol))
                if v is not None}


def run_spec(path: str | Path, *, out: str | Path, method: str | None = None,
             samples: int | None = None, trajectories: int | None = None,
             replications: int | None = None, executor=None,
             workers: int = 1, progress: Progress | None = None, force: bool = False,
             command: str = "", confirmed: bool = True, announce=None) -> SensitivityResult:
    """Run the analysis a spec file describes; write its tables next to the runs.

    Everything is validated before the first run. The Morris and Sobol designs run as one
    batch of runs (into ``out/runs``, resumable); then ``out`` gets
    ``sensitivity_morris.parquet`` and/or ``sensitivity_sobol.parquet`` (the index tables),
    ``sensitivity_samples.parquet`` (design rows and outputs) and ``sensitivity.json`` (the
    settings), each written atomically.

    Args:
        path: The spec file (TOML; see the module docstring).
        out: The experiment folder.
        method: ``"morris"``, ``"sobol"`` or ``"both"`` (default: the spec's).
        samples: Sobol N, a power of 2 (default: the spec's).
        trajectories: Morris trajectories (default: the spec's).
        replications: Runs per design point (default: the spec's).
        executor: Any ``concurrent.futures.Executor``.
        workers: Local worker processes when no executor is given.
        progress: ``progress(done, total)`` over runs.
        force: Replace stored runs of design points whose content changed.
        command: Recorded as provenance.
        confirmed: Whether more than :data:`sim.experiments.bounds.CONFIRM_RUNS` runs may
            start (``--yes``); more than ``MAX_RUNS`` never do.
        announce: Called at once with the design's size and estimated time.

    Raises:
        InputError: a bad spec file or argument, naming the file (or option) and field.
        RunsFailed: if runs raised (the others are stored; re-run to retry).
    """
    from sim.experiments.files import write_json_atomic, write_parquet_atomic

    t0 = time.perf_counter()
    path = Path(path)
    source = _display(path)
    spec = load_spec(path)
    if method is not None and method not in METHODS:
        raise InputError("--method", None, f"use morris, sobol or both (got {method!r})")
    method = method or spec.method
    if samples is not None:
        try:
            _check_samples(samples)
        except ValueError:
            raise InputError("--samples", None, f"Sobol needs a power of 2, e.g. 64, 128, 256 "
                             f"(got {samples})") from None
    samples = samples or spec.samples
    try:
        _check_samples(samples)
    except ValueError:
        raise InputError(source, "samples", f"Sobol needs a power of 2, e.g. 64, 128, 256 "
                         f"(got {samples})") from None
    if trajectories is not None and (isinstance(trajectories, bool) or trajectories < 2):
        raise InputError("--trajectories", None, f"at least 2 (got {trajectories})")
    trajectories = trajectories or spec.trajectories
    if replications is not None and (isinstance(replications, bool) or replications < 1):
        raise InputError("--replications", None, f"at least 1 (got {replications})")
    replications = replications or spec.replications
    base_path = Path(spec.base)
    if not base_path.is_absolute():
        base_path = path.parent / base_path
    if not base_path.is_file():
        raise InputError(source, "base", f"file not found: {spec.base}")
    base = prepare_base(load_scenario(base_path), years=spec.years,
                        households=spec.households, source=source)
    if "last_years" in spec.model_fields_set and spec.last_years > base.years:
        raise InputError(source, "last_years", f"{spec.last_years} is more than the "
                         f"{base.years} simulated years (years)")
    problem, scales = spec_problem(spec, base, source=source)
    varied = [*spec_paths(problem.names), *(f for fields, _ in scales.values() for f in fields)]
    levers = load_levers(spec.effects, path, base, varied, source=source,
                         prepare=lambda sc: prepare_base(sc, years=spec.years,
                                                         households=spec.households,
                                                         source=source))
    evaluate = ModelEvaluator(
        base, problem, spec.outputs, out=out, replications=replications, seed=spec.seed,
        last_years=spec.last_years, executor=executor, workers=workers, progress=progress,
        force=force, command=command or f"quartier sensitivity {path}", source=source,
        scales={k: fields for k, (fields, _) in scales.items()}, levers=levers)

    rows = ((trajectories * (problem.d + 1) if method in ("morris", "both") else 0)
            + (samples * (problem.d + 2) if method in ("sobol", "both") else 0))
    summary = check_design_size(rows * replications * (1 + len(levers)), base, workers=workers,
                                confirmed=confirmed, source=source)
    if announce is not None:
        announce(f"{summary}; preparing the runs")

    designs: dict[str, np.ndarray] = {}
    if method in ("morris", "both"):
        designs["morris"] = morris_sample(problem, trajectories=trajectories,
                                          levels=spec.levels, seed=spec.seed)
    if method in ("sobol", "both"):
        designs["sobol"] = sobol_sample(problem, samples=samples, seed=spec.seed)
    X = np.vstack(list(designs.values()))
    Y = evaluate(X)  # one batch of runs for every design

    tables: dict[str, pd.DataFrame] = {}
    frames, start = [], 0
    for name, design in designs.items():
        y = Y[start:start + len(design)]
        start += len(design)
        if name == "morris":
            tables[name] = morris_analyze(problem, design, y, outputs=evaluate.outputs,
                                          levels=spec.levels, conf_level=spec.conf_level,
                                          resamples=spec.resamples, seed=spec.seed)
        else:
            tables[name] = sobol_analyze(problem, y, outputs=evaluate.outputs,
                                         conf_level=spec.conf_level, resamples=spec.resamples,
                                         seed=spec.seed)
        frame = pd.DataFrame(design, columns=list(problem.names))
        frame.insert(0, "scenario", [evaluate.point_name(evaluate.values(r)) for r in design])
        frame.insert(0, "row", np.arange(len(design)))
        frame.insert(0, "method", name)
        for k, output in enumerate(evaluate.outputs):
            frame[output] = y[:, k]
        frames.append(frame)
    samples_table = pd.concat(frames, ignore_index=True)

    assert evaluate.points is not None
    b = evaluate.base
    defaults = {n: 1.0 if n in scales else _get(b, n) for n in problem.names}
    settings = {
        "spec": source, "base": b.name, "base_file": str(base_path), "method": method,
        "methods": list(designs), "samples": samples if "sobol" in designs else None,
        "trajectories": trajectories if "morris" in designs else None,
        "levels": spec.levels, "replications": replications, "years": b.years,
        "start_year": b.start_year, "households": b.city.households,
        "last_years": spec.last_years, "seed": spec.seed, "outputs": list(evaluate.outputs),
        "scales": {k: {"fields": list(fields), "low": lo, "high": hi}
                   for k, (fields, (lo, hi)) in scales.items()},
        "effects": [{"scenario": lv.name, "label": lv.label, "file": lv.file,
                     "metrics": list(lv.metrics), "outputs": list(lv.outputs),
                     "own": sorted(lv.own)} for lv in levers],
        "conf_level": spec.conf_level, "resamples": spec.resamples,
        "parameters": {n: {"low": lo, "high": hi, "default": defaults[n],
                           "integer": integer}
                       for n, (lo, hi), integer in zip(problem.names, problem.bounds,
                                                       problem.integer, strict=True)},
        "design_rows": {k: len(v) for k, v in designs.items()},
        "design_points": len(evaluate.points), "runs": evaluate.runs,
        "simulated": evaluate.simulated,
        "noise_share": noise_share(evaluate.points, evaluate.outputs, replications),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    out = Path(out)
    paths: dict[str, Path] = {}
    for name, table in tables.items():
        paths[name] = write_parquet_atomic(table, out / (MORRIS_FILE if name == "morris"
                                                         else SOBOL_FILE))
    paths["samples"] = write_parquet_atomic(samples_table, out / SAMPLES_FILE)
    write_json_atomic(_json_safe(settings), out / SETTINGS_FILE)
    paths["settings"] = out / SETTINGS_FILE
    return SensitivityResult(morris=tables.get("morris"), sobol=tables.get("sobol"),
                             samples=samples_table, settings=settings, paths=paths)


def spec_problem(spec: SensitivityFile, base: Scenario, *, source: str = "parameters"
                 ) -> tuple[Problem, dict[str, tuple[tuple[str, ...], tuple[float, float]]]]:
    """The design's factors of a spec: its ``[parameters]`` (:func:`scenario_problem`), then
    one factor ``scale.<name>`` per ``[scales]`` table; and the scales' fields and ranges.

    Raises:
        InputError: naming ``source`` and the field.
    """
    problem = scenario_problem(spec.parameters, base, source=source)
    scales = scale_fields(spec.scales, base, problem.names, source=source)
    if scales:
        problem = Problem(names=problem.names + tuple(scales),
                          bounds=problem.bounds + tuple(b for _, b in scales.values()),
                          integer=problem.integer + (False,) * len(scales))
    return problem, scales


def load_sensitivity(out: str | Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The index tables (by method) and settings of the last analysis written to ``out``."""
    out = Path(out)
    settings = json.loads((out / SETTINGS_FILE).read_text(encoding="utf-8"))
    tables = {m: pd.read_parquet(out / (MORRIS_FILE if m == "morris" else SOBOL_FILE))
              for m in settings.get("methods", [])}
    return tables, settings


def spec_paths(names: Sequence[str]) -> list[str]:
    """The dotted scenario paths among the problem's names (not the scales)."""
    return [n for n in names if not n.startswith("scale.")]


def _get(scenario: Scenario, dotted: str) -> Any:
    node: Any = scenario
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


def _display(path: Path) -> str:
    return display_path(path)
