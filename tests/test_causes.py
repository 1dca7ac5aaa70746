"""Causes of out-migration as counterfactuals: the kernel on hand-made households, its
agreement with the search rule it re-decides, and the causes adding up to out-migration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.experiments.comparison import cause_breakdown, paired_differences
from sim.model.mobility import (
    PART_CAUSES,
    counterfactual_causes,
    movers,
    typical_parts,
)
from sim.model.rng import keyed_uniforms
from sim.scenario.parameters import MobilityParameters
from sim.state.outcomes import CAUSES

KEY, YEAR = np.uint64(77), 2030
OTHER = len(PART_CAUSES)  # the last column of the weights


def _params(**values) -> MobilityParameters:
    rates = {"move_rate_young": 0.01, "move_rate_family": 0.01, "move_rate_middle": 0.01,
             "move_rate_old": 0.01, "dissatisfaction_effect": 1.5,
             "life_event_move_probability": 0.25}
    return MobilityParameters().model_copy(update=rates | values)


def _threshold_total(hid: np.ndarray, mp: MobilityParameters) -> np.ndarray:
    """The sum of parts above which each household (life stage 0, no event) searches."""
    u = keyed_uniforms(KEY, YEAR, hid.astype(np.uint64), 0)
    return np.log(u / mp.move_rate_young) / mp.dissatisfaction_effect


def _hand_made(mp: MobilityParameters):
    """Households whose threshold L (the sum of parts above which they search) lies between
    1.5 and 2.1, with parts built around it."""
    hid = np.arange(1, 400, dtype=np.int64)
    limit = _threshold_total(hid, mp)
    # thresholds between 1.5 and 2.1: the life event (0.25) alone makes a household search
    fit = (limit > 1.5) & (limit < 2.1)
    hid, limit = hid[fit][:6], limit[fit][:6]
    assert hid.size == 6
    parts = np.zeros((6, 6), np.float32)
    parts[0, 0] = limit[0] + 0.3  # rent alone carries it over the threshold
    parts[0, 5] = 0.1  # a little job dissatisfaction: without it, still above
    parts[1, 1] = parts[1, 3] = 0.6 * limit[1]  # crowding and health: each one needed
    parts[2, :3] = 0.6 * limit[2]  # three parts, any two enough: none decisive
    parts[3, 2] = parts[3, 4] = 0.2  # at the typical value (below: 0)
    parts[3, 5] = limit[3] + 0.5  # job far above: it alone is decisive
    parts[4, 2] = 0.2  # everything at or below typical: searched anyway
    parts[5, 4] = limit[5] + 0.3  # school decisive ...
    typical = np.array([0, 0, 0.2, 0, 0.2, 0])
    return hid, parts, typical


def test_the_kernel_on_hand_made_households():
    mp = _params()
    hid, parts, typical = _hand_made(mp)
    stage = np.zeros(6, np.int8)
    event = np.zeros(6, bool)
    event[4] = True  # ... the life event made household 4 search
    searched = movers(parts, stage, event, np.ones(6, bool), hid, KEY, YEAR, mp)
    assert searched.all()  # the hand-made households are searchers, as built
    weights = counterfactual_causes(parts, typical, stage, event, hid, KEY, YEAR, mp)
    expected = np.zeros((6, 7))
    expected[0, 0] = 1.0
    expected[1, 1] = expected[1, 3] = 0.5
    expected[2, OTHER] = 1.0
    expected[3, 5] = 1.0
    expected[4, OTHER] = 1.0
    expected[5, 4] = 1.0
    assert np.array_equal(weights, expected)


def test_a_life_event_that_alone_makes_a_household_search_leaves_no_part_decisive():
    mp = _params(life_event_move_probability=1.0)
    hid, parts, typical = _hand_made(mp)
    weights = counterfactual_causes(parts, typical, np.zeros(6, np.int8), np.ones(6, bool),
                                    hid, KEY, YEAR, mp)
    assert (weights[:, OTHER] == 1.0).all()


def test_the_kernel_agrees_with_the_search_rule_it_re_decides():
    """Random households: a part is decisive exactly when the search rule itself, with that
    part at the typical value, says the household would not have searched."""
    mp = _params(move_rate_young=0.05, move_rate_family=0.1, move_rate_middle=0.08,
                 move_rate_old=0.03)
    rng = np.random.default_rng(5)
    n = 20000
    parts = (rng.random((n, 6)) * (rng.random((n, 6)) < 0.4) * 1.5).astype(np.float32)
    stage = rng.integers(0, 4, n).astype(np.int8)
    event = rng.random(n) < 0.05
    hid = rng.permutation(10 * n)[:n].astype(np.int64)
    active = np.ones(n, bool)
    typical = typical_parts(parts, active)
    typical[2] = np.float32(0.3)  # above 0, as the neighbourhood's may be
    searched = movers(parts, stage, event, active, hid, KEY, YEAR, mp)
    rows = np.flatnonzero(searched)
    weights = counterfactual_causes(parts[rows], typical, stage[rows], event[rows], hid[rows],
                                    KEY, YEAR, mp)
    assert np.allclose(weights.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    decisive = np.zeros((rows.size, 6), bool)
    for j in range(6):
        changed = parts[rows].copy()
        changed[:, j] = typical[j]
        still = movers(changed, stage[rows], event[rows], np.ones(rows.size, bool), hid[rows],
                       KEY, YEAR, mp)
        decisive[:, j] = ~still & (parts[rows, j] > typical[j])
    k = decisive.sum(axis=1)
    assert np.array_equal(weights[:, :6] > 0, decisive)
    share = np.broadcast_to(1.0 / np.maximum(k, 1)[:, None], decisive.shape)
    assert np.array_equal(weights[:, :6][decisive], share[decisive])
    assert np.array_equal(weights[:, OTHER] == 1.0, k == 0)
    assert not (weights[:, :6] > 0)[parts[rows] <= typical].any()
    # all three kinds occur in this sample
    assert (k == 0).any() and (k == 1).any() and (k >= 2).any()


def test_typical_parts_are_medians_over_the_active_households():
    parts = np.array([[0, 1], [1, 2], [2, 3], [9, 9]], np.float32)
    active = np.array([True, True, True, False])
    assert np.array_equal(typical_parts(parts, active), [1.0, 2.0])
    assert np.array_equal(typical_parts(parts, np.zeros(4, bool)), [0.0, 0.0])
    # the shortcut for columns that are mostly 0 gives numpy's median, also at exactly half
    rng = np.random.default_rng(11)
    for n in (1, 2, 7, 10, 1000, 1001):
        parts = rng.random((n, 6)).astype(np.float32)
        parts[rng.random((n, 6)) < np.array([0.0, 0.3, 0.5, 0.7, 1.0, 0.5])] = 0
        parts[: n // 2, 2] = 0  # half of the column exactly (an even n's median is a mean)
        parts[:, 5] -= 0.2  # negative values take the long way
        active = rng.random(n) < 0.9
        active[0] = True
        expected = np.median(parts[active], axis=0)
        assert np.array_equal(typical_parts(parts, active), expected.astype(np.float64))


def test_the_part_causes_are_causes_of_the_outcomes():
    assert set(PART_CAUSES) <= set(CAUSES) and "other" in CAUSES


@pytest.fixture(scope="module")
def cause_runs(baseline):
    sc = baseline.with_values({"city.households": 1500, "years": 4})
    return [sim.build_model(sc, seed=3).run(sc.years).outcomes() for _ in range(2)]


def test_causes_add_up_to_out_migration_in_every_quartier_and_year(cause_runs):
    df = cause_runs[0]
    df = df[df["metric"].str.startswith("out_migrants")].pivot_table(
        index=["year", "scope"], columns="metric", values="value")
    causes = df[[f"out_migrants_cause_{c}" for c in CAUSES]]
    assert len(df) > 10 and (causes >= 0).all().all()
    np.testing.assert_allclose(causes.sum(axis=1), df["out_migrants"], rtol=1e-12, atol=1e-9)
    # the split gives fractions somewhere, and counterfactual causes besides other
    assert (causes.to_numpy() % 1 != 0).any()
    assert causes[[f"out_migrants_cause_{c}" for c in PART_CAUSES]].sum().sum() > 0


def test_the_same_seed_gives_the_same_causes(cause_runs):
    pd.testing.assert_frame_equal(cause_runs[0], cause_runs[1])


@pytest.fixture(scope="module")
def small_comparison(baseline, tmp_path_factory):
    base = baseline.with_values({"city.households": 400, "name": "base",
                                 "outcomes.cell_snapshots": False})
    policy = base.with_values({"parameters.mobility.rent_burden_threshold": 0.4,
                               "name": "higher_threshold"})
    return sim.compare(base, [policy], replications=2, years=2,
                       out=tmp_path_factory.mktemp("causes") / "c")


def test_the_causes_changes_add_up_to_the_change_in_total_out_migration(small_comparison):
    table = small_comparison.table
    flows = table[table["metric"] == "out_migrants"]
    assert flows["year"].nunique() == 2 and flows["scope"].nunique() > 2
    for scope in set(flows["scope"]):
        for year in set(flows["year"]):
            rows = cause_breakdown(table, scope=scope, year=year)
            total = rows.loc[rows["row"] == "total", "difference"].item()
            by_cause = rows.loc[rows["row"] == "cause", "difference"]
            assert len(by_cause) == len(CAUSES)
            assert by_cause.sum() == pytest.approx(total, rel=1e-12, abs=1e-9)
            summed = rows.loc[rows["row"] == "sum of causes", "difference"].item()
            assert summed == pytest.approx(total, rel=1e-12, abs=1e-9)
    assert (table.loc[table["metric"] == "out_migrants", "difference"] != 0).any()


def test_the_breakdown_puts_the_total_first_and_skips_tables_without_causes():
    exp = pd.DataFrame({"run_id": ["a", "b"], "scenario": ["base", "policy"],
                        "replicate": [0, 0]})
    values = {"out_migrants": (10.0, 7.0), "out_migrants_cause_rent": (4.0, 2.0),
              "out_migrants_cause_other": (6.0, 5.0)}
    outcomes = pd.DataFrame([{"run_id": run, "year": 2030, "scope": "city", "metric": m,
                              "value": v[i]} for m, v in values.items()
                             for i, run in enumerate(("a", "b"))])
    rows = cause_breakdown(paired_differences(exp, outcomes, baseline="base"))
    assert list(rows["row"]) == ["total", "cause", "cause", "sum of causes"]
    assert list(rows["difference"]) == [-3.0, -2.0, -1.0, -3.0]
    only_total = outcomes[outcomes["metric"] == "out_migrants"]
    assert cause_breakdown(paired_differences(exp, only_total, baseline="base")).empty


def test_the_printed_comparison_shows_the_total_next_to_the_causes(small_comparison, capsys):
    from sim.cli.experiments import _print_comparison

    _print_comparison(small_comparison, metrics=None, scope="city", independent=False,
                      full=True)
    printed = capsys.readouterr().out
    tables = printed.split("Wegzüge insgesamt und nach Grund")
    assert len(tables) == 2  # one scenario: its table, then its causes
    assert "out_migrants_cause_" not in tables[0]  # the causes are not rows of the main table
    causes = tables[1].split("Signifikante Unterschiede")[0]
    assert causes.index("TOTAL (out_migrants)") < causes.index("of which: rent")
    for cause in CAUSES:
        assert f"of which: {cause} " in causes
    assert "sum of causes" in causes and "parts of the total, not totals" in " ".join(
        causes.split())


def test_the_report_shows_the_total_next_to_the_causes(small_comparison):
    from dashboards.report import cause_table

    shown = cause_table(small_comparison.table, "en")
    labels = list(shown["Cause of leaving"])
    assert labels[0] == "Out-migrants in total" and labels[-1] == "Sum of the causes"
    assert len(labels) == len(CAUSES) + 2
    assert all(label.startswith("of which cause: ") for label in labels[1:-1])
    assert shown["Difference"].iloc[0] == shown["Difference"].iloc[-1]  # the sum is the total
    assert (shown["Scenario"] == "higher_threshold").all()


def test_the_motives_script_reads_the_survey_rows_and_maps_every_cause():
    from calibration.motives import MAPPING, SURVEY_ROWS, survey_shares, survey_value, table

    assert survey_value("ein Drittel (~33)") == 33.0
    assert survey_value("1/8 (12.5 DERIVED)") == 12.5
    assert survey_value("rund 15") == 15.0
    survey = survey_shares()
    assert set(survey) == set(SURVEY_ROWS) and all(0 < v[0] < 100 for v in survey.values())
    mapped = [c for causes, _, _ in MAPPING for c in causes]
    assert sorted(mapped) == sorted(CAUSES)  # every cause once
    shares = pd.Series(100 / len(CAUSES), index=list(CAUSES))
    text = table(shares, survey)
    assert text.count("\n") == len(MAPPING) + 2 and "47 %" in text
