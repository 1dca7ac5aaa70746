"""Essen 2011-2022: the 1 km segregation metrics, the census-derived targets and the
validation against the Essen targets table."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from calibration import essen_targets
from calibration.moments import load_targets, run_statistics, targets_file
from calibration.validation import compare, default_targets_file, validate
from sim.model import segregation as seg
from tests.experiment_helpers import quartier

ROOT = Path(__file__).resolve().parents[1]
ESSEN_TARGETS = targets_file().with_name("essen_targets.csv")


# -- the metric ----------------------------------------------------------------------------------


def brute_force(persons: dict[tuple[int, int], float], group: dict[tuple[int, int], float]):
    """D and Moran's I (queen, row-standardised, esda's handling of islands) over squares
    given as {(col, row): count}, written out term by term."""
    keys = sorted(k for k, v in persons.items() if v > 0)
    t = np.array([persons[k] for k in keys])
    g = np.array([group.get(k, 0.0) for k in keys])
    d = 0.5 * sum(abs(gi / g.sum() - (ti - gi) / (t.sum() - g.sum())) for gi, ti in
                  zip(g, t, strict=True))
    y = g / t
    z = y - y.mean()
    n = len(keys)
    w = np.zeros((n, n))
    for i, (a, b) in enumerate(keys):
        for j, (c, e) in enumerate(keys):
            if i != j and abs(a - c) <= 1 and abs(b - e) <= 1:
                w[i, j] = 1.0
    rows = w.sum(axis=1)
    w[rows > 0] /= rows[rows > 0, None]
    s0 = w.sum()
    moran = n / s0 * (z @ w @ z) / (z @ z)
    return d, moran


def test_squares_and_indices_equal_a_brute_force_count():
    """On an EPSG:3035-like grid whose origin is not on a kilometre, cells go to the census
    1 km cell of their centre; D and Moran's I equal the term-by-term formulas."""
    rng = np.random.default_rng(5)
    width, height, ox, oy = 37, 23, 4_105_300.0, 3_141_800.0
    total = rng.integers(0, 30, width * height).astype(float)
    total[rng.random(total.size) < 0.3] = 0.0
    group = np.floor(total * rng.random(total.size))
    square, n_cols, n_rows = seg.squares(width, height, 100.0, ox, oy)
    d, moran = seg.over_squares(group, total, square, n_cols, n_rows)
    persons, members = {}, {}
    for c in range(width * height):
        x = ox + (c % width + 0.5) * 100
        y = oy + (c // width + 0.5) * 100
        key = (int(x // 1000), int(y // 1000))
        persons[key] = persons.get(key, 0.0) + total[c]
        members[key] = members.get(key, 0.0) + group[c]
    assert len(persons) == n_cols * n_rows
    want_d, want_i = brute_force(persons, members)
    assert d == pytest.approx(want_d, abs=1e-12)
    assert moran == pytest.approx(want_i, abs=1e-12)
    # the model's compiled pass over its cell table gives the same bits
    table = np.zeros((total.size, 5), np.int64)
    table[:, 0] = total - group  # poor, middle, high add up to the persons
    table[:, 1] = group
    table[:, 3] = group
    assert seg.origin_over_squares(table, square, n_cols, n_rows) == (d, moran)


def test_the_model_records_the_1km_indices_of_its_population():
    """The synthetic city (origin 0, 0): squares are 10 x 10 blocks of its 100 m cells; the
    recorded start values equal a brute-force count of the households."""
    scenario = sim.load_scenario(ROOT / "scenarios" / "baseline.toml").with_values(
        {"city.households": 600, "outcomes.cell_snapshots": False})
    model = sim.build_model(scenario, seed=3)
    out = model.outcomes()
    city = out[out["scope"] == "city"].set_index("metric")["value"]
    pop, c = model.population, model.city
    cell = c.dwelling_cell[pop.dwelling].astype(int)
    size = pop.household_size().astype(float)
    persons, members = {}, {}
    for k, s, b in zip(cell, size, pop.migration_background, strict=True):
        key = (int(k % c.width) // 10, int(k // c.width) // 10)
        persons[key] = persons.get(key, 0.0) + s
        members[key] = members.get(key, 0.0) + s * b
    want_d, want_i = brute_force(persons, members)
    assert city["dissimilarity_origin_1km"] == pytest.approx(want_d, abs=1e-12)
    assert city["morans_i_origin_1km"] == pytest.approx(want_i, abs=1e-12)
    quartiers = out[(out["scope"] != "city") & (out["metric"] == "dissimilarity_origin_1km")]
    assert quartiers["value"].isna().all()


# -- the census-derived values -------------------------------------------------------------------


def test_census_values_are_reproduced_and_stand_in_the_targets_table():
    values = essen_targets.census_values()
    assert values["dissimilarity_origin_1km"] == pytest.approx(0.2835, abs=5e-5)
    assert values["morans_i_origin_1km"] == pytest.approx(0.4848, abs=5e-5)
    assert values["dissimilarity_origin_quartiers"] == pytest.approx(0.2553, abs=5e-5)
    km = essen_targets.km_cells()
    assert km["residents"].sum() == pytest.approx(564_009, abs=1)  # the bundle README's sum
    left_out = km[(km["residents"] > 0) & km["foreign_share"].isna()]
    assert len(left_out) == 4 and left_out["residents"].sum() == pytest.approx(61, abs=1)
    counts = essen_targets.stadtteil_counts()
    assert len(counts) == 50
    assert counts["residents"].sum() == pytest.approx(
        km.loc[km["foreign_share"].notna(), "residents"].sum(), rel=1e-9)
    for t in load_targets(ESSEN_TARGETS):
        if t.derivation.startswith("python -m calibration.essen_targets"):
            name = t.derivation.split()[-1]
            assert t.observed == round(values[name], 3), t.key


# -- the targets table and the validation --------------------------------------------------------


def test_the_essen_table_has_roles_and_calendar_years():
    targets = load_targets(ESSEN_TARGETS)
    keys = [t.key for t in targets]
    assert len(set(keys)) == len(keys)
    assert {t.role for t in targets} == {"fitted", "held out", "input"}
    for t in targets:
        if t.year is not None and t.year >= 2018:
            assert t.role == "held out", t.key
        if t.year is not None and t.year <= 2017:
            assert t.role == "fitted", t.key
    assert {"population", "population_2022", "population_2019", "in_migrants_per_1000_2017",
            "out_migrants_per_1000_2017", "dissimilarity_origin_1km",
            "dissimilarity_origin_1km_2022", "dissimilarity_origin_quartiers",
            "morans_i_origin_1km", "out_migrants_housing_share"} <= set(keys)
    with ESSEN_TARGETS.open(encoding="utf-8") as handle:
        assert next(csv.reader(handle))[-1] == "role"


def test_targets_follow_the_city():
    essen = sim.load_scenario(ROOT / "scenarios" / "essen.toml")
    baseline = sim.load_scenario(ROOT / "scenarios" / "baseline.toml")
    assert default_targets_file(essen) == ESSEN_TARGETS
    assert default_targets_file(baseline) == targets_file()


def _outcomes(run_id: str, start: int, years: int, shift: float) -> pd.DataFrame:
    """City outcomes of a made-up run from ``start - 1`` (the start state)."""
    rows = []
    for k, year in enumerate(range(start - 1, start + years)):
        values = {"population": 10_000 + 100 * k, "in_migrants": 590 + shift,
                  "out_migrants": 560, "share_migration_background": 0.2 + 0.02 * k,
                  "dissimilarity_origin_1km": 0.29 + shift / 1000,
                  "morans_i_origin_1km": 0.5, "dissimilarity_origin_quartiers": 0.26,
                  "owner_occupied_share": 0.323, "vacancy_rate": 0.04 - 0.001 * k,
                  "mean_rent_burden": 0.275 - 0.005 * k, "share_under_18": 0.15 + 0.001 * k,
                  "net_migration_rate_18_29": 40.0 - k, "net_migration_rate_30_49": -k + shift,
                  "relet_rent_m2": 7.0 * 1.03 ** k if k else 99.0}  # the start: not compared
        for cause in ("rent", "crowding", "no_dwelling", "other"):
            values[f"out_migrants_cause_{cause}"] = 140
        rows += [{"run_id": run_id, "year": year, "scope": "city", "metric": m, "value": v}
                 for m, v in values.items()]
    return pd.DataFrame(rows)


def test_calendar_year_targets_compare_their_year():
    targets = load_targets(ESSEN_TARGETS)
    outcomes = pd.concat([_outcomes("a", 2011, 12, 0.0), _outcomes("b", 2011, 12, 2.0)])
    vital = pd.DataFrame(columns=["run_id", "sex", "age", "exposure", "deaths", "births"])
    per_run = run_statistics(outcomes, vital, targets, scale=0.02)
    assert per_run.loc["a", "population"] == pytest.approx(10_000 / 0.02)
    assert per_run.loc["a", "population_2022"] == pytest.approx(11_200 / 0.02)
    assert per_run.loc["a", "in_migrants_per_1000_2017"] == pytest.approx(590 / 10_700 * 1000)
    assert per_run.loc["a", "share_migration_background_2019"] == pytest.approx(0.2 + 0.18)
    assert per_run.loc["a", "out_migrants_housing_share"] == pytest.approx(0.75)
    assert per_run.loc["a", "vacancy_rate_2017"] == pytest.approx(0.04 - 0.001 * 7)
    assert per_run.loc["a", "mean_rent_burden_2022"] == pytest.approx(0.275 - 0.005 * 12)
    assert per_run.loc["a", "share_under_18_2017"] == pytest.approx(0.15 + 0.001 * 7)
    assert per_run.loc["a", "net_migration_rate_18_29_2017"] == pytest.approx(40.0 - 7)
    assert per_run.loc["b", "net_migration_rate_30_49_2021"] == pytest.approx(-11.0 + 2.0)
    assert per_run.loc["a", "relet_rent_growth"] == pytest.approx(0.03)  # over 2011-2022
    table = compare(per_run, targets).set_index("target")
    assert list(table.index) == [t.key for t in targets]
    assert table["role"].isin(["fitted", "held out", "input"]).all()
    assert table["passed"].notna().all()
    assert not table.loc["owner_occupied_share", "passed"]  # 32.3 % against 25.6 %
    short = run_statistics(_outcomes("a", 2011, 3, 0.0), vital, targets)
    assert math.isnan(short.loc["a", "population_2022"])  # a year the run does not reach


@pytest.mark.slow
def test_validate_a_small_essen_run(tmp_path):
    """A small copy of Essen over 2011-2022: every target row has a role and pass or miss."""
    out = tmp_path / "val"
    result = quartier("validate", ROOT / "scenarios" / "essen.toml", "--out", out,
                      "--households", 1500, "--years", 12, "--replications", 2,
                      "--workers", 1, "--lang", "en")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "validation.csv")
    assert list(table["target"]) == [t.key for t in load_targets(ESSEN_TARGETS)]
    assert table["role"].isin(["fitted", "held out", "input"]).all()
    assert table["passed"].notna().all() and table["simulated"].notna().all()
    assert "essen_targets.csv" in (out / "validation.html").read_text(encoding="utf-8")
    assert "targets within tolerance" in result.stdout


@pytest.mark.slow
def test_validate_function_on_essen(tmp_path):
    scenario = sim.load_scenario(ROOT / "scenarios" / "essen.toml")
    result = validate(scenario, out=tmp_path / "v", replications=2, years=1, households=1500)
    assert result.targets_source == "calibration/targets/essen_targets.csv"  # by the city
    table = result.table.set_index("target")
    assert 0.0 < result.scale < 0.01
    # the start population is scaled up to the whole city
    assert table.loc["population", "simulated"] == pytest.approx(566_201, rel=0.02)
    assert table.loc["population_2022"].isna()["passed"]  # one year: 2022 not reached


def test_the_outflow_diagnostic_watches_without_changing_the_run():
    """``python -m calibration.outflow``: the watched run's outcomes are a plain run's, and its
    table counts every searcher once (with and without a dwelling; in the start dwelling or
    moved since)."""
    from calibration.outflow import observe

    scenario = sim.load_scenario(ROOT / "scenarios" / "baseline.toml").with_values(
        {"city.households": 600, "years": 4})
    table, watched = observe(scenario, seed=3)
    plain = sim.build_model(scenario, seed=3).run(4).outcomes()
    pd.testing.assert_frame_equal(watched, plain, check_exact=True)
    assert list(table["year"]) == list(range(scenario.start_year, scenario.start_year + 4))
    assert (table["searchers"] == table["without_dwelling"] + table["in_start_dwelling"]
            + table["moved_since"]).all()
    assert table["outside_share"].between(0, 1).all() and (table["searchers"] > 0).all()
    out = watched[(watched["scope"] == "city") & (watched["metric"] == "out_migrants")]
    assert (out["value"].dropna() > 0).all()


def test_the_outflow_diagnostic_prints_more_metrics_on_request(capsys):
    from calibration.outflow import main

    base = str(ROOT / "scenarios" / "baseline.toml")
    main(["--scenario", base, "--households", "300", "--set", "years=2",
          "--metrics", "relet_rent_m2,dissimilarity_income_cells"])
    lines = capsys.readouterr().out.splitlines()
    head = [c.strip() for c in lines[1].strip("|").split("|")]
    assert head[-2:] == ["relet_rent_m2", "dissimilarity_income_cells"]
    assert len(lines) == 3 + 2  # title, head, rule, two years
    rent = float(lines[-1].strip("|").split("|")[-2])
    assert 3.0 < rent < 30.0  # EUR per m², printed with decimals
    with pytest.raises(SystemExit, match="unknown metric 'segregation'"):
        main(["--scenario", base, "--households", "300", "--metrics", "segregation"])
