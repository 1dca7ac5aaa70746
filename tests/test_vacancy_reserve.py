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
    """The small city for 3 years without and with a reserve of 3 % (same seed); with it,
    each year's reserve and the dwellings housed at the year's end."""
    out = {0.0: sim.build_model(small, seed=5).run(years=3)}
    model = sim.build_model(variant(small, **{"parameters.housing.vacancy_reserve": 0.03}),
                            seed=5)
    years = []
    for _ in range(3):
        model.step()
        pop = model.population
        years.append((model.market.between_tenancies.copy(),
                       pop.dwelling[pop.dwelling >= 0].copy()))
    out[0.03] = model
    out["years"] = years
    return out


def test_the_reserve_is_a_keyed_choice_in_each_quartier_by_its_stock(small):
    model = sim.build_model(small, seed=2)
    city, pop = model.city, model.population
    occupied = pop.dwelling[pop.dwelling >= 0]
    market = on_market(city)
    vacant = np.setdiff1d(np.flatnonzero(market), occupied)
    quartier = city.dwelling_quartier
    assert between_tenancies(city, occupied, 0.0, np.uint64(7), 2025).size == 0
    share = 0.02
    chosen = between_tenancies(city, occupied, share, np.uint64(7), 2025)
    assert np.isin(chosen, vacant).all() and np.unique(chosen).size == chosen.size
    for q in range(city.n_quartiers):
        stock = int((market & (quartier == q)).sum())
        free = int((quartier[vacant] == q).sum())
        assert (quartier[chosen] == q).sum() == min(round(share * stock), free), q
    np.testing.assert_array_equal(
        chosen, between_tenancies(city, occupied, share, np.uint64(7), 2025))
    assert not np.array_equal(chosen, between_tenancies(city, occupied, share, np.uint64(7),
                                                        2026))  # a new choice every year
    # last year's reserve is not chosen again
    again = between_tenancies(city, occupied, share, np.uint64(7), 2026, last=chosen)
    assert not np.isin(again, chosen).any() and again.size > 0


def test_no_one_moves_into_the_reserve_and_the_year_end_vacancy_counts_it(runs):
    model = runs[0.03]
    market = int(on_market(model.city).sum())
    previous = np.zeros(0, np.int64)
    for reserve, housed in runs["years"]:
        assert reserve.size > 0.5 * 0.03 * market  # vacancies enough for most of it
        assert reserve.size <= 0.03 * market + model.city.n_quartiers  # rounding per quartier
        assert not np.isin(reserve, housed).any()  # empty at the end of its year
        assert not np.isin(reserve, previous).any()  # never two years in a row
        previous = reserve
    table = city_table(model)
    assert table["vacancy_rate"].iloc[-1] >= runs["years"][-1][0].size / market - 1e-9


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
    # a missing year: the growth is over the span of years, not the number of rows
    gap = pd.DataFrame({"relet_rent_m2": [10.0, 12.1]}, index=[2011, 2013])
    assert STATISTICS["relet_rent_growth"](gap, pd.DataFrame()) == pytest.approx(0.1)
