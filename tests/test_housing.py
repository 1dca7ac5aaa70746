"""Housing market, incomes, residential mobility and the rent-mixing lever."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import ndtri

import sim
from sim.model import housing
from sim.state import income
from sim.state.city import PRIVATE, SOCIAL

from .conftest import SCENARIOS, variant


@pytest.fixture(scope="module")
def start(baseline):
    """The default city at the start (30,000 households)."""
    return sim.build_model(baseline, seed=3)


def city_table(model) -> pd.DataFrame:
    out = model.outcomes()
    return out[out.scope == "city"].pivot(index="year", columns="metric", values="value")


# -- incomes -------------------------------------------------------------------------------

def test_income_sigma_reproduces_the_official_poverty_rate():
    sigma = income.income_sigma(0.183)
    assert sigma == pytest.approx(np.log(0.6) / ndtri(0.183))
    rng = np.random.default_rng(0)
    types = np.zeros(400_000, np.int8)  # all "living alone": their own rate applies
    draws = income.draw_incomes(types, 2055.0, 0.183, {"living_alone": 0.29}, rng)
    # Binomial standard error at n = 400k is 0.0007; 5 sigma.
    assert np.mean(draws < 0.6 * 2055.0) == pytest.approx(0.29, abs=0.0036)


def test_oecd_scale():
    assert income.oecd_scale(np.array([1, 2, 2]), np.array([0, 0, 2])).tolist() == [
        1.0, 1.5, 2.1]


def test_start_matches_the_official_figures(start, baseline):
    """Shares at the start versus the scenario's official inputs (tolerances stated)."""
    row = city_table(start).iloc[0]
    ip, hp = baseline.parameters.income, baseline.parameters.housing
    # Poverty rate of persons: the household-type rates weighted by the synthetic type mix
    # (20.3 % at this seed), within 1 point (the draw's sampling error at 30,000 households is
    # about 0.4 points); that expectation lies within 2.5 points of the official overall rate,
    # 18.3 % (NRW 2023).
    a, c = start.population.adults_children()
    types = income.household_type(a, c)
    rates = np.array([ip.type_rates().get(name, ip.poverty_rate) for name in income.TYPE_NAMES])
    size = start.population.household_size()
    expected = float((rates[types] * size).sum() / size.sum())
    assert row["share_poor"] == pytest.approx(expected, abs=0.01)
    assert expected == pytest.approx(ip.poverty_rate, abs=0.025)
    assert row["owner_occupied_share"] == pytest.approx(hp.owner_occupied_share, abs=0.002)
    assert row["social_housing_share"] == pytest.approx(hp.social_housing_share, abs=0.002)
    assert row["mean_rent_m2"] == pytest.approx(hp.rent_m2, rel=0.05)
    assert row["share_migration_background"] == pytest.approx(ip.migration_background_share,
                                                              abs=0.03)
    floor = start.city.dwelling_floor_space
    assert floor.mean() == pytest.approx(hp.mean_floor_space, rel=0.02)
    # Rent burden of tenants (NRW 2022: mean 28.9 %); Ruhr rents are lower. Plausible range.
    assert 0.18 < row["mean_rent_burden"] < 0.33


def test_quartier_profiles_show_in_incomes_and_tenure(start):
    out = start.outcomes()
    first = out[out.year == out.year.min()].pivot(index="scope", columns="metric",
                                                   values="value")
    assert first.loc["stadtwald", "share_poor"] < first.loc["hochfeld", "share_poor"]
    assert first.loc["hochfeld", "social_housing_share"] > first.loc["city",
                                                                     "social_housing_share"]
    assert first.loc["sonnenhang", "owner_occupied_share"] > first.loc["city",
                                                                       "owner_occupied_share"]
    assert first.loc["hochfeld", "location_quotient_poor"] > 1.2


def test_social_tenants_at_the_start_mostly_hold_a_wbs(start):
    pop, city = start.population, start.city
    social = city.dwelling_tenure[pop.dwelling] == SOCIAL
    adults, children = pop.adults_children()
    net = pop.income * pop.equivalence_scale()
    wbs = housing.wbs_eligible(net, pop.household_size(), children,
                               start.scenario.parameters.housing)
    assert wbs[social].mean() > 0.9
    assert wbs[social].mean() > wbs[~social].mean()


# -- the market ----------------------------------------------------------------------------

def test_bindings_expire_in_their_year_and_the_lever_extends_them(small):
    model = sim.build_model(small, seed=1)
    city = model.city
    social = np.flatnonzero(city.dwelling_tenure == SOCIAL)
    end = city.dwelling_binding_end[social].copy()
    model.step()  # year = start_year
    year = model.year
    still = city.dwelling_tenure[social] == SOCIAL
    assert np.array_equal(still, end >= year)

    ext = variant(small, **{"levers.rent_mixing": {"from_year": 2000,
                                                   "binding_extension_years": 10}})
    model = sim.build_model(ext, seed=1)
    model.step()
    assert np.all(model.city.dwelling_tenure[social] == SOCIAL)
    extended = social[end < model.year]
    assert np.all(model.city.dwelling_binding_end[extended] == end[end < model.year] + 10)


def test_sitting_tenants_rents_respect_the_kappungsgrenze(small):
    sc = variant(small, **{"parameters.housing.mietspiegel_growth": 0.3,
                           "parameters.housing.rent_increase_cap_3y": 0.15})
    model = sim.build_model(sc, seed=2)
    pop, city = model.population, model.city
    before = city.dwelling_rent_m2.copy()
    tenure_before = city.dwelling_tenure.copy()
    model.step()
    stayed = pop.dwelling[pop.moved_in < model.year]
    private = stayed[(tenure_before[stayed] == PRIVATE)]
    growth = city.dwelling_rent_m2[private] / before[private]
    assert growth.max() <= 1.15 ** (1 / 3) + 1e-6
    assert growth.min() >= 1.0 - 1e-6


def test_relet_rents_follow_the_vacancy_at_the_end_of_the_last_year(small):
    """Each quartier's re-letting level grows by ``market_rent_growth + vacancy_elasticity ×
    (target − vacancy)`` with the quartier's vacancy at the end of the last year (after
    in-migration), not the vacancy in the middle of the year, when this year's deaths and
    departures have left dwellings that movers and newcomers fill later."""
    sc = variant(small, **{"parameters.housing.market_rent_growth": 0.0,
                           "parameters.housing.vacancy_elasticity": 2.0})
    model = sim.build_model(sc, seed=5)
    city, market, hp = model.city, model.market, sc.parameters.housing
    for _ in range(2):
        seen = market.vacancy_q.copy()  # the end of the year before
        before = city.cell_rent_m2.copy()
        model.step()
        inside = city.cell_quartier >= 0
        q = city.cell_quartier[inside]
        want = (before[inside] * (1.0 + 2.0 * (hp.target_vacancy - seen[q]))).astype(np.float32)
        np.testing.assert_array_equal(city.cell_rent_m2[inside], want)
        occupied = np.zeros(city.n_dwellings, bool)
        occupied[model.population.dwelling[model.population.dwelling >= 0]] = True
        np.testing.assert_array_equal(market.vacancy_q, market.vacancy_by_quartier(occupied))


def test_rents_do_not_drift_while_the_market_is_in_balance(small):
    """Without nominal growth and with the vacancy near its target, the re-letting levels stay
    where they were (they fell by several per cent a year when they followed the vacancy in
    the middle of the year)."""
    sc = variant(small, **{"parameters.income.income_growth": 0.0,
                           "parameters.housing.market_rent_growth": 0.0,
                           "parameters.housing.mietspiegel_growth": 0.0,
                           "parameters.housing.social_rent_growth": 0.0})
    model = sim.build_model(sc, seed=6)
    inside = model.city.cell_quartier >= 0
    start = float(model.city.cell_rent_m2[inside].mean())
    model.run(10)
    vacancy = city_table(model)["vacancy_rate"]
    assert abs(vacancy.mean() - sc.parameters.housing.target_vacancy) < 0.015
    end = float(model.city.cell_rent_m2[inside].mean())
    # following the mid-year vacancy (about 6 %), they fell by some 25 % in 10 years
    assert abs(np.log(end / start)) < 0.1, (start, end)


def test_rent_cap_lever_limits_relet_rents(small):
    capped = variant(small, **{"levers.rent_mixing": {"from_year": 2000, "rent_cap": 0.0},
                               "parameters.housing.market_rent_growth": 0.1})
    model = sim.build_model(capped, seed=4)
    before = model.city.cell_rent_m2.copy()
    model.run(3)
    assert np.all(model.city.cell_rent_m2 <= before * (1 + 1e-6))


def test_quota_builds_social_dwellings(small):
    sc = variant(small, **{"parameters.housing.construction_rate": 0.05, "levers.rent_mixing": {
        "from_year": 2000, "new_building_social_quota": 1.0, "spread_new_building": True}})
    model = sim.build_model(sc, seed=1)
    n0 = model.city.n_dwellings
    model.step()
    new = np.arange(n0, model.city.n_dwellings)
    assert new.size > 0
    assert np.all(model.city.dwelling_tenure[new] == SOCIAL)


# -- indices on the model's own tables equal PySAL's -----------------------------------------

def test_model_indices_equal_pysal_on_the_cell_snapshot(small):
    from libpysal.weights import lat2W, w_subset
    from segregation.singlegroup import Dissim

    np_err = np.geterr()
    import esda

    sc = variant(small, **{"outcomes.cell_snapshots": True, "years": 2})
    model = sim.build_model(sc, seed=7).run()
    cells = model.cell_snapshots()
    last = cells[cells.year == model.year].copy()
    last["total"] = last[["poor", "middle", "high"]].sum(axis=1)
    city = city_table(model).iloc[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        d = Dissim(last[last.total > 0], "poor", "total").statistic
    assert city["dissimilarity_income_cells"] == pytest.approx(d, abs=1e-9)
    populated = last[last.total > 0]
    w = w_subset(lat2W(model.city.height, model.city.width, rook=False),
                 populated.cell.tolist(), silence_warnings=True)
    w.transform = "r"
    with np.errstate(divide="ignore", invalid="ignore"):
        moran = esda.Moran(populated.mean_income.to_numpy(), w, permutations=0).I
    assert city["morans_i_income"] == pytest.approx(moran, abs=1e-9)
    np.seterr(**np_err)


# -- the rent-mixing scenarios --------------------------------------------------------------

def test_rent_mix_scenarios_load_and_differ_only_in_the_lever(baseline):
    names = ["rent_mix_no_action", "rent_mix_binding_extension", "rent_mix_quota_30"]
    for name in names:
        sc = sim.load_scenario(SCENARIOS / f"{name}.toml")
        assert sc.levers.rent_mixing is not None
        assert sc.parameters == baseline.parameters
        assert sc.city == baseline.city


@pytest.mark.slow
def test_quota_30_lowers_poverty_segregation_and_keeps_poorer_residents(baseline):
    """Paired over 6 seeds (common random numbers), 15 years, 10,000 households. In every seed
    the 30 % quota raises the social share and lowers D (poor vs rest) over quartiers; it keeps
    more residents at risk of poverty in the city (paired t-test over the seeds; D and the share
    poor as means over the 15 years: with income dynamics a household's poverty changes from
    year to year, and a single year's D moves by about ± 0.02); on average over the seeds fewer
    of them leave and fewer households leave because of the rent. With the neighbour preference
    fitted on Essen (5.91) the poor's out-migration effect is weaker and noisier (4 seeds: -136,
    -16, +25, -123; a one-sided t-test gave p = 0.11, where it gave p < 0.05 with the hand-set
    1.5), so the test asks for the mean over 6 seeds, not significance."""
    base = sim.load_scenario(SCENARIOS / "rent_mix_no_action.toml")
    quota = sim.load_scenario(SCENARIOS / "rent_mix_quota_30.toml")
    diffs = []
    for seed in range(6):
        tables = []
        for sc in (base, quota):
            sc = sc.with_values({"city.households": 10_000, "years": 15})
            tables.append(city_table(sim.build_model(sc, seed=seed).run()))
        b, q = tables

        def diff(metric, total=False, mean=False, q=q, b=b):
            if total:
                return q[metric].iloc[1:].sum() - b[metric].iloc[1:].sum()
            if mean:
                return q[metric].iloc[1:].mean() - b[metric].iloc[1:].mean()
            return q[metric].iloc[-1] - b[metric].iloc[-1]

        diffs.append({
            "social": diff("social_housing_share"),
            "d_quartiers": diff("dissimilarity_income_quartiers", mean=True),
            "share_poor": diff("share_poor", mean=True),
            "out_poor": diff("out_migrants_poor", total=True),
            "out_rent": diff("out_migrants_cause_rent", total=True),
        })
    diffs = pd.DataFrame(diffs)
    assert (diffs["social"] > 0.05).all()
    assert (diffs["d_quartiers"] < 0).all()
    # one seed of six may sit at zero (after the partner change and the Ruhrstadt re-fit:
    # +0.0030 ... -0.0002)
    assert stats.ttest_1samp(diffs["share_poor"], 0.0, alternative="greater").pvalue < 0.05, (
        diffs["share_poor"].tolist())
    assert diffs["out_poor"].mean() < 0, diffs["out_poor"].tolist()
    assert diffs["out_rent"].mean() < 0


@pytest.mark.slow
def test_move_and_migration_rates_are_plausible(baseline):
    """Yearly rates per 1,000 residents over years 3-8 at 30,000 households, two seeds:
    within-city moves near Köln's 59.3 (2019), out-migration near 49.5 and in-migration near
    53.6 (Köln 2023). Tolerance: ±15 per 1,000 here, on other years and seeds than the
    calibration (`quartier calibrate` fits them over years 1-5 within ±5)."""
    for seed in (1, 2):
        c = city_table(sim.build_model(baseline.with_values({"years": 8}), seed=seed).run())
        pop = c["population"]
        window = slice(3, None)
        per_1000 = {k: float((c[k] / pop * 1000).iloc[window].mean())
                    for k in ("moves_within_city", "out_migrants", "in_migrants")}
        assert per_1000["moves_within_city"] == pytest.approx(59.3, abs=15)
        assert per_1000["out_migrants"] == pytest.approx(49.5, abs=15)
        assert per_1000["in_migrants"] == pytest.approx(53.6, abs=15)
        assert 0.0 < c["vacancy_rate"].iloc[-1] < 0.08


def test_new_builds_are_offered_at_the_new_build_rent(small):
    sc = variant(small, **{"parameters.housing.construction_rate": 0.05})
    model = sim.build_model(sc, seed=1)
    city, hp = model.city, sc.parameters.housing
    occupied = np.zeros(city.n_dwellings, bool)
    occupied[model.population.dwelling] = True
    n0 = city.n_dwellings
    model.market.update(2024, occupied, np.random.default_rng(0))
    new = np.arange(n0, city.n_dwellings)
    assert new.size > 0
    assert model.market.new_this_year[new].all() and not model.market.new_this_year[:n0].any()
    private = new[city.dwelling_tenure[new] == PRIVATE]
    relet = city.cell_rent_m2[city.dwelling_cell[private]]
    expected = relet * (1 + hp.new_build_rent_premium) / (1 + hp.relet_premium)
    # built at last year's level; the level then grew once
    assert np.all(city.dwelling_rent_m2[private] > relet)
    assert np.allclose(city.dwelling_rent_m2[private], expected, rtol=0.15)


def test_in_migrant_poverty_rate_applies_to_every_household_type(small):
    sc = variant(small, **{"parameters.migration.in_migrant_poverty_rate": 0.6})
    model = sim.build_model(sc, seed=1)
    rng = np.random.default_rng(3)
    n = 100_000
    for adults, children in ((np.ones(n, int), np.zeros(n, int)),
                             (np.full(n, 3), np.zeros(n, int))):
        draws = model.draw_incomes(adults, children, rng, poverty_rate=0.6)
        # binomial standard error 0.0015; 5 sigma
        assert np.mean(draws < 0.6 * model.median_income) == pytest.approx(0.6, abs=0.008)


def test_bindings_are_bought_for_fractional_deficits(small):
    sc = variant(small, **{"levers.rent_mixing": {"from_year": 2000,
                                                  "social_share_target": 0.0}})
    model = sim.build_model(sc, seed=1)
    city, market = model.city, model.market
    dq = city.dwelling_quartier
    total = np.bincount(dq, minlength=city.n_quartiers)
    social = np.bincount(dq[city.dwelling_tenure == SOCIAL], minlength=city.n_quartiers)
    # every quartier less than one dwelling short of its target
    market.social_target = (social + 0.9) / np.maximum(total, 1)
    occupied = np.zeros(city.n_dwellings, bool)
    occupied[model.population.dwelling] = True
    bought = market._buy_bindings(2025, occupied, np.random.default_rng(0))
    assert bought > 0


def test_structural_vacancy_leaves_the_market_at_the_start(baseline):
    """housing.market_vacancy_at_start: the start's vacant dwellings above that share of the
    market stock become WITHDRAWN, so the market's vacancy starts at the share; without it
    nothing is withdrawn."""
    from sim.state.city import WITHDRAWN

    small = baseline.with_values({"city.households": 2000, "city.vacancy_rate": 0.08})
    plain = sim.build_model(small, seed=3)
    assert not (plain.city.dwelling_tenure == WITHDRAWN).any()
    model = sim.build_model(
        small.with_values({"parameters.housing.market_vacancy_at_start": 0.03}), seed=3)
    tenure = model.city.dwelling_tenure
    market = tenure <= SOCIAL
    occupied = np.zeros(tenure.size, bool)
    occupied[model.population.dwelling[model.population.dwelling >= 0]] = True
    assert (tenure == WITHDRAWN).sum() > 0
    assert not (occupied & (tenure == WITHDRAWN)).any()
    assert (market & ~occupied).sum() / market.sum() == pytest.approx(0.03, abs=1 / market.sum())
