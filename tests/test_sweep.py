"""Research sweeps: designs, validation of sweep files, the API and the command."""

from __future__ import annotations

import pytest

import sim
from sim.errors import InputError
from sim.experiments.results import load
from sim.experiments.sweeps import design_points, point_name

from .experiment_helpers import one_line_error, quartier, write_scenario, write_sweep

RATE = "parameters.migration.in_migration_rate"
TFR = "parameters.demography.total_fertility_rate"


def test_grid_is_the_cartesian_product(baseline):
    points = design_points(baseline, {RATE: [0.04, 0.05, 0.06], "city.households": [100, 200]})
    assert len(points) == 6
    assert points[0] == {RATE: 0.04, "city.households": 100}
    assert points[-1] == {RATE: 0.06, "city.households": 200}
    assert {(p[RATE], p["city.households"]) for p in points} == {
        (r, h) for r in (0.04, 0.05, 0.06) for h in (100, 200)}


@pytest.mark.parametrize("design", ["lhs", "sobol"])
def test_sampled_designs_stay_in_range_round_integers_and_repeat(baseline, design):
    params = {RATE: [0.04, 0.07], "city.households": [100, 400]}
    points = design_points(baseline, params, design=design, samples=16, seed=3)
    assert len(points) == 16
    rates = [p[RATE] for p in points]
    households = [p["city.households"] for p in points]
    assert all(0.04 <= r <= 0.07 for r in rates) and all(100 <= h <= 400 for h in households)
    assert all(isinstance(h, int) for h in households)
    assert len(set(rates)) == 16  # continuous values, no duplicates
    assert points == design_points(baseline, params, design=design, samples=16, seed=3)
    assert points != design_points(baseline, params, design=design, samples=16, seed=4)
    if design == "lhs":  # one point per sixteenth of each range: the Latin hypercube property
        strata = sorted(int((r - 0.04) / 0.03 * 16) for r in rates)
        assert strata == list(range(16))


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"parameters": {"parameters.migration.in_migrate_rate": [0.1]}},
         'parameters."parameters.migration.in_migrate_rate"', "no such scenario field"),
        ({"parameters": {"city": [1]}}, 'parameters."city"', "names a table"),
        ({"parameters": {RATE: []}}, f'parameters."{RATE}"', "empty list"),
        ({"parameters": {RATE: [0.1, 0.05]}, "design": "lhs", "samples": 4},
         f'parameters."{RATE}"', "low must be below high"),
        ({"parameters": {RATE: [0.1]}, "design": "lhs", "samples": 4},
         f'parameters."{RATE}"', "needs a range [low, high]"),
        ({"parameters": {RATE: [0.01, 0.1]}, "design": "sobol", "samples": 6}, "samples",
         "power of 2"),
        ({"parameters": {RATE: [0.01, 0.1]}, "design": "lhs"}, "samples", "needs samples"),
        ({"parameters": {RATE: [0.01]}, "samples": 3}, "samples", "only for lhs and sobol"),
        ({"parameters": {RATE: [0.01]}, "design": "factorial"}, "design", "unknown design"),
        ({"parameters": {RATE: [0.01, -0.1]}}, f'parameters."{RATE}"',
         "greater than or equal to 0"),
        ({"parameters": {"parameters.demography.life_table_period": ["2020/22", "1999"]}},
         'parameters."parameters.demography.life_table_period"', "Input should be"),
        ({"parameters": {"parameters.demography.life_table_period": ["a", "b"]},
          "design": "lhs", "samples": 2},
         'parameters."parameters.demography.life_table_period"', "needs a numeric field"),
        ({"parameters": {"name": ["a"]}}, 'parameters."name"', "set by the sweep"),
        ({"parameters": {}}, "parameters", "at least one"),
    ],
)
def test_bad_designs_name_the_field(baseline, kwargs, field, message):
    with pytest.raises(InputError) as info:
        design_points(baseline, source="my_sweep.toml", **kwargs)
    assert info.value.source == "my_sweep.toml"
    assert info.value.field == field
    assert message in info.value.message


def test_unquoted_dotted_keys_mean_the_same(tmp_path, baseline):
    from sim.experiments.sweeps import load_sweep_file

    quoted = write_sweep(tmp_path, f'[parameters]\n"{RATE}" = [0.04, 0.05]\n', name="q.toml")
    bare = write_sweep(tmp_path, f"[parameters]\n{RATE} = [0.04, 0.05]\n", name="b.toml")
    a, b = load_sweep_file(quoted), load_sweep_file(bare)
    assert design_points(baseline, a.parameters) == design_points(baseline, b.parameters)


def test_point_names():
    assert point_name("baseline", 7, 16) == "baseline-007"
    assert point_name("b", 1234, 2000) == "b-1234"


def test_sweep_api_returns_experiments_and_outcomes(tmp_path, baseline):
    base = baseline.with_values({"city.households": 200})
    experiments, outcomes = sim.sweep(base, {TFR: [1.2, 1.8]}, replications=2, years=2,
                                      out=tmp_path / "s")
    assert len(experiments) == 4
    assert sorted(experiments[TFR]) == [1.2, 1.2, 1.8, 1.8]
    assert sorted(experiments["scenario"].unique()) == ["baseline-000", "baseline-001"]
    assert sorted(experiments["seed"]) == [1, 1, 2, 2]  # replicate r: seed 1 + r everywhere
    assert set(outcomes["run_id"]) == set(experiments["run_id"])
    assert sorted(outcomes["year"].unique()) == [2023, 2024, 2025]
    merged = outcomes.merge(experiments[["run_id", TFR]], on="run_id")
    births = merged[(merged.metric == "births") & (merged.scope == "city")].groupby(TFR)["value"]
    assert births.sum()[1.8] > births.sum()[1.2]


def test_sweep_over_years_and_households_keeps_runs_apart(tmp_path, baseline):
    """The horizon is part of a run's identity: 1- and 2-year runs of a point never collide."""
    base = baseline.with_values({"city.households": 150})
    experiments, outcomes = sim.sweep(base, {"years": [1, 2], "city.households": [150, 160]},
                                      out=tmp_path / "y")
    assert len(experiments) == 4 and experiments["run_id"].is_unique
    assert sorted(experiments["years"]) == [1, 1, 2, 2]
    last = outcomes.groupby("run_id")["year"].max()
    assert sorted(last) == [2024, 2024, 2025, 2025]


def test_sweep_command(tmp_path):
    sweep = write_sweep(tmp_path, f'''
design = "lhs"
samples = 3
replications = 2
years = 2
seed = 5
[parameters]
"{RATE}" = [0.03, 0.08]
"city.households" = [150, 250]
''')
    out = tmp_path / "out"
    proc = quartier("sweep", sweep, "--out", out, "--workers", 1)
    assert proc.returncode == 0, proc.stderr
    assert "6 runs (3 design points x 2 replications): 6 simulated, 0 already stored" in (
        " ".join(proc.stdout.split()))
    experiments, outcomes = load(out)
    assert len(experiments) == 6 and set(experiments["seed"]) == {5, 6}
    assert experiments["command"].str.startswith("quartier sweep").all()
    assert experiments["city.households"].between(150, 250).all()
    again = quartier("sweep", sweep, "--out", out, "--workers", 1)
    assert again.returncode == 0, again.stderr
    assert "0 simulated, 6 already stored" in " ".join(again.stdout.split())


def test_sweep_file_relative_base(tmp_path):
    write_scenario(tmp_path, "small", households=150)
    sweep = write_sweep(tmp_path, 'base = "small.toml"\nyears = 1\n'
                        '[parameters]\n"city.households" = [150, 160]\n')
    proc = quartier("sweep", sweep, "--out", tmp_path / "o", "--workers", 1, "--quiet")
    assert proc.returncode == 0, proc.stderr
    experiments, _ = load(tmp_path / "o")
    assert sorted(experiments["scenario"]) == ["small-000", "small-001"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[parameters]\n"parameters.migration.in_migrate_rate" = [0.1, 0.2]\n',
         'parameters."parameters.migration.in_migrate_rate": no such scenario field'),
        (f'[parameters]\n"{RATE}" = []\n', f'parameters."{RATE}": empty list'),
        (f'design = "lhs"\nsamples = 4\n[parameters]\n"{RATE}" = []\n',
         f'parameters."{RATE}": empty range'),
        (f'design = "lhs"\nsamples = 4\n[parameters]\n"{RATE}" = [0.2, 0.1]\n',
         "low must be below high"),
        (f'design = "random"\n[parameters]\n"{RATE}" = [0.1]\n',
         "design: Input should be 'grid', 'lhs' or 'sobol'"),
        (f'desing = "lhs"\n[parameters]\n"{RATE}" = [0.1]\n', "desing: unknown key"),
        ('design = "grid"\n', "parameters: Field required"),
        (f'replications = 0\n[parameters]\n"{RATE}" = [0.1]\n', "replications: Input should"),
        (f'[parameters]\n"{RATE}" = "0.1"\n', "give a list of values"),
        (f'base = "nowhere.toml"\n[parameters]\n"{RATE}" = [0.1]\n',
         "base: file not found: nowhere.toml"),
        ('design = "lhs\n', "not valid TOML"),
    ],
)
def test_bad_sweep_files_exit_2_with_one_line(tmp_path, body, needle):
    sweep = write_sweep(tmp_path, body, name="bad_sweep.toml")
    proc = quartier("sweep", sweep, "--out", tmp_path / "o", "--workers", 1)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    line = one_line_error(proc)
    assert line.startswith("error: ") and "bad_sweep.toml" in line and needle in line, line
    assert not (tmp_path / "o" / "runs").exists() or not any((tmp_path / "o" / "runs").iterdir())


def test_missing_sweep_file(tmp_path):
    proc = quartier("sweep", tmp_path / "none.toml", "--out", tmp_path / "o")
    assert proc.returncode == 2
    assert "none.toml: file not found" in one_line_error(proc)


def test_sweep_rejects_bad_replications(tmp_path, baseline):
    with pytest.raises(InputError, match="replications"):
        sim.sweep(baseline, {TFR: [1.2]}, replications=0, out=tmp_path / "x")


def test_sweep_returns_only_its_own_runs(tmp_path, baseline):
    base = baseline.with_values({"city.households": 150})
    sim.sweep(base.with_values({"name": "a"}), {TFR: [1.2]}, years=1, out=tmp_path / "s")
    experiments, outcomes = sim.sweep(base.with_values({"name": "b"}), {TFR: [1.2, 1.3]},
                                      years=1, out=tmp_path / "s")
    assert sorted(experiments["scenario"]) == ["b-000", "b-001"]
    assert set(outcomes["run_id"]) == set(experiments["run_id"])
    everything, _ = load(tmp_path / "s")
    assert sorted(everything["scenario"]) == ["a-000", "b-000", "b-001"]
