"""Sensitivity analysis: the Morris and Sobol routines against analytic values and against
SALib itself, spec validation (API and command), and small model runs through run_points."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.analyze import morris as salib_morris_analyze
from SALib.analyze import sobol as salib_sobol_analyze
from SALib.sample import morris as salib_morris_sample
from SALib.sample import sobol as salib_sobol_sample

from calibration.sensitivity import (
    ModelEvaluator,
    Problem,
    load_sensitivity,
    load_spec,
    morris,
    run_outputs,
    run_spec,
    scenario_problem,
    sobol,
)
from sim.errors import InputError
from sim.experiments.store import stored_run_ids

from .conftest import SCENARIOS
from .experiment_helpers import one_line_error, quartier

PI = np.pi
ISHIGAMI = {"x1": [-PI, PI], "x2": [-PI, PI], "x3": [-PI, PI]}
OUTSIDE = "parameters.mobility.utility_outside"
IN_RATE = "parameters.migration.in_migration_rate"


def ishigami(X: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic (S1, ST) of the Ishigami function (x uniform on [-pi, pi])."""
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * PI**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def salib_problem(ranges: dict) -> dict:
    return {"num_vars": len(ranges), "names": list(ranges), "bounds": list(ranges.values())}


# -- the routines against known values and SALib ---------------------------------------------


def test_ishigami_analytic_values_are_the_textbook_ones():
    s1, st = ishigami_indices()
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=5e-5)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=5e-5)


def test_sobol_on_ishigami_gives_the_analytic_indices_and_exactly_salibs_numbers():
    n, seed = 2**13, 7
    table = sobol(ishigami, ISHIGAMI, samples=n, seed=seed, resamples=100)
    s1, st = ishigami_indices()
    # tolerance: N = 8192 scrambled Sobol' points; the estimates lie within 0.002 here
    np.testing.assert_allclose(table["S1"], s1, atol=0.01)
    np.testing.assert_allclose(table["ST"], st, atol=0.01)
    assert (table["S1_conf"] < 0.05).all() and (table["ST_conf"] < 0.05).all()
    # our wrapper adds nothing: SALib's own sample and analysis (bootstrap seed + 1)
    problem = salib_problem(ISHIGAMI)
    X = salib_sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    si = salib_sobol_analyze.analyze(problem, ishigami(X), calc_second_order=False,
                                     num_resamples=100, conf_level=0.95, seed=seed + 1)
    for key in ("S1", "S1_conf", "ST", "ST_conf"):
        np.testing.assert_allclose(table[key], si[key], rtol=1e-12, atol=0)
    np.testing.assert_allclose(table["ST_low"], si["ST"] - si["ST_conf"], rtol=1e-12)
    assert table["samples"].eq(n).all() and list(table["parameter"]) == ["x1", "x2", "x3"]


def test_morris_equals_salibs_own_sample_and_analysis():
    seed, r = 11, 40
    table = morris(ishigami, ISHIGAMI, trajectories=r, levels=4, seed=seed, resamples=100)
    problem = salib_problem(ISHIGAMI)
    X = salib_morris_sample.sample(problem, r, num_levels=4, seed=seed)
    si = salib_morris_analyze.analyze(problem, X, ishigami(X), num_resamples=100,
                                      conf_level=0.95, num_levels=4, seed=seed + 1)
    for key in ("mu", "mu_star", "sigma", "mu_star_conf"):
        np.testing.assert_allclose(table[key], si[key], rtol=1e-12, atol=0)
    assert table["trajectories"].eq(r).all()
    # x3 enters only through its interaction with x1: a small mu (signs cancel), sigma > 0
    x3 = table.set_index("parameter").loc["x3"]
    assert x3["sigma"] > 0 and abs(x3["mu"]) < x3["mu_star"]


def test_morris_on_a_linear_function_has_exact_elementary_effects():
    a = np.array([1.0, -2.0, 0.5, 0.0])
    ranges = {"a": [0.0, 1.0], "b": [1.0, 3.0], "c": [-1.0, 3.0], "d": [0.0, 5.0]}
    width = np.array([hi - lo for lo, hi in ranges.values()])
    table = morris(lambda X: X @ a, ranges, trajectories=10, seed=3, resamples=50)
    # y = sum a_i x_i: every elementary effect of x_i is a_i × (high - low)
    np.testing.assert_allclose(table["mu"], a * width, atol=1e-9)
    np.testing.assert_allclose(table["mu_star"], np.abs(a) * width, atol=1e-9)
    np.testing.assert_allclose(table["sigma"], 0.0, atol=1e-9)
    np.testing.assert_allclose(table["mu_star_conf"], 0.0, atol=1e-9)


def test_sobol_on_a_linear_function_gives_the_variance_shares():
    a = np.array([1.0, -2.0, 0.5])
    ranges = {"a": [0.0, 1.0], "b": [1.0, 3.0], "c": [-1.0, 3.0]}
    width = np.array([hi - lo for lo, hi in ranges.values()])
    share = a**2 * width**2 / 12
    share /= share.sum()  # S1_i = a_i² var(x_i) / sum_j a_j² var(x_j); ST_i = S1_i
    table = sobol(lambda X: X @ a, ranges, samples=2**12, seed=5, resamples=50)
    np.testing.assert_allclose(table["S1"], share, atol=0.01)
    np.testing.assert_allclose(table["ST"], share, atol=0.01)


def test_several_outputs_at_once_equal_one_at_a_time():
    def both(X):
        return np.c_[ishigami(X), X[:, 0] + 2 * X[:, 2]]

    together = sobol(both, ISHIGAMI, samples=64, seed=2, resamples=50, outputs=["ish", "lin"])
    alone = sobol(ishigami, ISHIGAMI, samples=64, seed=2, resamples=50, outputs=["ish"])
    assert list(pd.unique(together["output"])) == ["ish", "lin"]
    pd.testing.assert_frame_equal(together[together["output"] == "ish"].reset_index(drop=True),
                                  alone)
    m = morris(both, ISHIGAMI, trajectories=4, seed=2, resamples=50)
    assert list(pd.unique(m["output"])) == ["y0", "y1"]


def test_constant_or_missing_outputs_give_nan_indices():
    def flat(X):
        return np.c_[np.ones(len(X)), np.where(X[:, 0] > 0, np.nan, 1.0)]

    table = sobol(flat, ISHIGAMI, samples=16, seed=1, resamples=20)
    assert table[["S1", "ST", "S1_conf", "ST_conf"]].isna().all().all()
    m = morris(flat, ISHIGAMI, trajectories=4, seed=1, resamples=20)
    assert (m[m["output"] == "y0"]["mu_star"] == 0).all()
    assert m[m["output"] == "y1"]["mu_star"].isna().all()


def test_seeds_make_designs_repeat():
    one = sobol(ishigami, ISHIGAMI, samples=32, seed=4, resamples=50)
    pd.testing.assert_frame_equal(one, sobol(ishigami, ISHIGAMI, samples=32, seed=4,
                                             resamples=50))
    assert not one["S1"].equals(sobol(ishigami, ISHIGAMI, samples=32, seed=5,
                                      resamples=50)["S1"])


@pytest.mark.parametrize("samples", [0, 6, 100])
def test_sobol_needs_a_power_of_two(samples):
    with pytest.raises(ValueError, match="power of 2"):
        sobol(ishigami, ISHIGAMI, samples=samples)


def test_morris_needs_even_levels():
    with pytest.raises(ValueError, match="even"):
        morris(ishigami, ISHIGAMI, levels=3)


def test_problem_checks_its_ranges():
    with pytest.raises(ValueError, match="low < high"):
        Problem.from_ranges({"x": [1.0, 1.0]})
    problem = Problem.from_ranges({"x": [0, 1], "y": [2, 3]})
    assert problem.salib() == {"num_vars": 2, "names": ["x", "y"],
                               "bounds": [[0.0, 1.0], [2.0, 3.0]]}


# -- the spec: validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "field", "message"),
    [
        ({"parameters.mobility.utility_outsid": [1, 2]},
         'parameters."parameters.mobility.utility_outsid"', "no such scenario field"),
        ({OUTSIDE: [3.0, 3.0]}, f'parameters."{OUTSIDE}"', "low must be below high"),
        ({OUTSIDE: [3.0]}, f'parameters."{OUTSIDE}"', "give a range [low, high]"),
        ({OUTSIDE: ["a", "b"]}, f'parameters."{OUTSIDE}"', "give a range [low, high]"),
        ({"parameters.demography.life_table_period": [1, 2]},
         'parameters."parameters.demography.life_table_period"', "numeric field"),
        ({"parameters.mobility.move_rate_young": [0.5, 1.5]},
         'parameters."parameters.mobility.move_rate_young"', "less than or equal to 1"),
        ({"parameters.mobility": [0, 1]}, 'parameters."parameters.mobility"', "names a table"),
        ({}, "parameters", "at least one"),
    ],
)
def test_bad_parameter_ranges_name_the_field(baseline, parameters, field, message):
    with pytest.raises(InputError) as info:
        scenario_problem(parameters, baseline, source="sa.toml")
    assert (info.value.source, info.value.field) == ("sa.toml", field)
    assert message in info.value.message


def test_scenario_problem_knows_integer_fields_and_dotted_tables(baseline):
    problem = scenario_problem({"parameters": {"mobility": {"choice_set_size": [5, 15]}},
                                OUTSIDE: [2.5, 4.0]}, baseline)
    assert problem.names == ("parameters.mobility.choice_set_size", OUTSIDE)
    assert problem.integer == (True, False)


def write_spec(folder, body: str, name: str = "sa.toml", households: int = 300):
    path = folder / name
    if "base =" not in body:
        body = f'base = "{(SCENARIOS / "baseline.toml").as_posix()}"\n' + body
    head = "".join(f"{key} = {value}\n" for key, value in (
        ("years", 3), ("households", households), ("replications", 1), ("seed", 5),
        ("resamples", 50)) if not re.search(rf"^{key} =", body, re.M))
    path.write_text(head + body, encoding="utf-8")
    return path


RANGES = f'[parameters]\n"{OUTSIDE}" = [2.8, 3.8]\n"{IN_RATE}" = [0.08, 0.14]\n'


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("method = 'fast'\n" + RANGES, "method: Input should be 'morris', 'sobol' or 'both'"),
        ("levels = 3\n" + RANGES, "levels: must be even"),
        ("trajectorys = 4\n" + RANGES, "trajectorys: unknown key"),
        ("samples = 1\n" + RANGES, "samples: Input should be greater than or equal to 2"),
        ("outputs = []\n" + RANGES, "outputs: List should have at least 1 item"),
        ('outputs = ["population", "population"]\n' + RANGES, "outputs: a metric is listed"),
        ('base = "nowhere.toml"\n' + RANGES, "base: file not found: nowhere.toml"),
        ("method = 'morris\n", "not valid TOML"),
        ("method = 'morris'\n", "parameters: Field required"),
        ("last_years = 0\n" + RANGES, "last_years: Input should be greater than or equal to 1"),
    ],
)
def test_bad_spec_files_name_the_file_and_field(tmp_path, body, needle):
    spec = write_spec(tmp_path, body, name="bad_sa.toml")
    with pytest.raises(InputError) as info:
        run_spec(spec, out=tmp_path / "o")
    assert "bad_sa.toml" in info.value.source and needle in info.value.one_line()
    assert not (tmp_path / "o").exists()


def test_households_out_of_bounds(tmp_path):
    spec = write_spec(tmp_path, RANGES, households=0)
    with pytest.raises(InputError, match="households: Input should be greater than 0"):
        load_spec(spec)


def sensitivity_command(*args, timeout: int = 300):
    """``quartier sensitivity ...``."""
    return quartier("sensitivity", *args, timeout=timeout)


@pytest.mark.parametrize(
    ("body", "options", "needle"),
    [
        ('[parameters]\n"parameters.mobility.utility_outsid" = [2, 3]\n', (),
         'bad_sa.toml: parameters."parameters.mobility.utility_outsid": no such scenario '
         "field"),
        (f'[parameters]\n"{OUTSIDE}" = [3.8, 2.8]\n', (),
         f'bad_sa.toml: parameters."{OUTSIDE}": low must be below high (got [3.8, 2.8])'),
        ("samples = 100\n" + RANGES, (), "bad_sa.toml: samples: Sobol needs a power of 2"),
        ('outputs = ["segregation"]\n' + RANGES, (),
         "bad_sa.toml: outputs: unknown metric 'segregation'"),
        (RANGES, ("--samples", "48"), "--samples: Sobol needs a power of 2"),
        (RANGES, ("--method", "fast"), "--method: use morris, sobol or both"),
    ],
)
def test_bad_specs_exit_2_with_one_line_and_write_nothing(tmp_path, body, options, needle):
    spec = write_spec(tmp_path, body, name="bad_sa.toml")
    out = tmp_path / "o"
    proc = sensitivity_command(spec, "--out", out, "--workers", 1, *options)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    line = one_line_error(proc)
    assert line.startswith("error: ") and needle in line, line
    assert not out.exists()


# -- the model -------------------------------------------------------------------------------


def test_run_outputs_average_the_last_simulated_years():
    rows = []
    for run, shift in (("a", 0.0), ("b", 10.0)):
        for year, stock, flow in ((2023, 100.0, np.nan), (2024, 1.0, 0.1), (2025, 2.0, 0.2),
                                  (2026, 3.0, 0.3)):
            rows += [(run, year, "city", "population", stock + shift),
                     (run, year, "city", "out_migration_rate", flow),
                     (run, year, "Q01", "population", 999.0)]
    outcomes = pd.DataFrame(rows, columns=["run_id", "year", "scope", "metric", "value"])
    two = run_outputs(outcomes, ["population", "out_migration_rate"], last_years=2)
    assert two.loc["a"].tolist() == pytest.approx([2.5, 0.25])
    assert two.loc["b", "population"] == pytest.approx(12.5)
    # more years than simulated: every simulated year, never the start year (initial state)
    every = run_outputs(outcomes, ["population", "out_migration_rate", "unmet_care"],
                        last_years=10)
    assert every.loc["a"].tolist()[:2] == pytest.approx([2.0, 0.2])
    assert np.isnan(every.loc["a", "unmet_care"])


def test_model_evaluator_keeps_row_order_rounds_integers_and_shares_runs(tmp_path, baseline):
    problem = scenario_problem({"parameters.mobility.choice_set_size": [5, 15],
                                OUTSIDE: [2.5, 4.0]}, baseline)
    evaluate = ModelEvaluator(baseline, problem, ["population", "out_migration_rate"],
                               out=tmp_path / "e", years=1, households=200, seed=3)
    X = np.array([[5.4, 3.0], [14.6, 4.0], [5.4, 3.0]])
    Y = evaluate(X)
    assert Y.shape == (3, 2) and np.isfinite(Y).all()
    np.testing.assert_array_equal(Y[0], Y[2])
    assert not np.array_equal(Y[0], Y[1])
    points = evaluate.points
    assert len(points) == 2 and points["runs"].tolist() == [1, 1]
    assert points["parameters.mobility.choice_set_size"].tolist() == [5, 15]
    assert evaluate.runs == 2 and evaluate.simulated == 2
    assert len(stored_run_ids(tmp_path / "e")) == 2
    assert evaluate.base.outcomes.cell_snapshots is False
    assert evaluate.base.outcomes.per_quartier is False
    np.testing.assert_array_equal(evaluate(X[::-1]), Y[::-1])  # stored: nothing reruns
    assert evaluate.simulated == 0


def test_small_model_analysis_runs_resumes_and_repeats(tmp_path):
    spec = write_spec(tmp_path, "method = 'both'\nsamples = 4\ntrajectories = 2\n"
                      'outputs = ["dissimilarity_income_quartiers", "out_migration_rate"]\n'
                      + RANGES)
    out = tmp_path / "out"
    first = run_spec(spec, out=out, workers=1)
    s = first.settings
    assert s["design_rows"] == {"morris": 2 * 3, "sobol": 4 * 4}
    assert s["runs"] == s["design_points"] == s["simulated"] == len(stored_run_ids(out))
    for table, keys in ((first.morris, ["mu", "mu_star", "sigma"]),
                        (first.sobol, ["S1", "ST", "S1_conf", "ST_conf"])):
        assert len(table) == 2 * 2
        assert np.isfinite(table[keys].to_numpy(float)).all()
    assert np.isfinite(first.samples[["dissimilarity_income_quartiers",
                                      "out_migration_rate"]].to_numpy(float)).all()
    tables, settings = load_sensitivity(out)
    pd.testing.assert_frame_equal(tables["sobol"], first.sobol)
    assert settings["runs"] == s["runs"]

    again = run_spec(spec, out=out, workers=1)  # resumes: every run is stored
    assert again.settings["simulated"] == 0 and again.settings["runs"] == s["runs"]
    pd.testing.assert_frame_equal(again.sobol, first.sobol)
    pd.testing.assert_frame_equal(again.morris, first.morris)

    # the command in a fresh folder: same seed, the same tables; and the report
    fresh = tmp_path / "fresh"
    proc = sensitivity_command(spec, "--out", fresh, "--workers", 1, "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert f"{s['runs']} simulated, 0 already stored" in text and "Sobol indices" in text
    tables, _ = load_sensitivity(fresh)
    pd.testing.assert_frame_equal(tables["sobol"], first.sobol)
    pd.testing.assert_frame_equal(tables["morris"], first.morris)
    page = (fresh / "sensitivity.html").read_text(encoding="utf-8")
    assert "Sobol indices" in page and "Morris" in page and "Utility of leaving the city" in page


def test_report_figures(tmp_path):
    from dashboards.sensitivity import (
        morris_bars,
        morris_scatter,
        sobol_bars,
        sobol_heatmap,
        write_sensitivity_report,
    )

    ranges = {OUTSIDE: [2.3, 4.3], IN_RATE: [0.07, 0.15], "x": [0.0, 1.0]}

    def f(X):
        return np.c_[X[:, 0] + 0.1 * X[:, 1] * 20, np.ones(len(X))]

    s = sobol(f, ranges, samples=64, seed=1, resamples=50, outputs=["out_migration_rate",
                                                                     "unmet_care"])
    m = morris(f, ranges, trajectories=6, seed=1, resamples=50,
               outputs=["out_migration_rate", "unmet_care"])
    fig = sobol_bars(s, "out_migration_rate", lang="de")
    assert [t.name for t in fig.data] == ["S1 (allein)", "ST (mit Wechselwirkungen)"]
    order = list(fig.layout.yaxis.categoryarray)
    assert order[-1] == "Nutzen des Wegzugs aus der Stadt"  # largest ST on top
    assert order[0] == "x"
    with pytest.raises(ValueError):
        sobol_bars(s, "unmet_care")  # constant: no indices
    assert len(sobol_heatmap(s, lang="en").data) == 1
    assert len(morris_bars(m, "out_migration_rate").data) == 1
    assert len(morris_scatter(m, "out_migration_rate").data) == 2
    path = write_sensitivity_report({"sobol": s, "morris": m}, tmp_path / "r.html", "de")
    page = path.read_text(encoding="utf-8")
    assert "Sensitivitätsanalyse" in page and "Wegzugsrate" in page
    assert "Keine Indizes" in page  # the constant output's note


# -- lever effects and scales (issue: what the levers' effects depend on) -------------------

SPEC = SCENARIOS.parent / "calibration" / "sensitivity.toml"
SIMILAR = "parameters.mobility.utility_similar_neighbours"
WEIGHTS = ("parameters.choice.health_weight_old", "parameters.choice.health_weight_family",
           "parameters.choice.health_weight_other", "parameters.choice.school_weight")


def lever_file(folder, name: str, body: str = ""):
    """A lever scenario extending the baseline (``body``: its own settings)."""
    path = folder / f"{name}.toml"
    path.write_text(f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
                    f'name = "{name}"\ndescription = "test lever"\n{body}', encoding="utf-8")
    return path


FIELDS = ", ".join(f'"{f}"' for f in WEIGHTS)
EFFECTS_SPEC = f"""method = "sobol"
samples = 2
replications = 2
outputs = ["dissimilarity_income_quartiers"]
[parameters]
"{SIMILAR}" = [0.75, 2.25]
"{IN_RATE}" = [0.08, 0.14]
[scales.service_weights]
fields = [{FIELDS}]
range = [0.5, 2.0]
[[effects]]
scenario = "quota.toml"
label = "30-%-Quote"
outputs = ["dissimilarity_income_quartiers", "out_migrants_poor"]
[[effects]]
scenario = "nothing.toml"
label = "Nichts"
outputs = ["out_migrants", "dissimilarity_income_quartiers"]
[[effects]]
scenario = "own.toml"
outputs = ["out_migrants"]
"""


@pytest.fixture(scope="module")
def effects_run(tmp_path_factory):
    """A tiny analysis with three levers: the 30 % quota, one with no effect (the baseline
    under another name) and one setting a varied parameter itself."""
    folder = tmp_path_factory.mktemp("effects")
    lever_file(folder, "quota", "[levers.rent_mixing]\nfrom_year = 2025\n"
               "new_building_social_quota = 0.3\nspread_new_building = true\n"
               "social_share_target = 0.3\nmax_bindings_bought_per_year = 0.005\n")
    lever_file(folder, "nothing")
    lever_file(folder, "own", "[parameters.mobility]\nutility_similar_neighbours = 3.0\n")
    spec = write_spec(folder, EFFECTS_SPEC)
    return spec, run_spec(spec, out=folder / "out", workers=1)


def test_effect_outputs_are_lever_minus_baseline_with_the_same_seeds(effects_run):
    from calibration.lever_effects import effect_statistics
    from sim.experiments.store import load_store

    spec, result = effects_run
    out = spec.parent / "out"
    samples = result.samples
    # a lever with no effect: exactly 0 at every design point (common random numbers)
    for metric in ("out_migrants", "dissimilarity_income_quartiers"):
        assert (samples[f"effect:nothing:{metric}"] == 0.0).all()
    # the quota's effect is the paired difference of the stored runs, seed by seed
    experiments, outcomes = load_store(out)
    stats = effect_statistics(outcomes, ["dissimilarity_income_quartiers", "out_migrants_poor"])
    runs = experiments.set_index("run_id")[["scenario", "seed", "design_point"]].join(stats)
    base = runs[runs["scenario"].str.startswith("baseline-sa-")]
    quota = runs[runs["scenario"].str.startswith("quota-sa-")]
    assert sorted(base["seed"].unique()) == sorted(quota["seed"].unique()) == [5, 6]
    row = samples.iloc[0]
    b = base[base["scenario"] == row["scenario"]].set_index("seed")
    point = int(b["design_point"].iloc[0])
    q = quota[quota["design_point"] == point].set_index("seed")
    for metric in ("dissimilarity_income_quartiers", "out_migrants_poor"):
        expected = float((q[metric] - b[metric]).mean())
        assert row[f"effect:quota:{metric}"] == pytest.approx(expected, abs=1e-12)
    # flows are totals over the simulated years, D is the final year's
    city = outcomes[(outcomes["scope"] == "city") & (outcomes["metric"] == "out_migrants_poor")]
    run = b.index[0]
    run_id = experiments[(experiments["scenario"] == row["scenario"])
                         & (experiments["seed"] == run)]["run_id"].iloc[0]
    years = city[city["run_id"] == run_id]
    assert b.loc[run, "out_migrants_poor"] == pytest.approx(
        years[years["year"] > years["year"].min()]["value"].sum())


def test_a_levers_own_settings_win_over_the_design_point(effects_run):
    _, result = effects_run
    effects = {e["scenario"]: e for e in result.settings["effects"]}
    assert effects["own"]["own"] == [SIMILAR]
    assert effects["quota"]["own"] == [] and effects["nothing"]["own"] == []
    assert effects["quota"]["label"] == "30-%-Quote" and effects["own"]["label"] == "own"


def test_a_scale_multiplies_its_fields_and_is_one_factor(effects_run, baseline):
    _, result = effects_run
    s = result.settings
    assert "scale.service_weights" in s["parameters"]
    assert s["parameters"]["scale.service_weights"]["default"] == 1.0
    assert s["scales"]["scale.service_weights"]["fields"] == list(WEIGHTS)
    assert s["design_rows"] == {"sobol": 2 * (3 + 2)}  # d = 2 parameters + 1 scale
    from calibration.sensitivity import ModelEvaluator

    problem = Problem(names=(SIMILAR, "scale.service_weights"),
                      bounds=((0.75, 2.25), (0.5, 2.0)))
    evaluate = ModelEvaluator(baseline, problem, ["population"], out="unused",
                              scales={"scale.service_weights": WEIGHTS})
    values = evaluate.values([1.0, 2.0])
    choice = baseline.parameters.choice
    assert values == {SIMILAR: 1.0,
                      WEIGHTS[0]: 2 * choice.health_weight_old,
                      WEIGHTS[1]: 2 * choice.health_weight_family,
                      WEIGHTS[2]: 2 * choice.health_weight_other,
                      WEIGHTS[3]: 2 * choice.school_weight}


def test_sobol_reports_st_with_cis_for_the_effect_outputs(effects_run, tmp_path):
    from dashboards.sensitivity import output_label, write_sensitivity_report

    _, result = effects_run
    sobol = result.sobol
    quota = sobol[sobol["output"] == "effect:quota:dissimilarity_income_quartiers"]
    assert list(quota["parameter"]) == [SIMILAR, IN_RATE, "scale.service_weights"]
    assert np.isfinite(quota[["ST", "ST_low", "ST_high", "S1", "S1_low", "S1_high"]]
                       .to_numpy(float)).all()
    np.testing.assert_allclose(quota["ST_high"] - quota["ST"], quota["ST_conf"])
    # no variance in the effect of a lever with no effect: no indices, not an error
    assert sobol[sobol["output"].str.startswith("effect:nothing:")]["ST"].isna().all()
    levers = {"quota": "30-%-Quote"}
    assert output_label("effect:quota:out_migrants_poor", "de", levers) == (
        "Wirkung 30-%-Quote: Fortzüge Armutsgefährdeter (Summe der Jahre)")
    mvz = output_label("effect:mvz_hochfeld:out_migrants", "en", {"mvz_hochfeld": "MVZ Hochfeld"})
    assert mvz == "Effect of MVZ Hochfeld: out-migrants (total over the years)"
    assert output_label("effect:quota:dissimilarity_income_quartiers", "en", levers).endswith(
        "(final year)")
    for lang, title in (("de", "Wirkung 30-%-Quote: Segregation D arm/übrige (Quartiere)"),
                        ("en", "Effect of 30-%-Quote: segregation D poor/others (quartiers)")):
        page = write_sensitivity_report(result.tables, tmp_path / f"r_{lang}.html", lang,
                                        settings=result.settings).read_text(encoding="utf-8")
        assert title in page and ("ST 95 %-KI" if lang == "de" else "ST 95 % CI") in page


def test_the_command_prints_the_effect_tables(effects_run, tmp_path):
    spec, result = effects_run
    proc = sensitivity_command(spec, "--out", spec.parent / "out", "--workers", 1)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "0 simulated" in text  # every run was stored by the fixture
    assert ("Wirkung 30-%-Quote: Fortzüge Armutsgefährdeter (Summe der Jahre) / Effect of "
            "30-%-Quote: out-migrants at risk of poverty (total over the years)") in text


def test_the_spec_varies_what_drives_the_levers_effects(baseline):
    from calibration.sensitivity import spec_problem

    spec = load_spec(SPEC)
    problem, scales = spec_problem(spec, baseline, source="sensitivity.toml")
    for name in ("parameters.choice.utility_health", "parameters.choice.utility_school",
                 SIMILAR, "parameters.mobility.homophily_threshold", IN_RATE,
                 "parameters.migration.demand_vacancy_elasticity",
                 "parameters.housing.vacancy_reserve",
                 "parameters.kitas.kita_weight", "parameters.care_grades.tagespflege_home_share",
                 "parameters.jobs.pt_affordable_share", "parameters.services.gp_catchment_min",
                 "scale.service_weights"):
        assert name in problem.names, name
    assert scales["scale.service_weights"] == (WEIGHTS, (0.5, 2.0))
    assert [Path(e.scenario).stem for e in spec.effects] == ["mvz_hochfeld",
                                                             "rent_mix_quota_30"]
    assert spec.households is None  # the MVZ's cell needs the baseline's grid


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[[effects]]\nscenario = "nowhere.toml"\noutputs = ["out_migrants"]\n',
         "effects[0].scenario: file not found: nowhere.toml"),
        (f'[[effects]]\nscenario = "{(SCENARIOS / "mvz_hochfeld.toml").as_posix()}"\n'
         'outputs = ["out_migrants"]\n', "lies outside the grid"),
        ('[[effects]]\nscenario = "lever.toml"\noutputs = ["segregation"]\n',
         "outputs: unknown metric 'segregation'"),
        (f'[scales.w]\nfields = ["{OUTSIDE}"]\nrange = [0.5, 2.0]\n',
         "scales.w.fields: parameters.mobility.utility_outside is varied elsewhere"),
        ('[scales.w]\nfields = ["parameters.choice.school_weight"]\nrange = [2.0, 0.5]\n',
         "scales.w.range: low must be below high"),
    ],
)
def test_bad_effects_and_scales_name_the_field(tmp_path, body, needle):
    lever_file(tmp_path, "lever")
    spec = write_spec(tmp_path, RANGES + body, name="bad_sa.toml")
    with pytest.raises(InputError) as info:
        run_spec(spec, out=tmp_path / "o")
    assert "bad_sa.toml" in info.value.source and needle in info.value.one_line()
    assert not (tmp_path / "o").exists()
