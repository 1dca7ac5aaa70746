"""Research sweeps: many runs over parameter ranges, without writing a runner.

A sweep takes a base scenario and a table of parameters addressed by dotted paths (any scenario
field, e.g. ``parameters.migration.in_migration_rate`` or ``city.households``) and expands them
into design points:

- ``grid``: every combination of the listed values (cartesian product).
- ``lhs``: ``samples`` points of a Latin hypercube over ranges ``[low, high]``.
- ``sobol``: ``samples`` points (a power of 2) of a scrambled Sobol' sequence over ranges.

The samplers are scipy's (``scipy.stats.qmc``), seeded from the sweep's seed; values of integer
fields are rounded. Each design point becomes a scenario named ``<base>-<index>`` (index
0-based, at least three digits) and runs ``replications`` times; replicate r of every point uses
seed ``seed + r`` (common random numbers across points). Runs stream into a resumable
experiment folder (:mod:`sim.experiments.store`).

A sweep file (TOML) says the same::

    base = "scenarios/baseline.toml"   # relative to the sweep file
    design = "lhs"                     # grid | lhs | sobol
    samples = 8                        # lhs and sobol only
    replications = 2
    years = 10
    seed = 1

    [parameters]
    "parameters.migration.in_migration_rate" = [0.04, 0.07]   # lhs/sobol: [low, high]
    "city.households" = [2000, 4000]                          # grid: the values to run
"""

from __future__ import annotations

import itertools
import math
import types
import typing
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sim.errors import InputError, display_path, load_toml_model
from sim.experiments.bounds import check_design_size
from sim.experiments.runner import Progress, Runner, make_specs, scenario_identity, with_horizon
from sim.experiments.store import load_store
from sim.inputs.levers import load_scenario
from sim.inputs.memory import memory_problem
from sim.scenario import Scenario

DESIGNS = ("grid", "lhs", "sobol")
_NOT_SWEPT = {"name": "a design point's name is set by the sweep"}


class SweepFile(BaseModel):
    """The contents of a sweep file (TOML)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: str = Field(..., min_length=1, description="Base scenario file, relative to this file.")
    design: Literal["grid", "lhs", "sobol"] = "grid"
    samples: int | None = Field(None, ge=1, le=1_000_000,
                                description="Design points (lhs and sobol only).")
    replications: int = Field(1, ge=1, le=10_000)
    years: int | None = Field(None, ge=1, le=300,
                              description="Years to simulate (default: the base scenario's).")
    seed: int = Field(1, ge=0, description="Base seed; replicate r uses seed + r.")
    parameters: dict[str, Any] = Field(..., description="Dotted path -> values or [low, high].")


def load_sweep_file(path: str | Path) -> SweepFile:
    """Read and validate a sweep file (its design is checked by :func:`design_points`).

    Raises:
        InputError: naming the file and the field.
    """
    return load_toml_model(path, SweepFile)


# -- designs --------------------------------------------------------------------------------


def field_annotation(dotted: str, source: str = "parameters") -> Any:
    """The type annotation of a scenario field given by dotted path.

    Raises:
        InputError: if the path names no (settable) scenario field.
    """
    model: type[BaseModel] = Scenario
    parts = dotted.split(".")
    annotation: Any = None
    for i, part in enumerate(parts):
        info = model.model_fields.get(part)
        if info is None or info.exclude:
            raise InputError(source, _key(dotted), "no such scenario field")
        annotation = info.annotation
        if i < len(parts) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                raise InputError(source, _key(dotted), "no such scenario field")
            model = annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        raise InputError(source, _key(dotted), "names a table, not a value; give a field in it")
    return annotation


def flatten_parameters(parameters: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables to dotted paths: TOML's unquoted dotted keys
    (``parameters.migration.in_migration_rate = [...]``) mean the same as quoted ones."""
    flat: dict[str, Any] = {}
    for key, value in parameters.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten_parameters(value, path + "."))
        else:
            flat[path] = value
    return flat


def numeric_kind(annotation: Any) -> str | None:
    """'int', 'float' or None for a field annotation (Optional unwrapped)."""
    args = (typing.get_args(annotation)
            if isinstance(annotation, types.UnionType) or typing.get_origin(annotation)
            is typing.Union else (annotation,))
    kinds = {a for a in args if a is not type(None)}
    if float in kinds:
        return "float"
    if int in kinds:
        return "int"
    return None


def design_points(base: Scenario, parameters: dict[str, Any], *, design: str = "grid",
                  samples: int | None = None, seed: int = 1,
                  source: str = "parameters") -> list[dict[str, Any]]:
    """Expand a parameter table into design points (dicts dotted path -> value).

    Every point is validated against the scenario schema.

    Raises:
        InputError: unknown design or dotted path, empty list or range, ``low >= high``,
            a range for a non-numeric field, missing or misplaced ``samples``, invalid values.
    """
    if design not in DESIGNS:
        raise InputError(source, "design", f"unknown design {design!r}; use grid, lhs or sobol")
    if not isinstance(parameters, dict) or not parameters:
        raise InputError(source, "parameters", "give at least one dotted path to vary")
    parameters = flatten_parameters(parameters)
    kinds = {}
    for dotted, spec in parameters.items():
        if dotted in _NOT_SWEPT:
            raise InputError(source, _key(dotted), _NOT_SWEPT[dotted])
        annotation = field_annotation(dotted, source)
        if not isinstance(spec, list | tuple):
            raise InputError(source, _key(dotted), "give a list of values"
                             if design == "grid" else "give a range [low, high]")
        if len(spec) == 0:
            raise InputError(source, _key(dotted), "empty list of values" if design == "grid"
                             else "empty range; give [low, high]")
        kinds[dotted] = numeric_kind(annotation)
    if design == "grid":
        if samples is not None:
            raise InputError(source, "samples", "only for lhs and sobol (a grid runs every "
                             "combination of the listed values)")
        names = list(parameters)
        points = [dict(zip(names, combo, strict=True))
                  for combo in itertools.product(*(parameters[n] for n in names))]
    else:
        points = _sampled(parameters, kinds, design, samples, seed, source)
    for point in points:
        validate_point(base, point, source)
    return points


def design_size(parameters: Any, design: str, samples: Any) -> int:
    """Design points a parameter table gives, counted before anything is expanded (a value
    that is not a list counts once; :func:`design_points` refuses it later)."""
    if design != "grid":
        return samples if isinstance(samples, int) and samples > 0 else 1
    if not isinstance(parameters, dict):
        return 1
    return math.prod(max(1, len(v)) if isinstance(v, list | tuple) else 1
                     for v in flatten_parameters(parameters).values())


def _typical_point(base: Scenario, parameters: Any) -> Scenario:
    """The base with swept sizes (households, years, Schelling grid) at the mean of their
    values or range, for the estimated time of a design; the base if that is no scenario."""
    sizes = ("city.households", "years", "schelling.width", "schelling.height")
    flat = flatten_parameters(parameters) if isinstance(parameters, dict) else {}
    typical = {}
    for path in sizes:
        values = flat.get(path)
        if isinstance(values, list | tuple) and values and all(_is_number(v) for v in values):
            typical[path] = int(round(sum(values) / len(values)))
    try:
        return base.with_values(typical) if typical else base
    except InputError:
        return base


def _sampled(parameters: dict[str, Any], kinds: dict[str, str | None], design: str,
             samples: int | None, seed: int, source: str) -> list[dict[str, Any]]:
    from scipy.stats import qmc

    if samples is None:
        raise InputError(source, "samples", f"design '{design}' needs samples (design points)")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise InputError(source, "samples", f"must be a positive integer (got {samples!r})")
    if design == "sobol" and samples & (samples - 1):
        raise InputError(source, "samples", f"sobol needs a power of 2 (e.g. 8, 16, 32; got "
                         f"{samples})")
    lows, highs = [], []
    for dotted, spec in parameters.items():
        if kinds[dotted] is None:
            raise InputError(source, _key(dotted), f"design '{design}' needs a numeric field; "
                             "use design = 'grid' to list values")
        low, high = parse_range(spec, source, _key(dotted), need=f"design '{design}' needs")
        lows.append(low)
        highs.append(high)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), DESIGNS.index(design)]))
    d = len(parameters)
    if design == "lhs":
        unit = qmc.LatinHypercube(d, rng=rng).random(samples)
    else:
        unit = qmc.Sobol(d, scramble=True, rng=rng).random_base2(int(math.log2(samples)))
    values = qmc.scale(unit, lows, highs)
    names = list(kinds)
    integer = [kinds[n] == "int" for n in names]
    return [point_values(names, integer, row) for row in values]


def validate_point(base: Scenario, point: dict[str, Any], source: str) -> Scenario:
    """The scenario of a design point, checked by the schema and for the memory a run needs
    (a design point too large for this machine is refused before anything runs)."""
    try:
        scenario = base.with_values(point)
    except InputError as exc:
        if exc.field in point:
            raise InputError(source, _key(exc.field),
                             f"{exc.message} (got {point[exc.field]!r})") from None
        raise InputError(source, exc.field, exc.message) from None
    problem = memory_problem(scenario)
    if problem is not None:
        field, message = problem
        raise InputError(source, _key(field) if field in point else field, message)
    return scenario


def parse_range(spec: Any, source: str, key: str, *, need: str = "give") -> tuple[float, float]:
    """``[low, high]``: two finite numbers with low < high (sweeps, calibration, sensitivity).

    Raises:
        InputError: naming ``source`` and ``key``.
    """
    if not isinstance(spec, list | tuple) or len(spec) != 2 or not all(
            _is_number(v) for v in spec):
        shown = list(spec) if isinstance(spec, list | tuple) else spec
        raise InputError(source, key, f"{need} a range [low, high] of two numbers "
                         f"(got {shown!r})")
    low, high = float(spec[0]), float(spec[1])
    if not low < high:
        raise InputError(source, key, f"low must be below high (got [{spec[0]}, {spec[1]}])")
    return low, high


def point_values(names: list[str], integer: list[bool] | np.ndarray, row) -> dict[str, Any]:
    """A design row as a design point (dotted path -> value); integer fields are rounded."""
    return {name: int(round(float(v))) if is_int else float(v)
            for name, is_int, v in zip(names, integer, row, strict=True)}


def content_point_name(base: Scenario, values: dict[str, Any], tag: str,
                       identity: str | None = None) -> str:
    """``<base>-<tag>-<12 hex digits>``: a design point named by the base's content and its
    values, so equal points share stored runs and a changed base never collides with runs
    stored earlier (calibration and sensitivity; ``identity`` saves recomputing the base's)."""
    import hashlib
    import json

    identity = identity or scenario_identity(base)
    blob = json.dumps({"base": identity, "values": values}, sort_keys=True)
    return f"{base.name}-{tag}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
        value)


def _key(dotted: str) -> str:
    """A dotted path as a key of the sweep's [parameters] table."""
    return f'parameters."{dotted}"'


def point_name(base_name: str, index: int, n_points: int) -> str:
    """The scenario name of design point ``index``: ``<base>-<index>`` (zero-padded)."""
    width = max(3, len(str(n_points - 1)))
    return f"{base_name}-{index:0{width}d}"


# -- running --------------------------------------------------------------------------------


def sweep(base_scenario: Scenario | str | Path, parameters: dict[str, Any], *,
          out: str | Path, design: str = "grid", samples: int | None = None,
          replications: int = 1, years: int | None = None, seed: int = 1, executor=None,
          workers: int = 1, force: bool = False, independent_seeds: bool = False,
          progress: Progress | None = None, command: str = "sim.sweep (Python)",
          source: str = "parameters", confirmed: bool = True,
          announce=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run a sweep and return its ``(experiments, outcomes)`` tables.

    Runs already in ``out`` are skipped (resume); results stream to disk as runs finish and
    are read back at the end.

    Args:
        base_scenario: The scenario (or its file) that design points modify.
        parameters: Dotted path -> list of values (grid) or ``[low, high]`` (lhs, sobol).
        out: The experiment folder.
        design: ``"grid"``, ``"lhs"`` or ``"sobol"``.
        samples: Design points for lhs and sobol (sobol: a power of 2).
        replications: Runs per design point; replicate r uses seed ``seed + r``.
        years: Years to simulate (default: the base scenario's; a swept ``years`` wins).
        seed: Base seed of the replicates and of the sampler.
        executor: Any ``concurrent.futures.Executor``, e.g. ``Client(address).get_executor()``.
        workers: Local worker processes when no executor is given (1: in this process).
        force: Replace stored runs of design points whose content changed.
        independent_seeds: Own seed per run instead of common random numbers.
        progress: ``progress(done, total)`` callback.
        command: Recorded as provenance.
        source: Named in error messages (the sweep file when run from one).
        confirmed: Whether more than :data:`sim.experiments.bounds.CONFIRM_RUNS` runs may
            start (``quartier sweep --yes``); more than ``MAX_RUNS`` never do.
        announce: Called at once with the design's size and estimated time (a line of text).

    Returns:
        ``experiments``: one row per run (``run_id, scenario, seed, replicate, design_point,
        years, ...``) plus one column per swept dotted path; ``outcomes``: ``run_id, year,
        scope, metric, value``.

    Raises:
        InputError: bad design, path, range or value (nothing runs).
        RunsFailed: if runs raised (the others are stored).
    """
    base = (base_scenario if isinstance(base_scenario, Scenario)
            else load_scenario(base_scenario))
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise InputError(source, "replications", f"must be a positive integer (got "
                         f"{replications!r})")
    try:
        base = with_horizon(base, years)
    except InputError as exc:
        raise InputError(source, "years", exc.message) from None
    runs = design_size(parameters, design, samples) * replications
    summary = check_design_size(runs, _typical_point(base, parameters), workers=workers,
                                confirmed=confirmed, source=source)
    if announce is not None:
        announce(f"{summary}; preparing the runs")
    points = design_points(base, parameters, design=design, samples=samples, seed=seed,
                           source=source)
    names = [point_name(base.name, i, len(points)) for i in range(len(points))]
    return run_points(base, points, names=names, out=out, replications=replications,
                      seed=seed, executor=executor, workers=workers, force=force,
                      independent_seeds=independent_seeds, progress=progress,
                      command=command, source=source, design=design)


def run_points(base: Scenario, points: list[dict[str, Any]], *, names: list[str],
               out: str | Path, replications: int = 1, seed: int = 1, executor=None,
               workers: int = 1, force: bool = False, independent_seeds: bool = False,
               progress: Progress | None = None, command: str = "sim.run_points (Python)",
               source: str = "parameters", design: str = "points"
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run given design points (dotted path -> value) of a base scenario, each
    ``replications`` times with seeds ``seed + r``; the engine of sweeps, calibration and
    sensitivity analysis.

    ``names[i]`` names point i's scenario (unique per content in one experiment folder). Runs
    already stored are skipped. Returns ``(experiments, outcomes)`` of these runs.
    """
    return run_point_sets([(base, points, names)], out=out, replications=replications,
                          seed=seed, executor=executor, workers=workers, force=force,
                          independent_seeds=independent_seeds, progress=progress,
                          command=command, source=source, design=design)


def run_point_sets(sets: list[tuple[Scenario, list[dict[str, Any]], list[str]]], *,
                   out: str | Path, replications: int = 1, seed: int = 1, executor=None,
                   workers: int = 1, force: bool = False, independent_seeds: bool = False,
                   progress: Progress | None = None,
                   command: str = "sim.run_points (Python)", source: str = "parameters",
                   design: str = "points") -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`run_points` of several bases at once, as one batch of runs: ``sets`` holds
    ``(base, points, names)`` per base (e.g. a baseline and the lever scenarios evaluated at
    the same design points, all with seeds ``seed + r``: common random numbers)."""
    out = Path(out)
    specs, registry = [], {}
    for base, points, names in sets:
        for index, (name, values) in enumerate(zip(names, points, strict=True)):
            scenario = validate_point(base, {**values, "name": name}, source)
            registry[name] = {"hash": scenario_identity(scenario), "base": base.name,
                              "design": design, "design_point": index, "values": values}
            try:
                specs += make_specs(scenario, replicates=range(replications), seed=seed,
                                    out_dir=out, independent_seeds=independent_seeds,
                                    command=command, design_point=index, values=values)
            except InputError as exc:
                if exc.source != "seed":
                    raise
                raise InputError(source, "seed", f"{exc.message} (replicate r runs seed + r)"
                                 ) from None
    with Runner(out, executor=executor, workers=workers, command=command,
                progress=progress) as runner:
        runner.register(registry, force=force)
        runner.run(specs)
    return load_store(out, run_ids=[s.run_id for s in specs])


def sweep_file(path: str | Path, *, out: str | Path, executor=None, workers: int = 1,
               force: bool = False, progress: Progress | None = None,
               command: str = "", confirmed: bool = True,
               announce=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the sweep a sweep file describes (see the module docstring for the format)."""
    path = Path(path)
    spec = load_sweep_file(path)
    source = _display(path)
    base_path = Path(spec.base)
    if not base_path.is_absolute():
        base_path = path.parent / base_path
    if not base_path.is_file():
        raise InputError(source, "base", f"file not found: {spec.base}")
    return sweep(load_scenario(base_path), spec.parameters, out=out, design=spec.design,
                 samples=spec.samples, replications=spec.replications, years=spec.years,
                 seed=spec.seed, executor=executor, workers=workers, force=force,
                 progress=progress, command=command or f"quartier sweep {path}", source=source,
                 confirmed=confirmed, announce=announce)


def _display(path: Path) -> str:
    return display_path(path)
