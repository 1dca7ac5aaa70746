"""Generated scenario documents (hypothesis), valid and invalid: ``quartier scenario`` never
ends in a traceback; a document with a bad value (wrong type, NaN or infinity, out of range,
unknown key) exits with status 2 in one line naming the file and the field; a document it
accepts runs 2 years and keeps the invariants (people conserved, one household per dwelling)."""

from __future__ import annotations

import json
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types as at
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from typer.testing import CliRunner

import sim
from sim.cli import app

from .conftest import SCENARIOS
from .test_invariants import _check_state

EXAMPLES = 320  # at least 300 documents per run of the suite
SKIP = {"name", "description", "model", "source_file", "city.kind", "city.zensus_file",
        "city.households", "years", "levers", "schelling", "outcomes.cell_snapshots",
        # free text and the files of a real city (their bad values: tests/test_realcity_errors.py)
        "city.name", "city.census", "city.boundaries", "city.city_layer", "city.quartier_layer",
        "city.quartier_name_field", "city.quartier_id_field", "city.facilities"}


@dataclass(frozen=True)
class Leaf:
    path: str
    annotation: Any
    low: float | None
    high: float | None
    low_open: bool
    high_open: bool
    default: Any


def _leaves(model: type[BaseModel], prefix: str = "") -> list[Leaf]:
    found = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        if path in SKIP or info.exclude:
            continue
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += _leaves(annotation, path + ".")
            continue
        low = high = None
        low_open = high_open = False
        for meta in info.metadata:
            if isinstance(meta, at.Ge):
                low = meta.ge
            elif isinstance(meta, at.Gt):
                low, low_open = meta.gt, True
            elif isinstance(meta, at.Le):
                high = meta.le
            elif isinstance(meta, at.Lt):
                high, high_open = meta.lt, True
        found.append(Leaf(path, annotation, low, high, low_open, high_open, info.default))
    return found


LEAVES = _leaves(sim.Scenario)
BAD_VALUES = [math.nan, math.inf, -math.inf, "abc", True, [1, 2], {"a": 1}, 1e300, -1e300]


def _kinds(annotation) -> set:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return {a for a in typing.get_args(annotation) if a is not type(None)}
    return {annotation}


def _valid(leaf: Leaf) -> st.SearchStrategy | None:
    kinds = _kinds(leaf.annotation)
    if any(typing.get_origin(k) is Literal for k in kinds):
        return st.sampled_from([v for k in kinds for v in typing.get_args(k)])
    if float in kinds or int in kinds:
        low = leaf.low if leaf.low is not None else -1e6
        high = leaf.high if leaf.high is not None else 1e6
        if float in kinds:
            return st.floats(min_value=low, max_value=high, exclude_min=leaf.low_open,
                             exclude_max=leaf.high_open, allow_nan=False)
        return st.integers(min_value=int(low) + leaf.low_open, max_value=int(high)
                           - leaf.high_open)
    if bool in kinds:
        return st.booleans()
    return None  # tuples and tables: their default (valid) or a bad value


def _out_of_range(leaf: Leaf) -> list[float]:
    values = []
    if leaf.low is not None:
        values.append(leaf.low - 1 if leaf.low_open is False else leaf.low)
    if leaf.high is not None:
        values.append(leaf.high + 1 if leaf.high_open is False else leaf.high)
    return values


@st.composite
def overrides(draw) -> tuple[dict[str, Any], set[str]]:
    """Dotted path -> value for 1-4 fields, and the paths given a value that is bad alone."""
    chosen = draw(st.lists(st.sampled_from(LEAVES), min_size=1, max_size=4,
                           unique_by=lambda leaf: leaf.path))
    values, bad = {}, set()
    for leaf in chosen:
        valid = _valid(leaf)
        if valid is not None and draw(st.integers(0, 3)) > 0:  # 3 in 4 valid
            values[leaf.path] = draw(valid)
            continue
        options = BAD_VALUES + _out_of_range(leaf)
        if any(k in (tuple, list) or typing.get_origin(k) in (tuple, list)
               for k in _kinds(leaf.annotation)):
            options = [v for v in options if not isinstance(v, list)]  # [1, 2] may be valid
        if float in _kinds(leaf.annotation):
            options = [v for v in options if not isinstance(v, int | float)
                       or isinstance(v, bool) or not math.isfinite(v) or v in
                       _out_of_range(leaf)] or options
        value = draw(st.sampled_from(options))
        if isinstance(value, int | float) and not isinstance(value, bool) and (
                leaf.low is None and leaf.high is None) and math.isfinite(value):
            continue  # a big finite number is fine for an unbounded field
        if bool in _kinds(leaf.annotation) and isinstance(value, bool):
            continue
        values[leaf.path] = value
        bad.add(leaf.path)
    if draw(st.integers(0, 9)) == 0:
        values["parameters.mobility.no_such_parameter"] = 1.0
        bad.add("parameters.mobility.no_such_parameter")
    return values, bad


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(
            value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"


def _document(values: dict[str, Any], households: int) -> str:
    lines = [f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"', 'name = "generated"',
             "years = 2", f"city.households = {households}", "outcomes.cell_snapshots = false"]
    lines += [f"{path} = {_toml(value)}" for path, value in values.items()]
    return "\n".join(lines) + "\n"


def _check_run(path) -> None:
    scenario = sim.load_scenario(path)
    model = sim.build_model(scenario, seed=3).run(2)
    _check_state(model)
    city = model.outcomes().query("scope == 'city'").pivot(index="year", columns="metric",
                                                           values="value")
    for year in city.index[1:]:
        row, before = city.loc[year], city.loc[year - 1]
        assert row["population"] == (before["population"] + row["births"] + row["in_migrants"]
                                     - row["deaths"] - row["out_migrants"])


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          phases=[Phase.generate, Phase.shrink],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(generated=overrides(), households=st.integers(min_value=40, max_value=250))
def test_generated_documents_are_an_error_line_or_a_run(tmp_path_factory, generated,
                                                        households):
    values, bad = generated
    folder = tmp_path_factory.mktemp("doc")
    path = folder / "generated.toml"
    path.write_text(_document(values, households), encoding="utf-8")
    result = CliRunner().invoke(app, ["scenario", str(path)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        line = result.stderr.strip()
        assert "\n" not in line and line.startswith("error: ") and "Traceback" not in line
        assert "generated.toml: " in line, line
        named = line.partition("generated.toml: ")[2].split(": ")[0]
        tables = {p.rpartition(".")[0] for p in values}
        assert named in values or named in tables or named.rpartition(".")[0] in tables or any(
            named.startswith(p + ".") for p in values), (named, values)
        event("refused in one line")
        return
    assert not bad, f"accepted bad values {bad}: {values}"
    _check_run(path)
    event("accepted and run 2 years")
