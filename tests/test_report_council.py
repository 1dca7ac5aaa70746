"""The report for a council committee and the dashboard's displays: scenario paragraphs,
key outcomes, quartier difference maps with significance, outlines, stored facilities,
number formats and units, the comparison axis, malformed requests."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import sim
from dashboards import figures as fg
from dashboards.data import load_results
from dashboards.geography import quartier_outlines, run_facilities
from dashboards.labels import metric_label
from dashboards.report import (
    KEY_METRICS,
    build_report,
    key_table,
    money_note,
    scenario_descriptions,
    scenario_paragraph,
)

from .conftest import SCENARIOS
from .dashboard_helpers import compare_folder


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return load_results(compare_folder(tmp_path_factory))


def _final(results):
    table = results.comparison
    return table[(table["scope"] == "city") & (table["year"] == table["year"].max())]


def test_each_scenario_opens_with_its_description_and_what_it_changed(results):
    descriptions = scenario_descriptions(results)
    for name in results.scenarios:
        expected = sim.load_scenario(SCENARIOS / f"{name}.toml").description
        assert descriptions[name] == expected and expected
    final = _final(results)
    for lang, not_changed in (("de", "Nicht signifikant verändert: "),
                              ("en", "Not changed significantly: ")):
        assert scenario_paragraph(results, results.baseline, lang).startswith(
            descriptions[results.baseline])
        for name in results.scenarios[1:]:
            text = scenario_paragraph(results, name, lang)
            assert text.startswith(descriptions[name])
            rows = final[final["scenario"] == name].set_index("metric")
            key = [m for m in KEY_METRICS if m in rows.index]
            significant = [m for m in key if rows.loc[m, "significant"]]
            quiet = [m for m in key if not rows.loc[m, "significant"]]
            for m in significant[:4]:  # key outcomes are told first
                assert metric_label(m, lang) in text.split(not_changed)[0], m
            if quiet:
                listed = text.split(not_changed)[1]
                assert all(metric_label(m, lang) in listed for m in quiet)
            others = rows[rows["significant"] & (rows["baseline_mean"] != 0)
                          & ~rows.index.str.startswith(("persons_", fg.CAUSE_PREFIX))]
            if not len(others):
                assert ("keine Kennzahl" if lang == "de" else "changes no") in text


def test_key_outcomes_are_covered_whether_significant_or_not(results):
    table = key_table(results, "de")
    final = _final(results)
    policies = results.scenarios[1:]
    present = [m for m in KEY_METRICS if m in set(final["metric"])]
    assert len(table) == len(policies) * len(present) and len(present) >= 6
    for m in ("out_migrants", "out_migrants_poor", "dissimilarity_income_quartiers",
              "unmet_care", "gp_access_65plus", "mean_rent_burden"):
        assert m in present
    for row in table.itertuples(index=False):
        name, label, marked = row[0], row[1], row[-1]
        metric = next(m for m in present if metric_label(m, "de") == label)
        truth = bool(final[(final["scenario"] == name) & (final["metric"] == metric)]
                     ["significant"].iloc[0])
        assert marked == ("ja" if truth else "nein")
    burden = table[table.iloc[:, 1] == metric_label("mean_rent_burden", "de")]
    assert burden.iloc[:, 2].str.endswith("%").all()  # rent burden in percent
    assert burden.iloc[:, 4].str.endswith("Pp.").all()


def test_rent_burden_is_a_percentage_everywhere():
    assert fg.format_value("mean_rent_burden", 0.2154, "de") == "21,5%"
    assert fg.format_difference("mean_rent_burden", -0.012, "en") == "-1.20 pp"
    assert fg.format_value("mean_rent_burden", 0.2154, "en") == "21.5%"


def test_money_is_said_to_be_nominal_with_the_growth_rates(results):
    base = sim.load_scenario(SCENARIOS / "baseline.toml").parameters
    note = money_note(results, "de")
    assert "nominal" in note
    income = fg.localise(f"{100 * base.income.income_growth:+.2f}", "de")
    rents = fg.localise(f"{100 * base.housing.market_rent_growth:+.2f}", "de")
    assert f"Einkommen {income} %" in note and f"Angebotsmieten {rents} %" in note
    assert "nominal" in money_note(results, "en")


def _grid():
    """Two quartiers of a 4 × 2 grid: west (columns 0-1) and east (2-3)."""
    cols, rows = np.meshgrid(np.arange(4), np.arange(2))
    return pd.DataFrame({"col": cols.ravel(), "row": rows.ravel(),
                         "quartier": np.where(cols.ravel() < 2, "west", "east")})


def test_quartier_difference_map_greys_quartiers_whose_interval_includes_0():
    rows = [("p", "share_poor", "west", 2030, 0.20, 0.23, 0.03, 0.01, 0.05, True),
            ("p", "share_poor", "east", 2030, 0.10, 0.09, -0.01, -0.03, 0.01, False),
            ("p", "share_poor", "city", 2030, 0.15, 0.16, 0.01, 0.0, 0.02, False)]
    comparison = pd.DataFrame(rows, columns=["scenario", "metric", "scope", "year",
                                             "baseline_mean", "scenario_mean", "difference",
                                             "ci_low", "ci_high", "significant"])
    fig = fg.quartier_difference_map(comparison, _grid(), scenario="p", metric="share_poor",
                                     baseline="b", lang="de")
    coloured, grey = (np.array(t.z, dtype=float) for t in fig.data[:2])
    assert np.allclose(coloured[:, :2], 3.0) and np.isnan(coloured[:, 2:]).all()  # in Pp.
    assert np.isnan(grey[:, :2]).all() and np.isfinite(grey[:, 2:]).all()
    assert fig.data[1].colorscale[0][1] == "#d9d9d9"
    assert fig.layout.meta["significant"] == ["west"]
    assert fig.layout.meta["not_significant"] == ["east"]
    labels = {a.text.split("<br>")[0]: a.text for a in fig.layout.annotations}
    assert labels["east"].endswith("(n. s.)") and "(n. s.)" not in labels["west"]
    assert "+3,0 Pp." in labels["west"]
    assert fig.layout.separators == ",."
    outline = next(t for t in fig.data if t.name == "Quartiere")
    assert 1.5 in list(outline.x)  # the border between the quartiers
    with pytest.raises(ValueError):
        fg.quartier_difference_map(comparison, _grid(), scenario="p", metric="population")


def test_quartier_outlines_run_along_cell_edges():
    lines = quartier_outlines(_grid())
    segments = lines.dropna().to_numpy().reshape(-1, 2, 2)
    # the city's edge (4 + 4 + 2 + 2 cell edges) and the border between the quartiers (2)
    assert len(segments) == 14
    inner = [s for s in segments if s[0][0] == s[1][0] == 1.5]
    assert len(inner) == 2


def test_runs_store_their_facilities_and_maps_draw_them(results):
    table = run_facilities(results.experiments, results.runs_of(results.baseline))
    assert table is not None and len(table)
    assert {"gp", "primary_school"} <= set(table["kind"]) and "employer" not in set(
        table["kind"])
    assert table[["col", "row"]].ge(0).all().all()
    page = build_report(results, "de")
    assert "Hausarztpraxis " in page and "Grundschule (Pl" in page  # marker legends
    assert "nicht eingezeichnet" not in page


def test_figures_use_the_languages_number_marks_and_units(results):
    out, exp = results.outcomes, results.experiments
    de = fg.time_series_bands(out, exp, "mean_rent_burden", lang="de")
    en = fg.time_series_bands(out, exp, "mean_rent_burden", lang="en")
    assert de.layout.separators == ",." and en.layout.separators == ".,"
    assert de.layout.yaxis.title.text.endswith("[%]") and de.layout.yaxis.tickformat == ".1%"
    assert "[Personen]" in fg.time_series_bands(out, exp, "out_migrants",
                                                lang="de").layout.yaxis.title.text
    # one replication: no interval in the hover (it would read NaN)
    one = exp[exp["replicate"] == 0]
    single = fg.time_series_bands(out, one, "population", lang="de")
    assert all("customdata[0]" not in t.hovertemplate for t in single.data)
    colors = fg.scenario_colors(results.scenarios)
    bands = fg.time_series_bands(out, exp, "population", scenarios=results.scenarios[::-1],
                                 colors=colors)
    lines = {t.name: t.line.color for t in bands.data if t.mode == "lines+markers"}
    assert lines == {s: colors[s] for s in results.scenarios}  # the scenario's own colour
    seg = fg.segregation_indices(out, exp, scenarios=results.scenarios[1:], colors=colors)
    assert {t.name: t.marker.color for t in seg.data} == {
        s: colors[s] for s in results.scenarios[1:]}


def test_comparison_axis_is_scaled_to_the_data():
    rows = [("p", f"m{i}", "city", 2030, 100.0, 100.0 + d, d, d - 0.5, d + 0.5, True)
            for i, d in enumerate([1.0, -2.0, 0.5, 1.5, -1.0, 0.8, 2.2, -0.3, 0.1, 400.0])]
    comparison = pd.DataFrame(rows, columns=["scenario", "metric", "scope", "year",
                                             "baseline_mean", "scenario_mean", "difference",
                                             "ci_low", "ci_high", "significant"])
    fig = fg.comparison_whiskers(comparison, lang="de")
    low, high = fig.layout.xaxis.range
    assert high == -low and 2.2 < high < 10  # not 400 %: small effects stay visible
    dots = fig.data[0]
    assert max(dots.x) == pytest.approx(high) and dots.marker.symbol[-1] == "triangle-right"
    assert dots.customdata[-1][-1] == pytest.approx(400.0)  # the true value, in the hover


def test_maps_have_one_orientation(results):
    from sim.experiments.runner import city_cells

    scenario = sim.load_scenario(SCENARIOS / "baseline.toml")
    grid = city_cells(scenario)
    pick = fg.quartier_pick_map(grid)
    main = fg.cell_map(results.cells[results.cells["run_id"].isin(
        results.runs_of(results.baseline))], "share_poor", year=results.years[-1])
    assert pick.layout.yaxis.range[0] > pick.layout.yaxis.range[1]  # row 0 at the top
    assert main.layout.yaxis.range[0] > main.layout.yaxis.range[1]
    south = fg.quartier_pick_map(grid, rows_from_south=True)  # a city built from files
    assert south.layout.yaxis.range[0] < south.layout.yaxis.range[1]
    heat = pick.data[0]
    assert heat.hoverongaps is False and main.data[0].hoverongaps is False  # no NaN hovers


def test_dashboard_selects_all_scenarios_and_shows_empty_what_if_hints(results):
    from dashboards.app import create_app
    from dashboards.whatif import WhatIfEngine

    engine = WhatIfEngine.from_results(results, households=300, years=2, replications=1,
                                       workers=1)
    app = create_app(results.root, results=results, engine=engine, lang="de")
    assert app.layout["scenarios"].value == results.scenarios
    for graph in ("whatif-series", "whatif-whiskers"):
        notes = app.layout[graph].figure.layout.annotations
        assert "Berechnen" in notes[0].text


@pytest.mark.parametrize("body", [b"not json", b"{}", b"[1, 2]",
                                  b'{"output": "nope.figure", "outputs": {"id": "nope", '
                                  b'"property": "figure"}, "inputs": []}',
                                  b'{"output": "series.figure", "outputs": {"id": "series", '
                                  b'"property": "figure"}, "inputs": [{"id": "scenarios"}]}'])
def test_malformed_callback_requests_are_answered_in_the_page(results, body):
    from dashboards.app import create_app

    app = create_app(results.root, results=results, lang="en")
    response = app.server.test_client().post("/_dash-update-component", data=body,
                                             content_type="application/json")
    assert response.status_code == 200
    answer = json.loads(response.get_data(as_text=True))["response"]["request-error"]
    assert answer["children"].startswith("The request to the server was malformed")
    assert answer["style"]["display"] == "block"


def test_quartier_map_of_a_city_built_from_files_uses_its_stadtteile():
    from dashboards.report import _quartier_map

    rows = [("p", "share_poor", q, 2030, 0.2, 0.21, 0.01, lo, hi, sig)
            for q, lo, hi, sig in (("west", 0.005, 0.02, True), ("east", -0.01, 0.03, False))]
    comparison = pd.DataFrame(rows, columns=["scenario", "metric", "scope", "year",
                                             "baseline_mean", "scenario_mean", "difference",
                                             "ci_low", "ci_high", "significant"])
    geography = {
        "outlines": pd.DataFrame({"quartier_id": ["west"] * 6, "name": "West",
                                  "col": [-0.5, 1.5, 1.5, -0.5, -0.5, np.nan],
                                  "row": [-0.5, -0.5, 1.5, 1.5, -0.5, np.nan]}),
        "labels": pd.DataFrame({"quartier_id": ["west", "east"], "name": ["Westviertel",
                                                                          "Ostviertel"],
                                "col": [0.4, 2.6], "row": [0.6, 0.4]}),
        "facilities": pd.DataFrame({"kind": ["primary_school"], "name": ["GS West"],
                                    "col": [0.0], "row": [1.0], "capacity": [200.0]})}
    fig = _quartier_map(comparison, _grid(), "p", "share_poor", "b", geography, None, "de")
    names = [t.name for t in fig.data]
    assert "Stadtteile" in names and "Quartiere" not in names  # polygons, not cell edges
    assert "Grundschule (Plätze)" in names
    texts = {a.text.split("<br>")[0]: (a.x, a.y) for a in fig.layout.annotations}
    assert texts == {"Westviertel": (0.4, 0.6), "Ostviertel": (2.6, 0.4)}
    low, high = fig.layout.yaxis.range
    assert low < high  # north up
