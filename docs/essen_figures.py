"""The Essen figures of the user guide (docs/user_guide.md), made from a comparison folder.

    quartier compare scenarios/essen.toml scenarios/essen_rent_mix_quota_30.toml \\
        --replications 3 -o results/essen_compare
    python docs/essen_figures.py results/essen_compare

Writes ``FOLDER/report.html`` (``quartier report``), ``FOLDER/essen_start.html``
(the start state of seed 1 against the census, per Stadtteil) and screenshots of both in
headless Chromium (Debian's chromium and chromium-driver): ``docs/img/essen_report.png`` (the
report's map of the share at risk of poverty, with the Stadtteile and the schools and Kitas of
the open data) and ``docs/img/essen_start.png``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def start_state_page(out: Path) -> Path:
    """Model against census per Stadtteil (seed 1): four scatter plots on one page."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    import sim
    from sim.experiments import startstate

    scenario = sim.load_scenario(ROOT / "scenarios" / "essen.toml")
    model = sim.build_model(scenario, seed=1)
    census = startstate.census_by_quartier(
        model.city, [scenario.resolve_path(f) for f in scenario.city.census])
    table = startstate.compare(model, census)
    panels = (("under18", "Anteil unter 18 / share under 18", 100),
              ("age65", "Anteil 65+ / share 65+", 100),
              ("foreign", "Anteil Ausländer / share foreign", 100),
              ("household_size", "Haushaltsgröße / household size", 1),
              ("vacancy", "Leerstand / vacancy (%)", 100),
              ("floor_per_resident", "Wohnfläche je Einw. / m² per resident", 1))
    fig = make_subplots(rows=2, cols=3, subplot_titles=[p[1] for p in panels])
    for i, (column, _, scale) in enumerate(panels):
        x = table[f"{column}_census"] * scale
        y = table[f"{column}_model"] * scale
        lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        fig.add_trace(go.Scatter(x=x, y=y, mode="markers", text=table["name"],
                                 marker={"size": 6, "color": "#1f3b5a"}, showlegend=False,
                                 hovertemplate="%{text}: Zensus %{x:.2f}, Modell %{y:.2f}"),
                      row=i // 3 + 1, col=i % 3 + 1)
        fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", showlegend=False,
                                 line={"color": "#999", "dash": "dot"}),
                      row=i // 3 + 1, col=i % 3 + 1)
    fig.update_xaxes(title_text="Zensus 2011")
    fig.update_yaxes(title_text="Modell")
    fig.update_layout(title="Essen, Startzustand je Stadtteil (50): Modell gegen Zensus 2011 "
                      "(seed 1)", template="plotly_white", width=1250, height=800)
    fig.write_html(out, include_plotlyjs=True, full_html=True)
    return out


def screenshot(page: Path, target: Path, *, element: str | None = None,
               size: tuple[int, int] = (1300, 900)) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={size[0]},{size[1]}"):
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(page.as_uri())
        time.sleep(4)
        if element is None:
            driver.save_screenshot(str(target))
        else:
            # the n-th figure whose first trace is a heatmap (a map)
            index = int(element)
            node = driver.execute_script(
                "const maps = Array.from(document.querySelectorAll('.js-plotly-plot'))"
                ".filter(e => e.data && e.data.length && e.data[0].type === 'heatmap');"
                "return maps[arguments[0]];", index)
            driver.execute_script("arguments[0].scrollIntoView()", node)
            time.sleep(1)
            node.screenshot(str(target))
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="an Essen comparison folder")
    args = parser.parse_args()
    IMG.mkdir(parents=True, exist_ok=True)
    report = args.folder / "report.html"
    subprocess.run([sys.executable, "-m", "sim.cli", "report", str(args.folder), "-o",
                    str(report)], check=True)
    screenshot(report.resolve(), IMG / "essen_report.png", element="0", size=(1300, 1100))
    start = start_state_page((args.folder / "essen_start.html").resolve())
    screenshot(start, IMG / "essen_start.png", size=(1280, 900))
    print(f"wrote {IMG / 'essen_report.png'}, {IMG / 'essen_start.png'}")


if __name__ == "__main__":
    main()
