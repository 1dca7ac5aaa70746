"""Pflegegrade: assignment, setting by grade, mortality by grade, and the calibration criterion.

The criterion (issue: care grades): the shares of the care-dependent by Pflegegrad and by
setting lie within 2 percentage points of the NRW data at the start and after 10 years. Grades
are compared with NRW 2021 (the latest year with every kind of care by grade), settings with
NRW 2023 (the model's prevalence level). The city's care-dependent are younger than NRW's
(children and under-65s weigh more), and the population ages over the run, so settings are
compared age-standardised: shares within the data's age bands, weighted by NRW's 2021
recipients per band (long_term_care.csv). Grade shares are the same at every age, so the raw
shares are compared (and must also hold age-standardised).
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.model import care_need
from sim.model.processes.mortality import grade_death_probabilities
from sim.scenario.care_grade_parameters import CareGradeParameters
from sim.scenario.service_parameters import CareParameters
from tests.conftest import SCENARIOS

# NRW 2021 recipients by grade: PG1 153,381, PG2 496,176, PG3 336,057, PG4 143,154,
# PG5 57,724 (care_pflegegrad.csv: Pflegegeld-only + ambulant + full inpatient + PG1 without
# services).
GRADE_2021 = np.array([153381, 496176, 336057, 143154, 57724]) / 1186492
# NRW 2023: 1.39 million recipients, 169,200 in nursing homes, 240,078 ambulant clients; the
# others at home by relatives only (incl. PG1 without services) (long_term_care.csv,
# more_health_care.csv).
SETTING_2023 = np.array([1 - (169200 + 240078) / 1390000, 240078 / 1390000, 169200 / 1390000])
# NRW 2021 recipients (Pflegegeld + inpatient + ambulant) per age band, long_term_care.csv.
BANDS = np.array([0, 65, 70, 75, 80, 85, 90, 95])
BAND_WEIGHT = np.array([186907 + 12116 + 27223, 41295 + 7515 + 11392, 55547 + 10161 + 16604,
                        71831 + 15475 + 25749, 129620 + 34654 + 56069, 106771 + 41147 + 56436,
                        51404 + 32173 + 32323, 11879 + 13853 + 9269], float)
TOLERANCE = 0.02


def _tables(max_age=110):
    return care_need.rate_tables(CareParameters(), CareGradeParameters(), max_age)


def _people(n, seed):
    rng = np.random.default_rng(seed)
    age = rng.integers(0, 105, n).astype(np.int16)
    sex = rng.integers(0, 2, n).astype(np.int8)
    return age, sex, np.arange(n, dtype=np.uint64) * 7919 + 13


# -- assignment -------------------------------------------------------------------------------


def test_need_per_age_and_sex_is_the_prevalence_rounded():
    """Exactly round(p × n) of each sex and single age are in care need."""
    tables = _tables()
    age, sex, pid = _people(60_000, 1)
    alive = np.ones(age.size, bool)
    alive[::10] = False
    grade = care_need.assign_grades(age, sex, pid, alive, np.uint64(99), tables)
    assert (grade[~alive] == 0).all()
    for s in (0, 1):
        for a in range(0, 105, 7):
            sel = alive & (age == a) & (sex == s)
            expected = np.floor(tables.prevalence[s, a] * sel.sum() + 0.5)
            assert (grade[sel] > 0).sum() == expected, (s, a)


def _reference_grades(age, sex, pid, alive, key, tables):
    """The rule of :func:`care_need.assign_grades`, sorting every (sex, age) group in full."""
    from sim.model.rng import keyed_uniforms
    v = keyed_uniforms(np.uint64(key), 0, pid, care_need.SLOT_FRAILTY)
    j = keyed_uniforms(np.uint64(key), 0, pid, care_need.SLOT_RANK)
    top = tables.prevalence.shape[1] - 1
    grade = np.zeros(age.size, np.int8)
    for s in (0, 1):
        for a in range(top + 1):
            members = np.flatnonzero(alive & (sex == s) & (np.minimum(age, top) == a))
            m = int(np.floor(tables.prevalence[s, a] * members.size + 0.5))
            needy = members[np.argsort(v[members], kind="stable")[:m]]
            rank_share = (np.arange(m) + j[needy]) / max(m, 1)
            grade[needy] = np.maximum(5 - np.searchsorted(tables.grade_cut, rank_share,
                                                          side="right"), 1)
    return grade


@pytest.mark.parametrize("n", [300, 5_000, 80_000])
def test_grades_equal_the_full_sort(n):
    """Sorting only the persons below a frailty bound gives the grades of a full sort per
    group, also in small groups (where some groups fall back to all their persons)."""
    tables = _tables()
    age, sex, pid = _people(n, n)
    alive = np.random.default_rng(n).random(n) < 0.95
    for key in (1, 2, 3):
        grade = care_need.assign_grades(age, sex, pid, alive, np.uint64(key), tables)
        reference = _reference_grades(age, sex, pid, alive, key, tables)
        assert np.array_equal(grade, reference)
        # no margin above p: about half the groups need the second pass over all their persons
        tight = care_need._grades(age, sex, pid, alive, np.zeros(n, np.int32), np.ones(1, bool),
                                  np.uint64(key), tables.prevalence, tables.grade_cut, 0.0)
        assert np.array_equal(tight, reference)


def test_grade_shares_are_unbiased_in_small_groups():
    """In 3,000 tiny cities (40 women aged 85-94: about 4 per age), grade shares still match
    the data (4 binomial sd of the pooled needy)."""
    tables = _tables()
    rng = np.random.default_rng(3)
    counts = np.zeros(6)
    for city in range(3000):
        age = rng.integers(85, 95, 40).astype(np.int16)
        pid = np.arange(40, dtype=np.uint64) + np.uint64(40 * city)
        grade = care_need.assign_grades(age, np.ones(40, np.int8), pid, np.ones(40, bool),
                                        np.uint64(5), tables)
        counts += np.bincount(grade, minlength=6)
    needy = counts[1:].sum()
    share = counts[1:] / needy
    expected = GRADE_2021 / GRADE_2021.sum()
    sd = np.sqrt(expected * (1 - expected) / needy)
    assert (np.abs(share - expected) < 4 * sd).all(), share


def test_setting_shares_keep_the_age_margins_and_the_grade_odds():
    """For every sex and age, the grade-weighted inpatient share is the age's share, and the
    odds ratios between grades are those of NRW 2021."""
    cp, cg = CareParameters(), CareGradeParameters()
    t = care_need.rate_tables(cp, cg, 110)
    mix = np.asarray(cg.grade_shares) / sum(cg.grade_shares)
    inp = t.inpatient[..., 1:]
    n_age = 111
    steps = np.zeros(n_age)
    for k, lower in enumerate(cp.inpatient_bands):
        steps[lower:] = cp.inpatient_share[k]
    prev = np.stack([np.zeros(n_age), np.zeros(n_age)])
    for s, values in enumerate((cp.prevalence_male, cp.prevalence_female)):
        for k, lower in enumerate(cp.age_bands):
            prev[s, lower:] = values[k]
    home = prev * (1 - steps) * cp.home_growth_2021_2023
    inpatient = prev * steps * cp.inpatient_growth_2021_2023
    share = inpatient / (home + inpatient)
    np.testing.assert_allclose((inp * mix).sum(axis=-1), share, atol=1e-9)
    logit = np.log(inp / (1 - inp))
    data = np.log(np.array(cg.inpatient_share_by_grade) / (1 - np.array(
        cg.inpatient_share_by_grade)))
    np.testing.assert_allclose(logit - logit[..., :1], np.broadcast_to(
        data - data[0], logit.shape), atol=1e-6)
    assert (np.diff(inp, axis=-1) > 0).all()  # higher grades live in homes more often


# -- mortality ----------------------------------------------------------------------------------


def test_mortality_by_grade_keeps_the_life_table():
    """Per sex and age the expected deaths are those of the life table; higher grades die more
    often."""
    age, sex, pid = _people(100_000, 2)
    age = (60 + age % 40).astype(np.int64)
    grade = care_need.assign_grades(age, sex, pid, np.ones(age.size, bool), np.uint64(3),
                                    _tables())
    q = np.tile(np.linspace(0.001, 0.15, 111), (2, 1))  # below the cap of 0.999
    p = grade_death_probabilities(age, sex, grade, q, 1.4)
    cell = sex * 111 + age
    np.testing.assert_allclose(np.bincount(cell, weights=p, minlength=222),
                               np.bincount(cell, minlength=222) * q.ravel(), rtol=1e-9)
    sel = (age == 85) & (sex == 1)
    by_grade = [p[sel & (grade == g)].mean() for g in range(6)]
    assert np.all(np.diff(by_grade) > 0)
    assert by_grade[5] / by_grade[0] == pytest.approx(1.4 ** 5)


def test_nobody_survives_the_last_age():
    q = np.zeros((2, 111))
    q[:, 110] = 1.0
    age = np.array([110, 110, 109])
    p = grade_death_probabilities(age, np.array([0, 1, 1]), np.array([0, 5, 5]), q, 1.4)
    assert (p[:2] == 1.0).all() and p[2] == 0.0


# -- in the model -------------------------------------------------------------------------------


def _shares(model):
    """Shares by grade, age-standardised by grade and by setting, and the sampling standard
    error of each (binomial within each age band, weighted like the shares)."""
    grade, setting = care_need.person_settings(model)
    age = model.population.age
    need = grade > 0
    band = np.searchsorted(BANDS, age, side="right") - 1
    by_grade = np.bincount(grade[need], minlength=6)[1:] / need.sum()
    se_grade = np.sqrt(by_grade * (1 - by_grade) / need.sum())
    by_setting, var_setting = np.zeros(3), np.zeros(3)
    grade_std, var_grade = np.zeros(5), np.zeros(5)
    weight = BAND_WEIGHT / BAND_WEIGHT.sum()
    for b in range(BANDS.size):
        sel = need & (band == b)
        n = sel.sum()
        p_setting = np.bincount(setting[sel], minlength=4)[1:] / n
        p_grade = np.bincount(grade[sel], minlength=6)[1:] / n
        by_setting += weight[b] * p_setting
        grade_std += weight[b] * p_grade
        var_setting += weight[b] ** 2 * p_setting * (1 - p_setting) / n
        var_grade += weight[b] ** 2 * p_grade * (1 - p_grade) / n
    return ((by_grade, se_grade), (grade_std, np.sqrt(var_grade)),
            (by_setting, np.sqrt(var_setting)))


def test_grades_progress_and_higher_grades_die_more_often():
    """Over five years the survivors' grades rise on balance, onsets start in the low grades,
    and the death rate rises with the grade (at 80+, pooled)."""
    sc = sim.load_scenario(SCENARIOS / "baseline.toml").with_values(
        {"city.households": 5000, "years": 5, "outcomes.cell_snapshots": False})
    m = sim.build_model(sc, seed=4)
    pid0 = m.population.pid.copy()
    grade0 = m.population.pflegegrad.copy()
    age0 = m.population.age.copy()
    m.run()
    pid1, grade1 = m.population.pid, m.population.pflegegrad
    common, i0, i1 = np.intersect1d(pid0, pid1, return_indices=True)
    both = (grade0[i0] > 0) & (grade1[i1] > 0)
    assert (grade1[i1][both] > grade0[i0][both]).sum() > 2 * (
        grade1[i1][both] < grade0[i0][both]).sum()
    onset = (grade0[i0] == 0) & (grade1[i1] > 0)
    assert np.mean(grade1[i1][onset] <= 2) > 0.5
    died = ~np.isin(pid0, pid1)  # dead or left the city: both rarer for the healthy
    old = age0 >= 80
    rate = [died[old & (grade0 == g)].mean() for g in (0, 1, 3, 5)]
    assert np.all(np.diff(rate) > 0), rate


@pytest.mark.slow
@pytest.mark.parametrize("households", [10_000, 30_000])
def test_grades_and_settings_match_nrw_at_start_and_after_ten_years(households):
    """The ±2 points criterion, for two seeds each, at the start (31.12.2023) and after 10
    years (2033). The criterion is about the expected shares; a finite city adds its sampling
    noise, so each share may differ from the data by 2 points plus twice its sampling standard
    error (about 1 point at 10,000 households, 0.5 at 30,000)."""
    sc = sim.load_scenario(SCENARIOS / "baseline.toml").with_values(
        {"city.households": households, "years": 10, "outcomes.cell_snapshots": False})
    for seed in (1, 2):
        m = sim.build_model(sc, seed=seed)
        for when in ("start", "after 10 years"):
            if when != "start":
                m.run()
            by_grade, grade_std, by_setting = _shares(m)
            for name, (got, se), data in (("grade", by_grade, GRADE_2021),
                                          ("grade, age-standardised", grade_std, GRADE_2021),
                                          ("setting, age-standardised", by_setting,
                                           SETTING_2023)):
                gap = np.abs(got - data)
                assert (gap < TOLERANCE + 2 * se).all(), (
                    seed, when, name, np.round(got, 3), np.round(data, 3), np.round(se, 4))
