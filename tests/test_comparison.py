"""Scenario comparison: paired confidence intervals, common random numbers, the command."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.errors import InputError
from sim.experiments.comparison import COMPARISON_COLUMNS, Precision, paired_differences

from .experiment_helpers import one_line_error, quartier, write_scenario


def _tables(baseline: dict[str, list[float]], scenario: dict[str, list[float]]):
    """experiments and outcomes tables for two scenarios with given values per replicate."""
    exp, rows = [], []
    for name, values in (("base", baseline), ("policy", scenario)):
        n = len(next(iter(values.values())))
        for r in range(n):
            run_id = f"{name}-{r}"
            exp.append({"run_id": run_id, "scenario": name, "replicate": r})
            for metric, series in values.items():
                rows.append({"run_id": run_id, "year": 2030, "scope": "city", "metric": metric,
                             "value": series[r]})
    return pd.DataFrame(exp), pd.DataFrame(rows)


def test_paired_ci_matches_hand_computation():
    """Worked by hand:

    metric a: baseline 10, 12, 11; scenario 12, 15, 12 -> d = 2, 3, 1; mean 2, sd 1;
    t(0.975, 2) = 4.302653 (t table); half-width = 4.302653 * 1 / sqrt(3) = 2.484138;
    CI = [-0.484138, 4.484138], includes 0 -> not significant.

    metric b: baseline 1, 2, 3, 4; scenario 2, 3.5, 4, 5.5 -> d = 1, 1.5, 1, 1.5; mean 1.25,
    sd = sqrt(4 * 0.25^2 / 3) = 0.288675; t(0.975, 3) = 3.182446;
    half-width = 3.182446 * 0.288675 / 2 = 0.459346; CI = [0.790654, 1.709346] -> significant.
    """
    exp_a, out_a = _tables({"a": [10, 12, 11]}, {"a": [12, 15, 12]})
    exp_b, out_b = _tables({"b": [1, 2, 3, 4]}, {"b": [2, 3.5, 4, 5.5]})
    exp_b["run_id"] = exp_b["run_id"] + "b"
    out_b["run_id"] = out_b["run_id"] + "b"
    exp_b["replicate"] += 10  # own replicates, so a and b do not pair with each other
    table = paired_differences(pd.concat([exp_a, exp_b]), pd.concat([out_a, out_b]),
                               baseline="base")
    assert list(table.columns) == COMPARISON_COLUMNS
    table = table.set_index("metric")
    a, b = table.loc["a"], table.loc["b"]
    assert a["baseline_mean"] == pytest.approx(11.0)
    assert a["scenario_mean"] == pytest.approx(13.0)
    assert a["difference"] == pytest.approx(2.0)
    assert a["sd_difference"] == pytest.approx(1.0)
    assert a["half_width"] == pytest.approx(2.484138, abs=1e-6)
    assert (a["ci_low"], a["ci_high"]) == (pytest.approx(-0.484138, abs=1e-6),
                                           pytest.approx(4.484138, abs=1e-6))
    assert a["replications"] == 3 and not a["significant"]
    assert b["difference"] == pytest.approx(1.25)
    assert b["sd_difference"] == pytest.approx(0.288675, abs=1e-6)
    assert (b["ci_low"], b["ci_high"]) == (pytest.approx(0.790654, abs=1e-6),
                                           pytest.approx(1.709346, abs=1e-6))
    assert b["replications"] == 4 and b["significant"]


def test_one_replication_has_no_interval_and_missing_values_are_skipped():
    exp, out = _tables({"a": [1.0], "flow": [np.nan]}, {"a": [3.0], "flow": [np.nan]})
    table = paired_differences(exp, out, baseline="base")
    assert list(table["metric"]) == ["a"]  # the all-missing flow has no pairs
    row = table.iloc[0]
    assert row["difference"] == 2.0 and row["replications"] == 1
    assert math.isnan(row["ci_low"]) and math.isnan(row["ci_high"]) and not row["significant"]


def test_pairs_follow_the_replicate_not_the_row_order():
    exp, out = _tables({"a": [10, 20]}, {"a": [11, 22]})
    exp = exp.iloc[::-1]
    out = out.sample(frac=1.0, random_state=np.random.default_rng(0).integers(1 << 31))
    row = paired_differences(exp, out, baseline="base").iloc[0]
    assert row["difference"] == pytest.approx(1.5)
    assert row["sd_difference"] == pytest.approx(math.sqrt(0.5))


def test_precision_parsing():
    assert Precision.parse("0.25") == Precision(0.25, False)
    assert Precision.parse("1.5%") == Precision(0.015, True)
    for bad in ("x", "-1", "0", "%"):
        with pytest.raises(InputError, match="--precision"):
            Precision.parse(bad)


@pytest.fixture(scope="module")
def crn_vs_independent(tmp_path_factory, baseline):
    """One comparison with common random numbers and one with independent seeds.

    1,000 households, 5 years, 8 replications, total fertility rate 1.39 against 1.6.
    """
    base = baseline.with_values({"city.households": 1000, "name": "base"})
    policy = base.with_values({"parameters.demography.total_fertility_rate": 1.6,
                               "name": "more_children"})
    folder = tmp_path_factory.mktemp("crn")
    crn = sim.compare(base, [policy], replications=8, years=5, out=folder / "crn")
    independent = sim.compare(base, [policy], replications=8, years=5, out=folder / "ind",
                              independent_seeds=True)
    return crn, independent


def _final_city(result) -> pd.DataFrame:
    t = result.table
    return t[(t["scope"] == "city") & (t["year"] == result.final_year)].set_index("metric")


DEMOGRAPHIC_STOCKS = ("population", "households", "mean_age", "old_age_ratio", "share_under_18",
                      "share_65plus", "mean_household_size", "share_households_size_1",
                      "share_households_size_2", "share_households_size_3",
                      "share_households_size_4", "share_households_size_5plus", "vacancy_rate")


@pytest.mark.slow
def test_common_random_numbers_narrow_the_intervals(crn_vs_independent):
    """Common random numbers give narrower intervals than independent seeds.

    Statistic: the ratio of 95 % half-widths (common / independent) over the citywide
    demographic stocks below and every simulated year (5 years x 13 stocks). Measured
    with this test's fixed seed and draws keyed to persons and households: median ratio 0.30,
    100 % of the intervals narrower (before keyed draws: 0.45 and 91 %; see also
    benchmarks/crn.py). The test asks for a median below 0.6 and at least 80 % narrower.
    """
    crn, independent = crn_vs_independent

    def stocks(result):
        t = result.table
        keep = ((t["scope"] == "city") & (t["year"] > t["year"].min())
                & t["metric"].isin(DEMOGRAPHIC_STOCKS))
        assert set(t.loc[keep, "replications"]) == {8}
        return t[keep].set_index(["metric", "year"])["half_width"]

    ratio = stocks(crn) / stocks(independent)
    assert len(ratio) == 5 * len(DEMOGRAPHIC_STOCKS)
    assert ratio.median() < 0.6, ratio.median()
    assert (ratio < 1).mean() >= 0.8, (ratio < 1).mean()
    assert crn.runs_done == 16 and crn.runs_skipped == 0


def test_crn_runs_share_seeds_and_independent_runs_do_not(crn_vs_independent, tmp_path):
    from sim.experiments.store import read_manifest

    crn, independent = crn_vs_independent
    for result, shared in ((crn, True), (independent, False)):
        runs = read_manifest(result.csv.parent)["runs"].values()
        by_rep = {}
        for run in runs:
            by_rep.setdefault(run["replicate"], set()).add(run["seed"])
        assert all((len(seeds) == 1) == shared for seeds in by_rep.values())
    csv = pd.read_csv(crn.csv)
    for column in ("scenario", "metric", "scope", "year", "baseline_mean", "scenario_mean",
                   "difference", "ci_low", "ci_high", "replications"):
        assert column in csv.columns
    assert set(csv["scope"]) > {"city"}  # every quartier too


def test_auto_replications_reach_the_precision(tmp_path, baseline):
    base = baseline.with_values({"city.households": 300, "name": "base"})
    policy = base.with_values({"parameters.migration.in_migration_rate": 0.07, "name": "more"})
    rounds = []
    result = sim.compare(base, [policy], replications="auto", precision="2%", years=3,
                         metrics=["population"], out=tmp_path / "auto",
                         on_round=lambda n, ratio: rounds.append((n, ratio)))
    assert result.precision_reached
    assert rounds[0][0] == 3 and result.replications == rounds[-1][0]
    assert [n for n, _ in rounds] == sorted(n for n, _ in rounds)
    row = _final_city(result).loc["population"]
    assert row["half_width"] < 0.02 * abs(row["baseline_mean"])
    assert all(ratio >= 1 for _, ratio in rounds[:-1])
    # the same call again runs nothing and takes the same decisions
    again = sim.compare(base, [policy], replications="auto", precision="2%", years=3,
                        metrics=["population"], out=tmp_path / "auto")
    assert again.runs_done == 0 and again.replications == result.replications


def test_auto_replications_stop_at_the_cap(tmp_path, baseline):
    base = baseline.with_values({"city.households": 200, "name": "base"})
    policy = base.with_values({"parameters.migration.in_migration_rate": 0.07, "name": "more"})
    result = sim.compare(base, [policy], replications="auto", precision=1e-9, years=2,
                         metrics=["out_migrants"], max_replications=4, out=tmp_path / "cap")
    assert result.replications == 4 and result.precision_reached is False


def test_compare_rejects_names_used_twice(tmp_path, baseline):
    base = baseline.with_values({"city.households": 200})
    with pytest.raises(InputError, match="two scenarios are named 'baseline'"):
        sim.compare(base, [base.with_values({"years": 3})], replications=2,
                    out=tmp_path / "x")


@pytest.mark.slow
def test_compare_command(tmp_path):
    base = write_scenario(tmp_path, "base")
    policy = write_scenario(tmp_path, "more_children",
                            "[parameters.demography]\ntotal_fertility_rate = 2.5\n")
    out = tmp_path / "cmp"
    proc = quartier("compare", base, policy, "--replications", 3, "--years", 3, "--out", out,
                    "--workers", 2)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "more_children vs. base" in text and "3 paired replications" in text
    assert "95 %-KI" in text and "Signifikante Unterschiede" in text
    assert "6 simulated, 0 already stored" in text
    # by default the headline rows, then the significant differences over every metric
    from sim.cli.experiments import TABLE_METRICS

    head, summary = text.split("Signifikante Unterschiede")
    final = pd.read_csv(out / "comparison.csv").query("scope == 'city'")
    final = final[final["year"] == final["year"].max()]
    others = final[~final["metric"].isin(TABLE_METRICS)
                   & ~final["metric"].str.startswith(("persons_", "out_migrants_cause_"))]
    assert "share_65plus" in head and "davon" not in text
    for row in others.itertuples():
        assert f"│ {row.metric} " not in head
        assert (f"│ {row.metric} " in summary) == bool(row.significant), row.metric
    csv = pd.read_csv(out / "comparison.csv")
    assert set(csv["scenario"]) == {"more_children"} and csv["replications"].max() == 3
    assert (csv.loc[csv["metric"] == "population", "replications"] == 3).all()
    assert len(list((out / "runs").glob("*.experiments.parquet"))) == 6
    # significant rows are marked and are exactly those whose interval excludes 0
    city = csv[(csv["scope"] == "city") & (csv["year"] == csv["year"].max())]
    marked = city[(city["ci_low"] > 0) | (city["ci_high"] < 0)]
    assert (city["significant"] == city.index.isin(marked.index)).all()
    # again: nothing to run
    again = quartier("compare", base, policy, "--replications", 3, "--years", 3, "--out", out,
                     "--workers", 1, "--metric", "population")
    assert again.returncode == 0, again.stderr
    assert "0 simulated, 6 already stored" in again.stdout
    full = quartier("compare", base, policy, "--replications", 3, "--years", 3, "--out", out,
                    "--workers", 1, "--full")
    assert full.returncode == 0, full.stderr
    head = full.stdout[:full.stdout.index("Signifikante Unterschiede")]
    assert "births" in head and "households" in head and "davon / of which" in head
    assert len(full.stdout.splitlines()) > 2 * len(text.splitlines())


@pytest.mark.slow
def test_compare_command_auto(tmp_path):
    base = write_scenario(tmp_path, "base", households=200)
    policy = write_scenario(tmp_path, "more", "[parameters.migration]\n"
                            "in_migration_rate = 0.07\n", households=200)
    proc = quartier("compare", base, policy, "--replications", "auto", "--precision", "3%",
                    "--metric", "population", "--years", 2, "--out", tmp_path / "a",
                    "--workers", 1)
    assert proc.returncode == 0, proc.stderr
    assert "Replications (auto):" in proc.stdout and "per scenario (3" in proc.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--replications", "auto"], "--precision: --replications auto needs --precision"),
        (["--replications", "many"], "--replications: a number or 'auto'"),
        (["--replications", "3", "--precision", "1"], "--precision: only with --replications"),
        (["--replications", "auto", "--precision", "-1"], "--precision: must be positive"),
    ],
)
def test_compare_bad_options(tmp_path, args, needle):
    base = write_scenario(tmp_path, "base")
    policy = write_scenario(tmp_path, "policy")
    proc = quartier("compare", base, policy, *args, "--out", tmp_path / "o")
    assert proc.returncode == 2
    assert needle in one_line_error(proc)
    assert not (tmp_path / "o").exists()


def test_compare_bad_scenario_file(tmp_path):
    base = write_scenario(tmp_path, "base")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[levers]\nnot_a_lever = 3\n', encoding="utf-8")
    proc = quartier("compare", base, bad, "--out", tmp_path / "o")
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert "bad.toml" in line and "levers.not_a_lever: unknown key" in line
