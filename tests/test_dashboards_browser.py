"""The report and the dashboard in a real browser: headless Chromium (Debian's chromium and
chromium-driver, installed by .ci/run), driven by Selenium.

Checks: pages load without JavaScript errors (console entries of level SEVERE), the main
figures render with data, a click on the map filters the series, a what-if run completes.
Screenshots go to $QUARTIER_SCREENSHOTS (e.g. docs/img) or a temporary folder;
$QUARTIER_BROWSER_RESULTS names another result folder to show (default: a small comparison).

Without Chromium these tests fail (so CI cannot pass silently without them); set
QUARTIER_SKIP_BROWSER=1 to skip them on purpose.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .dashboard_helpers import compare_folder
from .whatif_timing import chromium, missing_browser, traces, wait_for
from .whatif_timing import dashboard as serve_dashboard

if os.environ.get("QUARTIER_SKIP_BROWSER") == "1":
    pytest.skip("QUARTIER_SKIP_BROWSER=1", allow_module_level=True)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = missing_browser()
    if missing:
        pytest.fail(f"browser tests need {' and '.join(missing)} (apt-get install chromium "
                    "chromium-driver, as .ci/run does), or QUARTIER_SKIP_BROWSER=1")
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    given = os.environ.get("QUARTIER_BROWSER_RESULTS")
    return Path(given) if given else compare_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("QUARTIER_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_report_renders_offline_without_errors(browser, results, tmp_path, shots):
    page = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "report", str(results), "-o",
                           str(page)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    browser.get(page.as_uri())
    counts = wait_for(lambda: (c := traces(browser)) and len(c) >= 12 and all(c) and c,
                      60, "the report's figures")
    assert severe(browser) == []
    assert browser.find_element("css selector", "h1").text.startswith("QuartierSim")
    # the map has a year slider that works offline
    sliders = browser.execute_script(
        "return Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".filter(e => (e.layout.sliders || []).length).length")
    assert sliders >= 1 and len(counts) >= 12
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(shots / "report.png"))


@pytest.fixture(scope="module")
def dashboard(results):
    # a small what-if for the small test folder; the app's defaults for a given folder
    small = [] if os.environ.get("QUARTIER_BROWSER_RESULTS") else [
        "--whatif-households", "600", "--whatif-years", "4", "--whatif-replications", "3"]
    with serve_dashboard(results, small) as url:
        yield url


def test_dashboard_linked_views_and_a_whatif_run(browser, dashboard, shots):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(dashboard)
    ids = ("map", "series", "causes", "pyramid", "segregation", "whiskers")
    wait_for(lambda: all(traces(browser, f"#{i} .js-plotly-plot")[:1] > [0] for i in ids),
             60, "the dashboard's figures")
    assert severe(browser) == []

    # linked views: a click on a map cell selects its quartier for the series
    def series_title():
        return browser.execute_script(
            "return document.querySelector('#series .js-plotly-plot').layout.title.text")

    assert series_title().endswith("Gesamtstadt")
    drag = browser.find_element(By.CSS_SELECTOR, "#map .nsewdrag")
    for dx, dy in ((0, 0), (-40, 30), (40, -30), (-80, -60)):  # until a built cell is hit
        ActionChains(browser).move_to_element_with_offset(drag, dx, dy).click().perform()
        try:
            title = wait_for(lambda: not series_title().endswith("Gesamtstadt")
                             and series_title(), 5, "the series to follow the clicked quartier")
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("clicking the map never selected a quartier")
    quartier = browser.execute_script(
        "return document.querySelector('#quartier').innerText")
    assert title.endswith(quartier.strip())

    # what-if: move the social-housing lever by two steps and run
    thumb = browser.find_element(By.CSS_SELECTOR, "#social-share [role=slider]")
    thumb.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    browser.find_element(By.ID, "whatif-run").click()
    status = wait_for(lambda: (t := browser.find_element(By.ID, "whatif-status").text)
                      .startswith(("Fertig", "Fehler", "Kein")) and t, 90, "the what-if run")
    assert status.startswith("Fertig"), status
    wait_for(lambda: traces(browser, "#whatif-series .js-plotly-plot") == [4], 20,
             "the what-if series (baseline and what-if, each with its band)")
    seconds = float(status.split(" s")[0].split()[-1].replace(",", "."))
    print(f"what-if answered in {seconds} s (as shown in the page)")
    assert traces(browser, "#whatif-whiskers .js-plotly-plot")[0] >= 1
    assert severe(browser) == []
    browser.set_window_size(1300, 3250)
    browser.execute_script("window.scrollTo(0, 0)")
    time.sleep(1.0)  # let the figures re-layout to the taller window
    browser.save_screenshot(str(shots / "dashboard.png"))
    browser.set_window_size(1300, 1900)


def _click_cell(driver, graph: str, col: int, row: int) -> None:
    """A real mouse click on the centre of cell (col, row) of a map (a Plotly heatmap)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    drag = driver.find_element(By.CSS_SELECTOR, f"#{graph} .nsewdrag")
    dx, dy = driver.execute_script(
        "const gd = document.querySelector(arguments[0] + ' .js-plotly-plot')._fullLayout;"
        "const xa = gd.xaxis, ya = gd.yaxis;"
        "return [xa.l2p(arguments[1]) - xa._length / 2, ya.l2p(arguments[2]) - ya._length / 2]",
        f"#{graph}", col, row)
    ActionChains(driver).move_to_element_with_offset(drag, round(dx), round(dy)).click().perform()


def test_dashboard_places_an_mvz_by_a_click_and_runs(browser, dashboard):
    from selenium.webdriver.common.by import By

    browser.get(dashboard)
    # the map is redrawn once a worker has built the city's facilities: wait for the markers
    wait_for(lambda: traces(browser, "#whatif-map .js-plotly-plot")[:1] > [2], 60,
             "the what-if map with its facilities")
    # the heatmap's cells: z[row][col] is null outside the city's quartiers
    z = browser.execute_script(
        "return document.querySelector('#whatif-map .js-plotly-plot').data[0].z")
    inside = [(c, r) for r, line in enumerate(z) for c, v in enumerate(line) if v is not None]
    outside = [(c, r) for r, line in enumerate(z) for c, v in enumerate(line) if v is None]
    label = lambda: browser.find_element(By.ID, "mvz-label").text  # noqa: E731
    if outside:  # a click outside the city is answered in the page, no run is started
        for attempt in range(3):  # (as below: a lost click is repeated)
            _click_cell(browser, "whatif-map", *outside[0])
            try:
                message = wait_for(lambda: "außerhalb" in label() and label(), 10,
                                   "the outside-the-city message")
                break
            except AssertionError:
                if attempt == 2:
                    raise
        assert "außerhalb der Stadt" in message
    marked = browser.execute_script(  # cells under facility markers (a click hits those)
        "return document.querySelector('#whatif-map .js-plotly-plot').data.slice(2)"
        ".flatMap(t => Array.from(t.x || []).map((x, i) => [x, t.y[i]]))")
    free = [c for c in inside if list(c) not in marked]
    col, row = free[len(free) // 2]
    for attempt in range(3):  # (a click while the map redraws can get lost: click again)
        _click_cell(browser, "whatif-map", col, row)
        try:  # (a click near a facility's marker places the MVZ in that facility's cell)
            placed = wait_for(lambda: label().startswith("Neues MVZ in Zelle") and label(),
                              10, "the MVZ to be placed")
            break
        except AssertionError as exc:
            if attempt == 2:
                raise AssertionError(f"{exc}; the page says {label()!r}") from None
    c, r = (int(v) for v in placed.split("Zelle ")[1].split(" (")[0].split(", "))
    assert abs(c - col) <= 3 and abs(r - row) <= 3 and (c, r) in inside, placed
    assert traces(browser, "#whatif-map .js-plotly-plot")[0] >= 3  # map, names, the MVZ
    browser.find_element(By.ID, "whatif-run").click()
    status = wait_for(lambda: (t := browser.find_element(By.ID, "whatif-status").text)
                      .startswith(("Fertig", "Fehler", "Kein", "Zelle")) and t, 90,
                      "the what-if run")
    assert status.startswith("Fertig"), status
    assert traces(browser, "#whatif-whiskers .js-plotly-plot")[0] >= 1
    assert severe(browser) == []


def test_dashboard_serves_no_files_of_the_folder_or_beyond(dashboard, results):
    import http.client
    from urllib.parse import urlparse

    where = urlparse(dashboard)
    secret = (results / "manifest.json").read_text(encoding="utf-8")[:40]
    for path in ("/manifest.json", "/assets/../manifest.json", "/assets/%2e%2e/manifest.json",
                 "/assets/../../../../etc/passwd", "/_dash-component-suites/../../etc/passwd",
                 "/runs/"):
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
        conn.request("GET", path)  # sent as is, dot segments included
        body = conn.getresponse().read().decode("utf-8", "replace")
        conn.close()
        assert secret not in body and "root:x:0:0" not in body, path


def test_report_names_each_scenario_and_marks_significance_on_quartier_maps(browser, results,
                                                                            tmp_path):
    import json

    from dashboards.data import load_results
    from dashboards.report import scenario_descriptions

    page = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "report", str(results), "-o",
                           str(page)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    browser.get(page.as_uri())
    wait_for(lambda: (c := traces(browser)) and len(c) >= 12 and all(c), 60,
             "the report's figures")
    loaded = load_results(results)
    descriptions = scenario_descriptions(loaded)
    assert set(descriptions) == set(loaded.scenarios) and all(descriptions.values())
    opening = browser.find_element("css selector", "#scenarios").text
    for name, description in descriptions.items():
        assert f"{name}: {description}" in opening, name
    maps = browser.execute_script(
        # cells with a value (z arrives as typed arrays: gaps are NaN)
        "const cells = z => Array.from(z || []).reduce((n, row) => n + Array.from(row)"
        "    .filter(v => v !== null && !Number.isNaN(v)).length, 0);"
        "return Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".filter(e => e._fullLayout && e._fullLayout.meta"
        "        && e._fullLayout.meta.map === 'quartier_difference')"
        ".map(e => ({meta: e._fullLayout.meta, types: e._fullData.map(t => t.type),"
        "            names: e._fullData.map(t => t.name), grey: e._fullData[1].colorscale,"
        "            greyCells: cells(e._fullData[1].z), colourCells: cells(e._fullData[0].z)}))")
    assert maps, "no quartier-level difference map"
    policies = [s for s in loaded.scenarios if s != loaded.baseline]
    assert {m["meta"]["scenario"] for m in maps} == set(policies)
    quartiers = set(loaded.quartiers)
    for m in maps:
        assert m["types"][:2] == ["heatmap", "heatmap"]
        marked = set(m["meta"]["significant"]) | set(m["meta"]["not_significant"])
        assert marked == quartiers, json.dumps(m["meta"])  # every quartier is marked
        # not significant: grey cells (the second heatmap), named as such in the legend
        assert all(c[1] == "#d9d9d9" for c in m["grey"])
        assert any("nicht signifikant" in str(n) for n in m["names"])
        assert (m["greyCells"] > 0) == bool(m["meta"]["not_significant"])
        assert (m["colourCells"] > 0) == bool(m["meta"]["significant"])
    assert severe(browser) == []


@pytest.fixture(scope="module")
def full_dashboard(results):
    """The dashboard with the what-if panel's defaults (10,000 households, 20 years, 5
    replications), on the default worker processes (3 on 2 cores)."""
    with serve_dashboard(results, []) as url:
        yield url


@pytest.mark.slow
@pytest.mark.alone
def test_whatif_click_to_charts(browser, full_dashboard):
    """The what-if answer in the browser: each click on *Berechnen* (a new share of social
    housing each time) ends in both answer charts drawn for that question, with the status
    *Fertig*, and the console stays free of errors. The times from the click to the charts and
    the model runs' median are printed, but not judged here: the 2.0 s
    budget is a performance goal, checked by ``benchmarks/whatif.py`` (same code,
    ``tests/whatif_timing.py``), not by a timed test."""
    import statistics

    from .whatif_timing import time_questions

    answers = time_questions(browser, full_dashboard, 3)
    assert severe(browser) == []
    assert len(answers) == 3
    for a in answers:  # each answer's figures carry the runs' time the server measured
        assert a.status.startswith(("Fertig", "Done")), a.status
        assert 0 < a.runs < a.seconds, (a.runs, a.seconds)
    shown = traces(browser, "#whatif-series .js-plotly-plot") + traces(
        browser, "#whatif-whiskers .js-plotly-plot")
    assert len(shown) == 2 and min(shown) > 0, shown
    totals = [a.seconds for a in answers[1:]]  # the first also waited for the baseline
    runs = [a.runs for a in answers[1:]]
    print(f"what-if click to charts (not judged; benchmarks/whatif.py judges the budget): "
          f"{', '.join(f'{t:.2f}' for t in totals)} s; model runs median "
          f"{statistics.median(runs):.2f} s; load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
