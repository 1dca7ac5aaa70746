"""The interactive dashboard (``quartier dashboard DIR``): a Dash app.

Choose scenarios, outcome, quartier and year; the map, series, out-migration by cause, the
pyramid, segregation and the comparison follow. A click on a map cell selects its quartier
for the series (linked views). The what-if panel runs a few paired replications of the
baseline with moved levers on the :class:`~dashboards.whatif.WhatIfEngine`'s warm worker
pool; a ``dcc.Interval`` polls their progress, so the page stays responsive.

The app reads only the result folder it was started with (see :mod:`dashboards.data`); no
input names a file.
"""

from __future__ import annotations

import time
from pathlib import Path

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from dashboards import figures as fg
from dashboards import inputs
from dashboards.data import Results, load_results
from dashboards.geography import add_geography, run_facilities
from dashboards.inputs import in_page
from dashboards.labels import CELL_VARIABLES, cell_variable_label, metric_label, scope_label
from dashboards.report import report_grid
from dashboards.whatif import BASELINE, WHATIF, WhatIf, WhatIfEngine, whatif_scenario
from sim.errors import InputError
from sim.experiments.gis import map_geography

HEADLINE = ("population", "out_migrants", "out_migrants_poor", "out_migrants_cause_rent",
            "share_poor", "social_housing_share", "mean_rent_burden",
            "share_rent_burden_over_30", "dissimilarity_income_quartiers",
            "dissimilarity_income_cells", "share_65plus_gp_within_reach", "gp_access_65plus",
            "unmet_care", "commuting_cost_share", "share_walk_only",
            "out_migrants_cause_health", "out_migrants_cause_commuting")
T = {
    "title": ("QuartierSim – Dashboard", "QuartierSim – dashboard"),
    "scenarios": ("Szenarien", "Scenarios"),
    "outcome": ("Kennzahl", "Outcome"),
    "quartier": ("Quartier (oder Klick auf die Karte)", "Quartier (or click the map)"),
    "year": ("Jahr", "Year"),
    "map_variable": ("Karte", "Map"),
    "map_mode": ("Kartenansicht", "Map view"),
    "values": ("Werte", "Values"),
    "difference": ("Differenz zur Basis", "Difference from the baseline"),
    "whatif": ("Was wäre, wenn …?", "What if …?"),
    "whatif_help": (
        "Hebel bewegen und Berechnen drücken: {r} gepaarte Wiederholungen mit {h} Haushalten "
        "über {y} Jahre, verglichen mit der Basis (gleiche Zufallszahlen).",
        "Move a lever and press Run: {r} paired replications of {h} households over {y} "
        "years, compared with the baseline (common random numbers)."),
    "mvz": ("MVZ platzieren: Zelle in dieser Karte anklicken", "Place an MVZ: click a cell"),
    "mvz_city": ("Quartiere der Was-wäre-wenn-Stadt ({h} Haushalte) mit Hausärzten/MVZ, "
                 "Pflege und Schulen", "Quartiers of the what-if city ({h} households) with "
                 "GPs/MVZ, care and schools"),
    "mvz_at": ("Neues MVZ in Zelle {c}, {r} ({q})", "New MVZ in cell {c}, {r} ({q})"),
    "social": ("Ziel-Anteil Sozialwohnungen je Quartier", "Target social housing share"),
    "ticket": ("Preis Monatsticket (EUR)", "Monthly ticket price (EUR)"),
    "mvz_outside": ("Zelle {c}, {r} liegt außerhalb der Stadt: bitte eine Zelle in einem "
                    "Quartier anklicken.",
                    "Cell {c}, {r} lies outside the city: please click a cell in a quartier."),
    "run": ("Berechnen", "Run"),
    "running": ("Läuft: {d} von {t} Läufen …", "Running: {d} of {t} runs …"),
    "done": ("Fertig in {s} s (Modellläufe {runs} s): {n} Wiederholungen je Variante.",
             "Done in {s} s (model runs {runs} s): {n} replications each."),
    "failed": ("Fehler: {e}", "Error: {e}"),
    "unavailable": ("Was-wäre-wenn nicht verfügbar: {e}", "What-if not available: {e}"),
    "unchanged": ("Kein Hebel verändert: erst einen Hebel bewegen.",
                  "No lever moved: move a lever first."),
    "error_title": ("Ergebnisse können nicht gelesen werden", "Cannot read the results"),
    "whatif_empty": ("Noch keine Antwort: einen Hebel bewegen (oder ein MVZ in die Karte "
                     "setzen) und „Berechnen“ drücken.",
                     "No answer yet: move a lever (or place an MVZ on the map) and press "
                     "Run."),
    "bad_request": ("Die Anfrage an den Server war fehlerhaft und wurde nicht ausgeführt "
                    "({e}). Bitte die Seite neu laden.",
                    "The request to the server was malformed and was not run ({e}). Please "
                    "reload the page."),
}
POLL_MS = 200
"""The what-if panel's progress poll (``dcc.Interval``), in ms."""
POLL_HOLD_S = 0.15
"""How long a progress poll waits for the answer before it reports progress: the answer goes
out the moment it is ready (unless it comes in the gap before the next poll). Shorter than the
poll's interval, since the page drops a poll's response once the next poll has started."""
MAX_SELECTED = 10
"""Scenarios selected when the page opens (all of a comparison; sweeps may have many)."""
STYLE = {"fontFamily": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif"}
CARD = {"background": "white", "border": "1px solid #e3e3e3", "borderRadius": "6px",
        "padding": "10px", "margin": "8px"}
BANNER = {"background": "#fff8e1", "borderLeft": "4px solid #e39d2d", "padding": "8px 12px",
          "margin": "8px"}


def _t(key: str, lang: str, **kw) -> str:
    value = T[key][0 if lang == "de" else 1]
    return value.format(**kw) if kw else value


def message_figure(message: str) -> go.Figure:
    """An empty figure that says why there is nothing to show."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper",
                       yref="paper", font={"size": 14})
    fig.update_layout(template=fg.TEMPLATE, xaxis={"visible": False},
                      yaxis={"visible": False}, height=300)
    return fig


def _safe(build, *args, **kwargs) -> go.Figure:
    try:
        fig = build(*args, **kwargs)
    except (ValueError, KeyError) as exc:
        return message_figure(str(exc))
    return fg.localised(fig, kwargs.get("lang", "de"))


def guard_requests(app: dash.Dash, lang: str) -> None:
    """Answer a malformed callback request (no JSON, unknown output, missing keys) with a
    message for the page instead of an HTTP 500: status 200, the message in the
    ``request-error`` banner, and no traceback in the log."""
    import flask

    endpoint = "/_dash-update-component"
    view = app.server.view_functions.get(endpoint)
    if view is None:
        return

    def guarded(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except dash.exceptions.PreventUpdate:
            raise
        except Exception as exc:  # noqa: BLE001  (whatever the body holds: said in the page)
            message = _t("bad_request", lang, e=type(exc).__name__)
            body = {"multi": True, "response": {"request-error": {
                "children": message, "style": {**BANNER, "display": "block"}}}}
            return flask.Response(flask.json.dumps(body), status=200,
                                  mimetype="application/json")

    app.server.view_functions[endpoint] = guarded


def error_layout(folder: str | Path, error: InputError, lang: str = "de") -> html.Div:
    return html.Div(style={**STYLE, "margin": "40px"}, children=[
        html.H2(_t("error_title", lang)),
        html.P(error.one_line(), id="load-error",
               style={"background": "#fff8e1", "borderLeft": "4px solid #e39d2d",
                      "padding": "10px"}),
        html.P(f"quartier dashboard {folder}")])


def create_app(folder: str | Path, *, results: Results | None = None,
               engine: WhatIfEngine | None = None, lang: str = "de") -> dash.Dash:
    """The Dash app of a result folder; a folder that cannot be read gives a page with the
    one-line reason instead of a traceback."""
    app = dash.Dash(__name__, title=_t("title", lang), update_title=None,
                    assets_folder=str(Path(__file__).parent / "no_assets"))
    try:
        results = results if results is not None else load_results(folder)
    except InputError as exc:
        app.layout = error_layout(folder, exc, lang)
        return app
    engine = engine or WhatIfEngine.from_results(results)
    _Dashboard(app, results, engine, lang)
    guard_requests(app, lang)
    return app


class _Dashboard:
    """Layout and callbacks of one result folder."""

    def __init__(self, app: dash.Dash, results: Results, engine: WhatIfEngine,
                 lang: str) -> None:
        self.app, self.r, self.engine, self.lang = app, results, engine, lang
        exp = results.experiments
        cells = results.cells
        self.cells = ({s: cells[cells["run_id"].isin(set(results.runs_of(s)))]
                       for s in results.scenarios} if cells is not None else {})
        self.baseline = results.baseline or results.scenarios[0]
        self.exp = exp
        # Stadtteil outlines and facilities of a city built from files (None otherwise).
        self.geography = map_geography(exp) if cells is not None else None
        self.colors = fg.scenario_colors(results.scenarios)
        self.grid = report_grid(results)  # the quartiers' cells, for their outlines
        app.layout = self.layout()
        self.callbacks()

    # -- layout -------------------------------------------------------------------------------

    def layout(self) -> html.Div:
        r, lang = self.r, self.lang
        years = r.years
        metrics = [m for m in r.metrics if not m.startswith("persons_")]
        metric = next((m for m in ("out_migrants", "population") if m in metrics), metrics[0])
        marks = {y: str(y) for y in years if (y - years[0]) % 5 == 0 or y == years[-1]}
        scopes = ["city", *r.quartiers]

        def labelled(text, control):
            return html.Div([html.Label(text, style={"fontWeight": 600}), control],
                            style={"flex": "1", "minWidth": "220px", "margin": "4px 8px"})

        controls = html.Div(style={"display": "flex", "flexWrap": "wrap", **CARD}, children=[
            labelled(_t("scenarios", lang), dcc.Dropdown(
                id="scenarios", options=r.scenarios, value=r.scenarios[:MAX_SELECTED],
                multi=True)),
            labelled(_t("outcome", lang), dcc.Dropdown(
                id="metric", value=metric, clearable=False,
                options=[{"label": metric_label(m, lang), "value": m} for m in metrics])),
            labelled(_t("quartier", lang), dcc.Dropdown(
                id="quartier", value="city", clearable=False,
                options=[{"label": scope_label(s, lang), "value": s} for s in scopes])),
            labelled(_t("map_variable", lang), dcc.Dropdown(
                id="map-variable", value="share_poor", clearable=False,
                options=[{"label": cell_variable_label(v, lang), "value": v}
                         for v in CELL_VARIABLES])),
            labelled(_t("map_mode", lang), dcc.RadioItems(
                id="map-mode", value="values", inline=True,
                options=[{"label": _t("values", lang), "value": "values"},
                         {"label": _t("difference", lang), "value": "difference"}])),
            html.Div([html.Label(_t("year", lang), style={"fontWeight": 600}),
                      dcc.Slider(id="year", min=years[0], max=years[-1], step=1,
                                 value=years[-1], marks=marks)],
                     style={"flex": "1 1 100%", "margin": "4px 8px"}),
        ])

        def graph(id_, height=460):
            return html.Div(dcc.Graph(id=id_, style={"height": f"{height}px"},
                                      config={"displaylogo": False}),
                            style={**CARD, "flex": "1", "minWidth": "420px"})

        row = {"display": "flex", "flexWrap": "wrap"}
        return html.Div(style={**STYLE, "background": "#fafafa"}, children=[
            html.Div([html.H2(_t("title", lang), style={"margin": "0"}),
                      html.Span(f"{r.root.name} · {r.kind} · {len(r.experiments)} runs")],
                     style={"background": "#1f4e79", "color": "white",
                            "padding": "12px 20px"}),
            html.Div(id="request-error", style={**BANNER, "display": "none"}),
            controls,
            html.Div([graph("map", 520), graph("series", 520)], style=row),
            html.Div([graph("causes"), graph("pyramid")], style=row),
            html.Div([graph("segregation", 580), graph("whiskers", 580)], style=row),
            self.whatif_layout(),
        ])

    def whatif_layout(self) -> html.Div:
        lang, engine = self.lang, self.engine
        if not engine.available:
            return html.Div([html.H3(_t("whatif", lang)),
                             html.P(_t("unavailable", lang, e=engine.reason),
                                    id="whatif-unavailable")], style=CARD)
        base = engine.base
        rm = base.levers.rent_mixing
        share = rm.social_share_target if rm is not None else 0.0
        share = share if isinstance(share, float | int) else 0.0
        pt = base.levers.public_transport
        price = base.parameters.jobs.ticket_price_eur
        if pt is not None and pt.ticket_price_eur is not None:
            price = pt.ticket_price_eur
        self.defaults = {"social_share": float(share), "ticket_price": float(price)}
        households = f"{engine.households:,}".replace(",", "." if lang == "de" else ",")
        levers = html.Div(style={"flex": "1", "minWidth": "320px"}, children=[
            html.P(_t("whatif_help", lang, r=engine.replications, h=households,
                      y=engine.years)),
            html.Label(_t("social", lang), style={"fontWeight": 600}),
            dcc.Slider(id="social-share", min=0, max=0.5, step=0.05, value=float(share),
                       marks={v / 100: f"{v} %" for v in range(0, 51, 10)}),
            html.Label(_t("ticket", lang), style={"fontWeight": 600}),
            dcc.Slider(id="ticket-price", min=0, max=100, step=1, value=float(price),
                       marks={v: str(v) for v in range(0, 101, 20)}),
            html.Div(id="mvz-label", style={"margin": "8px 0"}),
            html.Button(_t("run", lang), id="whatif-run", n_clicks=0,
                        style={"padding": "8px 24px", "fontSize": "110%", "marginTop": "8px",
                               "background": "#1f4e79", "color": "white",
                               "border": "none", "borderRadius": "4px"}),
            html.Div([html.Progress(id="whatif-progress", value="0", max="1",
                                    style={"width": "100%"}),
                      html.Div(id="whatif-status")], style={"marginTop": "8px"}),
            dcc.Store(id="whatif-job"), dcc.Store(id="mvz-cell"),
            dcc.Interval(id="whatif-poll", interval=POLL_MS, disabled=True),
            # redraws the what-if map once the workers know the city's facilities
            dcc.Interval(id="whatif-map-refresh", interval=1000, max_intervals=120),
        ])
        pick = html.Div([html.Label(_t("mvz", lang), style={"fontWeight": 600}),
                         html.Div(_t("mvz_city", lang, h=households),
                                  style={"fontSize": "90%", "color": "#555"}),
                         dcc.Graph(id="whatif-map", style={"height": "380px"},
                                   config={"displaylogo": False},
                                   figure=self.whatif_map(None))],
                        style={"flex": "1", "minWidth": "360px"})
        return html.Div(style=CARD, children=[
            html.H3(_t("whatif", lang)),
            html.Div([levers, pick], style={"display": "flex", "flexWrap": "wrap",
                                            "gap": "16px"}),
            html.Div([html.Div(dcc.Graph(id="whatif-series", style={"height": "580px"},
                                         figure=message_figure(_t("whatif_empty", lang))),
                               style={"flex": "1", "minWidth": "420px"}),
                      html.Div(dcc.Graph(id="whatif-whiskers", style={"height": "580px"},
                                         figure=message_figure(_t("whatif_empty", lang))),
                               style={"flex": "1", "minWidth": "420px"})],
                     style={"display": "flex", "flexWrap": "wrap"})])

    def whatif_map(self, cell) -> go.Figure:
        """The what-if city's quartiers with its facilities (once known) and the MVZ placed."""
        engine, lang = self.engine, self.lang
        return _safe(fg.quartier_pick_map, engine.city_grid(), engine.facilities(),
                     selected=tuple(cell) if cell else None, lang=lang,
                     rows_from_south=engine.base.city.kind == "files",
                     ).update_layout(margin={"l": 0, "r": 0, "t": 30, "b": 0})

    # -- callbacks ----------------------------------------------------------------------------

    def callbacks(self) -> None:
        app, r, lang = self.app, self.r, self.lang

        @app.callback(Output("map", "figure"), Input("scenarios", "value"),
                      Input("year", "value"), Input("map-variable", "value"),
                      Input("map-mode", "value"))
        @in_page(message_figure)
        def _map(scenarios, year, variable, mode):
            scenarios = self.scenarios(scenarios, [self.baseline])
            year = self.year(year)
            variable = inputs.choice(variable, CELL_VARIABLES, "map-variable")
            mode = inputs.choice(mode, ("values", "difference"), "map-mode")
            if not self.cells:
                return message_figure(fg.text("no_cells", lang))
            if mode == "difference":
                other = next((s for s in scenarios if s != self.baseline), None)
                if other is None or r.baseline is None:
                    return message_figure(fg.text("no_comparison", lang))
                return self.decorate(_safe(
                    fg.difference_map, r.cells, self.exp, baseline=self.baseline,
                    scenario=other, variable=variable, year=year, lang=lang), other)
            name = scenarios[0]
            return self.decorate(_safe(
                fg.cell_map, self.cells[name], variable, year=year, lang=lang,
                title=f"{cell_variable_label(variable, lang)} – {name}, {year}"), name)

        @app.callback(Output("quartier", "value"), Input("map", "clickData"),
                      prevent_initial_call=True)
        @in_page(lambda message: dash.no_update)
        def _pick_quartier(click):
            try:
                quartier = str(click["points"][0]["customdata"])
            except (TypeError, KeyError, IndexError):
                return dash.no_update
            return quartier if quartier in r.quartiers else dash.no_update

        @app.callback(Output("series", "figure"), Input("scenarios", "value"),
                      Input("metric", "value"), Input("quartier", "value"))
        @in_page(message_figure)
        def _series(scenarios, metric, quartier):
            return _safe(fg.time_series_bands, r.outcomes, self.exp, self.metric(metric),
                         scope=self.scope(quartier), scenarios=self.scenarios(scenarios),
                         lang=lang, colors=self.colors)

        @app.callback(Output("causes", "figure"), Output("pyramid", "figure"),
                      Input("scenarios", "value"), Input("quartier", "value"),
                      Input("year", "value"))
        @in_page(lambda message: (message_figure(message),) * 2)
        def _leaving(scenarios, quartier, year):
            scope, year = self.scope(quartier), self.year(year)
            scenarios = self.scenarios(scenarios)
            causes = _safe(fg.out_migration_by_cause, r.outcomes, self.exp, scope=scope,
                           scenarios=scenarios, lang=lang)
            name = scenarios[0]
            runs = set(r.runs_of(name))
            first = r.years[0]
            pyramid = _safe(fg.population_pyramid, r.outcomes[r.outcomes["run_id"].isin(runs)],
                            scope=scope, years=[first, year] if year != first else [first],
                            lang=lang)
            return causes, pyramid

        @app.callback(Output("segregation", "figure"), Output("whiskers", "figure"),
                      Input("scenarios", "value"), Input("year", "value"),
                      Input("quartier", "value"))
        @in_page(lambda message: (message_figure(message),) * 2)
        def _segregation(scenarios, year, quartier):
            scenarios, year = self.scenarios(scenarios), self.year(year)
            scope = self.scope(quartier)
            seg = _safe(fg.segregation_indices, r.outcomes, self.exp, year=year,
                        scenarios=scenarios, lang=lang, colors=self.colors)
            if r.comparison is None:
                return seg, message_figure(fg.text("no_comparison", lang))
            table = r.comparison[r.comparison["scenario"].isin(scenarios)]
            present = set(pd.unique(table["metric"]))
            names = [m for m in HEADLINE if m in present] or None
            return seg, _safe(fg.comparison_whiskers, table, year=year,
                              scope=scope, metrics=names, lang=lang, colors=self.colors)

        if self.engine.available:
            self.whatif_callbacks()

    def whatif_callbacks(self) -> None:
        app, lang, engine = self.app, self.lang, self.engine
        self.view = (self.app.layout["metric"].value, "city")
        # the answer's figures are built as soon as its runs end, before the page polls
        engine.on_answer = lambda job: self.whatif_figures(job, *self.view)

        @app.callback(Output("whatif-map", "figure", allow_duplicate=True),
                      Output("whatif-map-refresh", "disabled"),
                      Input("whatif-map-refresh", "n_intervals"), State("mvz-cell", "data"),
                      prevent_initial_call=True)
        @in_page(lambda message: (message_figure(message), True))
        def _facilities(_, cell):
            if engine.facilities() is None:
                return dash.no_update, False
            return self.whatif_map(inputs.cell(cell)), True

        @app.callback(Output("mvz-cell", "data"), Output("whatif-map", "figure"),
                      Output("mvz-label", "children"), Input("whatif-map", "clickData"),
                      prevent_initial_call=True)
        @in_page(lambda message: (dash.no_update, dash.no_update,
                                  _t("failed", lang, e=message)))
        def _place(click):
            cell = list(inputs.click_cell(click))
            grid = engine.city_grid()
            match = grid[(grid["col"] == cell[0]) & (grid["row"] == cell[1])]
            quartier = str(match["quartier"].iloc[0]) if len(match) else ""
            problem = self.mvz_problem(cell)
            if problem is not None:
                return None, self.whatif_map(None), problem
            return (cell, self.whatif_map(cell),
                    _t("mvz_at", lang, c=cell[0], r=cell[1], q=quartier))

        @app.callback(Output("whatif-job", "data"), Output("whatif-poll", "disabled"),
                      Output("whatif-status", "children", allow_duplicate=True),
                      Input("whatif-run", "n_clicks"), State("social-share", "value"),
                      State("ticket-price", "value"), State("mvz-cell", "data"),
                      prevent_initial_call=True)
        @in_page(lambda message: (dash.no_update, True, _t("failed", lang, e=message)))
        def _run(n_clicks, share, price, cell):
            whatif = self.question(share, price, cell)
            if whatif is None:
                return dash.no_update, True, _t("unchanged", lang)
            try:
                job = engine.submit(whatif)
            except InputError as exc:
                outside = cell and str(exc.field or "").startswith("levers.mvz")
                message = (_t("mvz_outside", lang, c=cell[0], r=cell[1]) if outside
                           else _t("failed", lang, e=exc.one_line()))
                return dash.no_update, True, message
            except RuntimeError as exc:  # e.g. a broken worker pool: said in the page
                return dash.no_update, True, _t("failed", lang, e=f"{type(exc).__name__}: {exc}")
            return job.id, False, _t("running", lang, d=0, t=engine.replications)

        @app.callback(Output("whatif-progress", "value"), Output("whatif-progress", "max"),
                      Output("whatif-status", "children"),
                      Output("whatif-poll", "disabled", allow_duplicate=True),
                      Output("whatif-series", "figure"), Output("whatif-whiskers", "figure"),
                      Input("whatif-poll", "n_intervals"), Input("metric", "value"),
                      Input("quartier", "value"), State("whatif-job", "data"),
                      prevent_initial_call=True)
        @in_page(lambda message: ("0", "1", _t("failed", lang, e=message), True,
                                  dash.no_update, dash.no_update))
        def _poll(_, metric, quartier, job_id):
            metric, quartier = self.metric(metric), self.scope(quartier)
            self.view = (metric, quartier or "city")  # the answer's figures are built for it
            job = engine.job(job_id) if isinstance(job_id, str) else None
            if job is None:
                return (dash.no_update,) * 6
            finished = engine.poll(job)
            if not finished:  # hold the poll until the answer is ready, or the next poll
                finished = engine.wait_answer(job, POLL_HOLD_S) and engine.poll(job)
            done, total = engine.progress(job)
            if not finished:
                return (str(done), str(total), _t("running", lang, d=done, t=total), False,
                        dash.no_update, dash.no_update)
            if job.error:
                return ("0", "1", _t("failed", lang, e=job.error), True, dash.no_update,
                        dash.no_update)
            series, whiskers = self.whatif_figures(job, metric, quartier or "city")
            answered = job.extra.setdefault("answered", time.perf_counter())
            status = _t("done", lang, s=fg.localise(f"{answered - job.started:.1f}", lang),
                        runs=fg.localise(f"{job.finished - job.started:.1f}", lang),
                        n=engine.replications)
            return str(total), str(total), status, True, series, whiskers

    def whatif_figures(self, job, metric: str, scope: str) -> tuple[go.Figure, go.Figure]:
        """The answer's figures, built once per (metric, scope): polls that overlap get the
        cached ones instead of building them again."""
        key = ("figures", metric, scope)
        with job.lock:
            if key not in job.extra:
                engine, lang = self.engine, self.lang
                present = set(pd.unique(job.outcomes["metric"]))  # once: 250,000 rows
                names = [m for m in HEADLINE if m in present]
                table = engine.comparison(job, metrics=names)
                colors = {BASELINE: self.colors.get(self.baseline, fg.COLORS[0]),
                          WHATIF: fg.COLORS[len(self.colors) % len(fg.COLORS)]}
                series = _safe(fg.time_series_bands, job.outcomes, engine.experiments(), metric,
                               scope=scope, lang=lang, colors=colors)
                whiskers = _safe(fg.comparison_whiskers, table, scope=scope, metrics=names,
                                 lang=lang, colors=colors)
                # which answer a figure shows, and its model runs' time (for the page's tests)
                meta = {"job": job.id, "runs_s": round(job.finished - job.started, 3)}
                for fig in (series, whiskers):
                    fig.update_layout(meta=meta)
                job.extra[key] = (series, whiskers)
            return job.extra[key]

    def decorate(self, fig: go.Figure, scenario: str) -> go.Figure:
        """Outlines, names and facility markers on a map of ``scenario``."""
        facilities = run_facilities(self.exp, self.r.runs_of(scenario))
        return add_geography(fig, self.geography, self.lang, facilities, self.grid)

    def mvz_problem(self, cell) -> str | None:
        """A friendly message if an MVZ cannot go into ``cell`` (outside the city), else None
        (the model's own check, :func:`sim.check_levers`)."""
        try:
            whatif_scenario(self.engine.base, WhatIf(mvz_cell=(int(cell[0]), int(cell[1]))))
        except InputError:
            return _t("mvz_outside", self.lang, c=cell[0], r=cell[1])
        return None

    # -- checked inputs (see dashboards.inputs) ---------------------------------------------

    def scenarios(self, value, default=None) -> list[str]:
        return inputs.choices(value, self.r.scenarios, "scenarios",
                              default if default is not None else self.r.scenarios)

    def year(self, value) -> int:
        return int(inputs.choice(value, self.r.years, "year"))

    def metric(self, value) -> str:
        return inputs.choice(value, self.r.metrics, "metric")

    def scope(self, value) -> str:
        return inputs.choice(value or "city", ["city", *self.r.quartiers], "quartier")

    def question(self, share, price, cell) -> WhatIf | None:
        """The what-if question of the controls (None: nothing moved). Values are checked as
        numbers here and against the scenario schema when the question is submitted.

        Raises:
            InputError: naming the control, for a value that is no (finite) number.
        """
        d = self.defaults
        share = inputs.number(share, "social-share", "levers.rent_mixing.social_share_target")
        price = inputs.number(price, "ticket-price", "levers.public_transport.ticket_price_eur")
        social = share if share is not None and abs(share - d["social_share"]) > 1e-9 else None
        ticket = price if price is not None and abs(price - d["ticket_price"]) > 1e-9 else None
        mvz = inputs.cell(cell)
        if social is None and ticket is None and mvz is None:
            return None
        return WhatIf(mvz_cell=mvz, social_share=social, ticket_price=ticket)


def serve(app: dash.Dash, host: str = "127.0.0.1", port: int = 8050, threads: int = 8) -> None:
    """Serve the app with waitress (a production WSGI server: no development-server warning,
    no log line per request); only warnings and errors are logged."""
    import logging

    try:
        from waitress import serve as waitress_serve
    except ImportError:  # an install from before waitress was a dependency
        raise SystemExit("quartier dashboard: the package waitress is missing; install it "
                         "with: pip install 'waitress>=3,<4' (or pip install -e . again)"
                         ) from None

    logging.getLogger("waitress").setLevel(logging.ERROR)  # e.g. no "queue depth" chatter
    waitress_serve(app.server, host=host, port=port, threads=threads, ident="QuartierSim",
                   _quiet=True)
