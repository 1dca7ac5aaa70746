"""Employment status and income dynamics (steps `employment`, `incomes`; docs/ODD.md 7.6, 7.6b).

Statistical tests use fixed seeds; their tolerances are stated where they are asserted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.errors import InputError
from sim.inputs.levers import load_scenario
from sim.model.processes import employment, incomes
from sim.scenario.employment_parameters import EmploymentParameters
from sim.state.income import TYPE_NAMES, household_type
from sim.state.population import Members

ROOT = Path(__file__).resolve().parents[1]
E, U1, U2, N = (employment.EMPLOYED, employment.UNEMPLOYED_SHORT, employment.UNEMPLOYED_LONG,
                employment.INACTIVE)


def scenario(households: int, years: int):
    return load_scenario(ROOT / "scenarios" / "baseline.toml").with_values(
        {"city.households": households, "years": years, "outcomes.cell_snapshots": False})


@pytest.fixture(scope="module")
def small():
    return sim.build_model(scenario(3000, 3), seed=4)


def one_household(ages, status, potential, is_child=None, index=1.0):
    ep = EmploymentParameters()
    n = len(ages)
    w = np.array([ep.unemployment_benefit_share, ep.inactive_income_share, 0.7,
                  ep.earnings_growth_with_age])
    return incomes.household_incomes(
        np.zeros(n, np.int32), np.array(ages, np.int16),
        np.array(is_child if is_child is not None else [a < 18 for a in ages]),
        np.array(status, np.int8), np.array(potential, np.float32), np.ones(n, np.float32),
        np.ones(n, bool), 1, index, w, incomes.age_profile(ep.earnings_growth_with_age),
        incomes.benefit_levels(ep))


# -- income from members ----------------------------------------------------------------------

def test_a_birth_lowers_equivalised_income_of_a_household_living_on_earnings():
    before, on_transfers = one_household([35, 33], [E, E], [2200, 1800])
    after, _ = one_household([35, 33, 0], [E, E, N], [2200, 1800, np.nan])
    assert not on_transfers[0]
    # net income unchanged (4000 × age profile), OECD scale 1.5 → 1.8
    assert after[0] == pytest.approx(before[0] * 1.5 / 1.8)


def test_a_birth_on_the_sgb2_level_adds_the_childs_regelbedarf_and_stays_below_the_line():
    ep = EmploymentParameters()
    line = 0.6 * 2055.0
    before, t0 = one_household([30], [U2], [1500])
    after, t1 = one_household([30, 0], [U2, N], [1500, np.nan])
    assert t0[0] and t1[0]
    assert before[0] == pytest.approx(ep.regelbedarf_single + ep.housing_cost_first)
    assert after[0] == pytest.approx((ep.regelbedarf_single + ep.regelbedarf_0_5
                                      + ep.housing_cost_first + ep.housing_cost_further) / 1.3)
    assert after[0] < line


def test_sgb2_level_stays_below_the_poverty_line_for_the_usual_household_types():
    line = 0.6 * 2055.0
    for ages in ([40], [40, 38], [40, 12], [40, 38, 3, 8], [40, 38, 2, 7, 12], [70, 68],
                 [32, 8, 2, 7], [43, 10, 9, 7, 13], [40, 6, 11, 13, 14, 4]):
        eq, transfers = one_household(ages, [U2 if a < 65 else N for a in ages],
                                      [0.0] * len(ages))
        assert transfers[0]
        assert eq[0] < line, ages


def test_a_birth_in_the_model_lowers_the_income_of_households_on_earnings(small):
    m = small
    pop = m.population
    alive = np.ones(pop.n_persons, bool)
    halive = np.ones(pop.n_households, bool)
    before = incomes.recompute(m, alive, halive)
    adults, _ = pop.adults_children()
    line = 0.6 * m.median_income
    hosts = np.flatnonzero((adults == 2) & (before > 1.2 * line))[:200]
    saved = {name: getattr(pop, name).copy() for name in (
        "age", "sex", "household", "is_child", "pid", "job", "employment", "potential",
        "transitory")}
    try:
        pop.add_persons(Members(np.zeros(hosts.size, np.int16), np.zeros(hosts.size, np.int8),
                                hosts.astype(np.int32), np.ones(hosts.size, bool)),
                        np.arange(hosts.size, dtype=np.uint64) + np.uint64(10**12))
        after = incomes.recompute(m, np.ones(pop.n_persons, bool), halive)
    finally:
        for name, value in saved.items():
            setattr(pop, name, value)
    assert hosts.size > 50
    assert np.all(after[hosts] < before[hosts])


# -- status and transitions -------------------------------------------------------------------

def test_transition_rates_keep_the_shares_by_age_and_sex():
    ep = EmploymentParameters()
    table = np.zeros((2, 2, 111))
    table[:, 0, 18:55], table[:, 1, 18:55] = 0.786, 0.699
    table[:, :, 55:65], table[:, :, 65:70], table[:, :, 70:75] = 0.7, 0.213, 0.106
    target = employment.targets(table, 0.2, ep)
    r = employment.transition_rates(target, ep)
    e, u = target
    n = 1 - e - u
    for a in (25, 60, 67):  # within age bands (no retirement step)
        for s in (0, 1):
            p_eu, p_en, p_u, p_nu, p_ne, _ = r[:, s, a]
            e1 = e[s, a] * (1 - p_eu - p_en) + u[s, a] * p_u * ep.exit_to_employment_share \
                + n[s, a] * p_ne
            u1 = e[s, a] * p_eu + u[s, a] * (1 - p_u) + n[s, a] * p_nu
            assert e1 == pytest.approx(e[s, a], abs=1e-12)
            assert u1 == pytest.approx(u[s, a], abs=1e-12)
    assert u[0, 30] / (e[0, 30] + u[0, 30]) == pytest.approx(ep.unemployment_rate)
    assert r[5, 0, 65] == pytest.approx(1 - 0.213 / 0.7)  # retirement at 65


def test_only_the_employed_hold_jobs_and_everybody_has_a_status(small):
    m = small
    pop = m.population
    year = m.begin_year(m.year)
    from sim.model.kernel import START
    from sim.model.schedule import run_processes
    run_processes(m, year, START)
    workers = year.situation["workers"]
    assert workers.size > 0
    assert np.all(pop.employment[workers] == E)
    assert np.all(pop.employment >= 0)
    assert np.all(pop.employment[(pop.age < 18) | (pop.age > 74)] == N)
    adults = pop.age >= 18
    assert np.all(np.isfinite(pop.potential[adults]))


def test_in_migrants_arrive_with_a_status_and_a_potential():
    m = sim.build_model(scenario(2000, 1), seed=3)
    before = set(m.population.pid.tolist())
    m.step()
    pop = m.population
    new = np.array([p not in before for p in pop.pid.tolist()])
    newcomers = new & (pop.moved_in[pop.household] == m.year) & (pop.age > 0)
    assert newcomers.sum() > 20
    assert np.all(pop.employment[newcomers] >= 0)
    assert np.all(np.isfinite(pop.potential[newcomers & (pop.age >= 18)]))
    assert (pop.employment[newcomers & (pop.age >= 18) & (pop.age < 65)] == E).mean() > 0.4


def test_benefit_levels_are_checked():
    with pytest.raises(InputError, match="regelbedarf_partner"):
        scenario(1000, 1).with_values({"parameters.employment.regelbedarf_partner": 600.0})


# -- start and dynamics (statistical) ---------------------------------------------------------

def _start_incomes(monkeypatch, households, seed):
    saved = {}
    original = incomes.recompute

    def spy(model, *args):
        if "drawn" not in saved:
            saved["drawn"] = model.population.income.copy()
            adults, children = model.population.adults_children()
            saved["types"] = household_type(adults, children)
        out = original(model, *args)
        saved.setdefault("recomputed", out.copy())
        return out

    monkeypatch.setattr(employment, "recompute", spy)
    model = sim.build_model(scenario(households, 1), seed=seed)
    return model, saved["drawn"], saved["recomputed"], saved["types"]


@pytest.mark.slow
def test_start_median_and_poverty_rates_by_type_are_the_drawn_ones(monkeypatch):
    """Recomputing the start incomes from members keeps the drawn (calibrated) incomes:
    median within 1 %, poverty rate of every household type within 1.5 points (10,000
    households, seed 1)."""
    model, drawn, recomputed, types = _start_incomes(monkeypatch, 10_000, 1)
    line = 0.6 * model.median_income
    assert np.median(recomputed) == pytest.approx(np.median(drawn), rel=0.01)
    for t, name in enumerate(TYPE_NAMES):
        sel = types == t
        if sel.sum() < 100:
            continue
        assert abs((recomputed[sel] < line).mean() - (drawn[sel] < line).mean()) < 0.015, name


def _run_and_track(households, years, seed):
    model = sim.build_model(scenario(households, years), seed=seed)
    history = [(model.population.hid.copy(), model.population.income / model.median_income)]
    for _ in range(years):
        model.step()
        history.append((model.population.hid.copy(),
                        model.population.income / model.median_income))
    return model, history


def persistence(history, t0, k=4):
    """Share of the bottom fifth at t0 still in the bottom fifth at t0 + k, and the share of
    the poor at t0 + k poor in each of the years t0 + 1 … t0 + k (households present
    throughout)."""
    hids = history[t0][0]
    for hid, _ in history[t0 + 1:t0 + k + 1]:
        hids = np.intersect1d(hids, hid)

    def rel(t):
        hid, r = history[t]
        order = np.argsort(hid)
        return r[order][np.searchsorted(hid[order], hids)], r

    r0, all0 = rel(t0)
    rk, allk = rel(t0 + k)
    bottom0, bottomk = r0 < np.quantile(all0, 0.2), rk < np.quantile(allk, 0.2)
    poor_all = np.ones(hids.size, bool)
    for t in range(t0 + 1, t0 + k + 1):
        poor_all &= rel(t)[0] < 0.6
    return (bottom0 & bottomk).sum() / bottom0.sum(), poor_all.sum() / (rk < 0.6).sum()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_poverty_persistence_lies_in_the_soep_range(seed):
    """10,000 households, 8 years, windows 1→5 and 4→8. Bottom fifth still there after 4
    years: SOEP 54-60 % (bpb Sozialbericht 2024); tolerance ± 4 points for sampling (about
    2,000 households in the bottom fifth) and for households vs persons. Poor in each of 4
    years, per household poor in the last: 20-44 % (t-online on SOEP, 1998 and recent);
    tolerance + 4 points. The window from the start (0→4) is the spin-up: the start's incomes
    are drawn without a history, so persistence is lower there (49-53 % at seeds 1-3) and rises
    over the first windows (docs/incomes.md); it is checked to lie below the later window.
    Entry and exit rates are reported as flows, exits more likely than entries; unemployment
    stays at its rate (± 1.5 points)."""
    model, history = _run_and_track(10_000, 8, seed)
    for t0 in (1, 4):
        bottom, continuous = persistence(history, t0)
        assert 0.50 <= bottom <= 0.64, (t0, bottom)
        assert 0.20 <= continuous <= 0.48, (t0, continuous)
    assert persistence(history, 0)[0] < persistence(history, 4)[0]
    out = model.outcomes()
    city = out[out.scope == "city"]
    entry = city[city.metric == "poverty_entry_rate"].value.dropna()
    exit_ = city[city.metric == "poverty_exit_rate"].value.dropna()
    assert entry.size == 8 and exit_.size == 8
    assert np.all((entry > 0.02) & (entry < 0.2)) and np.all((exit_ > 0.1) & (exit_ < 0.6))
    pop = model.population
    working = (pop.age >= 18) & (pop.age < 65)
    labour = working & (pop.employment != N)
    rate = np.isin(pop.employment[labour], [U1, U2]).mean()
    ep = model.scenario.parameters.employment
    assert abs(rate - ep.unemployment_rate) < 0.015
