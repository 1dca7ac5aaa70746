"""Invariants over generated scenarios (hypothesis): whatever the parameters, people are
conserved, every household has exactly one dwelling and no dwelling holds two households."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim

from .conftest import variant


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    households=st.integers(min_value=50, max_value=3000),
    years=st.integers(min_value=1, max_value=6),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    tfr=st.floats(min_value=0.0, max_value=4.0),
    leave=st.floats(min_value=0.0, max_value=1.0),
    in_rate=st.floats(min_value=0.0, max_value=0.3),
    out_rate=st.floats(min_value=0.0, max_value=0.3),
    vacancy=st.floats(min_value=0.0, max_value=0.3),
)
def test_conservation_and_dwellings(baseline, households, years, seed, tfr, leave, in_rate,
                                    out_rate, vacancy):
    sc = variant(baseline, **{
        "city.households": households, "years": years, "city.vacancy_rate": vacancy,
        "parameters.demography.total_fertility_rate": tfr,
        "parameters.demography.leaving_home_rate": leave,
        "parameters.migration.in_migration_rate": in_rate,
        "parameters.migration.out_migration_rate": out_rate,
    })
    model = sim.build_model(sc, seed=seed)
    n_dwellings = model.city.n_dwellings
    assert model.population.n_households == households
    for _ in range(years):
        before = model.population.n_persons
        model.step()
        pop = model.population
        flows = {m: v[-1] for m, v in model._records[-1][1].items()}
        assert pop.n_persons == before + flows["births"] + flows["in_migrants"] \
            - flows["deaths"] - flows["out_migrants"]
        assert np.unique(pop.dwelling).size == pop.n_households
        assert model.city.n_dwellings == n_dwellings
        assert pop.n_households <= n_dwellings
        assert pop.household.size == 0 or pop.household.max() < pop.n_households
        assert pop.household_size().min(initial=1) >= 1
