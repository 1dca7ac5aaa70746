"""Reading result folders, the offline report, the what-if engine and their bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

import sim
from dashboards import report as report_module
from dashboards.data import inside, load_results
from dashboards.report import build_report, summary_sentences
from dashboards.whatif import WhatIf, WhatIfEngine, lever_overrides, whatif_scenario
from sim.errors import InputError

from .dashboard_helpers import compare_folder, run_folder, sweep_folder


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    return compare_folder(tmp_path_factory)


def quartier(*args):
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_loads_the_three_kinds_of_folder(compared, tmp_path_factory):
    results = load_results(compared)
    assert results.kind == "comparison" and results.baseline == "baseline"
    assert results.scenarios == ["baseline", "rent_mix_quota_30"]
    assert len(results.experiments) == 6 and results.cells is not None
    assert results.comparison is not None and results.comparison["significant"].dtype == bool
    run = load_results(run_folder(tmp_path_factory))
    assert run.kind == "run" and run.comparison is None and run.cells is not None
    sweep = load_results(sweep_folder(tmp_path_factory))
    assert sweep.kind == "sweep" and len(sweep.scenarios) == 2 and sweep.baseline is None


def test_comparison_is_computed_when_the_csv_is_missing(compared, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(compared, copy)
    (copy / "comparison.csv").unlink()
    results = load_results(copy)
    stored = pd.read_csv(compared / "comparison.csv")
    row = stored[(stored["metric"] == "population") & (stored["scope"] == "city")].iloc[-1]
    mine = results.comparison
    again = mine[(mine["metric"] == "population") & (mine["scope"] == "city")
                 & (mine["year"] == row["year"])].iloc[0]
    assert again["difference"] == pytest.approx(row["difference"])
    assert again["ci_high"] == pytest.approx(row["ci_high"])


def _broken(tmp_path, compared, how: str):
    copy = tmp_path / how
    shutil.copytree(compared, copy)
    runs = sorted((copy / "runs").glob("*.outcomes.parquet"))
    if how == "corrupt_parquet":
        runs[0].write_bytes(b"PAR1 this is not parquet")
    elif how == "missing_column":
        pd.read_parquet(runs[0]).drop(columns="value").to_parquet(runs[0])
    elif how == "corrupt_csv":
        (copy / "comparison.csv").write_text("scenario,metric\nx,y\n", encoding="utf-8")
    elif how == "corrupt_manifest":
        (copy / "manifest.json").write_text("{not json", encoding="utf-8")
    elif how == "no_runs":
        shutil.rmtree(copy / "runs")
        (copy / "runs").mkdir()
    return copy, runs[0].name


@pytest.mark.parametrize("how, where", [
    ("corrupt_parquet", "outcomes.parquet: unreadable Parquet file"),
    ("missing_column", "outcomes.parquet: value: missing column"),
    ("corrupt_csv", "comparison.csv: scope: missing column"),
    ("corrupt_manifest", "manifest.json: unreadable manifest"),
    ("no_runs", "holds no complete runs"),
])
def test_bad_folders_give_one_line_naming_the_file(tmp_path, compared, how, where):
    folder, _ = _broken(tmp_path, compared, how)
    with pytest.raises(InputError) as info:
        load_results(folder)
    assert where in info.value.one_line() and "\n" not in info.value.one_line()


def test_paths_stay_inside_the_folder(tmp_path):
    (tmp_path / "res").mkdir()
    (tmp_path / "secret.txt").write_text("x", encoding="utf-8")
    (tmp_path / "res" / "link").symlink_to(tmp_path / "secret.txt")
    assert inside(tmp_path / "res", "runs/a.parquet") == (tmp_path / "res/runs/a.parquet"
                                                         ).resolve()
    for bad in ("../secret.txt", "/etc/passwd", "link", "runs/../../secret.txt"):
        with pytest.raises(InputError, match="outside the result folder"):
            inside(tmp_path / "res", bad)


def test_report_sections_summary_and_one_plotly_js(compared):
    results = load_results(compared)
    page = build_report(results, "de")
    assert page.count("plotly.js v") == 1  # the library's banner: embedded once
    assert page.count("Plotly.newPlot") >= 12
    assert "https://cdn" not in page.split("</head>", 1)[1][:2000]
    for section in ("Wer zieht weg", "Segregation", "Versorgung: Ärzte und Pflege",
                    "Wohnkosten", "Szenariovergleich", "Zusammenfassung"):
        assert section in page
    care = page.split('id="care"', 1)[1].split("<section", 1)[0]
    for label in ("Pflegequote", "Ungedeckter Pflegebedarf", "Hausärztlicher Versorgungsgrad 65+",
                  "Wegzüge wegen Pflege"):
        assert json.dumps(label)[1:-1] in care  # the services model's metrics are shown
    assert "Dienste-Modell" not in page
    titles = json.dumps(["Wegzüge nach Grund", "Bevölkerungspyramide"])[1:-1].split(", ")
    assert all(t.strip('"') in page for t in titles)  # figure JSON escapes umlauts
    english = build_report(results, "en")
    assert "Who leaves, and why?" in english and "Housing costs" in english
    assert "Access to care and doctors" in english and "GP coverage 65+" in english
    # results of a model version without the services model: the section says so
    older = load_results(compared)
    older.outcomes = older.outcomes[~older.outcomes["metric"].astype(str).str.contains(
        report_module.CARE_PATTERN)]
    assert "services model" in build_report(older, "en")


def test_summary_lists_the_largest_significant_differences(compared):
    results = load_results(compared)
    lines = summary_sentences(results, "en")
    table = results.comparison
    final = table[(table["scope"] == "city") & (table["year"] == table["year"].max())
                  & table["significant"] & ~table["metric"].str.startswith("persons_")
                  & (table["baseline_mean"] != 0)]  # ranked by size relative to the baseline
    assert lines[0].startswith("Comparison of 1 scenario(s) with the baseline 'baseline'")
    if final.empty:
        assert lines[1].startswith("None")
    else:
        relative = (final["difference"] / final["baseline_mean"].abs()).abs()
        top = final.loc[relative.idxmax()]
        from dashboards.labels import metric_label

        assert lines[1].startswith(f"rent_mix_quota_30: {metric_label(top['metric'], 'en')} ")
        assert len(lines) <= 7


def test_report_of_a_run_and_of_a_sweep(tmp_path_factory):
    run = build_report(load_results(run_folder(tmp_path_factory)), "en")
    assert "No scenario comparison" in run and run.count("plotly.js v") == 1
    sweep = build_report(load_results(sweep_folder(tmp_path_factory)), "de")
    assert "Parameterstudie mit 2 Entwurfspunkten" in sweep


def test_cli_report_writes_the_file_and_prints_its_path(compared, tmp_path):
    target = tmp_path / "out" / "bericht.html"
    proc = quartier("report", compared, "-o", target, "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"Report: {target}"
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (target.stat().st_mode & 0o044) == 0o044  # readable by others: made to be shared
    assert not list(target.parent.glob(".*.tmp"))


def test_cli_report_bad_input_one_line_exit_2(tmp_path, compared):
    target = tmp_path / "report.html"
    target.write_text("earlier report", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    corrupt, name = _broken(tmp_path, compared, "corrupt_parquet")
    cases = [(tmp_path / "nowhere", "no such folder"),
             (tmp_path / "empty", "holds no results"),
             (corrupt, f"runs/{name}: unreadable Parquet file")]
    for folder, message in cases:
        proc = quartier("report", folder, "-o", target)
        assert proc.returncode == 2, proc.stderr
        assert message in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        assert target.read_text(encoding="utf-8") == "earlier report"  # nothing lost
    lang = quartier("report", compared, "-o", target, "--lang", "fr")
    assert lang.returncode == 2 and "--lang: must be de or en" in lang.stderr


def test_cli_dashboard_refuses_a_bad_folder_before_starting(tmp_path):
    proc = quartier("dashboard", tmp_path / "nowhere", "--port", 1)
    assert proc.returncode == 2 and "no such folder" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_app_shows_the_error_in_the_page(tmp_path):
    from dashboards.app import create_app

    (tmp_path / "runs").mkdir()
    app = create_app(tmp_path)
    text = json.dumps(app.layout.to_plotly_json(), default=str)
    assert "holds no complete runs" in text and "load-error" in text


# -- the what-if levers ---------------------------------------------------------------------


def test_social_share_lever_maps_to_rent_mixing(baseline):
    assert baseline.levers.rent_mixing is None
    overrides = lever_overrides(baseline, WhatIf(social_share=0.25))
    assert overrides == {"levers.rent_mixing": {"social_share_target": 0.25,
                                                "from_year": baseline.start_year + 1}}
    changed = baseline.with_values(overrides)
    assert changed.levers.rent_mixing.social_share_target == 0.25
    quota = sim.load_scenario(baseline.resolve_path("rent_mix_quota_30.toml"))
    overrides = lever_overrides(quota, WhatIf(social_share=0.1))
    assert overrides == {"levers.rent_mixing.social_share_target": 0.1}
    assert quota.with_values(overrides).levers.rent_mixing.from_year == 2025  # kept


def test_mvz_and_ticket_levers_map_to_the_services_levers(baseline):
    assert baseline.levers.mvz is None and baseline.levers.public_transport is None
    year = baseline.start_year + 1
    whatif = WhatIf(mvz_cell=(20, 20), ticket_price=29.0)
    overrides = lever_overrides(baseline, whatif)
    assert overrides == {
        "levers.mvz": {"centres": [{"cell": [20, 20], "doctors": 6.0, "opening_year": year,
                                    "name": "MVZ (Was-wäre-wenn)"}]},
        "levers.public_transport": {"from_year": year, "ticket_price_eur": 29.0}}
    changed = whatif_scenario(baseline, whatif)
    assert changed.levers.mvz.centres[0].cell == (20, 20)
    assert changed.levers.public_transport.ticket_price_eur == 29.0
    # a scenario that has the levers keeps its settings and gets one more centre
    combined = sim.load_scenario(baseline.resolve_path("combined.toml"))
    overrides = lever_overrides(combined, whatif)
    assert len(overrides["levers.mvz.centres"]) == len(combined.levers.mvz.centres) + 1
    assert overrides["levers.public_transport.ticket_price_eur"] == 29.0
    kept = whatif_scenario(combined, whatif).levers.public_transport
    assert kept.from_year == combined.levers.public_transport.from_year
    # an MVZ outside the city: an InputError before any run, naming the field
    with pytest.raises(InputError, match=r"levers\.mvz\.centres\.0\.cell.*outside"):
        whatif_scenario(baseline, WhatIf(mvz_cell=(42, 0)))
    with pytest.raises(InputError, match="outside the grid"):
        whatif_scenario(baseline, WhatIf(mvz_cell=(999, 3)))


def test_whatif_engine_answers_with_paired_runs(baseline):
    engine = WhatIfEngine(baseline, households=400, years=3, replications=2, workers=2)
    try:
        engine.start()
        job = engine.wait(engine.submit(WhatIf(social_share=0.4)), timeout=240)
        assert job.error is None
        assert set(job.outcomes["run_id"]) == {"baseline-0", "baseline-1", "what-if-0",
                                               "what-if-1"}
        table = engine.comparison(job)
        row = table[(table["metric"] == "social_housing_share") & (table["scope"] == "city")]
        assert len(row) == 1 and row["replications"].iloc[0] == 2
        assert row["difference"].iloc[0] > 0  # bindings bought towards the 40 % target
        out = job.outcomes
        start = out[out["year"] == out["year"].min()].pivot_table(
            index=["metric", "scope"], columns="run_id", values="value")
        for r in (0, 1):  # each pair starts from the same city (common random numbers)
            pd.testing.assert_series_equal(start[f"baseline-{r}"], start[f"what-if-{r}"],
                                           check_names=False)
        done, total = engine.progress(job)
        assert done == total == 2
        # the what-if city's grid and facilities (built by a worker): the map of the panel
        grid = engine.city_grid()
        engine._facilities.result(timeout=120)
        facilities = engine.facilities()
        assert {"gp", "nursing_home", "primary_school"} <= set(facilities["kind"])
        inside = set(zip(grid["col"], grid["row"], strict=True))
        assert all((c, r) in inside for c, r in zip(facilities["col"], facilities["row"],
                                                    strict=True))
    finally:
        engine.shutdown()
    unavailable = WhatIfEngine(None, unavailable_reason="Schelling mode")
    with pytest.raises(InputError, match="Schelling mode"):
        unavailable.submit(WhatIf(social_share=0.2))


def _plain(scenario, seed: int, years: int) -> pd.DataFrame:
    """A run as any command makes it: built from scratch, no start population kept."""
    return sim.build_model(scenario, seed=seed).run(years).outcomes()


@pytest.mark.parametrize("lever", ["social", "ticket", "mvz"])
def test_a_kept_start_population_builds_the_same_model(baseline, lever):
    """The what-if workers keep each seed's start population (city and households) from the
    baseline's build: a what-if model built from it runs exactly as one built from scratch."""
    from sim.experiments.runner import city_cells, keep_start_populations
    from sim.model import startcache

    base = baseline.with_values({"city.households": 800, "years": 4})
    cell = city_cells(base).iloc[len(city_cells(base)) // 2]
    whatif = {"social": WhatIf(social_share=0.3), "ticket": WhatIf(ticket_price=29.0),
              "mvz": WhatIf(mvz_cell=(int(cell["col"]), int(cell["row"])))}[lever]
    scenario = whatif_scenario(base, whatif)
    fresh = _plain(scenario, 3, 4)
    keep_start_populations(4)
    try:
        _plain(base, 3, 4)  # the baseline's run keeps seed 3's start population
        kept = _plain(scenario, 3, 4)
        assert startcache.hits == 1
        again = _plain(scenario, 3, 4)  # each build gets its own copy
        assert startcache.hits == 2
    finally:
        startcache.disable()
    pd.testing.assert_frame_equal(kept, fresh, check_exact=True)
    pd.testing.assert_frame_equal(again, fresh, check_exact=True)


def test_whatif_answers_are_those_of_plain_runs(baseline):
    """The engine's cached baseline and its what-if runs (on workers that keep the start
    populations) are identical to plain runs with the same seeds."""
    engine = WhatIfEngine(baseline, households=500, years=3, replications=3, workers=2, seed=4)
    whatif = WhatIf(social_share=0.35, ticket_price=39.0)
    try:
        engine.start()
        first = engine.wait(engine.submit(WhatIf(social_share=0.2)), timeout=240)
        job = engine.wait(engine.submit(whatif), timeout=240)
        assert first.error is None and job.error is None
    finally:
        engine.shutdown()
    scenario = whatif_scenario(engine.base, whatif)
    for r in range(3):
        for name, sc in (("baseline", engine.base), ("what-if", scenario)):
            got = job.outcomes[job.outcomes["run_id"] == f"{name}-{r}"].drop(columns="run_id")
            want = _plain(sc, 4 + r, 3)
            want = want.assign(metric=want["metric"].astype(str),
                               scope=want["scope"].astype(str)).drop(columns="run_id")
            pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                          want.reset_index(drop=True), check_exact=True)


def test_whatif_worker_processes_share_the_cores_evenly():
    """No process runs more replications than the cores' even share, with as few processes as
    that allows; fewer replications than cores: one process each."""
    from dashboards.whatif import worker_processes

    assert worker_processes(5, 2) == 3  # 2 + 2 + 1 runs, not three rounds on 2 processes
    assert worker_processes(4, 2) == 2
    assert worker_processes(3, 2) == 3
    assert worker_processes(1, 8) == 1
    for replications in range(1, 30):
        for cores in range(1, 9):
            n = worker_processes(replications, cores)
            most = -(-replications // n)  # runs of the busiest process
            assert n <= max(replications, cores) and most <= max(1, replications / cores)
            if n > 1:
                assert -(-replications // (n - 1)) > max(1, replications / cores)


def test_html_has_no_remote_resources(compared):
    page = build_report(load_results(compared), "en")
    assert not re.search(r'<script[^>]+src="http', page)
    assert not re.search(r'<link[^>]+href="http', page)
