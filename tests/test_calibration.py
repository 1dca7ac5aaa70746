"""Calibration targets, the SMM calibration (parameter recovery) and the validation report."""

from __future__ import annotations

import ast
import csv
import math
import operator
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from calibration.moments import (
    STATISTICS,
    load_targets,
    run_statistics,
    targets_file,
    window,
)
from calibration.smm import (
    CalibrationSpec,
    Evaluator,
    calibrate,
    load_calibration_file,
    make_problem,
    scenario_text,
    write_scenario,
)
from calibration.validation import compare, validate
from dashboards.validation import build_validation_report, validation_chart
from sim.errors import InputError
from sim.experiments.store import load_vital
from sim.inputs.levers import load_scenario
from tests.experiment_helpers import quartier

ROOT = Path(__file__).resolve().parents[1]
TARGET_DIR = ROOT / "calibration" / "targets"


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(ROOT / "scenarios" / "baseline.toml")


# -- the targets table ----------------------------------------------------------------------------

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.Pow: operator.pow}


def _arithmetic(text: str) -> float:
    """Evaluate + - * / **, a leading minus and parentheses over numbers (nothing else)."""
    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        raise ValueError(f"not arithmetic: {text!r}")
    return ev(ast.parse(text, mode="eval"))


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


@pytest.mark.parametrize("table, at_least", [("targets.csv", 30), ("essen_targets.csv", 10)])
def test_every_observed_target_is_derived_from_the_lines_it_cites(table, at_least):
    """Each figure equals its derivation (to the figure's last decimal), and every number of
    the derivation stands in one of the cited lines of the copied official data. Figures
    computed from the census files (``python -m calibration.essen_targets NAME``) equal what
    the module computes from the files they cite."""
    with (TARGET_DIR / table).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    checked = 0
    computed = None
    for row in rows:
        if not row["observed"]:
            assert not row["cited"] and "Missing" in row["note"], row["target"]
            continue
        places = _decimals(row["observed"])
        if row["derivation"].startswith("python -m calibration.essen_targets "):
            from calibration.essen_targets import census_values

            computed = computed or census_values()
            value = computed[row["derivation"].split()[-1]]
            assert abs(value - float(row["observed"])) <= 0.5 * 10 ** -places, row["target"]
            assert all((TARGET_DIR / ref).is_file() for ref in row["cited"].split())
            checked += 1
            continue
        value = _arithmetic(row["derivation"])
        assert abs(value - float(row["observed"])) <= 0.5 * 10 ** -places + 1e-12, row["target"]
        cited = []
        for ref in row["cited"].split():
            name, line = ref.rsplit(":", 1)
            lines = (TARGET_DIR / name).read_text(encoding="utf-8").splitlines()
            cited.append(lines[int(line) - 1])
        fields = {f.strip().replace(",", "") for line in cited for f in next(csv.reader([line]))}
        # numbers written with thousands separators ("566,201") count as written without
        text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", " ".join(cited))
        for number in re.findall(r"\d+(?:\.\d+)?", row["derivation"]):
            if number in ("100", "1000", "12", "2"):  # units and averaging, not figures
                continue
            if number == "1" and "**" in row["derivation"]:  # a growth rate's root and - 1
                continue
            if number == row["when"]:  # the target's own year (an interpolation's end)
                continue
            assert number in fields or re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])",
                                                 text), (row["target"], number)
        checked += 1
    assert checked >= at_least


def test_targets_cover_the_issue_and_name_known_statistics():
    targets = {t.target: t for t in load_targets()}
    for name in ("e0_male", "e0_female", "tfr", "share_households_size_1",
                 "moves_within_city_per_1000", "in_migrants_per_1000", "out_migrants_per_1000",
                 "share_poor", "care_dependency_share", "share_cared_at_home",
                 "share_gp_within_reach", "mean_rent_m2", "mean_rent_burden"):
        assert name in targets and not targets[name].missing
    assert any(t.missing for t in targets.values())
    assert set(targets) <= set(STATISTICS)


@pytest.mark.parametrize("edit, field", [
    (lambda r: r.update(observed="abc"), "observed"),
    (lambda r: r.update(when="late"), "when"),
    (lambda r: r.update(target="no_such_statistic"), "target"),
    (lambda r: r.update(tolerance=""), "tolerance"),
    (lambda r: r.update(tolerance="-1"), "tolerance"),
    (lambda r: r.update(cited=""), "cited"),
])
def test_a_broken_targets_table_names_the_line_and_field(tmp_path, edit, field):
    with targets_file().open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        header = reader.fieldnames
    edit(rows[2])
    path = tmp_path / "targets.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(InputError) as err:
        load_targets(path)
    assert err.value.source.endswith("targets.csv:4") and err.value.field == field


def test_statistics_use_the_right_years(tmp_path, baseline):
    """'start' is the first recorded year, 'early' the first simulated years; the age shares
    of a run add up to 1 and vital statistics give e0 and TFR."""
    sc = baseline.with_values({"city.households": 600, "years": 3, "name": "tiny",
                               "outcomes.cell_snapshots": False})
    experiments, outcomes = sim.sweep(sc, {"parameters.demography.total_fertility_rate": [1.39]},
                                      out=tmp_path / "exp", replications=1)
    vital = load_vital(tmp_path / "exp")
    targets = load_targets()
    stats = run_statistics(outcomes, vital, targets, early_years=2)
    row = stats.iloc[0]
    city = outcomes[outcomes["scope"] == "city"].pivot(index="year", columns="metric",
                                                        values="value")
    years = sorted(city.index)
    assert row["owner_occupied_share"] == pytest.approx(city.loc[years[0],
                                                                 "owner_occupied_share"])
    assert row["share_poor"] == pytest.approx(city.loc[years[1:3], "share_poor"].mean())
    ages = [c for c in stats.columns if c.startswith("share_age_")]
    assert row[ages].sum() == pytest.approx(1.0)
    assert 70 < row["e0_female"] < 95 and 0.5 < row["tfr"] < 3
    assert list(window(city, "early", 5).index) == years[1:]


# -- calibration ----------------------------------------------------------------------------------


def _synthetic_targets(tmp_path: Path, problem, theta: np.ndarray, seed: int) -> Path:
    """Targets observed in the model itself at ``theta`` (other seeds than the calibration)."""
    spec = problem.spec.model_copy(update={"seed": seed})
    twin = make_problem(spec, base=problem.base, targets=problem.targets)
    stats = Evaluator(twin, out=tmp_path / "truth").statistics(theta[None, :])[0]
    with targets_file().open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows, header = list(reader), reader.fieldnames
    for row in rows:
        if row["target"] in [t.target for t in problem.fit]:
            row["observed"] = repr(float(stats[row["target"]].mean()))
            row["derivation"] = row["observed"]
    path = tmp_path / "synthetic_targets.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.slow
def test_calibration_recovers_known_parameters(tmp_path, baseline):
    """Parameter recovery: targets generated by the model at known parameters (seeds 101-104)
    are fitted from the defaults with other seeds (1-4). Tolerance: each parameter within 10 %
    of its range of the true value."""
    spec = CalibrationSpec(
        base="unused", households=8000, years=5, replications=4, seed=1,
        targets=["out_migrants_per_1000", "share_households_size_1"],
        parameters={"parameters.mobility.utility_outside": [2.5, 4.0],
                    "parameters.demography.partnership_rate": [0.0, 0.15]},
        initial_points=8, max_evaluations=45)
    problem = make_problem(spec, base=baseline)
    truth = np.array([3.2, 0.05])  # away from the baseline's fitted values (the start)
    path = _synthetic_targets(tmp_path, problem, truth, seed=101)
    problem = make_problem(spec, base=baseline, targets=load_targets(path))
    result = calibrate(problem, out=tmp_path / "fit", workers=2)
    fitted = result.parameters["fitted"].to_numpy(float)
    span = problem.high - problem.low
    assert np.all(np.abs(fitted - truth) <= 0.10 * span), (fitted, truth)
    assert result.objective < 1.0 and result.fit["within_tolerance"].all()
    # the start was off: the fit moved the parameters
    assert np.all(np.abs(problem.start - truth) > 0.15 * span)


def test_calibration_is_deterministic_and_reuses_stored_runs(tmp_path, baseline):
    spec = CalibrationSpec(
        base="unused", households=300, years=2, replications=2, targets=[
            "out_migrants_per_1000"],
        parameters={"parameters.mobility.utility_outside": [2.5, 4.0]},
        initial_points=2, max_evaluations=5)
    problem = make_problem(spec, base=baseline)
    first = calibrate(problem, out=tmp_path / "a")
    again = calibrate(problem, out=tmp_path / "a")  # every run is stored already
    other = calibrate(problem, out=tmp_path / "b")
    pd.testing.assert_frame_equal(first.trace, again.trace)
    pd.testing.assert_frame_equal(first.trace, other.trace)
    assert first.evaluations == 5 and len(first.trace) == 5
    assert set(first.trace["stage"]) == {"design", "nelder-mead"}
    runs = list((tmp_path / "a" / "runs").glob("*.experiments.parquet"))
    assert len(runs) == 2 * first.trace.drop_duplicates(
        "parameters.mobility.utility_outside").shape[0]


def test_written_scenario_loads_and_a_baseline_can_extend_it(tmp_path, baseline):
    spec = CalibrationSpec(
        base="unused", households=300, years=1, replications=2, targets=[
            "in_migrants_per_1000", "share_households_size_1"],
        parameters={"parameters.migration.in_migration_rate": [0.07, 0.15],
                    "parameters.demography.partnership_rate": [0.0, 0.2]},
        initial_points=1, max_evaluations=3)
    result = calibrate(make_problem(spec, base=baseline), out=tmp_path / "runs")
    path = write_scenario(result, tmp_path / "calibrated.toml", command="test")
    text = path.read_text(encoding="utf-8")
    assert text == scenario_text(result, command="test")  # same day
    assert "extends" not in tomllib.loads(text) and 'name = "calibrated"' in text
    (tmp_path / "base.toml").write_text('extends = "calibrated.toml"\nname = "base"\n',
                                        encoding="utf-8")
    extended = load_scenario(tmp_path / "base.toml")
    for dotted, value in result.fitted.items():
        node = extended
        for part in dotted.split("."):
            node = getattr(node, part)
        assert node == pytest.approx(value, rel=1e-5)


def test_the_project_calibration_file_is_valid(baseline):
    path = ROOT / "calibration" / "calibrate.toml"
    spec = load_calibration_file(path)
    problem = make_problem(spec, source=str(path), base_dir=path.parent)
    assert len(problem.fit) >= 4 and len(problem.names) >= 4
    assert np.all((problem.low <= problem.start) & (problem.start <= problem.high))


@pytest.mark.parametrize("text, field", [
    ('base = "b.toml"\ntargets = ["tfr"]\ncolour = 1\n[parameters]\n'
     '"parameters.mobility.utility_outside" = [2.5, 4.0]\n', "colour"),
    ('base = "b.toml"\ntargets = ["no_such_target"]\n[parameters]\n'
     '"parameters.mobility.utility_outside" = [2.5, 4.0]\n', "targets[0]"),
    ('base = "b.toml"\ntargets = ["tfr"]\n[parameters]\n'
     '"parameters.mobility.no_such_field" = [2.5, 4.0]\n',
     'parameters."parameters.mobility.no_such_field"'),
    ('base = "b.toml"\ntargets = ["tfr"]\n[parameters]\n'
     '"parameters.mobility.utility_outside" = [4.0, 2.5]\n',
     'parameters."parameters.mobility.utility_outside"'),
    ('base = "b.toml"\ntargets = ["unmet_care"]\n[parameters]\n'
     '"parameters.mobility.utility_outside" = [2.5, 4.0]\n', "targets[0]"),
    ('base = "b.toml"\ntargets = ["tfr"]\nreplications = 0\n[parameters]\n'
     '"parameters.mobility.utility_outside" = [2.5, 4.0]\n', "replications"),
])
def test_a_bad_calibration_file_is_refused_with_one_line(tmp_path, text, field):
    (tmp_path / "b.toml").write_text('name = "b"\n', encoding="utf-8")
    path = tmp_path / "cal.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "scenario.toml"
    result = quartier("calibrate", path, "--out", tmp_path / "runs", "--write-scenario", out,
                      "--quiet")
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and "cal.toml" in line and field in line, line
    assert not out.exists()


def test_calibrate_command_writes_fit_and_scenario(tmp_path):
    (tmp_path / "cal.toml").write_text(
        f'base = "{(ROOT / "scenarios" / "baseline.toml").as_posix()}"\nhouseholds = 300\n'
        'years = 1\nreplications = 2\ninitial_points = 1\nmax_evaluations = 2\n'
        'targets = ["out_migrants_per_1000"]\n[parameters]\n'
        '"parameters.mobility.utility_outside" = [2.5, 4.0]\n', encoding="utf-8")
    out = tmp_path / "runs"
    result = quartier("calibrate", tmp_path / "cal.toml", "--out", out, "--write-scenario",
                      tmp_path / "calibrated.toml", "--workers", 1)
    assert result.returncode == 0, result.stderr
    assert "calibration fit" in result.stdout and "utility_outside" in result.stdout
    fit = pd.read_csv(out / "calibration_fit.csv")
    assert list(fit["target"]) == ["out_migrants_per_1000"]
    assert pd.read_parquet(out / "calibration_trace.parquet").shape[0] == 2
    assert load_scenario(tmp_path / "calibrated.toml").name == "calibrated"



def test_calibrate_with_defaults_leaves_the_scenarios_untouched(tmp_path):
    """Without --write-scenario the fitted parameters go to OUT/calibrated.toml only: run from
    the project folder, where scenarios/calibrated.toml is what the baseline extends."""
    (tmp_path / "cal.toml").write_text(
        f'base = "{(ROOT / "scenarios" / "baseline.toml").as_posix()}"\nhouseholds = 200\n'
        'years = 1\nreplications = 2\ninitial_points = 1\nmax_evaluations = 1\n'
        'targets = ["out_migrants_per_1000"]\n[parameters]\n'
        '"parameters.mobility.utility_outside" = [2.5, 4.0]\n', encoding="utf-8")

    def snapshot():
        return {p: (p.read_bytes(), p.stat().st_mtime_ns)
                for p in (ROOT / "scenarios").rglob("*") if p.is_file()}

    before = snapshot()
    out = tmp_path / "fit"
    result = quartier("calibrate", tmp_path / "cal.toml", "--out", out, "--workers", 1,
                      cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert snapshot() == before
    assert load_scenario(out / "calibrated.toml").name == "calibrated"
    assert str(out / "calibrated.toml") in result.stdout

# -- validation -----------------------------------------------------------------------------------


def test_pass_and_fail_at_the_tolerance():
    targets = [t for t in load_targets() if t.target in ("tfr", "unmet_care", "e0_male")]
    per_run = pd.DataFrame({"tfr": [1.44, 1.44], "e0_male": [79.0, 78.9],
                            "unmet_care": [3.0, 5.0]}, index=["a", "b"])
    table = compare(per_run, targets, fitted={"tfr"}).set_index("target")
    assert bool(table.loc["tfr", "passed"]) and table.loc["tfr", "role"] == "fitted"
    assert not bool(table.loc["e0_male", "passed"]) and table.loc["e0_male", "role"] == "input"
    assert pd.isna(table.loc["unmet_care", "passed"]) and table.loc["unmet_care",
                                                                    "role"] == "missing"
    assert table.loc["e0_male", "simulated"] == pytest.approx(78.95)
    # 95 % t-interval of the mean of two runs
    half = 12.706 * np.std([79.0, 78.9], ddof=1) / math.sqrt(2)
    assert table.loc["e0_male", "ci_high"] - 78.95 == pytest.approx(half, rel=1e-3)


def test_validation_report_shows_every_target(tmp_path, baseline):
    sc = baseline.with_values({"city.households": 400})
    result = validate(sc, out=tmp_path / "val", replications=2, years=2, fitted={"tfr"})
    table = result.table
    assert list(table["target"]) == [t.target for t in load_targets()]
    compared = table[table["role"] != "missing"]
    assert compared["simulated"].notna().all() and compared["passed"].notna().all()
    page = build_validation_report(result, lang="de")
    assert page.startswith("<!DOCTYPE html>") and "Validierung" in page
    assert page.count('class="figure"') >= 3 and "Fehlende Zielwerte" in page
    fig = validation_chart(table, lang="en")
    assert sum(len(trace.x) for trace in fig.data) == len(compared)


def test_validate_command(tmp_path):
    out = tmp_path / "val"
    result = quartier("validate", ROOT / "scenarios" / "baseline.toml", "--out", out,
                      "--households", 300, "--years", 1, "--replications", 2, "--workers", 1,
                      "--lang", "en", "--strict")
    assert result.returncode in (0, 1), result.stderr
    table = pd.read_csv(out / "validation.csv")
    missed = table["passed"].eq(False).any()
    assert result.returncode == (1 if missed else 0)
    assert "targets within tolerance" in result.stdout
    assert (out / "validation.html").stat().st_size > 100_000
    bad = quartier("validate", ROOT / "scenarios" / "baseline.toml", "--out", out,
                   "--lang", "fr")
    assert bad.returncode == 2 and "--lang" in bad.stderr


@pytest.mark.slow
def test_calibration_on_dask_equals_local_processes(tmp_path, baseline):
    """The calibration's runs go through the sweep executor: a Dask cluster finds the same
    evaluations as two local worker processes."""
    distributed = pytest.importorskip("distributed")
    spec = CalibrationSpec(
        base="unused", households=300, years=2, replications=2,
        targets=["out_migrants_per_1000", "share_households_size_1"],
        parameters={"parameters.mobility.utility_outside": [2.5, 4.0],
                    "parameters.demography.partnership_rate": [0.0, 0.2]},
        initial_points=2, max_evaluations=5)
    problem = make_problem(spec, base=baseline)
    local = calibrate(problem, out=tmp_path / "local", workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  local_directory=tmp_path / "dask") as cluster, \
            distributed.Client(cluster) as client:
        remote = calibrate(problem, out=tmp_path / "dask", executor=client.get_executor())
    pd.testing.assert_frame_equal(local.trace, remote.trace)
    pd.testing.assert_frame_equal(local.parameters, remote.parameters)


@pytest.mark.slow
def test_abc_gives_a_posterior_and_is_reproducible(tmp_path, baseline):
    """method = "abc" (pyABC's ABC-SMC): the fitted values are the posterior medians, inside
    the 5-95 % interval and the ranges; the same seed gives the same posterior."""
    pytest.importorskip("pyabc")
    spec = CalibrationSpec(
        base="unused", households=300, years=1, replications=2, method="abc",
        abc_population=5, abc_generations=2, max_evaluations=24,
        targets=["out_migrants_per_1000", "share_households_size_1"],
        parameters={"parameters.mobility.utility_outside": [2.5, 4.0],
                    "parameters.demography.partnership_rate": [0.0, 0.2]})
    problem = make_problem(spec, base=baseline)
    np.random.seed(12345)
    state = np.random.get_state()[1].copy()
    first = calibrate(problem, out=tmp_path / "a")
    assert np.array_equal(np.random.get_state()[1], state)  # numpy's global state restored
    again = calibrate(problem, out=tmp_path / "b")
    pd.testing.assert_frame_equal(first.posterior, again.posterior)
    post = first.posterior.set_index("parameter")
    fitted = first.parameters.set_index("parameter")["fitted"]
    assert np.allclose(fitted, post["median"])
    assert ((post["q05"] <= post["median"]) & (post["median"] <= post["q95"])).all()
    assert np.all((problem.low <= fitted.to_numpy()) & (fitted.to_numpy() <= problem.high))
    assert first.trace["stage"].iloc[-1] == "posterior median"
    assert "posterior" in scenario_text(first)
