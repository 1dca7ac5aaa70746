"""Partnership formation (step 5c): who pairs, where couples live, what the model records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.inputs.levers import load_scenario
from sim.model.processes import partnership

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small():
    return load_scenario(ROOT / "scenarios" / "baseline.toml").with_values(
        {"city.households": 3000, "years": 4, "outcomes.cell_snapshots": False})


def test_pairs_man_with_woman_by_age_rank_in_the_larger_dwelling():
    rng = np.random.default_rng(5)
    n = 400
    age = rng.integers(20, 65, n).astype(np.int16)
    sex = rng.integers(0, 2, n).astype(np.int8)
    household = np.arange(n, dtype=np.int32)
    candidate = rng.random(n) < 0.8
    floor = rng.uniform(30, 120, n).astype(np.float32)
    u_look, u_order = rng.random(n), rng.random(n)
    host, joiner, given_up = partnership.couples(age, sex, household, candidate, 0.5, u_look,
                                                 u_order, floor)
    looking = candidate & (u_look < 0.5)
    assert host.size == min((looking & (sex == 0)).sum(), (looking & (sex == 1)).sum())
    partner = np.where(household[joiner] == given_up, host, -1)
    assert np.all(partner == host)  # the joiner leaves its own household for the host's
    members = np.concatenate([host, given_up])
    assert np.unique(members).size == members.size  # nobody pairs twice
    assert np.all(looking[members])
    assert np.all(sex[host] != sex[given_up])
    assert np.all(floor[host] >= floor[given_up])
    men = np.where(sex[host] == 0, host, given_up)
    women = np.where(sex[host] == 1, host, given_up)
    order = np.argsort(age[men], kind="stable")
    assert np.all(np.diff(age[women][order]) >= 0)  # paired by age rank


def test_no_one_looks_at_rate_zero():
    n = 10
    out = partnership.couples(np.full(n, 30), np.arange(n) % 2, np.arange(n), np.ones(n, bool),
                              0.0, np.full(n, 0.5), np.full(n, 0.5), np.full(n, 60.0))
    assert all(a.size == 0 for a in out)


def test_couples_lower_the_share_living_alone_and_are_counted(small):
    def city(rate):
        sc = small.with_values({"parameters.demography.partnership_rate": rate})
        model = sim.build_model(sc, seed=3).run()
        o = model.outcomes()
        return o[o["scope"] == "city"].pivot(index="year", columns="metric", values="value")

    off, on = city(0.0), city(0.1)
    assert (off["partnerships"].iloc[1:] == 0).all()
    assert (on["partnerships"].iloc[1:] > 0).all()
    assert on["share_households_size_1"].iloc[-1] < off["share_households_size_1"].iloc[-1] - 0.02
    assert on["moves_within_city"].iloc[1:].sum() > off["moves_within_city"].iloc[1:].sum()


def test_a_couple_shares_one_dwelling_and_income(small):
    sc = small.with_values({"parameters.demography.partnership_rate": 0.3,
                            "parameters.households.single_parent_partnership_rate": 0.0,
                            "parameters.households.leaving_home_partner_share": 0.0})
    model = sim.build_model(sc, seed=2)
    pop = model.population
    before = pop.income.copy()
    year = model.begin_year(2024)
    household_alive, event = year.household_alive, year.life_event
    host, joiner, given_up, moved = partnership.form_couples(
        model, year, sc.parameters.demography, model.draws("partnership"))
    assert host.size > 50
    assert np.all(pop.household[joiner] == host) and not household_alive[given_up].any()
    assert np.allclose(pop.income[host], (before[host] + before[given_up]) / 1.5, rtol=1e-6)
    assert event[host].all() and np.all(moved == 1)
    assert np.all(pop.union_start[host] == 2024)
    size = np.bincount(pop.household, minlength=pop.n_households)
    assert np.all(size[host] == 2)


def test_couples_across_the_boundary_live_on_either_side(small):
    """Of the couples formed with a partner from outside, the share
    ``outside_partner_moves_out_share`` leaves the city (cause ``partner``), the others bring
    the partner in: 0 sends nobody out, 1 brings nobody in, and at 0.5 the persons who leave
    and those who come are of one order (binomial: 4 years of a 3,000-household city)."""
    def flows(share):
        sc = small.with_values({"parameters.households.outside_partner_moves_out_share": share})
        o = sim.build_model(sc, seed=4).run().outcomes()
        city = o[o["scope"] == "city"].pivot(index="year", columns="metric", values="value")
        return city.iloc[1:]

    none_out, all_out, half = flows(0.0), flows(1.0), flows(0.5)
    assert (none_out["out_migrants_cause_partner"] == 0).all()
    assert none_out["partners_from_outside"].sum() > 40
    assert (all_out["partners_from_outside"] == 0).all()
    assert all_out["out_migrants_cause_partner"].sum() > 40
    # households leaving with their children: at least one person each
    came, left = half["partners_from_outside"].sum(), half["out_migrants_cause_partner"].sum()
    assert came > 0 and left >= 0.5 * came
    assert left <= 3.0 * came
