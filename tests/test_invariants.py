"""Invariants over generated scenarios (hypothesis): whatever the parameters and levers, people
are conserved, every household has exactly one dwelling, no dwelling holds two households, and
social dwellings are let only to households with a WBS."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.state import income
from sim.state.city import OWNER, SOCIAL

from .conftest import SCENARIOS, variant


@pytest.fixture(scope="module")
def zensus_city():
    """The Zensus-grid sample city (12 quartiers of 1 km blocks) as a second kind of city."""
    return sim.load_scenario(SCENARIOS / "zensus_sample.toml")


def _check_state(model) -> None:
    pop, city = model.population, model.city
    # Every household in exactly one existing dwelling; no dwelling over capacity (one household).
    assert pop.dwelling.min(initial=0) >= 0
    assert pop.dwelling.max(initial=-1) < city.n_dwellings
    assert np.unique(pop.dwelling).size == pop.n_households
    # Every person in an existing household; no empty household.
    assert pop.household.max(initial=-1) < pop.n_households
    assert np.all(pop.household_size() > 0)
    # Column lengths agree.
    for name in pop.HOUSEHOLD_COLUMNS:
        assert getattr(pop, name).size == pop.n_households
    for name in city.DWELLING_COLUMNS:
        assert getattr(city, name).size == city.n_dwellings


def _check_wbs(model) -> None:
    """Households that moved into a social dwelling this year hold a WBS (recomputed here
    from their members and income, independently of the model's own flags)."""
    pop, city = model.population, model.city
    moved = np.flatnonzero(pop.moved_in == model.year)
    social = moved[city.dwelling_tenure[pop.dwelling[moved]] == SOCIAL]
    if social.size == 0:
        return
    size = pop.household_size()[social]
    young = np.bincount(pop.household[pop.age < 14], minlength=pop.n_households)[social]
    children = np.bincount(pop.household[pop.is_child], minlength=pop.n_households)[social]
    net = pop.income[social] * income.oecd_scale(size - young, young)
    hp = model.scenario.parameters.housing
    limit = np.where(size <= 1, hp.wbs_limit_one_person,
                     hp.wbs_limit_two_persons + hp.wbs_limit_per_further_person
                     * np.maximum(size - 2, 0)) + hp.wbs_limit_per_child * children
    assert np.all(12 * net <= limit * model.income_index * (1 + 1e-6))


def _scenario_float(min_value: float, max_value: float) -> st.SearchStrategy[float]:
    """Floats a scenario may hold: values of magnitude below 1e-6 (refused by the schema, see
    sim.scenario.base) become 0."""
    return st.floats(min_value=min_value, max_value=max_value).map(
        lambda x: 0.0 if abs(x) < 1e-6 else x)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    households=st.integers(min_value=50, max_value=3000),
    years=st.integers(min_value=1, max_value=5),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    tfr=_scenario_float(min_value=0.0, max_value=4.0),
    leave=_scenario_float(min_value=0.0, max_value=1.0),
    in_rate=_scenario_float(min_value=0.0, max_value=0.5),
    outside=_scenario_float(min_value=-5.0, max_value=8.0),
    vacancy=_scenario_float(min_value=0.0, max_value=0.3),
    social=_scenario_float(min_value=0.0, max_value=0.5),
    quota=_scenario_float(min_value=0.0, max_value=1.0),
    target=_scenario_float(min_value=0.0, max_value=0.6),
    build=_scenario_float(min_value=0.0, max_value=0.05),
    zensus=st.booleans(),
)
def test_conservation_dwellings_and_wbs(baseline, zensus_city, households, years, seed, tfr,
                                        leave, in_rate, outside, vacancy, social, quota, target,
                                        build, zensus):
    sc = variant(zensus_city if zensus else baseline, **{
        "city.households": households, "years": years, "city.vacancy_rate": vacancy,
        "parameters.demography.total_fertility_rate": tfr,
        "parameters.demography.leaving_home_rate": leave,
        "parameters.migration.in_migration_rate": in_rate,
        "parameters.mobility.utility_outside": outside,
        "parameters.housing.social_housing_share": social,
        "parameters.housing.construction_rate": build,
        "levers.rent_mixing": {
            "from_year": 2024, "new_building_social_quota": quota,
            "social_share_target": target, "binding_extension_years": 5,
        },
    })
    model = sim.build_model(sc, seed=seed)
    _check_state(model)
    for _ in range(years):
        model.step()
        _check_state(model)
        _check_wbs(model)
    out = model.outcomes()
    city = out[out.scope == "city"].pivot(index="year", columns="metric", values="value")
    flows = city.iloc[1:]
    expected = (city["population"].iloc[0] + flows["births"].sum() + flows["in_migrants"].sum()
                - flows["deaths"].sum() - flows["out_migrants"].sum())
    assert city["population"].iloc[-1] == expected
    assert int(city["population"].iloc[-1]) == model.population.n_persons
    causes = [c for c in city.columns if c.startswith("out_migrants_cause_")]
    assert np.allclose(flows[causes].sum(axis=1), flows["out_migrants"])


@settings(max_examples=30, deadline=None)
@given(
    n_dwellings=st.integers(min_value=1, max_value=60),
    n_searchers=st.integers(min_value=0, max_value=80),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    k=st.integers(min_value=1, max_value=12),
)
def test_choice_never_overfills_and_respects_tenure(small, n_dwellings, n_searchers, seed, k):
    """The sequential choice on random data: each dwelling ends with at most one household,
    social dwellings only go to WBS holders, owner-occupied ones only to buyers."""
    from sim.model import mobility

    model = sim.build_model(variant(small, **{"city.households": 50}), seed=1)
    city = model.city
    rng = np.random.default_rng(seed)
    # A fresh random stock on the model's grid.
    city.dwelling_cell = rng.integers(0, city.n_cells, n_dwellings).astype(np.int32)
    city.dwelling_floor_space = rng.uniform(20, 150, n_dwellings).astype(np.float32)
    city.dwelling_tenure = rng.integers(0, 3, n_dwellings).astype(np.int8)
    city.dwelling_rent_m2 = rng.uniform(4, 12, n_dwellings).astype(np.float32)
    city.dwelling_binding_end = np.zeros(n_dwellings, np.int16)
    occupied_by = rng.integers(-1, n_dwellings, n_searchers)
    # Searchers who hold a dwelling hold distinct ones.
    _, first = np.unique(occupied_by, return_index=True)
    current = np.full(n_searchers, -1)
    current[first] = occupied_by[first]
    searchers = {
        "current": current, "net_income": rng.uniform(500, 6000, n_searchers),
        "norm": rng.uniform(50, 110, n_searchers),
        "income_group": rng.integers(0, 3, n_searchers),
        "origin": rng.integers(0, 2, n_searchers),
        "home_quartier": rng.integers(-1, city.n_quartiers, n_searchers),
        "can_own": rng.random(n_searchers) < 0.5, "can_social": rng.random(n_searchers) < 0.5,
        "outside_cost": rng.uniform(300, 900, n_searchers),
        "id": rng.integers(0, 2**63, n_searchers).astype(np.uint64),
        "segment": np.zeros(n_searchers, np.int64),
        "worker_start": np.zeros(n_searchers, np.int64),
        "worker_count": np.zeros(n_searchers, np.int64),
        "car": rng.random(n_searchers) < 0.5, "ticket": np.full(n_searchers, 58.0),
    }
    vacancies = mobility.Vacancies(n_dwellings, current[current >= 0])
    cost = rng.uniform(200, 1200, n_dwellings)
    shares_i = rng.dirichlet(np.ones(3), city.n_cells)
    shares_o = rng.dirichlet(np.ones(2), city.n_cells)
    mp = small.parameters.mobility.model_copy(update={"choice_set_size": k})
    chosen = mobility.choose(searchers, vacancies, city, cost, cost.copy(), shares_i,
                                shares_o, mp, np.uint64(seed), 2030,
                                mobility.ChoiceAccess.none(city.n_cells))
    taken = chosen[chosen >= 0]
    assert np.unique(taken).size == taken.size
    stayed_or_moved = chosen >= 0
    new = stayed_or_moved & (chosen != current)
    tenure = city.dwelling_tenure[chosen[new]]
    assert np.all(searchers["can_social"][new][tenure == SOCIAL])
    assert np.all(searchers["can_own"][new][tenure == OWNER])
    # The vacancy list is exactly the dwellings nobody holds now.
    held = np.zeros(n_dwellings, bool)
    held[taken] = True
    listed = np.zeros(n_dwellings, bool)
    listed[vacancies.list[:vacancies.count]] = True
    assert np.array_equal(listed, ~held)
