"""GPs as doctors with ages (issue 16): start ages, retirement by the KV NRW planning
assumption, successors by quartier, the incentive's refills, and GP access as the
Bedarfsplanung's Versorgungsgrad, which more doctors never lower.

Statistical claims use fixed seeds and state their tolerances."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.inputs.city import build_city
from sim.model import gp_supply
from sim.model.services import GP, Services

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
HOUSEHOLDS, YEARS = 10_000, 10
DENSE = {"city.households": HOUSEHOLDS, "years": YEARS,
         "parameters.services.gps_per_100k": 600.0}  # ~140 doctors, for statistics


def _kv_survival() -> np.ndarray:
    """The KV NRW planning assumption (2019) by completed age, written out: all active under
    65, 50 % at 65-67, 20 % at 68-69, none from 70."""
    s = np.ones(gp_supply.MAX_AGE + 1)
    s[65:68], s[68:70], s[70:] = 0.5, 0.2, 0.0
    return s


def _expected_active(start_age: np.ndarray, refill: np.ndarray, years: int,
                     new_ages: tuple[int, int]) -> np.ndarray:
    """Per seat, the exact probability that it has a doctor after ``years`` years: a Markov
    chain over (age of the seat's doctor, or empty). Each year the doctor turns a year older,
    leaves with 1 − S(a) / S(a − 1), and a successor (uniform age over ``new_ages``) follows
    with the seat's refill probability."""
    s = _kv_survival()
    prev = np.r_[1.0, s[:-1]]
    hazard = np.where(prev > 0, 1.0 - s / np.where(prev > 0, prev, 1.0), 1.0)
    n = start_age.size
    dist = np.zeros((n, s.size))
    dist[np.arange(n), start_age] = 1.0
    lo, hi = new_ages
    for _ in range(years):
        dist = np.c_[np.zeros(n), dist[:, :-1]]
        leaving = dist * hazard
        dist -= leaving
        dist[:, lo:hi + 1] += (leaving.sum(axis=1) * refill)[:, None] / (hi - lo + 1)
    return dist.sum(axis=1)


@pytest.fixture(scope="module")
def big_city():
    """Services of Ruhrstadt sized for 2 million inhabitants (~1,200 doctors)."""
    sc = sim.load_scenario(SCENARIOS / "baseline.toml")
    return sc, Services(build_city(sc), 2e6, (80_000.0, 160_000.0), sc, sc.city.layout_seed)


def test_start_ages_reproduce_the_gp_age_structure(big_city):
    """The start distribution reproduces Germany's GPs exactly (mean 55.1, 40.8 % aged 60+,
    18.5 % aged 65+; gp_planning.csv), and the layout's draws match it within 4 binomial
    (or standard-error) sd."""
    sc, sv = big_city
    sp = sc.parameters.services
    exact = gp_supply.start_age_moments(sp.gp_start_age_edges, sp.gp_start_age_shares)
    assert exact["mean"] == pytest.approx(55.1, abs=0.005)
    assert exact["60plus"] == pytest.approx(0.408, abs=1e-4)
    assert exact["65plus"] == pytest.approx(0.185, abs=1e-4)
    age = sv.doctors.age
    n = age.size
    assert n > 1000 and age.min() >= sp.gp_start_age_edges[0]
    assert abs(age.mean() - exact["mean"]) < 4 * age.std() / np.sqrt(n)
    for share, mask in ((exact["60plus"], age >= 60), (exact["65plus"], age >= 65)):
        assert abs(mask.mean() - share) < 4 * np.sqrt(share * (1 - share) / n)
    # the same doctors in every run of the city: a second placement gives the same ages
    again = Services(build_city(sc), 2e6, (80_000.0, 160_000.0), sc, sc.city.layout_seed)
    np.testing.assert_array_equal(again.doctors.age, age)


def test_hazards_keep_the_kv_shares_at_every_age():
    """A cohort retiring by the model's yearly hazards keeps exactly the KV's shares."""
    sp = sim.load_scenario(SCENARIOS / "baseline.toml").parameters.services
    h = gp_supply.retirement_hazards(sp.gp_active_share_ages, sp.gp_active_shares)
    still = np.cumprod(1.0 - h)
    np.testing.assert_allclose(still, _kv_survival(), rtol=0, atol=1e-12)
    assert h[65] == pytest.approx(0.5) and h[68] == pytest.approx(0.6) and h[70] == 1.0


def test_decline_matches_the_markov_expectation(big_city):
    """No lever: the doctors left after 5, 10 and 20 years, over 40 keys, match the exact
    expectation from the start ages, the KV hazards and each seat's refill probability
    (tolerance 4 sd of the mean, from the seats' independent Bernoulli variances)."""
    sc, sv = big_city
    sp = sc.parameters.services
    hazard = gp_supply.retirement_hazards(sp.gp_active_share_ages, sp.gp_active_shares)
    refill = sv.refill_probabilities(None)
    start = sv.doctors.age.copy()
    keys = [np.uint64(k * 7919 + 11) for k in range(40)]
    checkpoints = (5, 10, 20)
    counts = {t: [] for t in checkpoints}
    for key in keys:
        d = copy.deepcopy(sv.doctors)
        for t in range(1, max(checkpoints) + 1):
            gp_supply.age_and_retire(d, 2023 + t, key, hazard, refill, sp.gp_new_doctor_ages)
            if t in counts:
                counts[t].append(d.active.sum())
    for t in checkpoints:
        p = _expected_active(start, refill, t, sp.gp_new_doctor_ages)
        sd = np.sqrt((p * (1 - p)).sum() / len(keys))
        assert abs(np.mean(counts[t]) - p.sum()) < 4 * sd, (t, np.mean(counts[t]), p.sum(), sd)
    # GPs decline with no lever (the data's shortage): fewer than 85 % left after 10 years
    assert _expected_active(start, refill, 10, sp.gp_new_doctor_ages).sum() < 0.85 * start.size


def test_same_key_same_doctors_other_key_other_doctors(big_city):
    sc, sv = big_city
    sp = sc.parameters.services
    hazard = gp_supply.retirement_hazards(sp.gp_active_share_ages, sp.gp_active_shares)
    refill = sv.refill_probabilities(None)
    runs = []
    for key in (np.uint64(5), np.uint64(5), np.uint64(6)):
        d = copy.deepcopy(sv.doctors)
        for year in range(2024, 2034):
            gp_supply.age_and_retire(d, year, key, hazard, refill, sp.gp_new_doctor_ages)
        runs.append(d)
    for field in ("id", "age", "active"):
        np.testing.assert_array_equal(getattr(runs[0], field), getattr(runs[1], field))
    assert not np.array_equal(runs[0].active, runs[2].active)


def _demand(sv: Services, rng: np.random.Generator) -> np.ndarray:
    inside = (sv.city.cell_quartier >= 0).astype(float)
    return rng.gamma(0.5, 40.0, (3, sv.city.n_cells)) * inside


def test_more_doctors_never_lower_any_cells_access():
    """update_gp with the same residents: a new practice anywhere, or one more doctor in a
    practice, lowers no cell's access (absolute 2SFCA), and a capacity change alone does not
    rebuild the weights."""
    sc = sim.load_scenario(SCENARIOS / "baseline.toml")
    sv = Services(build_city(sc), 60_000.0, (2400.0, 4800.0), sc, sc.city.layout_seed)
    rng = np.random.default_rng(16)
    demand = _demand(sv, rng)
    year = sc.start_year
    sv.set_gp_capacity()
    sv.update_gp(year, demand)
    inside = np.flatnonzero(sv.city.cell_quartier >= 0)
    for _ in range(5):
        before, weights = sv.gp_access.copy(), sv._gp_cache[2]
        row = int(rng.choice(np.flatnonzero(sv.facilities.kind == GP)))
        sv.doctors.add(np.array([rng.integers(1 << 50)], np.uint64), np.array([row]),
                       np.ones(1), np.array([40]))
        sv.set_gp_capacity()
        sv.update_gp(year, demand)
        assert sv._gp_cache[2] is weights  # no rebuild
        assert (sv.gp_access >= before - 1e-12).all()
        assert (sv.gp_access > before + 1e-9).any()
        before = sv.gp_access.copy()
        c = int(rng.choice(inside))
        new = sv.facilities.add(GP, c, 1.0, year, "test")
        sv.doctors.add(np.array([rng.integers(1 << 50)], np.uint64), new, np.ones(1),
                       np.array([40]))
        sv.set_gp_capacity()
        sv.update_gp(year, demand)
        assert (sv.gp_access >= before - 1e-12).all()
        assert sv.gp_access[:, c].max() > before[:, c].max()


@pytest.fixture(scope="module")
def dense_runs():
    """Baseline and a refill incentive in Nordstadt (no extra doctors), same seed, with the
    start doctor tables."""
    base = sim.load_scenario(SCENARIOS / "baseline.toml").with_values(DENSE)
    lever = base.with_values({"levers.mvz": {"incentive": {
        "from_year": 2024, "until_year": 2040, "quartier": "nordstadt",
        "doctors_per_year": 0.0, "refill_probability": 0.9}}})
    out = {}
    for name, sc in (("base", base), ("lever", lever)):
        m = sim.build_model(sc, seed=4)
        start = copy.deepcopy(m.services.doctors)
        out[name] = (m, start, m.run().outcomes())
    return out


def _city_series(outcomes, metric, scope="city"):
    o = outcomes[(outcomes["scope"] == scope) & (outcomes["metric"] == metric)]
    return o.set_index("year")["value"]


def test_the_model_replays_the_doctors_process(dense_runs):
    """The model's doctors are the start table run through the yearly process with the run's
    key, once a year and not in the start state; its GP outcomes are their sums."""
    m, start, out = dense_runs["base"]
    sp = m.scenario.parameters.services
    hazard = gp_supply.retirement_hazards(sp.gp_active_share_ages, sp.gp_active_shares)
    refill = m.services.refill_probabilities(None)
    d = copy.deepcopy(start)
    retired, refilled = [], []
    for year in range(m.scenario.start_year, m.year + 1):
        r, f = gp_supply.age_and_retire(d, year, m.keys["doctors"], hazard, refill,
                                        sp.gp_new_doctor_ages)
        retired.append(r.sum())
        refilled.append(f.sum())
    for field in ("id", "age", "active"):
        np.testing.assert_array_equal(getattr(d, field), getattr(m.services.doctors, field))
    years = np.arange(m.scenario.start_year, m.year + 1)
    np.testing.assert_array_equal(_city_series(out, "gp_retirements")[years], retired)
    np.testing.assert_array_equal(_city_series(out, "gp_refills")[years], refilled)
    doctors = _city_series(out, "gp_doctors")
    assert doctors[m.scenario.start_year - 1] == start.active.sum()
    assert doctors[m.year] == d.active.sum()
    assert np.isnan(_city_series(out, "gp_retirements")[m.scenario.start_year - 1])


def test_the_models_gps_decline_as_expected(dense_runs):
    """No lever, one run: the GPs after 10 years match the exact Markov expectation within
    4 sd (binomial variance of the seats), and they decline."""
    m, start, out = dense_runs["base"]
    sp = m.scenario.parameters.services
    p = _expected_active(start.age, m.services.refill_probabilities(None), YEARS,
                         sp.gp_new_doctor_ages)
    doctors = _city_series(out, "gp_doctors")
    assert abs(doctors[m.year] - p.sum()) < 4 * np.sqrt((p * (1 - p)).sum()), (
        doctors[m.year], p.sum())
    assert doctors[m.year] < doctors[m.scenario.start_year - 1]


def test_incentive_raises_refills_in_its_quartier_only(dense_runs):
    """Same seed (common random numbers per doctor): with the incentive, every seat in its
    quartier has a doctor whenever it has one without it, and its refills are more; the other
    quartiers' doctors are identical."""
    m0, _, out0 = dense_runs["base"]
    m1, _, out1 = dense_runs["lever"]
    d0, d1 = m0.services.doctors, m1.services.doctors
    f = m0.services.facilities
    q = m0.city.cell_quartier[f.cell[d0.facility]]
    target = m0.city.quartier_ids().index("nordstadt")
    here = q == target
    assert here.sum() >= 10
    assert (d1.active[here] >= d0.active[here]).all()
    np.testing.assert_array_equal(d1.active[~here], d0.active[~here])
    np.testing.assert_array_equal(d1.id[~here], d0.id[~here])
    refills = [_city_series(o, "gp_refills", "nordstadt").iloc[1:].sum() for o in (out0, out1)]
    assert refills[1] > refills[0], refills
    others = [q_id for q_id in m0.city.quartier_ids() if q_id != "nordstadt"]
    for q_id in others:
        np.testing.assert_array_equal(_city_series(out0, "gp_refills", q_id).iloc[1:],
                                      _city_series(out1, "gp_refills", q_id).iloc[1:])


def test_same_seed_same_gp_outcomes():
    sc = sim.load_scenario(SCENARIOS / "mvz_incentive.toml").with_values(
        {"city.households": 5000, "years": 3})
    a, b = (sim.build_model(sc, seed=2).run().outcomes() for _ in range(2))
    gp = a["metric"].astype(str).str.startswith("gp_")
    assert gp.sum() > 0
    np.testing.assert_array_equal(a.loc[gp, "value"].to_numpy(),
                                  b.loc[gp, "value"].to_numpy())


def test_mvz_never_lowers_any_cells_access_in_its_opening_year():
    """Same seed, the year before and the year the MVZ Hochfeld opens: the access is the
    same before it opens, never lower in any cell when it opens (higher in Hochfeld), and the
    other doctors are the same."""
    base = sim.load_scenario(SCENARIOS / "baseline.toml").with_values(
        {"city.households": HOUSEHOLDS})
    city = build_city(base)  # the smaller grid: the MVZ in Hochfeld's most residential cell
    hochfeld = city.cell_quartier == city.quartier_ids().index("hochfeld")
    c = int(np.flatnonzero(hochfeld)[np.argmax(city.cell_weight[hochfeld])])
    mvz = base.with_values({"levers.mvz": {"centres": [
        {"cell": [c % city.width, c // city.width], "doctors": 6.0, "opening_year": 2025,
         "name": "MVZ Hochfeld"}]}})
    opening = mvz.levers.mvz.centres[0].opening_year
    models = [sim.build_model(sc, seed=7) for sc in (base, mvz)]
    while models[0].year < opening:
        for m in models:
            m.step()
        a0, a1 = (m.services.gp_access for m in models)
        if models[0].year < opening:
            np.testing.assert_array_equal(a0, a1)
    assert (a1 >= a0 - 1e-12).all()
    assert (a1[:, hochfeld] > a0[:, hochfeld] + 1e-9).any()
    d0, d1 = (m.services.doctors for m in models)
    n = d0.id.size
    for field in ("id", "age", "active"):
        np.testing.assert_array_equal(getattr(d1, field)[:n], getattr(d0, field))
    assert (d1.age[n:] >= mvz.parameters.services.gp_new_doctor_ages[0]).all()
    assert d1.weight[n:].sum() == mvz.levers.mvz.centres[0].doctors
