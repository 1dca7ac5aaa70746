"""Care, doctors, schools, jobs and their levers (issue: services).

Statistical claims use fixed seeds and state their tolerances."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.model import care_need as care
from sim.model.schedule import processes, run_processes
from sim.state.city import NURSING, in_nursing_home
from sim.state.outcomes import CAUSES

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


# -- vectorised references for the compiled passes of the model ---------------------------


def _box_sum(values, width, height):
    """Sum over each cell and its 8 neighbours of per-cell rows (row-major grid)."""
    grid = values.reshape((height, width) + values.shape[1:])
    g = np.pad(grid, [(1, 1), (1, 1)] + [(0, 0)] * (values.ndim - 1))
    total = sum(g[dy:dy + height, dx:dx + width] for dy in range(3) for dx in range(3))
    return total.reshape(values.shape)


def _reference_neighbourhood(cell, group, origin, housed, width, height):
    n_c = width * height
    by_income = np.stack([np.bincount(cell[housed & (group == g)], minlength=n_c)
                          for g in range(3)], axis=1).astype(float)
    by_origin = np.stack([np.bincount(cell[housed & (origin == o)], minlength=n_c)
                          for o in range(2)], axis=1).astype(float)
    nb_i, nb_o = _box_sum(by_income, width, height), _box_sum(by_origin, width, height)
    total = nb_i.sum(axis=1)
    others = total[cell] - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        share_i = np.where(others > 0, (nb_i[cell, group] - 1.0) / others, np.nan)
        share_o = np.where(others > 0, (nb_o[cell, origin] - 1.0) / others, np.nan)
    return total, nb_i, nb_o, share_i, share_o


def _reference_parts(info, floor, share_i, share_o, mp, cp):
    """The six dissatisfaction parts as written in the mobility module's docstring."""
    rent = np.clip((info["burden"] - mp.rent_burden_threshold) / mp.rent_burden_threshold, 0, 2)
    crowding = np.clip(1.0 - floor / (mp.crowding_threshold * info["norm"]), 0, 1)
    tau = mp.homophily_threshold
    gap = [np.nan_to_num(np.clip((tau - x) / tau, 0, 1)) for x in (share_i, share_o)]
    health = info["health_weight"] * np.clip(1.0 - info["gp"] / cp.health_access_threshold,
                                             0, 1)
    school = np.where(info["children"] > 0, info["school"], 0.0)
    thr = cp.commute_burden_threshold
    job = np.clip((info["commute"] / info["net_income"] - thr) / thr, 0, 2)
    parts = np.stack([rent, crowding, 0.5 * (gap[0] + gap[1]), health, school, job], axis=1)
    parts[~info["housed"] | info["nursing"]] = 0.0
    return parts


def _city(outcomes: pd.DataFrame, year: int | None = None) -> pd.Series:
    o = outcomes[outcomes["scope"] == "city"]
    if year is not None:
        o = o[o["year"] == year]
        return o.set_index("metric")["value"]
    return o.pivot(index="year", columns="metric", values="value")


@pytest.fixture(scope="module")
def start_models():
    sc = sim.load_scenario(SCENARIOS / "baseline.toml").with_values({"years": 1})
    return [sim.build_model(sc, seed=s) for s in (1, 2)]


def test_care_shares_at_start_match_nrw(start_models):
    """NRW 2023 (IT.NRW Pflegestatistik): 7.6 % of residents in need of care, 87.8 % of them
    cared for at home. Tolerances: 0.5 and 2 percentage points (two seeds pooled)."""
    dep = [_city(m.outcomes(), 2023)["care_dependency_share"] for m in start_models]
    home = [_city(m.outcomes(), 2023)["share_cared_at_home"] for m in start_models]
    assert abs(np.mean(dep) - 0.076) < 0.005, dep
    assert abs(np.mean(home) - 0.878) < 0.02, home


def test_care_need_follows_the_rate_tables(start_models):
    """The share in need by age band and sex equals the tables (binomial tolerance, 4 sd)."""
    m = start_models[0]
    pop = m.population
    need = pop.pflegegrad > 0
    inpatient, ambulant, _ = care.settings(pop.age, pop.sex, pop.pid, pop.pflegegrad,
                                           m.keys["care"], m.care.tables)
    prevalence = m.care.tables.prevalence
    for lo, hi in ((0, 65), (65, 75), (75, 85), (85, 90), (90, 111)):
        for sex in (0, 1):
            sel = (pop.age >= lo) & (pop.age < hi) & (pop.sex == sex)
            expected = prevalence[sex, pop.age[sel]].mean()
            sd = np.sqrt(expected * (1 - expected) / sel.sum())
            assert abs(need[sel].mean() - expected) < 4 * sd + 1e-9, (lo, sex)
    assert not (inpatient & ~need).any() and not (ambulant & (inpatient | ~need)).any()


def test_nursing_residents_live_in_places_and_have_the_need(start_models):
    m = start_models[0]
    pop, city = m.population, m.city
    in_home = in_nursing_home(pop.dwelling, city)
    need = pop.pflegegrad > 0
    residents = in_home[pop.household]
    assert residents.sum() > 0
    assert need[residents].all()
    assert (np.bincount(pop.household[residents], minlength=pop.n_households)[in_home] == 1
            ).all()
    places = np.flatnonzero(city.dwelling_tenure == NURSING)
    assert in_home.sum() <= places.size
    occupied = pop.dwelling[pop.dwelling >= 0]
    assert np.unique(occupied).size == occupied.size


def test_gp_access_is_supply_per_resident(start_models):
    """2SFCA conserves supply: Σ over (mode, cell) of residents × access / the Bedarfsplanung's
    ratio equals the doctors (all practices have residents in reach in Ruhrstadt), so the
    city's mean access is its doctors per resident × the ratio (the Versorgungsgrad)."""
    m = start_models[0]
    m.step()
    sv = m.services
    ratio = m.scenario.parameters.services.gp_inhabitants_per_gp
    demand = sv.last_gp_demand
    doctors = sv.facilities.capacity[sv.facilities.open(0, m.year)].sum()
    assert doctors > 0
    assert (demand * sv.gp_access).sum() / ratio == pytest.approx(doctors, rel=1e-9)
    assert (demand * sv.gp_access).sum() / demand.sum() == pytest.approx(
        doctors / demand.sum() * ratio, rel=1e-9)


def test_out_migration_by_cause_sums_and_people_are_conserved():
    sc = sim.load_scenario(SCENARIOS / "combined.toml").with_values({"years": 6})
    out = sim.build_model(sc, seed=3).run().outcomes()
    for scope, part in out.groupby("scope", observed=True):
        t = part.pivot(index="year", columns="metric", values="value").iloc[1:]
        causes = t[[f"out_migrants_cause_{c}" for c in CAUSES]].sum(axis=1)
        np.testing.assert_allclose(causes, t["out_migrants"], rtol=0, atol=1e-9,
                                   err_msg=str(scope))
    c = _city(out)
    change = c["population"].diff().iloc[1:]
    flows = (c["births"] + c["in_migrants"] - c["deaths"] - c["out_migrants"]).iloc[1:]
    np.testing.assert_allclose(change, flows, atol=1e-9)
    assert c["out_migrants_cause_care"].iloc[1:].notna().all()


def test_lever_outside_the_grid_is_refused(tmp_path):
    (tmp_path / "base.toml").write_text((SCENARIOS / "baseline.toml").read_text())
    (tmp_path / "calibrated.toml").write_text((SCENARIOS / "calibrated.toml").read_text())
    (tmp_path / "bad.toml").write_text(
        'extends = "base.toml"\nname = "bad"\n[[levers.mvz.centres]]\ncell = [500, 3]\n')
    with pytest.raises(sim.InputError, match=r"bad.toml: levers.mvz.centres.0.cell"):
        sim.load_scenario(tmp_path / "bad.toml")


# -- each lever moves its own outcomes (paired seeds, one-sided t-tests) -------------------

YEARS, HOUSEHOLDS, SEEDS = 8, 30_000, (0, 1, 2, 3)
# scenario, scope, metric, aggregate over 2025-2031, expected sign of (lever - baseline)
EXPECTATIONS = [
    ("mvz_hochfeld", "hochfeld", "share_65plus_gp_within_reach", "mean", +1),
    ("mvz_hochfeld", "hochfeld", "gp_access_65plus", "mean", +1),
    ("mvz_hochfeld", "hochfeld", "out_migrants_cause_health", "sum", -1),
    ("mvz_hochfeld", "hochfeld", "out_migrants_65plus", "sum", -1),
    ("mvz_centre", "altstadt", "gp_access_65plus", "mean", +1),
    ("mvz_incentive", "city", "gp_doctors", "mean", +1),
    ("ticket_58", "city", "commuting_cost_share", "mean", +1),
    ("ticket_58", "city", "share_walk_only", "mean", +1),
    ("ticket_58", "city", "out_migrants_cause_commuting", "sum", +1),
    ("ticket_sozialticket", "city", "share_walk_only", "mean", -1),
    ("ticket_sozialticket", "city", "out_migrants_cause_commuting", "sum", -1),
    ("ticket_free", "city", "commuting_cost_share", "mean", -1),
    ("ticket_free", "city", "out_migrants_cause_commuting", "sum", -1),
    ("ticket_free", "city", "out_migrants", "sum", -1),
    ("school_hochfeld", "hochfeld", "out_migrants_cause_school", "sum", -1),
    ("school_hochfeld", "hochfeld", "out_migrants_families", "sum", -1),
]


def _summary(args: tuple[str, int]) -> tuple[str, int, pd.DataFrame]:
    name, seed = args
    sc = sim.load_scenario(SCENARIOS / f"{name}.toml").with_values(
        {"years": YEARS, "city.households": HOUSEHOLDS})
    o = sim.build_model(sc, seed=seed).run().outcomes()
    o = o[o["year"] >= 2025]
    return name, seed, o.groupby(["scope", "metric"], observed=True)["value"].agg(
        ["sum", "mean"])


@pytest.fixture(scope="module")
def lever_runs():
    names = ["baseline"] + sorted({getattr(e, "values", e)[0] for e in EXPECTATIONS})
    jobs = [(n, s) for n in names for s in SEEDS]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as ex:
        return {(n, s): t for n, s, t in ex.map(_summary, jobs)}


@pytest.mark.slow
@pytest.mark.parametrize("name,scope,metric,agg,sign", EXPECTATIONS,
                         ids=[f"{e[0]}-{e[1]}-{e[2]}" for e in
                              (getattr(e, "values", e) for e in EXPECTATIONS)])
def test_lever_moves_its_outcome(lever_runs, name, scope, metric, agg, sign):
    """Paired over 4 seeds (common random numbers): the mean difference has the documented
    sign and a one-sided paired t-test gives p < 0.05 (or all differences share the sign
    with zero spread, e.g. doctors added)."""
    d = np.array([lever_runs[(name, s)].loc[(scope, metric), agg]
                  - lever_runs[("baseline", s)].loc[(scope, metric), agg] for s in SEEDS])
    assert np.all(np.isfinite(d))
    assert sign * d.mean() > 0, d
    if d.std() > 0:
        p = stats.ttest_1samp(d, 0.0, alternative="greater" if sign > 0 else "less").pvalue
        assert p < 0.05, (d, p)


def test_cached_2sfca_equals_the_reference_function():
    """The model's 2SFCA on precomputed weights equals sim.model.accessibility.two_step_fca."""
    from sim.model.accessibility import TravelModel, two_step_fca
    from sim.model.services import _fca, _weighted_pairs

    rng = np.random.default_rng(7)
    tm = TravelModel(width=30, height=20, stop_cells=np.array([45, 300, 512]))
    cells = np.arange(600)
    fac = rng.choice(600, 12, replace=False)
    times = tm.within(cells, fac, "pt", 20.0)
    supply, demand = rng.uniform(1, 3, 12), rng.uniform(0, 50, 600)
    expected, _ = two_step_fca(supply, demand, times, 20.0)
    np.testing.assert_allclose(_fca(supply, demand, _weighted_pairs(times, 20.0)), expected,
                               rtol=1e-12, atol=1e-15)


def test_compiled_neighbourhood_equals_the_numpy_version(start_models):
    """The one-pass neighbourhood kernel gives the same counts and shares as a vectorised
    version (random groups, some households not housed)."""
    from sim.model import mobility

    m = start_models[1]
    city, pop = m.city, m.population
    rng = np.random.default_rng(0)
    n = pop.n_households
    cell = city.dwelling_cell[pop.dwelling].astype(np.int64)
    group, origin = rng.integers(0, 3, n), rng.integers(0, 2, n)
    housed = rng.random(n) < 0.9
    expected = _reference_neighbourhood(cell, group, origin, housed, city.width, city.height)
    got = mobility.neighbourhood(cell, group, origin, housed, city.width, city.height)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_compiled_parts_equal_the_vectorised_formulas(start_models):
    from sim.model import mobility

    m = start_models[1]
    pop, city = m.population, m.city
    year = m.begin_year(m.year + 1)
    run_processes(m, year, processes("situation", "travel", "doctors", "schools", "jobs",
                                     "dissatisfaction"))
    info = year.situation
    mp, cp = m.scenario.parameters.mobility, m.scenario.parameters.choice
    d = pop.dwelling
    cell = city.dwelling_cell[d].astype(np.int64)
    _, _, _, share_i, share_o = mobility.neighbourhood(
        cell, info["group"], info["origin"], info["housed"], city.width, city.height)
    expected = _reference_parts(info, city.dwelling_floor_space[d], share_i, share_o, mp, cp)
    np.testing.assert_allclose(info["parts"], expected, rtol=1e-6, atol=1e-6)  # float32
    assert (info["parts"][:, 3:] > 0).any(axis=0).all()  # every service part occurs


def test_pool_sampler_draws_equal_generator_choice():
    from sim.model.processes.in_migration import PoolSampler, in_migrant_households

    class Pool:
        sizes = np.arange(1, 6).repeat(200)

    w = np.random.default_rng(1).random(1000)
    w[::7] = 0.0  # rows that are never drawn
    w[500:520] = 0.0
    w /= w.sum()
    sampler = PoolSampler(w, Pool.sizes)
    a = in_migrant_households(Pool, w, 5000.0, np.random.default_rng(9))
    b = in_migrant_households(Pool, w, 5000.0, np.random.default_rng(9), sampler)
    assert a.size > 0 and np.array_equal(a, b)
    # uniforms on and next to the guide's bins and the cumulative weights themselves
    u = np.r_[np.arange(1000) / 1000, sampler.cdf[:-1], np.nextafter(sampler.cdf[:-1], 0),
              0.0, np.nextafter(1.0, 0)]
    assert np.array_equal(sampler.rows(u), sampler.cdf.searchsorted(u, side="right"))


def test_compiled_movers_equal_the_vectorised_decision():
    from sim.model import mobility
    from sim.model.rng import keyed_uniforms

    rng = np.random.default_rng(3)
    n = 5000
    parts = rng.random((n, 6)).astype(np.float32) * (rng.random((n, 6)) < 0.2)
    stage = rng.integers(0, 4, n).astype(np.int8)
    event = rng.random(n) < 0.05
    active = rng.random(n) < 0.9
    hid = rng.integers(0, 2**63, n).astype(np.uint64)
    mp = sim.load_scenario(SCENARIOS / "baseline.toml").parameters.mobility
    base = np.array([mp.move_rate_young, mp.move_rate_family, mp.move_rate_middle,
                     mp.move_rate_old])[stage]
    p = np.minimum(base * np.exp(mp.dissatisfaction_effect * parts.astype(np.float64).sum(1))
                   + mp.life_event_move_probability * event, 1.0)
    expected = active & (keyed_uniforms(np.uint64(77), 2030, hid, 0) < p)
    got = mobility.movers(parts, stage, event, active, hid, np.uint64(77), 2030, mp)
    assert expected.sum() > 100
    np.testing.assert_array_equal(got, expected)


def test_uniform_from_base_equals_keyed_uniform():
    from numba import njit

    from sim.model.rng import keyed_base, keyed_uniform, uniform_from

    @njit
    def both(key, year, agent, slot):
        return keyed_uniform(key, year, agent, slot), uniform_from(
            keyed_base(key, year, agent), slot)

    rng = np.random.default_rng(5)
    for _ in range(200):
        key, agent = (np.uint64(x) for x in rng.integers(0, 2**63, 2))
        a, b = both(key, np.int64(2031), agent, np.int64(rng.integers(0, 3000)))
        assert a == b


def test_group_rows_equals_stable_argsort_and_bincount():
    from sim.model.processes.dissatisfaction import group_rows

    group = np.random.default_rng(4).integers(0, 300, 5000).astype(np.int32)
    order, counts = group_rows(group, 320)  # groups 300-319 are empty
    assert np.array_equal(order, np.argsort(group, kind="stable"))
    assert np.array_equal(counts, np.bincount(group, minlength=320))
