"""Figure builders are pure functions of the result tables: checked on small hand-made tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from dashboards import figures as fg
from dashboards.labels import age_band_label, cause_label, metric_label


def test_time_series_has_one_trace_per_scope(small):
    model = sim.build_model(small, seed=1).run(2)
    df = model.outcomes()
    fig = fg.time_series(df, "population")
    names = {t.name for t in fig.data}
    assert names == set(model.city.quartier_ids()) | {"city"}
    city = next(t for t in fig.data if t.name == "city")
    assert list(city.x) == sorted(df["year"].unique())
    assert city.y[0] == model.records.years[0][1]["population"][-1]
    flows = fg.time_series(df, "births", scopes=["city"])
    assert len(flows.data) == 1 and len(flows.data[0].x) == 2  # the start year has no flows
    with pytest.raises(ValueError):
        fg.time_series(df, "no_such_metric")


# -- hand-made tables -------------------------------------------------------------------------


def _experiments(**scenarios: int) -> pd.DataFrame:
    """Runs named <scenario>-<r>, R replications per scenario."""
    return pd.DataFrame([{"run_id": f"{s}-{r}", "scenario": s, "replicate": r}
                         for s, n in scenarios.items() for r in range(n)])


def _outcomes(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["run_id", "year", "scope", "metric", "value"])


def test_bands_are_mean_plus_minus_t_times_standard_error():
    exp = _experiments(base=3, policy=3)
    rows = []
    for r, (b, p) in enumerate([(1.0, 10.0), (2.0, 12.0), (3.0, 14.0)]):
        rows += [(f"base-{r}", 2024, "city", "m", b), (f"policy-{r}", 2024, "city", "m", p),
                 (f"base-{r}", 2025, "city", "m", b + 1), (f"policy-{r}", 2025, "city", "m", p)]
    out = _outcomes(rows)
    bands = fg.replicate_bands(out, exp, "m")
    first = bands[(bands["scenario"] == "base") & (bands["year"] == 2024)].iloc[0]
    half = stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)  # sd of 1, 2, 3 is 1
    assert first["mean"] == pytest.approx(2.0)
    assert first["half_width"] == pytest.approx(half)
    assert (first["low"], first["high"]) == pytest.approx((2.0 - half, 2.0 + half))
    policy = bands[(bands["scenario"] == "policy") & (bands["year"] == 2024)].iloc[0]
    assert policy["half_width"] == pytest.approx(stats.t.ppf(0.975, 2) * 2 / math.sqrt(3))

    fig = fg.time_series_bands(out, exp, "m", scenarios=["base", "policy"])
    assert len(fig.data) == 4  # per scenario a band polygon and the mean line
    band, line = fig.data[0], fig.data[1]
    assert band.fill == "toself" and list(line.y) == pytest.approx([2.0, 3.0])
    assert list(band.y) == pytest.approx([2 + half, 3 + half, 3 - half, 2 - half])

    one = fg.time_series_bands(out[out["run_id"].isin(["base-0", "policy-0"])], exp, "m")
    assert len(one.data) == 2 and all(t.fill is None for t in one.data)  # no band with n=1
    with pytest.raises(ValueError):
        fg.time_series_bands(out, exp, "m", scope="nordstadt")


def _cells() -> pd.DataFrame:
    """A 2 x 2 grid (cell 3 unbuilt), two runs of one scenario, two years."""
    rows = []
    for run, poor_extra in (("base-0", 0), ("base-1", 2)):
        for year in (2023, 2024):
            for cell, (col, row, quartier) in enumerate([(0, 0, "nord"), (1, 0, "nord"),
                                                         (0, 1, "sued")]):
                rows.append({"run_id": run, "year": year, "cell": cell, "col": col, "row": row,
                             "quartier": quartier, "dwellings": 10, "vacant": cell,
                             "social": 2 * cell, "households": 10 - cell, "persons": 20,
                             "poor": 2 * cell + poor_extra + (year - 2023), "middle": 10,
                             "high": 2, "migration_background": 5, "age_65plus": 4,
                             "mean_income": 1000.0 + 100 * cell + 10 * poor_extra,
                             "mean_rent_m2": 7.0})
    return pd.DataFrame(rows)


def test_cell_map_pools_runs_and_has_a_year_slider():
    cells = _cells()
    values = fg.cell_values(cells, "share_poor")
    first = values[(values["year"] == 2023)].set_index("cell")["value"]
    # cell 1: poor 2 and 4 of 20 + 20 persons
    assert first[1] == pytest.approx(6 / 40)
    income = fg.cell_values(cells, "mean_income").set_index(["year", "cell"])["value"]
    assert income[(2024, 2)] == pytest.approx(1210.0)  # mean of the runs' 1200 and 1220

    fig = fg.cell_map(cells, "share_poor")
    heat = fig.data[0]
    assert heat.type == "heatmap"
    z = np.array(heat.z, dtype=float)
    assert z.shape == (2, 2) and np.isnan(z[1, 1])
    assert z[0, 1] == pytest.approx(8 / 40)  # the last year is shown first: 3 + 5 of 40
    assert heat.customdata[1][0] == "sued"
    assert [f.name for f in fig.frames] == ["2023", "2024"]
    assert len(fig.layout.sliders[0].steps) == 2
    assert set(fig.data[1].text) == {"nord", "sued"}  # quartier names at their centres

    single = fg.cell_map(cells, "vacancy_rate", year=2023)
    assert not single.frames and np.array(single.data[0].z, dtype=float)[1, 0] == 0.2
    with pytest.raises(ValueError):
        fg.cell_map(cells, "share_poor", year=2030)
    with pytest.raises(ValueError):
        fg.cell_map(cells, "no_such_variable")


def test_facilities_show_as_markers_when_the_cells_have_them():
    cells = _cells()
    assert fg.facilities_from_cells(cells).empty
    cells["doctors"] = np.where(cells["cell"] == 2, 6, 0)
    markers = fg.facilities_from_cells(cells, year=2024)
    assert markers[["col", "row", "amount"]].values.tolist() == [[0, 1, 6.0]]
    fig = fg.cell_map(cells, "share_poor", year=2024)
    assert len(fig.data) == 3 and list(fig.data[2].x) == [0]


def test_difference_map_is_scenario_minus_baseline():
    base = _cells()
    policy = base.copy()
    policy["run_id"] = policy["run_id"].str.replace("base", "policy")
    policy["poor"] = policy["poor"] + 4
    cells = pd.concat([base, policy], ignore_index=True)
    exp = _experiments(base=2, policy=2)
    fig = fg.difference_map(cells, exp, baseline="base", scenario="policy",
                            variable="share_poor", year=2024)
    z = np.array(fig.data[0].z, dtype=float)
    assert z[0, 0] == pytest.approx(8 / 40) and z[0, 1] == pytest.approx(8 / 40)
    assert np.isnan(z[1, 1]) and fig.data[0].zmid == 0


def _pyramid_rows(run: str, year: int, scope: str, scale: float) -> list[tuple]:
    rows = []
    for sex in ("male", "female"):
        for k, band in enumerate(["00_04", "05_09", "85plus"]):
            rows.append((run, year, scope, f"persons_{sex}_age_{band}", scale * (k + 1)))
    return rows


def test_pyramid_men_left_women_right_start_and_end():
    out = _outcomes(_pyramid_rows("a", 2023, "city", 10) + _pyramid_rows("a", 2043, "city", 20)
                    + _pyramid_rows("a", 2030, "city", 15) + _pyramid_rows("b", 2023, "city", 30)
                    + [("a", 2023, "city", "population", 1.0)])
    table = fg.pyramid_table(out)
    assert sorted(table["year"].unique()) == [2023, 2043]
    start_men = table[(table["year"] == 2023) & (table["sex"] == "male")]
    assert start_men["band"].tolist() == ["00_04", "05_09", "85plus"]
    assert start_men["persons"].tolist() == [20.0, 40.0, 60.0]  # mean of runs a and b
    fig = fg.population_pyramid(out)
    assert len(fig.data) == 4
    men = fig.data[0]
    assert list(men.x) == [-20.0, -40.0, -60.0] and list(men.y) == ["0-4", "5-9", "85+"]
    assert list(fig.data[1].x) == [20.0, 40.0, 60.0]
    menu = fg.population_pyramids(out, ["city", "city"])
    assert len(menu.data) == 8 and len(menu.layout.updatemenus[0].buttons) == 2
    with pytest.raises(ValueError):
        fg.pyramid_table(out[~out["metric"].str.startswith("persons_")])


def test_out_migration_causes_come_from_the_metric_names():
    exp = _experiments(base=2, policy=1)
    rows = []
    for run, rent in (("base-0", 10), ("base-1", 20), ("policy-0", 5)):
        for year in (2024, 2025):
            rows += [(run, year, "city", "out_migrants_cause_rent", rent),
                     (run, year, "city", "out_migrants_cause_care", 1.0),
                     (run, year, "city", "out_migrants_cause_no_dwelling", 2.0),
                     (run, year, "city", "out_migrants", 99.0)]
        rows.append((run, 2023, "city", "out_migrants_cause_rent", float("nan")))
    out = _outcomes(rows)
    assert fg.causes(out["metric"].unique()) == ["rent", "no_dwelling", "care"]
    fig = fg.out_migration_by_cause(out, exp)
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == [cause_label(c) for c in ("rent", "no_dwelling",
                                                                    "care")]
    assert list(fig.data[0].x) == ["base", "policy"]
    assert list(fig.data[0].y) == [30.0, 10.0]  # mean over runs of the sum over years
    assert list(fig.data[2].y) == [2.0, 2.0]
    with pytest.raises(ValueError):
        fg.out_migration_by_cause(out[out["metric"] == "out_migrants"], exp)


def test_segregation_indices_side_by_side_with_intervals():
    exp = _experiments(base=2, policy=2)
    rows = []
    for run, d in (("base-0", 0.30), ("base-1", 0.34), ("policy-0", 0.20), ("policy-1", 0.22)):
        rows += [(run, 2043, "city", "dissimilarity_income_quartiers", d),
                 (run, 2043, "city", "theil_h_income_quartiers", d / 2),
                 (run, 2043, "nord", "dissimilarity_income_cells", 0.9),
                 (run, 2042, "city", "dissimilarity_income_quartiers", 0.0)]
    fig = fg.segregation_indices(_outcomes(rows), exp)
    assert [t.name for t in fig.data] == ["base", "policy"]
    assert len(fig.data[0].x) == 2 and fig.data[0].y[0] == pytest.approx(0.32)
    half = stats.t.ppf(0.975, 1) * np.std([0.30, 0.34], ddof=1) / math.sqrt(2)
    assert fig.data[0].error_y.array[0] == pytest.approx(half)
    with pytest.raises(ValueError):
        fg.segregation_indices(_outcomes(rows), exp, unit="cells")  # no citywide cell index


def _comparison() -> pd.DataFrame:
    rows = [("policy", "population", "city", 2043, 1000.0, 1010.0, 10.0, 2.0, 18.0, True),
            ("policy", "share_poor", "city", 2043, 0.20, 0.19, -0.01, -0.03, 0.01, False),
            ("policy", "persons_male_age_00_04", "city", 2043, 50.0, 60.0, 10.0, 5.0, 15.0,
             True),
            ("policy", "population", "nord", 2043, 100.0, 90.0, -10.0, -20.0, 0.0, False),
            ("policy", "population", "city", 2042, 990.0, 995.0, 5.0, 1.0, 9.0, True)]
    return pd.DataFrame(rows, columns=["scenario", "metric", "scope", "year", "baseline_mean",
                                       "scenario_mean", "difference", "ci_low", "ci_high",
                                       "significant"])


def test_comparison_whiskers_in_percent_of_the_baseline():
    fig = fg.comparison_whiskers(_comparison())
    dots = fig.data[0]
    assert list(dots.y) == [metric_label("population"), metric_label("share_poor")]
    assert list(dots.x) == pytest.approx([1.0, -5.0])  # age bands left out by default
    assert list(dots.error_x.array) == pytest.approx([0.8, 10.0])  # up to ci_high
    assert list(dots.error_x.arrayminus) == pytest.approx([0.8, 10.0])
    assert list(dots.marker.symbol) == ["circle", "circle-open"]
    nord = fg.comparison_whiskers(_comparison(), scope="nord", year=2043)
    assert list(nord.data[0].x) == pytest.approx([-10.0])


def test_comparison_table_formats_values_and_marks_significance():
    fig = fg.comparison_table(_comparison(), lang="en")
    cells = fig.data[0].cells.values
    assert list(cells[1]) == ["Residents", "Share at risk of poverty"]
    assert list(cells[2]) == ["1,000", "20.0%"]
    assert list(cells[4]) == ["+10.0", "-1.00 pp"]
    assert list(cells[6]) == ["*", ""]
    german = fg.comparison_table(_comparison(), lang="de").data[0].cells.values
    assert list(german[2]) == ["1.000", "20,0%"] and german[4][1] == "-1,00 Pp."


def test_labels_follow_the_metric_names():
    assert metric_label("out_migrants_cause_rent") == "Wegzüge, davon Grund: Miete"
    assert (metric_label("out_migrants_cause_commuting", "en")
            == "Out-migrants, of which cause: Commuting")
    assert metric_label("out_migrants_cause_new_reason") == "Wegzüge, davon Grund: new reason"
    assert metric_label("persons_female_age_85plus") == "Frauen 85+"
    assert metric_label("dissimilarity_income_quartiers", "en") == (
        "Dissimilarity D (poor / rest), quartiers")
    assert metric_label("dwellings_built", "en") == "New dwellings"
    assert metric_label("bindings_bought") == "Angekaufte Belegungsbindungen"
    assert age_band_label("05_09") == "5-9" and age_band_label("85plus") == "85+"
    with pytest.raises(ValueError):
        metric_label("population", "fr")


def test_model_records_age_bands_by_sex_that_add_up(small):
    out = sim.build_model(small, seed=3).run(1).outcomes()
    last = out[out["year"] == out["year"].max()]
    for scope, part in last.groupby("scope", observed=True):
        values = part.set_index("metric")["value"]
        bands = values[values.index.str.startswith("persons_")]
        assert len(bands) == 36 and bands.sum() == values["population"], scope
