"""The model: determinism, accounting, invariants and the tidy outcomes table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.model.rng import make_streams
from sim.state.outcomes import METRICS

from .conftest import variant


@pytest.fixture(scope="module")
def small_run(small):
    return sim.build_model(small, seed=7).run()


def test_same_seed_same_outcomes(small):
    a = sim.build_model(small, seed=11).run().outcomes()
    b = sim.build_model(small, seed=11).run().outcomes()
    pd.testing.assert_frame_equal(a, b)


def test_different_seeds_differ(small):
    a = sim.build_model(small, seed=11).run().outcomes()
    b = sim.build_model(small, seed=12).run().outcomes()
    assert not np.allclose(a["value"].fillna(0), b["value"].fillna(0))


def test_named_streams_do_not_depend_on_creation_order():
    one = make_streams(5, ("mortality", "fertility"))
    two = make_streams(5, ("fertility", "mortality"))
    assert one["mortality"].random() == two["mortality"].random()
    assert make_streams(5)["population"].random() != make_streams(6)["population"].random()


def test_common_random_numbers_across_scenarios(small):
    """A change to migration leaves the initial population (its own stream) untouched."""
    other = variant(small, **{"parameters.migration.in_migration_rate": 0.08})
    a = sim.build_model(small, seed=3)
    b = sim.build_model(other, seed=3)
    assert np.array_equal(a.population.age, b.population.age)
    assert np.array_equal(a.population.dwelling, b.population.dwelling)


def test_accounting_every_year(small_run):
    df = small_run.outcomes()
    city = df[df["scope"] == "city"].pivot(index="year", columns="metric", values="value")
    pop = city["population"]
    years = city.index.to_numpy()
    assert years.size == small_run.scenario.years + 1
    for prev, year in zip(years[:-1], years[1:], strict=True):
        flows = city.loc[year]
        expected = (pop[prev] + flows["births"] + flows["in_migrants"]
                    - flows["deaths"] - flows["out_migrants"])
        assert pop[year] == expected, year


def test_quartier_counts_add_up_to_city(small_run):
    df = small_run.outcomes()
    for metric in ("population", "households", "births", "deaths", "in_migrants",
                   "out_migrants", "dwellings"):
        part = df[df["metric"] == metric]
        by_year = part[part["scope"] != "city"].groupby("year")["value"].sum(min_count=1)
        city = part[part["scope"] == "city"].set_index("year")["value"]
        pd.testing.assert_series_equal(by_year, city, check_names=False, check_index_type=False)


def test_population_invariants(small_run):
    pop, city = small_run.population, small_run.city
    # every household in exactly one dwelling, no dwelling occupied twice
    assert np.unique(pop.dwelling).size == pop.n_households
    assert pop.dwelling.min() >= 0 and pop.dwelling.max() < city.n_dwellings
    # every person in an existing, non-empty household with an adult
    sizes = pop.household_size()
    assert sizes.min() >= 1
    adults = np.bincount(pop.household[~pop.is_child], minlength=pop.n_households)
    assert adults.min() >= 1
    assert pop.age.min() >= 0
    assert pop.age.max() <= small_run.scenario.parameters.demography.max_age


def test_outcomes_table_is_tidy(small_run):
    df = small_run.outcomes()
    assert list(df.columns) == ["run_id", "year", "scope", "metric", "value"]
    assert set(df["metric"].astype(str)) == set(METRICS)
    scopes = set(df["scope"].astype(str))
    assert "city" in scopes and set(small_run.city.quartier_ids()) <= scopes
    assert not df.duplicated(["year", "scope", "metric"]).any()
    first = df[df["year"] == df["year"].min()]
    assert first[first["metric"] == "births"]["value"].isna().all()
    assert (df["run_id"] == small_run.run_id).all()


def test_household_view(small_run):
    view = small_run.household(0)
    assert view.size == int((small_run.population.household == 0).sum())
    assert view.quartier in small_run.city.quartier_ids()
    assert view.size == len(view.sexes) == len(view.children)


def test_city_only_outcomes(small):
    sc = variant(small, **{"outcomes.per_quartier": False, "years": 1})
    df = sim.build_model(sc, seed=1).run().outcomes()
    assert set(df["scope"].astype(str)) == {"city"}


def test_build_model_rejects_negative_seed(small):
    with pytest.raises(ValueError):
        sim.build_model(small, seed=-1)


def test_quartiers_have_distinct_profiles(baseline):
    """Ruhrstadt's quartiers differ as their profiles say (start state, large sample)."""
    model = sim.build_model(variant(baseline, years=1), seed=2)
    df = model.outcomes()
    start = df[df["year"] == df["year"].min()].pivot(index="scope", columns="metric",
                                                     values="value")
    assert 6 <= model.city.n_quartiers <= 10
    singles = start["share_households_size_1"]
    assert singles["altstadt"] > singles["city"] > singles["sonnenhang"]
    assert start.loc["zeche_glueckauf", "share_65plus"] > start.loc["city", "share_65plus"]
    assert start.loc["sonnenhang", "mean_household_size"] > start.loc["city",
                                                                      "mean_household_size"]


def test_in_migrant_profile_hits_its_mean_age(small):
    model = sim.build_model(small, seed=5)
    pool, weights = model.in_migrants.pool, model.in_migrants.weights
    ages = pool.members.age.astype(float)
    sums = np.add.reduceat(ages, pool.starts)
    mean = (weights * sums).sum() / (weights * pool.sizes).sum()
    assert mean == pytest.approx(small.parameters.migration.in_migrant_mean_age, abs=1e-6)
    single = weights[pool.sizes == 1].sum()
    assert single == pytest.approx(small.parameters.migration.in_migrant_single_share,
                                   abs=1e-6)


def test_in_migrant_profile_without_single_share_keeps_the_pools_mix():
    """Without the one-person share only the mean age is matched (the tilt by age alone)."""
    from sim.inputs.synthesis import build_pool
    from sim.model.processes.in_migration import age_tilt

    scenario = sim.load_scenario(Path(__file__).resolve().parents[1] / "scenarios"
                                 / "baseline.toml")
    pool, _ = build_pool(2000, np.random.default_rng(3), scenario)
    ages = pool.members.age.astype(float)
    sums = np.add.reduceat(ages, pool.starts)
    for share in (None, 0.5, 0.62):
        w = age_tilt(pool, 30.0, share)
        assert (w * sums).sum() / (w * pool.sizes).sum() == pytest.approx(30.0, abs=1e-6)
        if share is not None:
            assert w[pool.sizes == 1].sum() == pytest.approx(share, abs=1e-6)
    # the age tilt alone keeps a larger mean size than the one with 62 % one-person households
    plain, single = age_tilt(pool, 30.0), age_tilt(pool, 30.0, 0.62)
    assert (plain * pool.sizes).sum() > (single * pool.sizes).sum() + 0.2


def _reference_household_change(household, is_child, age, person_alive, household_alive):
    """Vectorised dissolution and adult succession (the compiled pass must equal it)."""
    n_hh = household_alive.size
    members = np.bincount(household[person_alive], minlength=n_hh)
    adults = np.bincount(household[person_alive & ~is_child], minlength=n_hh)
    empty = household_alive & (members == 0)
    household_alive[empty] = False
    headless = household_alive & (adults == 0)
    promote = headless[household] & person_alive & (age >= 18)
    is_child[promote] = False
    still = np.bincount(household[person_alive & ~is_child], minlength=n_hh) == 0
    orphaned = headless & still
    orphans = np.flatnonzero(orphaned[household] & person_alive)
    person_alive[orphans] = False
    household_alive[orphaned] = False
    return np.flatnonzero(empty), orphans


def test_household_change_equals_the_vectorised_reference():
    from sim.model.processes import household_change

    rng = np.random.default_rng(5)
    n_hh, n = 3000, 8000
    household = rng.integers(0, n_hh, n).astype(np.int32)
    is_child = rng.random(n) < 0.4
    age = np.where(is_child, rng.integers(0, 25, n), rng.integers(18, 100, n)).astype(np.int16)
    person_alive = rng.random(n) < 0.7
    household_alive = rng.random(n_hh) < 0.95  # some households already gone
    results = []
    for f in (household_change.update, _reference_household_change):
        args = [a.copy() for a in (household, is_child, age, person_alive, household_alive)]
        results.append((*f(*args), args[1], args[3], args[4]))
    for got, expected in zip(*results, strict=True):
        assert np.array_equal(got, expected)
    dissolved, orphans = results[0][:2]
    assert dissolved.size > 0 and orphans.size > 0  # both branches are exercised


def test_population_keep_equals_masking_and_renumbering(small_run):
    import copy

    pop = copy.deepcopy(small_run.population)
    rng = np.random.default_rng(12)
    person_alive = rng.random(pop.n_persons) < 0.9
    household_alive = rng.random(pop.n_households) < 0.9
    kept = person_alive & household_alive[pop.household]
    new_index = np.cumsum(household_alive) - 1
    expected = {name: getattr(pop, name)[kept] for name in ("age", "pid", "sex", "is_child",
                                                             "job")}
    expected["household"] = new_index[pop.household[kept]].astype(pop.household.dtype)
    expected.update({name: getattr(pop, name)[household_alive]
                     for name in pop.HOUSEHOLD_COLUMNS})
    pop.keep(person_alive, household_alive)
    for name, value in expected.items():
        got = getattr(pop, name)
        assert got.dtype == value.dtype and np.array_equal(got, value), name
