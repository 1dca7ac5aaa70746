"""Lever effects as outputs of the sensitivity analysis (``[[effects]]`` of a spec file), and
factors that scale a group of fields at once (``[scales]``).

**Effects.** At every design point the base scenario and each lever scenario run with the same
seeds (replicate r: ``seed + r``, common random numbers); the output is the paired difference
``lever - base`` of a metric, averaged over the replications. The Sobol and Morris indices of
such an output say what a lever's effect depends on. The lever file's own settings apply on top
of the design point's values: a dotted path the lever scenario sets to another value than the
base keeps the lever's value (its own settings win); every other varied path takes the design
point's value. Both scenarios get the analysis's horizon and city size.

The statistic of a run, per metric (as ``quartier compare`` and the cost-effectiveness table
report them): counts of flows (``out_migrants``, ``out_migrants_poor``, ...) are summed over
the simulated years (the horizon's total), rates of flows are averaged over them, stocks and
indices (``dissimilarity_income_quartiers``, ...) are taken in the final year. The start year,
the initial state, never counts.

**Scales.** A scale is one factor that multiplies several fields of the base scenario at once
(e.g. every weight of access to doctors and schools): its value ``s`` sets each field to
``s × (the base's value)``. It enters the design as one parameter named ``scale.<name>``.

A spec file's tables::

    [scales.service_weights]
    fields = ["parameters.choice.health_weight_old", "parameters.choice.school_weight"]
    range = [0.5, 2.0]

    [[effects]]
    scenario = "../scenarios/mvz_hochfeld.toml"   # relative to the spec file
    label = "MVZ Hochfeld"
    outputs = ["out_migrants", "out_migrants_poor"]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sim.errors import InputError
from sim.scenario import Scenario
from sim.state.outcomes import aggregation

EFFECT_PREFIX = "effect:"
SCALE_PREFIX = "scale."
_EFFECT = re.compile(r"^effect:(?P<scenario>[^:]+):(?P<metric>.+)$")


class ScaleFile(BaseModel):
    """One ``[scales.<name>]`` table of a spec file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: list[str] = Field(..., min_length=1,
                              description="Dotted scenario paths the factor multiplies.")
    range: list[Any] = Field(..., description="[low, high] of the factor.")


class EffectFile(BaseModel):
    """One ``[[effects]]`` entry of a spec file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str = Field(..., min_length=1,
                          description="The lever scenario file, relative to the spec file.")
    label: str | None = Field(None, min_length=1, max_length=60,
                              description="Display name (default: the scenario's name).")
    outputs: list[str] = Field(..., min_length=1,
                               description="Metrics whose difference lever - base is analysed.")


def effect_output(scenario: str, metric: str) -> str:
    """The output name of a lever's effect on a metric: ``effect:<scenario>:<metric>``."""
    return f"{EFFECT_PREFIX}{scenario}:{metric}"


def parse_effect_output(output: str) -> tuple[str, str] | None:
    """``(scenario, metric)`` of an effect output, else None."""
    m = _EFFECT.match(output)
    return (m["scenario"], m["metric"]) if m else None


def city_rows(outcomes: pd.DataFrame, metrics: Sequence[str]
              ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The citywide rows of ``metrics`` (``run_id, year, metric, value``) with each row's run's
    first year (the initial state) and last year."""
    city = outcomes[(outcomes["scope"] == "city") & outcomes["metric"].isin(list(metrics))]
    city = city[["run_id", "year", "metric", "value"]].astype({"metric": str})
    years = city.groupby("run_id")["year"]
    return city, years.transform("min"), years.transform("max")


def effect_statistics(outcomes: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Per run and metric the statistic of :func:`aggregation` (citywide).

    Returns:
        Index ``run_id``, one column per metric (NaN where a run has no value).
    """
    city, first, last = city_rows(outcomes, metrics)
    simulated = city[city["year"] > first]
    columns = {}
    for metric in metrics:
        how = aggregation(metric)
        if how == "final":
            rows = city[(city["metric"] == metric) & (city["year"] == last)]
            columns[metric] = rows.groupby("run_id")["value"].mean()
        else:
            values = simulated[simulated["metric"] == metric].groupby("run_id")["value"]
            columns[metric] = values.sum(min_count=1) if how == "sum" else values.mean()
    ids = pd.Index(pd.unique(outcomes["run_id"]), name="run_id")
    return pd.DataFrame(columns).reindex(index=ids, columns=list(metrics))


@dataclass(frozen=True)
class Lever:
    """A lever scenario whose effects are outputs.

    Attributes:
        name: The lever scenario's name.
        label: Its display name.
        scenario: The lever scenario, with the analysis's horizon and city size.
        metrics: The metrics whose effect is analysed.
        own: Varied dotted paths the lever sets itself (to another value than the base):
            they keep the lever's value at every design point.
        file: The lever file as given in the spec.
    """

    name: str
    label: str
    scenario: Scenario
    metrics: tuple[str, ...]
    own: frozenset[str]
    file: str = ""

    @property
    def outputs(self) -> tuple[str, ...]:
        """The effect output names."""
        return tuple(effect_output(self.name, m) for m in self.metrics)

    def point(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A design point's values for the lever scenario (its own settings win)."""
        return {k: v for k, v in values.items() if k not in self.own}


def get_path(scenario: Scenario, dotted: str) -> Any:
    """The value of a dotted path of a scenario."""
    node: Any = scenario
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def load_levers(effects: Sequence[EffectFile], spec_path: Path, base: Scenario,
                varied: Sequence[str], *, prepare, source: str) -> list[Lever]:
    """The spec's lever scenarios, read, prepared like the base (``prepare(scenario)``) and
    checked against their city (lever cells within the grid of the analysis's city size).

    Raises:
        InputError: naming ``source`` and ``effects[i].<field>``.
    """
    import sim
    from calibration.sensitivity import check_outputs

    levers: list[Lever] = []
    for i, effect in enumerate(effects):
        field = f"effects[{i}]"
        path = Path(effect.scenario)
        if not path.is_absolute():
            path = spec_path.parent / path
        if not path.is_file():
            raise InputError(source, f"{field}.scenario", f"file not found: {effect.scenario}")
        try:
            scenario = prepare(sim.load_scenario(path))
            sim.check_levers(scenario)
        except InputError as exc:
            raise InputError(source, f"{field}.scenario", f"{effect.scenario}: "
                             f"{exc.one_line()} (at the analysis's households and years)"
                             ) from None
        if scenario.name == base.name:
            raise InputError(source, f"{field}.scenario", f"{effect.scenario} has the base's "
                             f"name {base.name!r}: give the lever scenario its own name")
        if any(lever.name == scenario.name for lever in levers):
            raise InputError(source, f"{field}.scenario", f"scenario {scenario.name!r} is "
                             "listed twice")
        try:
            metrics = check_outputs(effect.outputs, source)
        except InputError as exc:
            raise InputError(source, f"{field}.outputs", exc.message) from None
        own = frozenset(p for p in varied if get_path(scenario, p) != get_path(base, p))
        levers.append(Lever(name=scenario.name, label=effect.label or scenario.name,
                            scenario=scenario, metrics=tuple(metrics), own=own,
                            file=effect.scenario))
    return levers


def scale_fields(scales: Mapping[str, ScaleFile], base: Scenario, taken: Sequence[str], *,
                 source: str) -> dict[str, tuple[tuple[str, ...], tuple[float, float]]]:
    """``{"scale.<name>": (fields, (low, high))}`` of a spec's ``[scales]``, checked: known
    numeric fields, each in one scale only and not varied on its own, and both ends of the
    range give valid values of every field.

    Raises:
        InputError: naming ``source`` and ``scales.<name>``.
    """
    from sim.experiments.sweeps import field_annotation, numeric_kind, parse_range, validate_point

    out: dict[str, tuple[tuple[str, ...], tuple[float, float]]] = {}
    seen = set(taken)
    for name, scale in scales.items():
        key = f"scales.{name}"
        low, high = parse_range(scale.range, source, f"{key}.range")
        for dotted in scale.fields:
            if dotted in seen:
                raise InputError(source, f"{key}.fields", f"{dotted} is varied elsewhere in the "
                                 "spec too")
            seen.add(dotted)
            if numeric_kind(field_annotation(dotted, source)) is None:
                raise InputError(source, f"{key}.fields", f"{dotted} needs a numeric field")
            for factor in (low, high):
                validate_point(base, scaled_values(base, (dotted,), factor), source)
        out[f"{SCALE_PREFIX}{name}"] = (tuple(scale.fields), (low, high))
    return out


def scaled_values(base: Scenario, fields: Sequence[str], factor: float) -> dict[str, Any]:
    """Each field at ``factor ×`` the base's value (integer fields rounded)."""
    values = {}
    for dotted in fields:
        value = get_path(base, dotted)
        scaled = float(value) * float(factor)
        values[dotted] = int(round(scaled)) if isinstance(value, int) else scaled
    return values


def paired_effects(stats: pd.DataFrame, experiments: pd.DataFrame, pairs: Mapping[str, str],
                   metrics: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per base design point the mean and sd (over replications) of ``lever - base``.

    Args:
        stats: Per run the statistics (:func:`effect_statistics`), index ``run_id``.
        experiments: ``run_id``, ``scenario`` and ``seed`` of every run.
        pairs: Lever point name -> base point name.
        metrics: The metrics (columns of ``stats``).

    Returns:
        ``(means, sds)``: index the base point name, one column per metric.
    """
    runs = experiments.set_index("run_id")[["scenario", "seed"]].join(stats)
    base = runs[runs["scenario"].isin(set(pairs.values()))].set_index(["scenario", "seed"])
    lever = runs[runs["scenario"].isin(set(pairs))].copy()
    lever["scenario"] = lever["scenario"].map(pairs)
    lever = lever.set_index(["scenario", "seed"])
    d = lever[list(metrics)] - base[list(metrics)].reindex(lever.index)
    grouped = d.groupby(level="scenario")
    return grouped.mean(), grouped.std(ddof=1)
