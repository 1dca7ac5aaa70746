"""The Fluktuationsreserve (``housing.vacancy_reserve``) and the re-letting rent outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from calibration.moments import STATISTICS
from sim.model.processes.moving import between_tenancies
from sim.state.city import PRIVATE, on_market

from .conftest import variant


def city_table(model) -> pd.DataFrame:
    out = model.outcomes()
    return out[out.scope == "city"].pivot(index="year", columns="metric", values="value")


@pytest.fixture(scope="module")
def runs(small):
    """The small city for 3 years without and with a reserve of 3 % (same seed)."""
    return {share: sim.build_model(variant(small, **{"parameters.housing.vacancy_reserve":
                                                     share}), seed=5).run(years=3)
            for share in (0.0, 0.03)}


def test_the_reserve_is_a_keyed_choice_among_the_vacant_market_dwellings(small):
    model = sim.build_model(small, seed=2)
    city, pop = model.city, model.population
    occupied = pop.dwelling[pop.dwelling >= 0]
    market = int(on_market(city).sum())
    vacant = np.setdiff1d(np.flatnonzero(on_market(city)), occupied)
    assert between_tenancies(city, occupied, 0.0, np.uint64(7), 2025).size == 0
    share = 0.5 * vacant.size / market  # half of the vacant dwellings
    chosen = between_tenancies(city, occupied, share, np.uint64(7), 2025)
    assert chosen.size == round(share * market)
    assert np.isin(chosen, vacant).all() and np.unique(chosen).size == chosen.size
    again = between_tenancies(city, occupied, share, np.uint64(7), 2025)
    other = between_tenancies(city, occupied, share, np.uint64(7), 2026)
    np.testing.assert_array_equal(chosen, again)
    assert not np.array_equal(chosen, other)  # a new choice every year
    # more than there are vacant: every vacant one
    everything = between_tenancies(city, occupied, 0.19, np.uint64(7), 2025)
    if round(0.19 * market) >= vacant.size:
        np.testing.assert_array_equal(everything, vacant)


def test_no_one_moves_into_the_reserve_and_the_year_end_vacancy_counts_it(runs):
    model = runs[0.03]
    reserve = model.market.between_tenancies
    market = int(on_market(model.city).sum())
    assert reserve.size > 0
    housed = model.population.dwelling[model.population.dwelling >= 0]
    assert not np.isin(reserve, housed).any()  # empty at the end of the year
    table = city_table(model)
    # the reserve of the last year is at least 3 % of the market it was drawn from
    assert table["vacancy_rate"].iloc[-1] >= reserve.size / market - 1e-9
    assert reserve.size == pytest.approx(0.03 * market, abs=0.01 * market)


def test_a_reserve_keeps_more_dwellings_empty_and_slows_re_letting_rents(runs):
    """Fewer dwellings to let: the year-end vacancy is higher on average over the simulated
    years (same seed; at 2,000 households a single year's vacancy swings by a point), and
    the re-letting rents, which rise when the vacancy falls below the target, rise less."""
    without, with_reserve = city_table(runs[0.0]), city_table(runs[0.03])
    simulated = without.index[1:]
    assert (with_reserve.loc[simulated, "vacancy_rate"].mean()
            > without.loc[simulated, "vacancy_rate"].mean() + 0.003)
    assert with_reserve["relet_rent_m2"].iloc[-1] < without["relet_rent_m2"].iloc[-1]


def test_relet_rent_is_the_mean_re_letting_level_of_private_rentals(runs):
    model = runs[0.0]
    city = model.city
    private = city.dwelling_tenure == PRIVATE
    level = city.cell_rent_m2[city.dwelling_cell[private]].astype(float)
    out = model.outcomes()
    last = out[(out.year == out.year.max()) & (out.metric == "relet_rent_m2")]
    assert last[last.scope == "city"]["value"].iloc[0] == pytest.approx(level.mean(), rel=1e-12)
    quartier = city.dwelling_quartier[private]
    by_q = last[last.scope != "city"].set_index("scope")["value"]
    for q, name in enumerate(city.quartier_ids()):
        assert by_q[name] == pytest.approx(level[quartier == q].mean(), rel=1e-12)


def test_the_yearly_growth_statistic():
    table = pd.DataFrame({"relet_rent_m2": [8.0, 10.0, 12.5]}, index=[2013, 2011, 2012])
    # by year: 10 (2011), 12.5, 8 (2013): from the first to the last over 2 years
    assert STATISTICS["relet_rent_growth"](table, pd.DataFrame()) == pytest.approx(
        (8.0 / 10.0) ** 0.5 - 1.0)
    assert np.isnan(STATISTICS["relet_rent_growth"](table.iloc[:1], pd.DataFrame()))
