"""Parameter uncertainty in comparisons: draws files, the combined interval, sim.compare and
quartier compare with --parameter-draws."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from calibration.abc import particles
from sim.errors import InputError
from sim.experiments.comparison import COMPARISON_COLUMNS
from sim.experiments.draws import (
    DRAW_EXTRA_COLUMNS,
    DRAW_SEED_STRIDE,
    combine_draws,
    read_draws,
    select_draws,
)

from .conftest import SCENARIOS
from .experiment_helpers import one_line_error, quartier, write_scenario

UTILITY = "parameters.mobility.utility_outside"
PARTNERS = "parameters.demography.partnership_rate"


def write_draws(path, rows: int = 3, weights=None, extra: dict | None = None):
    table = pd.DataFrame({"draw": range(rows), UTILITY: np.linspace(2.8, 3.6, rows),
                          PARTNERS: np.linspace(0.05, 0.15, rows)})
    if weights is not None:
        table.insert(1, "weight", weights)
    for key, value in (extra or {}).items():
        table[key] = value
    table.to_csv(path, index=False)
    return path


# -- the interval on synthetic data with a known answer ----------------------------------------


def synthetic(tau: float, sigma: float, draws: int, reps: int, trials: int, seed: int = 0):
    """Effects mu_d ~ N(0, tau^2) per draw, runs mu_d + N(0, sigma^2); the truth is one more
    draw from the same 'posterior'. Returns (combined table, truth)."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0.0, tau, (trials, draws))
    y = mu[:, :, None] + rng.normal(0.0, sigma, (trials, draws, reps))
    truth = rng.normal(0.0, tau, trials)
    per_draw = pd.DataFrame({
        "trial": np.repeat(np.arange(trials), draws), "draw": np.tile(np.arange(draws), trials),
        "mean": y.mean(axis=2).ravel(),
        "var": y.var(axis=2, ddof=1).ravel() if reps > 1 else np.nan, "n": reps})
    return combine_draws(per_draw, ["trial"]), truth


def coverage(table: pd.DataFrame, truth: np.ndarray) -> float:
    return float(((table["ci_low"] <= truth) & (truth <= table["ci_high"])).mean())


@pytest.mark.parametrize("tau, sigma, draws, reps, low, high", [
    (1.0, 0.0, 10, 3, 0.94, 0.96),   # parameters only: the prediction interval, exact
    (0.0, 1.0, 10, 3, 0.94, 0.97),   # noise only: the t-interval of the draw means
    (2.0, 1.0, 20, 5, 0.94, 0.96),   # parameters dominate
    (1.0, 1.0, 10, 3, 0.94, 0.99),   # mixed: conservative
    (1.0, 1.0, 20, 1, 0.95, 1.00),   # one replication: conservative
])
def test_the_combined_interval_covers_the_true_effect(tau, sigma, draws, reps, low, high):
    table, truth = synthetic(tau, sigma, draws, reps, trials=10_000)
    assert low <= coverage(table, truth) <= high


def test_the_noise_dominated_case_undercovers_as_documented_and_replications_help():
    """sigma^2 / R = 3 Var mu: about 88 % (the docstring says so); R = 10 restores 95 %."""
    few, truth = synthetic(1.0, 3.0, 20, 3, trials=10_000, seed=1)
    assert 0.85 <= coverage(few, truth) <= 0.91
    many, truth = synthetic(1.0, 3.0, 20, 10, trials=10_000, seed=1)
    assert coverage(many, truth) >= 0.94


def test_the_parametric_share_estimates_the_known_share():
    """Known: share = tau^2 (1 + 1/D) / (tau^2 (1 + 1/D) + sigma^2 / (D R))."""
    tau, sigma, draws, reps = 1.0, 2.0, 20, 4
    table, _ = synthetic(tau, sigma, draws, reps, trials=4000, seed=2)
    known = tau**2 * (1 + 1 / draws) / (tau**2 * (1 + 1 / draws) + sigma**2 / (draws * reps))
    assert table["parametric_share"].median() == pytest.approx(known, abs=0.02)
    assert ((table["parametric_share"] >= 0) & (table["parametric_share"] <= 1)).all()
    assert np.allclose(table["parametric_share"], table["var_parametric"]
                       / (table["var_parametric"] + table["var_stochastic"]))


def test_the_combined_interval_by_hand():
    """Two cases worked by hand.

    No spread between draws beyond the noise (draw means 1, 2, 3; within variances 6, so
    B = 1 <= W / R = 2): V_p = 0, T = B / D = 1/3, the t-interval of the draw means:
    half-width t(0.975, 2) * sqrt(1/3) = 4.302653 * 0.577350 = 2.484138, share 0.

    No noise (variances 0): V_p = B = 1, T = 1 + 1/3, half-width 4.302653 * sqrt(4/3) =
    4.968275, share 1.
    """
    per_draw = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 3, "draw": [0, 1, 2] * 2,
                             "mean": [1.0, 2.0, 3.0] * 2, "var": [6.0] * 3 + [0.0] * 3,
                             "n": 3})
    out = combine_draws(per_draw, ["g"]).set_index("g")
    assert out.loc["a", "difference"] == pytest.approx(2.0)
    assert out.loc["a", "half_width"] == pytest.approx(2.484138, abs=1e-6)
    assert out.loc["a", "parametric_share"] == 0.0
    assert out.loc["b", "half_width"] == pytest.approx(4.968275, abs=1e-6)
    assert out.loc["b", "parametric_share"] == pytest.approx(1.0)
    assert out.loc["b", "ci_low"] == pytest.approx(2.0 - 4.968275, abs=1e-6)
    assert stats.t.ppf(0.975, 2) == pytest.approx(4.302653, abs=1e-6)


# -- draws files ---------------------------------------------------------------------------------


def test_equal_weights_take_the_first_draws_and_weights_resample_reproducibly(tmp_path):
    table = read_draws(write_draws(tmp_path / "d.csv", rows=4))
    first = select_draws(table, 2)
    assert list(first["source_draw"]) == [0, 1] and list(first["draw"]) == [0, 1]
    weighted = read_draws(write_draws(tmp_path / "w.csv", rows=4, weights=[0, 0, 0.5, 0.5],
                                      extra={"seed": 7}))
    picked = select_draws(weighted, 4, seed=99)
    assert set(picked["source_draw"]) <= {2, 3}  # weight 0 is never drawn
    pd.testing.assert_frame_equal(picked, select_draws(weighted, 4, seed=1))  # the file's seed


def test_abc_particles_are_a_draws_file(tmp_path):
    table = particles([UTILITY, PARTNERS], [np.array([3.0, 3.2]), np.array([0.1, 0.12])],
                      np.array([1.0, 3.0]), seed=5)
    assert table["weight"].tolist() == [0.25, 0.75] and (table["seed"] == 5).all()
    table.to_csv(tmp_path / "calibration_draws.csv", index=False)
    back = read_draws(tmp_path / "calibration_draws.csv")
    assert list(back.columns) == ["draw", "weight", "seed", UTILITY, PARTNERS]


@pytest.mark.parametrize("content, field", [
    ("draw,parameters.mobility.nonsense\n0,1\n", "parameters.mobility.nonsense"),
    ("draw,name\n0,x\n", "name"),
    (f"draw,{UTILITY}\n0,abc\n", UTILITY),
    (f"draw,{UTILITY}\n0,3\n0,3.1\n", "draw"),
    (f"draw,weight,{UTILITY}\n0,-1,3\n", "weight"),
])
def test_bad_draws_files_name_the_file_and_the_field(tmp_path, content, field):
    path = tmp_path / "draws.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_draws(path)
    assert err.value.field == field and "draws.csv" in err.value.source


def test_more_draws_than_the_file_holds_is_an_error(tmp_path):
    table = read_draws(write_draws(tmp_path / "d.csv", rows=3))
    with pytest.raises(InputError, match="holds 3 draws, fewer than the 5"):
        select_draws(table, 5, source="d.csv")


# -- sim.compare -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair(baseline):
    small = {"city.households": 200, "years": 1, "outcomes.cell_snapshots": False}
    base = baseline.with_values({**small, "name": "base"})
    policy = sim.load_scenario(SCENARIOS / "rent_mix_quota_30.toml").with_values(
        {**small, "name": "policy"})
    return base, policy


@pytest.fixture(scope="module")
def over_draws(pair, tmp_path_factory):
    folder = tmp_path_factory.mktemp("draws")
    draws = write_draws(folder / "d.csv", rows=3)
    base, policy = pair
    result = sim.compare(base, [policy], out=folder / "a", replications=2, parameter_draws=2,
                         draws_file=draws, seed=3)
    return folder, draws, result


def test_compare_over_draws_runs_each_draw_with_common_random_numbers(over_draws):
    folder, _, result = over_draws
    table = result.table
    assert list(table.columns) == [*COMPARISON_COLUMNS, *DRAW_EXTRA_COLUMNS]
    assert (table["interval"] == "parameter+stochastic").all()
    final = table[(table["scope"] == "city") & (table["year"] == table["year"].max())]
    assert (final["draws"] == 2).all() and (final["replications"] == 2).all()
    assert result.parameter_draws == 2 and len(result.draws) == 2
    experiments, _ = sim.results.load(folder / "a")
    seeds = experiments.groupby("scenario")["seed"].apply(sorted).to_dict()
    assert seeds["base@draw000"] == seeds["policy@draw000"] == [3, 4]
    assert seeds["base@draw001"] == [3 + DRAW_SEED_STRIDE, 4 + DRAW_SEED_STRIDE]
    values = json.loads(experiments.set_index("scenario").loc["policy@draw001",
                                                              "parameters"].iloc[0])
    assert values["parameters"]["mobility"]["utility_outside"] == pytest.approx(3.2)
    city = table[(table["scope"] == "city") & (table["metric"] == "population")]
    assert (city["ci_low"] <= city["difference"]).all()
    assert (city["difference"] <= city["ci_high"]).all()
    assert (folder / "a" / "parameter_draws.csv").exists()
    assert (folder / "a" / "comparison_draws.parquet").exists()


def test_compare_over_draws_is_deterministic(over_draws, pair):
    folder, draws, first = over_draws
    base, policy = pair
    again = sim.compare(base, [policy], out=folder / "b", replications=2, parameter_draws=2,
                        draws_file=draws, seed=3)
    assert again.runs_done == 8
    pd.testing.assert_frame_equal(first.table, again.table)


def test_compare_without_draws_is_unchanged(pair, tmp_path):
    base, policy = pair
    result = sim.compare(base, [policy], out=tmp_path / "plain", replications=2)
    assert list(result.table.columns) == COMPARISON_COLUMNS
    assert result.parameter_draws is None and result.interval == "stochastic"
    assert not (tmp_path / "plain" / "parameter_draws.csv").exists()


def test_the_report_says_which_kind_of_interval(over_draws):
    from dashboards.data import load_results
    from dashboards.report import build_report, key_table

    folder, _, _ = over_draws
    results = load_results(folder / "a")
    assert results.baseline == "base" and results.scenarios == ["base", "policy"]
    assert "Param. share" in key_table(results, "en").columns
    html = build_report(results, "en")
    assert "parameter and stochastic uncertainty combined" in html


# -- quartier compare ---------------------------------------------------------------------


def write_policy(folder):
    path = folder / "policy.toml"
    path.write_text(f'extends = "{(SCENARIOS / "rent_mix_quota_30.toml").as_posix()}"\n'
                    'name = "policy"\nyears = 1\n[city]\nhouseholds = 200\n', encoding="utf-8")
    return path


def test_the_command_over_draws(tmp_path):
    base = write_scenario(tmp_path, "base", "years = 1", households=200)
    policy = write_policy(tmp_path)
    draws = write_draws(tmp_path / "d.csv", rows=2)
    proc = quartier("compare", base, policy, "-r", 2, "--parameter-draws", 2, "--draws", draws,
                    "-w", 1, "--out", tmp_path / "o")
    assert proc.returncode == 0, proc.stderr
    assert "2 parameter draws x 2 paired replications" in proc.stdout
    assert "Param." in proc.stdout and "parameter + stochastic" in proc.stdout
    table = pd.read_csv(tmp_path / "o" / "comparison.csv")
    assert set(DRAW_EXTRA_COLUMNS) <= set(table.columns)


@pytest.mark.parametrize("args, expected", [
    (["--parameter-draws", 2, "--draws", "missing.csv"], "missing.csv: file not found"),
    (["--parameter-draws", 9, "--draws", "d.csv"], "d.csv: draw: holds 3 draws"),
    (["--parameter-draws", 1, "--draws", "bad.csv"],
     "bad.csv: parameters.mobility.nonsense: no such scenario parameter"),
])
def test_bad_draws_options_give_one_line_and_status_2(tmp_path, args, expected):
    base = write_scenario(tmp_path, "base", "years = 1", households=200)
    write_draws(tmp_path / "d.csv", rows=3)
    (tmp_path / "bad.csv").write_text("draw,parameters.mobility.nonsense\n0,1\n")
    proc = quartier("compare", base, write_policy(tmp_path), *args, "--out", tmp_path / "o",
                    cwd=tmp_path)
    assert proc.returncode == 2
    assert expected in one_line_error(proc)


@pytest.mark.parametrize("options, expected", [
    ({"parameter_draws": 2}, "--draws: --parameter-draws needs a draws file"),
    ({"draws_file": "d.csv"}, "--draws: only with --parameter-draws"),
    ({"parameter_draws": 2, "draws_file": "d.csv", "replications": "auto", "precision": "1%"},
     "--replications: 'auto' does not work with --parameter-draws"),
])
def test_bad_draws_options_of_the_api(pair, tmp_path, options, expected):
    base, policy = pair
    with pytest.raises(InputError) as err:
        sim.compare(base, [policy], out=tmp_path / "o", **options)
    assert err.value.one_line().startswith(expected)
