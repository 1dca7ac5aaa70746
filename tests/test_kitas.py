"""Kitas: take-up and wish, the assignment by distance and capacity, the lever, the coverage at
the start against NRW's Betreuungsquote, and the education outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.errors import InputError
from sim.model.processes.kitas import (
    KitaState,
    assign,
    group_take_up,
    nearest_kitas,
    take_up,
    wish_rate,
)
from sim.model.processes.schools import nearest_schools
from sim.scenario.kita_parameters import KitaParameters
from sim.scenario.levers import KitaLever
from tests.conftest import ROOT, SCENARIOS

CHILDCARE = ROOT / "calibration" / "targets" / "childcare.csv"


def nrw_rate(group: str, date: str) -> float:
    t = pd.read_csv(CHILDCARE)
    row = t[(t.region == "NRW") & (t.indicator == "childcare_rate_Betreuungsquote")
            & (t.group == group) & (t.date == date)]
    assert len(row) == 1
    return float(row.value.iloc[0]) / 100.0


def test_take_up_defaults_are_nrw_2022_and_their_mean_is_the_under3_rate():
    kp = KitaParameters()
    t = pd.read_csv(CHILDCARE)
    single = t[(t.region == "NRW") & (t.indicator == "childcare_rate_by_single_age")]
    by_age = dict(zip(single.group, single.value / 100.0, strict=True))
    assert kp.take_up_by_age_under3 == pytest.approx((by_age["<1"], by_age["1"], by_age["2"]))
    assert kp.take_up_3to6 == pytest.approx(nrw_rate("3 to <6", "2022-03-01"))
    assert take_up(np.arange(3), kp).mean() == pytest.approx(nrw_rate("<3", "2022-03-01"),
                                                            abs=0.001)


def test_synthesised_places_follow_the_age_groups_rate_not_the_mix_of_single_ages():
    """Places are planned per age group: with more infants than two-year-olds (as in the start
    population, about 515 / 439 / 410 at ages 0 / 1 / 2, seed 1, 20,000 households) the
    under-3 places are still NRW's under-3 rate times the children under 3."""
    kp = KitaParameters()
    age = np.array([0] * 515 + [1] * 439 + [2] * 410 + [3] * 300 + [5] * 400 + [6] * 50)
    rate = group_take_up(age, kp)
    assert rate[age < 3].sum() / (age < 3).sum() == pytest.approx(
        nrw_rate("<3", "2022-03-01"), abs=0.001)
    assert take_up(age, kp)[age < 3].mean() < nrw_rate("<3", "2022-03-01") - 0.02
    assert np.all(rate[(age >= 3) & (age < 6)] == kp.take_up_3to6)
    assert np.all(rate[age >= 6] == 0.0)


def test_the_wish_is_at_least_the_use_and_at_most_everyone():
    kp = KitaParameters(wish_factor_3to6=1.5)
    age = np.arange(8)
    assert np.all(wish_rate(age, kp) >= take_up(age, kp))
    assert np.all(wish_rate(age, kp) <= 1.0)
    assert wish_rate(np.array([4]), kp)[0] == 1.0
    assert np.all(wish_rate(np.array([6, 7]), kp) == 0.0)


def test_children_take_the_nearest_free_place_within_reach():
    # Cells on a line 100 m apart; Kitas in cells 0 and 3 with one place each.
    x = np.arange(10) * 100.0
    y = np.zeros(10)
    kita_cells = np.array([0, 3])
    nearest = np.array([[0, 1] if abs(c - 0) <= abs(c - 3) else [1, 0] for c in range(10)])
    child_cell = np.array([1, 1, 9, 2])
    order = np.arange(4)
    got = assign(order, child_cell, nearest, np.array([1.0, 1.0]), x, y, kita_cells, 250.0)
    # The first takes the Kita 100 m away, the second the one 200 m away; the third lives
    # 600 m from the nearest: none; the fourth finds both full.
    assert got.tolist() == [0, 1, -1, -1]
    # Processed in another order, the fourth child comes first and takes the nearer Kita.
    got = assign(np.array([3, 0, 1, 2]), child_cell, nearest, np.array([1.0, 1.0]), x, y,
                 kita_cells, 250.0)
    assert got.tolist() == [0, -1, -1, 1]


def test_nearest_kitas_found_on_demand_equal_the_whole_table():
    # A grid (many equal distances) with Kitas in some cells; rows found a few at a time.
    gx, gy = np.meshgrid(np.arange(30) * 100.0, np.arange(20) * 100.0)
    x, y = gx.ravel(), gy.ravel()
    rng = np.random.default_rng(3)
    state = KitaState("synthesised", np.zeros(0), {})
    for n_kitas in (1, 7, 40):
        kita_cells = rng.choice(x.size, n_kitas, replace=False)
        whole = nearest_schools(x, y, kita_cells, 24)
        for cells in np.array_split(rng.permutation(x.size), 5):
            table = nearest_kitas(state, x, y, kita_cells, np.r_[cells, cells[:3]])
            assert np.array_equal(table[cells], whole[cells])
        assert np.array_equal(table, whole)


def test_a_kita_without_places_and_an_unknown_quartier_are_errors(baseline):
    with pytest.raises(ValueError, match="needs places"):
        KitaLever(quartier="hochfeld")
    bad = baseline.with_values({"levers.kitas": [{"quartier": "atlantis", "places_3to6": 10}]})
    with pytest.raises(InputError, match=r"levers\.kitas\.0\.quartier"):
        sim.check_levers(bad)


def _run(name: str, households: int, years: int, seed: int = 1) -> pd.DataFrame:
    sc = sim.load_scenario(SCENARIOS / f"{name}.toml").with_values({
        "years": years, "city.households": households, "outcomes.cell_snapshots": False})
    return sim.build_model(sc, seed=seed).run().outcomes()


def test_kita_places_added_in_a_quartier_raise_its_coverage_and_the_citys():
    """Direction test, exact: the lever's Kita opens in 2025; until then both runs share their
    population (common random numbers), and the 2025 coverage is measured before anyone moves.
    Places added never take a place from any child (the assignment is monotone in capacity),
    so no quartier's coverage falls; in Hochfeld and citywide it rises."""
    base = _run("baseline", 5000, 2)
    lever = _run("kitas_hochfeld", 5000, 2)
    key = ["year", "scope", "metric"]
    both = base.merge(lever, on=key, suffixes=("_base", "_lever"))
    y2024 = both[both.year == 2024]
    assert np.allclose(y2024.value_base, y2024.value_lever, equal_nan=True)
    for metric in ("kita_coverage_under3", "kita_coverage_3to6"):
        m = both[(both.year == 2025) & (both.metric == metric)].set_index("scope")
        diff = (m.value_lever - m.value_base).dropna()
        assert (diff >= 0).all(), diff[diff < 0]
        assert diff["hochfeld"] > 0
        assert diff["city"] > 0
    unmet = both[(both.year == 2025) & (both.metric == "kita_unmet_demand")].set_index("scope")
    assert unmet.value_lever["city"] < unmet.value_base["city"]


@pytest.mark.slow
def test_coverage_at_the_start_matches_nrw_within_3_points():
    """The default city's coverage at the start (31.12.2023) against NRW's Betreuungsquote
    (1.3.2022, the year of the take-up defaults): within ±3 points under 3 and 3-6, for three
    seeds at 20,000 households (about 1,000 children per age group)."""
    for seed in (1, 2, 3):
        sc = sim.load_scenario(SCENARIOS / "baseline.toml").with_values({
            "years": 1, "city.households": 20000, "outcomes.cell_snapshots": False})
        m = sim.build_model(sc, seed=seed)
        out = m.outcomes()
        start = out[(out.year == sc.start_year - 1) & (out.scope == "city")].set_index("metric")
        assert start.value["kita_coverage_under3"] == pytest.approx(
            nrw_rate("<3", "2022-03-01"), abs=0.03)
        assert start.value["kita_coverage_3to6"] == pytest.approx(
            nrw_rate("3 to <6", "2022-03-01"), abs=0.03)
        # Every child who has a place wanted one; the wish exceeds the places.
        assert start.value["kita_unmet_demand"] > 0


@pytest.mark.slow
def test_education_outcomes_are_shares_and_poor_pupils_are_overrepresented():
    """At 30,000 households over five years: the outcomes are shares, and poor pupils attend
    disadvantaged schools (poor share ≥ 1.5 × the city's) more often than not at all."""
    out = _run("baseline", 30000, 5)
    city = out[out.scope == "city"].pivot(index="year", columns="metric", values="value")
    for metric in ("kita_coverage_poor", "kita_coverage_not_poor",
                   "poor_pupils_disadvantaged_school_share"):
        assert city[metric].between(0.0, 1.0).all(), metric
    assert city["poor_pupils_disadvantaged_school_share"].mean() > 0.0


@pytest.mark.slow
def test_essen_kitas_come_from_the_file_and_cover_within_5_points_of_nrw():
    """Essen (a copy of 20,000 households): the 312 Kitas of the city's file at NRW-average
    places, with their age ranges. The data has no Essen Betreuungsquote, so the start coverage
    is compared with NRW's (1.3.2022): within ±5 points."""
    sc = sim.load_scenario(SCENARIOS / "essen.toml").with_values({
        "years": 1, "city.households": 20000, "outcomes.cell_snapshots": False})
    m = sim.build_model(sc, seed=1)
    assert m.kitas.origin == "file"
    points = m.city.real.facilities
    kitas = points[points["kind"] == "kita"]
    assert len(kitas) == 312
    from_3 = (kitas["from_age"] >= 3).sum()
    assert from_3 > 0
    f = m.services.facilities
    from sim.model.services import KITA_3TO6, KITA_UNDER3
    assert (f.kind == KITA_UNDER3).sum() == (f.kind == KITA_3TO6).sum() == 312
    assert (f.capacity[f.kind == KITA_UNDER3] == 0).sum() == from_3
    out = m.outcomes()
    start = out[(out.year == sc.start_year - 1) & (out.scope == "city")].set_index("metric")
    assert start.value["kita_coverage_under3"] == pytest.approx(
        nrw_rate("<3", "2022-03-01"), abs=0.05)
    assert start.value["kita_coverage_3to6"] == pytest.approx(
        nrw_rate("3 to <6", "2022-03-01"), abs=0.05)
    # Schools of the NRW register carry their Sozialindex into the education outcome.
    assert np.isfinite(m.kitas.sozialindex).sum() > 100


@pytest.mark.slow
def test_school_investment_places_are_taken_at_the_quartiers_schools():
    """The school lever's ``extra_places`` act on the assignment: in 2025 (before anyone
    moves, the same population) Hochfeld's schools, full without them, take more pupils, and
    more pupils attend their nearest school; the places added are the lever's, in Hochfeld."""
    from sim.model.processes.schools import extra_places
    from sim.model.schedule import processes, run_processes
    from sim.model.services import PRIMARY, SECONDARY

    taken, nearest = {}, {}
    for name in ("school_hochfeld", "school_hochfeld_places"):
        sc = sim.load_scenario(SCENARIOS / f"{name}.toml").with_values({
            "years": 1, "outcomes.cell_snapshots": False})
        m = sim.build_model(sc, seed=3).run()
        year = m.begin_year(m.year + 1)
        assert year.year == 2025
        run_processes(m, year, processes("situation", "travel", "doctors", "schools"))
        hochfeld = m.city.quartier_ids().index("hochfeld")
        s = year.situation
        taken[name] = nearest[name] = 0
        for kind, pupils in zip((PRIMARY, SECONDARY), s["pupils"], strict=True):
            st = s["schools"][kind]
            in_q = m.city.cell_quartier[st["cells"]] == hochfeld
            taken[name] += int(st["pupils"][in_q].sum())
            home = s["cell"][m.population.household[pupils]]
            nearest[name] += int((st["school"] == st["nearest"][home, 0]).sum())
            extra = extra_places(m, 2025, st["cells"])
            assert not extra[~in_q].any()
            given = sum(i.extra_places for i in sc.levers.school_investment)
            assert given - in_q.sum() < extra.sum() <= given
    assert taken["school_hochfeld_places"] > taken["school_hochfeld"]
    assert nearest["school_hochfeld_places"] > nearest["school_hochfeld"]


def test_the_cached_nearest_schools_follow_the_open_schools_cells(baseline):
    """The nearest-schools table is cached between years; it is the table of this year's open
    schools even when another set of schools of the same number is open (here: one school
    moved to another cell), as recomputing it gives."""
    from sim.model.schedule import processes, run_processes
    from sim.model.services import PRIMARY

    m = sim.build_model(baseline.with_values({"city.households": 5000, "years": 1,
                                              "outcomes.cell_snapshots": False}), seed=2).run()
    f, sv = m.services.facilities, m.services
    steps = processes("situation", "travel", "doctors", "schools")
    year = m.begin_year(m.year + 1)
    run_processes(m, year, steps)
    before = year.situation["schools"][PRIMARY]["nearest"]
    rows = f.open(PRIMARY, year.year)
    free = np.setdiff1d(np.arange(m.city.n_cells), f.cell)
    assert rows.size >= 2
    f.cell[rows[0]] = f.cell[rows[1]] + 1 if f.cell[rows[1]] + 1 in free else free[0]
    year = m.begin_year(m.year + 1)
    run_processes(m, year, steps)
    after = year.situation["schools"][PRIMARY]["nearest"]
    np.testing.assert_array_equal(after, nearest_schools(sv.x, sv.y, f.cell[rows]))
    assert not np.array_equal(after, before)
