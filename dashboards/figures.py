"""Figure builders: pure functions of the result tables (no model code).

Inputs are the tidy tables of the results store: ``outcomes`` (run_id, year, scope, metric,
value), ``experiments`` (run_id, scenario, replicate, ...), per-cell snapshots (run_id, year,
cell, col, row, quartier, counts and means) and the comparison table (``comparison.csv``).
Every builder returns a ``plotly.graph_objects.Figure`` and takes ``lang`` ("de" or "en").
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboards.labels import (
    CAUSE_LABELS,
    INDEX_LABELS,
    age_band_label,
    cause_label,
    cell_variable_label,
    facility_label,
    index_label,
    is_share,
    metric_label,
    scope_label,
    text,
)
from sim.state.outcomes import DESCRIPTIONS

TEMPLATE = "plotly_white"
COLORS = ("#1f4e79", "#c0504d", "#4f9a46", "#e39d2d", "#7b5aa6", "#2aa3b8", "#8c564b",
          "#d16ba5", "#7f7f7f", "#bcbd22")
CAUSE_PREFIX = "out_migrants_cause_"
PYRAMID = re.compile(r"^persons_(male|female)_age_(\d\d_\d\d|\d+plus)$")
FACILITY_COLUMNS = {
    # cell-table column -> (German, English) label of the facility marker
    "doctors": ("Ärzte (MVZ / Hausarzt)", "Doctors (MVZ / GP)"),
    "gp_doctors": ("Hausärzte", "GPs"),
    "mvz_doctors": ("MVZ-Ärzte", "MVZ doctors"),
    "care_places": ("Pflegeplätze", "Care places"),
    "nursing_home_places": ("Pflegeheimplätze", "Nursing home places"),
    "ambulant_care_capacity": ("Ambulante Pflege", "Ambulant care"),
    "kita_places": ("Kita-Plätze", "Kita places"),
    "school_places": ("Schulplätze", "School places"),
    "jobs": ("Arbeitsplätze", "Jobs"),
    "stops": ("ÖPNV-Haltestellen", "Public transport stops"),
}


def _color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def _fill(color: str, alpha: float = 0.18) -> str:
    r, g, b = (int(color[k:k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def t_quantile(n: np.ndarray | int, confidence: float = 0.95) -> np.ndarray:
    """Two-sided Student-t quantile with ``n - 1`` degrees of freedom (NaN for n < 2)."""
    from scipy import stats

    n = np.asarray(n, dtype=float)
    return np.where(n >= 2, stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)), np.nan)


# -- summaries over replications -------------------------------------------------------------


def _with_scenario(outcomes: pd.DataFrame, experiments: pd.DataFrame | None) -> pd.DataFrame:
    if experiments is None:
        return outcomes.assign(scenario="")
    runs = experiments[["run_id", "scenario"]].drop_duplicates("run_id")
    return outcomes.merge(runs, on="run_id", how="inner")


def replicate_bands(outcomes: pd.DataFrame, experiments: pd.DataFrame | None, metric: str,
                    scope: str = "city", confidence: float = 0.95) -> pd.DataFrame:
    """Mean of ``metric`` over the replications per scenario and year, with a t-band.

    ``low, high = mean ∓ t(0.5 + confidence / 2, n - 1) · sd / √n`` (sd with ddof 1); NaN with
    one replication.

    Returns:
        Columns scenario, year, mean, sd, n, half_width, low, high.
    """
    data = outcomes[(outcomes["metric"].astype(str) == metric)
                    & (outcomes["scope"].astype(str) == scope)]
    data = _with_scenario(data, experiments).dropna(subset=["value"])
    stats = data.groupby(["scenario", "year"], sort=False, observed=True)["value"].agg(
        mean="mean", sd="std", n="size").reset_index()
    n = stats["n"].to_numpy()
    stats["half_width"] = t_quantile(n, confidence) * stats["sd"].to_numpy() / np.sqrt(n)
    stats["low"] = stats["mean"] - stats["half_width"]
    stats["high"] = stats["mean"] + stats["half_width"]
    return stats.sort_values(["scenario", "year"], kind="stable").reset_index(drop=True)


def time_series(outcomes: pd.DataFrame, metric: str, scopes: list[str] | None = None
                ) -> go.Figure:
    """One line per scope (city and quartiers) for ``metric`` over the years.

    Several runs of the same scope are averaged. Raises ValueError for an unknown metric.
    """
    data = outcomes[outcomes["metric"] == metric]
    if data.empty:
        raise ValueError(f"no values for metric {metric!r}")
    data = data.dropna(subset=["value"])
    if scopes is not None:
        data = data[data["scope"].isin(scopes)]
    mean = data.groupby(["scope", "year"], observed=True)["value"].mean().reset_index()
    fig = go.Figure()
    for scope, part in mean.groupby("scope", observed=True):
        fig.add_trace(go.Scatter(
            x=part["year"], y=part["value"], mode="lines", name=str(scope),
            line={"width": 3 if scope == "city" else 1.5},
        ))
    fig.update_layout(title=DESCRIPTIONS.get(metric, metric), xaxis_title="Jahr / year",
                      yaxis_title=metric, template=TEMPLATE, legend_title="Quartier")
    return fig


def time_series_bands(outcomes: pd.DataFrame, experiments: pd.DataFrame | None, metric: str,
                      *, scope: str = "city", scenarios: Sequence[str] | None = None,
                      lang: str = "de", confidence: float = 0.95) -> go.Figure:
    """``metric`` over the years, one line per scenario with its 95 % band over replications.

    Per scenario: the band (a filled polygon, when there are at least two replications) and
    the mean line. Raises ValueError when the metric has no values in ``scope``.
    """
    stats = replicate_bands(outcomes, experiments, metric, scope, confidence)
    if stats.empty:
        raise ValueError(f"no values for metric {metric!r} in scope {scope!r}")
    order = list(scenarios) if scenarios is not None else list(pd.unique(stats["scenario"]))
    fig = go.Figure()
    for i, name in enumerate(order):
        part = stats[stats["scenario"] == name]
        if part.empty:
            continue
        color = _color(i)
        band = part.dropna(subset=["half_width"])
        if len(band):
            fig.add_trace(go.Scatter(
                x=np.r_[band["year"], band["year"][::-1]],
                y=np.r_[band["high"], band["low"][::-1]],
                fill="toself", fillcolor=_fill(color), line={"width": 0}, mode="lines",
                hoverinfo="skip", showlegend=False, legendgroup=name,
                name=f"{name} {text('band', lang)}"))
        fig.add_trace(go.Scatter(
            x=part["year"], y=part["mean"], mode="lines+markers", name=name or metric,
            legendgroup=name, line={"color": color, "width": 2.5}, marker={"size": 4},
            customdata=np.c_[part["low"], part["high"], part["n"]],
            hovertemplate=("%{y:.4g} [%{customdata[0]:.4g}, %{customdata[1]:.4g}]"
                           " n=%{customdata[2]}<extra>" + (name or "") + "</extra>")))
    fig.update_layout(
        title=f"{metric_label(metric, lang)} – {scope_label(scope, lang)}",
        xaxis_title=text("year", lang), yaxis_title=metric_label(metric, lang),
        template=TEMPLATE, legend_title=text("scenario", lang), hovermode="x unified")
    if is_share(metric):
        fig.update_yaxes(tickformat=".1%")
    return fig


# -- maps of the cell grid -------------------------------------------------------------------


def cell_values(cells: pd.DataFrame, variable: str) -> pd.DataFrame:
    """One value per (year, cell) of a map variable, pooled over the runs given.

    Shares pool the counts of all runs (sum of group / sum of persons or dwellings); means
    (income, rent) average the runs' cell means. Returns columns year, cell, col, row,
    quartier, value.
    """
    keys = ["year", "cell", "col", "row", "quartier"]
    shares = {"share_poor": ("poor", "persons"), "share_high": ("high", "persons"),
              "share_migration_background": ("migration_background", "persons"),
              "share_65plus": ("age_65plus", "persons"), "vacancy_rate": ("vacant", "dwellings"),
              "social_share": ("social", "dwellings")}
    if variable in shares:
        num, den = shares[variable]
        g = cells.groupby(keys, observed=True, sort=True)[[num, den]].sum().reset_index()
        g["value"] = np.divide(g[num].to_numpy(float), g[den].to_numpy(float),
                               out=np.full(len(g), np.nan), where=g[den].to_numpy() > 0)
    elif variable in ("mean_income", "mean_rent_m2", "persons"):
        g = cells.groupby(keys, observed=True, sort=True)[variable].mean().reset_index()
        g = g.rename(columns={variable: "value"})
    else:
        raise ValueError(f"unknown map variable {variable!r}")
    return g[[*keys, "value"]]


def _grid(values: pd.DataFrame, width: int, height: int) -> np.ndarray:
    z = np.full((height, width), np.nan)
    z[values["row"].to_numpy(int), values["col"].to_numpy(int)] = values["value"].to_numpy()
    return _round(z)


def _round(z: np.ndarray, digits: int = 4) -> np.ndarray:
    """Round to ``digits`` significant digits (smaller pages, same picture)."""
    finite = np.isfinite(z) & (z != 0)
    out = z.copy()
    scale = np.floor(np.log10(np.abs(z[finite])))
    factor = 10.0 ** (digits - 1 - scale)
    out[finite] = np.round(z[finite] * factor) / factor
    return out


def _quartier_grid(cells: pd.DataFrame, width: int, height: int) -> np.ndarray:
    first = cells.drop_duplicates("cell")
    q = np.full((height, width), "", dtype=object)
    q[first["row"].to_numpy(int), first["col"].to_numpy(int)] = first["quartier"].astype(str)
    return q


def facilities_from_cells(cells: pd.DataFrame, year: int | None = None,
                          lang: str = "de") -> pd.DataFrame:
    """Facilities as map markers, from the facility columns the cell table has (if any).

    Returns columns col, row, kind, amount (empty when the table has no facility columns).
    """
    cols = [c for c in FACILITY_COLUMNS if c in cells.columns]
    if not cols:
        return pd.DataFrame(columns=["col", "row", "kind", "amount"])
    data = cells if year is None else cells[cells["year"] == year]
    rows = []
    for c in cols:
        part = data.groupby(["col", "row"], observed=True)[c].mean().reset_index()
        part = part[part[c] > 0]
        label = FACILITY_COLUMNS[c][0 if lang == "de" else 1]
        rows.append(pd.DataFrame({"col": part["col"], "row": part["row"], "kind": label,
                                  "amount": part[c]}))
    return pd.concat(rows, ignore_index=True)


def _map_layout(fig: go.Figure, width: int, height: int, title: str) -> None:
    fig.update_xaxes(range=[-0.5, width - 0.5], showgrid=False, zeroline=False,
                     showticklabels=False, constrain="domain")
    fig.update_yaxes(range=[height - 0.5, -0.5], showgrid=False, zeroline=False,
                     showticklabels=False, scaleanchor="x", scaleratio=1, constrain="domain")
    fig.update_layout(title=title, template=TEMPLATE, margin={"l": 10, "r": 10, "t": 60,
                                                                "b": 10},
                      plot_bgcolor="#f4f4f4", legend={"orientation": "h", "y": -0.02})


def _quartier_labels(cells: pd.DataFrame) -> go.Scatter:
    centre = cells.drop_duplicates("cell").groupby("quartier", observed=True)[
        ["col", "row"]].mean().reset_index()
    return go.Scatter(x=centre["col"], y=centre["row"], mode="text", text=centre["quartier"],
                      textfont={"size": 11, "color": "#222"}, hoverinfo="skip",
                      showlegend=False, name="quartiers")


def _facility_traces(facilities: pd.DataFrame | None) -> list[go.Scatter]:
    if facilities is None or facilities.empty:
        return []
    traces = []
    for i, (kind, part) in enumerate(facilities.groupby("kind", sort=False)):
        traces.append(go.Scatter(
            x=part["col"], y=part["row"], mode="markers", name=str(kind),
            marker={"symbol": ["cross", "diamond", "square", "triangle-up", "star"][i % 5],
                    "size": 11, "color": "#111", "line": {"color": "white", "width": 1}},
            customdata=part[["amount"]], hovertemplate=f"{kind}: %{{customdata[0]:.0f}}"
                                                       "<extra></extra>"))
    return traces


PICK_MARKERS = {"gp": ("cross", 13), "ambulant_care": ("diamond", 9),
                "nursing_home": ("square", 9), "primary_school": ("triangle-up", 9),
                "secondary_school": ("triangle-down", 9)}
"""Facility kinds drawn on the what-if map, with their marker (employers are left out: there
are hundreds)."""


def quartier_pick_map(grid: pd.DataFrame, facilities: pd.DataFrame | None = None, *,
                      selected: tuple[int, int] | None = None, lang: str = "de",
                      title: str | None = None) -> go.Figure:
    """The quartiers of a city's grid, coloured, with facilities as markers: the map of the
    what-if panel, on which a click places an MVZ.

    Args:
        grid: One row per cell of the city: col, row, quartier (cells outside the city's
            quartiers left out: they stay blank, and a click there gives that cell too).
        facilities: The model's facility table (kind, col, row, capacity, opening_year, name),
            or None while it is not known.
        selected: (col, row) of the MVZ placed (a large marker).

    The first trace is the heatmap (z[row][col] = quartier number, customdata = quartier id).
    """
    if grid is None or grid.empty:
        raise ValueError("no cells")
    width, height = int(grid["col"].max()) + 1, int(grid["row"].max()) + 1
    ids = list(pd.unique(grid["quartier"].astype(str)))
    number = grid["quartier"].astype(str).map({q: i for i, q in enumerate(ids)})
    z = np.full((height, width), np.nan)
    z[grid["row"].to_numpy(int), grid["col"].to_numpy(int)] = number.to_numpy(float)
    names = np.full((height, width), "", dtype=object)
    names[grid["row"].to_numpy(int), grid["col"].to_numpy(int)] = grid["quartier"].astype(str)
    n = max(len(ids), 1)
    scale = []
    for i in range(n):  # one flat colour band per quartier
        colour = _fill(_color(i), 0.35)
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    fig = go.Figure([go.Heatmap(
        z=z, customdata=names, zmin=-0.5, zmax=n - 0.5, colorscale=scale, showscale=False,
        hovertemplate=(f"{text('quartier', lang)} %{{customdata}}<br>"
                       f"{'Zelle' if lang == 'de' else 'cell'} %{{x}}, %{{y}}<extra></extra>"))])
    centre = grid.groupby("quartier", observed=True)[["col", "row"]].mean().reset_index()
    fig.add_trace(go.Scatter(x=centre["col"], y=centre["row"], mode="text",
                             text=centre["quartier"], textfont={"size": 11, "color": "#222"},
                             hoverinfo="skip", showlegend=False, name="quartiers"))
    if facilities is not None and not facilities.empty:
        for kind, (symbol, size) in PICK_MARKERS.items():
            part = facilities[facilities["kind"] == kind]
            if part.empty:
                continue
            label = facility_label(kind, lang)
            fig.add_trace(go.Scatter(
                x=part["col"], y=part["row"], mode="markers", name=label,
                marker={"symbol": symbol, "size": size, "color": "#222",
                        "line": {"color": "white", "width": 1}},
                customdata=np.c_[part["capacity"].to_numpy(float), part["name"].astype(str)],
                hovertemplate=f"{label}: %{{customdata[0]:.0f}} %{{customdata[1]}}"
                              "<extra></extra>"))
    if selected is not None:
        fig.add_trace(go.Scatter(
            x=[selected[0]], y=[selected[1]], mode="markers", name="MVZ (Was-wäre-wenn)"
            if lang == "de" else "MVZ (what-if)",
            marker={"symbol": "star", "size": 20, "color": "#c0504d",
                    "line": {"color": "white", "width": 1.5}}))
    fig.update_layout(
        template=TEMPLATE, title=title, legend={"orientation": "h", "y": -0.05},
        xaxis={"visible": False, "range": [-0.5, width - 0.5], "constrain": "domain"},
        yaxis={"visible": False, "range": [-0.5, height - 0.5], "scaleanchor": "x"})
    return fig


def cell_map(cells: pd.DataFrame, variable: str = "share_poor", *, year: int | None = None,
             lang: str = "de", facilities: pd.DataFrame | None = None,
             title: str | None = None) -> go.Figure:
    """The cell grid coloured by ``variable``, with quartier names and facility markers.

    Args:
        cells: Per-cell snapshots of the runs to show (pooled, see :func:`cell_values`).
        variable: One of :data:`dashboards.labels.CELL_VARIABLES`.
        year: Show this year only; None: every year with a year slider (animation frames).
        lang: ``"de"`` or ``"en"``.
        facilities: Markers (columns col, row, kind, amount); default: from the cell table's
            facility columns, when it has any.
        title: Default: the variable's label.

    The first trace is the heatmap (z[row][col], customdata = quartier id), so a click on the
    map gives the cell and its quartier.
    """
    if cells is None or cells.empty:
        raise ValueError("no cell data")
    if year is not None:
        if not (cells["year"] == int(year)).any():
            raise ValueError(f"no cell data for {year}")
        values = cell_values(cells[cells["year"] == int(year)], variable)
    else:
        values = cell_values(cells, variable)
    width, height = int(cells["col"].max()) + 1, int(cells["row"].max()) + 1
    years = sorted(int(y) for y in values["year"].unique())
    shown = years[-1] if year is None else int(year)
    quartiers = _quartier_grid(cells, width, height)
    finite = values["value"].replace([np.inf, -np.inf], np.nan).dropna()
    zmin, zmax = (float(finite.quantile(0.02)), float(finite.quantile(0.98))) if len(
        finite) else (0.0, 1.0)
    label = cell_variable_label(variable, lang)
    fmt = ".1%" if variable.startswith("share") or variable.endswith(("rate", "share")) \
        else ",.2f"

    def heatmap(y: int) -> go.Heatmap:
        return go.Heatmap(
            z=_grid(values[values["year"] == y], width, height), customdata=quartiers,
            zmin=zmin, zmax=zmax, colorscale="YlOrRd", colorbar={"title": "", "tickformat":
                                                                  fmt.replace(",", "")},
            hovertemplate=(f"{text('quartier', lang)} %{{customdata}}<br>"
                           f"col %{{x}}, row %{{y}}<br>{label}: %{{z:{fmt}}}<extra></extra>"),
            name=label)

    if facilities is None:
        facilities = facilities_from_cells(cells, shown, lang)
    fig = go.Figure([heatmap(shown), _quartier_labels(cells), *_facility_traces(facilities)])
    _map_layout(fig, width, height, title or label)
    if year is None and len(years) > 1:
        fig.frames = [go.Frame(data=[heatmap(y)], traces=[0], name=str(y)) for y in years]
        play = {"frame": {"duration": 400, "redraw": True}, "fromcurrent": True,
                "transition": {"duration": 0}}
        fig.update_layout(updatemenus=[{
            "type": "buttons", "direction": "left", "x": 0.0, "y": 0.0, "xanchor": "right",
            "yanchor": "top", "pad": {"t": 30, "r": 10}, "showactive": False,
            "buttons": [{"label": "▶", "method": "animate", "args": [None, play]},
                        {"label": "❚❚", "method": "animate",
                         "args": [[None], {"mode": "immediate", "frame": {"duration": 0}}]}]}],
            sliders=[{
            "active": len(years) - 1, "currentvalue": {"prefix": f"{text('year', lang)}: "},
            "pad": {"t": 30},
            "steps": [{"label": str(y), "method": "animate",
                       "args": [[str(y)], {"mode": "immediate", "frame": {"duration": 0,
                                                                          "redraw": True},
                                           "transition": {"duration": 0}}]} for y in years]}])
    return fig


def difference_map(cells: pd.DataFrame, experiments: pd.DataFrame, *, baseline: str,
                   scenario: str, variable: str = "share_poor", year: int | None = None,
                   lang: str = "de") -> go.Figure:
    """Per cell: ``variable`` of the scenario minus the baseline (pooled over replications).

    A diverging scale centred on 0; cells present in only one of the two are left blank.
    """
    runs = experiments[["run_id", "scenario"]]
    data = cells.merge(runs, on="run_id")
    base = data[data["scenario"] == baseline]
    other = data[data["scenario"] == scenario]
    if base.empty or other.empty:
        raise ValueError(f"no cell data for {baseline!r} or {scenario!r}")
    year = int(min(base["year"].max(), other["year"].max())) if year is None else int(year)
    keys = ["cell", "col", "row", "quartier"]
    b = cell_values(base[base["year"] == year], variable).set_index(keys)["value"]
    s = cell_values(other[other["year"] == year], variable).set_index(keys)["value"]
    diff = (s - b).dropna().reset_index().rename(columns={0: "value"})
    diff.columns = [*keys, "value"]
    width, height = int(cells["col"].max()) + 1, int(cells["row"].max()) + 1
    limit = float(np.nanquantile(np.abs(diff["value"]), 0.98)) if len(diff) else 1.0
    limit = limit if limit > 0 else 1.0
    label = cell_variable_label(variable, lang)
    share = variable.startswith("share") or variable.endswith(("rate", "share"))
    fmt = "+.2%" if share else "+,.2f"
    fig = go.Figure([go.Heatmap(
        z=_grid(diff, width, height), customdata=_quartier_grid(cells, width, height),
        zmid=0, zmin=-limit, zmax=limit, colorscale="RdBu_r",
        colorbar={"tickformat": fmt.replace(",", "")},
        hovertemplate=(f"{text('quartier', lang)} %{{customdata}}<br>col %{{x}}, row %{{y}}<br>"
                       f"Δ {label}: %{{z:{fmt}}}<extra></extra>"), name=label),
        _quartier_labels(cells)])
    _map_layout(fig, width, height, f"{label}: {scenario} − {baseline}, {year}")
    return fig


# -- population pyramids ---------------------------------------------------------------------


def pyramid_table(outcomes: pd.DataFrame, scope: str = "city",
                  years: Sequence[int] | None = None) -> pd.DataFrame:
    """Persons by sex and age band (mean over the runs given) for the given years.

    Returns columns year, sex, band, persons (bands in age order). Raises ValueError when the
    outcomes hold no age bands by sex.
    """
    data = outcomes[(outcomes["scope"].astype(str) == scope)]
    metric = data["metric"].astype(str)
    data = data[metric.str.startswith("persons_")]
    parsed = data["metric"].astype(str).str.extract(PYRAMID)
    data = data.assign(sex=parsed[0], band=parsed[1]).dropna(subset=["sex"])
    if data.empty:
        raise ValueError("no age bands by sex (persons_<sex>_age_<band>) in the outcomes")
    if years is None:
        years = [int(data["year"].min()), int(data["year"].max())]
    data = data[data["year"].isin(list(years))]
    table = data.groupby(["year", "sex", "band"], observed=True)["value"].mean().reset_index()
    table["start"] = table["band"].str.extract(r"^(\d+)")[0].astype(int)
    table = table.sort_values(["year", "sex", "start"]).drop(columns="start")
    return table.rename(columns={"value": "persons"}).reset_index(drop=True)


def population_pyramid(outcomes: pd.DataFrame, *, scope: str = "city",
                       years: Sequence[int] | None = None, lang: str = "de",
                       title: str | None = None) -> go.Figure:
    """Population pyramid: men to the left, women to the right; the first year as bars, the
    others as outlines (default: start and end year)."""
    table = pyramid_table(outcomes, scope, years)
    shown = sorted(table["year"].unique())
    fig = go.Figure()
    for k, y in enumerate(shown):
        for sex, sign, color in (("male", -1, "#1f4e79"), ("female", 1, "#c0504d")):
            part = table[(table["year"] == y) & (table["sex"] == sex)]
            bands = [age_band_label(b) for b in part["band"]]
            first = k == 0
            fig.add_trace(go.Bar(
                y=bands, x=sign * part["persons"], orientation="h",
                name=f"{text(sex, lang)} {y}",
                marker={"color": _fill(color, 0.55) if first else "rgba(0,0,0,0)",
                        "line": {"color": color, "width": 0 if first else 2}},
                customdata=part["persons"],
                hovertemplate=f"{text(sex, lang)} {y}, %{{y}}: %{{customdata:,.0f}}"
                              "<extra></extra>"))
    peak = float(table["persons"].max()) if len(table) else 1.0
    ticks = np.linspace(-peak, peak, 5)
    fig.update_layout(
        barmode="overlay", bargap=0.05, template=TEMPLATE,
        title=title or f"{text('pyramid', lang)} – {scope_label(scope, lang)}, "
                       f"{' / '.join(str(y) for y in shown)}",
        xaxis={"title": text("persons", lang), "tickvals": ticks,
               "ticktext": [f"{abs(v):,.0f}" for v in ticks]},
        yaxis={"title": ""}, legend={"orientation": "h", "y": -0.15})
    return fig


def population_pyramids(outcomes: pd.DataFrame, scopes: Sequence[str], *,
                        years: Sequence[int] | None = None, lang: str = "de") -> go.Figure:
    """Pyramids of several scopes in one figure, with a menu to choose the scope (the first
    is shown); works offline without a server."""
    figures = [population_pyramid(outcomes, scope=s, years=years, lang=lang) for s in scopes]
    per = len(figures[0].data)
    fig = go.Figure(layout=figures[0].layout)
    for k, f in enumerate(figures):
        for trace in f.data:
            trace.visible = k == 0
            fig.add_trace(trace)
    buttons = []
    for k, (scope, f) in enumerate(zip(scopes, figures, strict=True)):
        visible = [j // per == k for j in range(per * len(figures))]
        buttons.append({"label": scope_label(scope, lang), "method": "update",
                        "args": [{"visible": visible},
                                 {"title.text": f.layout.title.text,
                                  "xaxis.tickvals": f.layout.xaxis.tickvals,
                                  "xaxis.ticktext": f.layout.xaxis.ticktext}]})
    fig.update_layout(updatemenus=[{"buttons": buttons, "direction": "down", "x": 1.0,
                                    "xanchor": "right", "y": 1.15, "yanchor": "top"}])
    return fig


# -- out-migration and segregation -----------------------------------------------------------


def causes(metrics: Sequence[str]) -> list[str]:
    """The causes of out-migration the outcomes record (from the metric names), the known
    ones in their usual order first."""
    found = [m.removeprefix(CAUSE_PREFIX) for m in metrics if m.startswith(CAUSE_PREFIX)]
    known = [c for c in CAUSE_LABELS if c in found]
    return known + sorted(set(found) - set(known))


def out_migration_by_cause(outcomes: pd.DataFrame, experiments: pd.DataFrame | None, *,
                           scope: str = "city", scenarios: Sequence[str] | None = None,
                           years: Sequence[int] | None = None, lang: str = "de") -> go.Figure:
    """Out-migrants by cause, stacked, one bar per scenario: the sum over the years (default:
    all simulated years), mean over replications."""
    data = outcomes[(outcomes["scope"].astype(str) == scope)
                    & outcomes["metric"].astype(str).str.startswith(CAUSE_PREFIX)]
    if years is not None:
        data = data[data["year"].isin(list(years))]
    data = _with_scenario(data.dropna(subset=["value"]), experiments)
    if data.empty:
        raise ValueError("no out-migrants by cause in the outcomes")
    per_run = data.groupby(["scenario", "run_id", "metric"], observed=True)["value"].sum()
    mean = per_run.groupby(["scenario", "metric"], observed=True).mean().unstack("metric")
    order = list(scenarios) if scenarios is not None else list(pd.unique(data["scenario"]))
    mean = mean.reindex([s for s in order if s in mean.index])
    first, last = int(data["year"].min()), int(data["year"].max())
    fig = go.Figure()
    for i, cause in enumerate(causes(list(mean.columns))):
        column = CAUSE_PREFIX + cause
        fig.add_trace(go.Bar(x=[s or "–" for s in mean.index], y=mean[column],
                             name=cause_label(cause, lang), marker_color=_color(i),
                             hovertemplate="%{x}: %{y:,.0f}<extra>"
                                           + cause_label(cause, lang) + "</extra>"))
    fig.update_layout(
        barmode="stack", template=TEMPLATE, legend_title=text("cause", lang),
        title=f"{text('out_by_cause', lang)} – {scope_label(scope, lang)}, {first}–{last}",
        yaxis_title=text("persons", lang), xaxis_title=text("scenario", lang))
    return fig


def segregation_indices(outcomes: pd.DataFrame, experiments: pd.DataFrame | None, *,
                        unit: str = "quartiers", year: int | None = None,
                        scenarios: Sequence[str] | None = None, lang: str = "de",
                        confidence: float = 0.95) -> go.Figure:
    """Segregation indices side by side (citywide, one year, default the last), one bar per
    scenario with its 95 % interval over replications as error bars."""
    suffix = f"_{unit}"
    names = [m for m in pd.unique(outcomes["metric"].astype(str))
             if m.endswith(suffix) and m.removesuffix(suffix) in INDEX_LABELS]
    if not names:
        raise ValueError(f"no segregation indices over {unit} in the outcomes")
    data = outcomes[(outcomes["scope"].astype(str) == "city")
                    & outcomes["metric"].astype(str).isin(names)]
    year = int(data["year"].max()) if year is None else int(year)
    data = _with_scenario(data[data["year"] == year].dropna(subset=["value"]), experiments)
    stats = data.groupby(["scenario", "metric"], observed=True)["value"].agg(
        mean="mean", sd="std", n="size").reset_index()
    stats["half_width"] = (t_quantile(stats["n"].to_numpy(), confidence)
                           * stats["sd"].to_numpy() / np.sqrt(stats["n"].to_numpy()))
    order = list(scenarios) if scenarios is not None else list(pd.unique(data["scenario"]))
    fig = go.Figure()
    for i, name in enumerate(s for s in order if s in set(stats["scenario"])):
        part = stats[stats["scenario"] == name].set_index("metric").reindex(names)
        fig.add_trace(go.Bar(
            x=[index_label(m.removesuffix(suffix), lang) for m in names], y=part["mean"],
            name=name or "–", marker_color=_color(i),
            error_y={"type": "data", "array": part["half_width"].fillna(0), "visible": True},
            hovertemplate="%{x}: %{y:.3f}<extra>" + (name or "") + "</extra>"))
    unit_text = text("over_quartiers" if unit == "quartiers" else "over_cells", lang)
    fig.update_layout(barmode="group", template=TEMPLATE, legend_title=text("scenario", lang),
                      title=f"{text('indices', lang)} ({unit_text}), {year}",
                      yaxis={"range": [0, 1]})
    return fig


# -- the comparison table --------------------------------------------------------------------


def comparison_rows(comparison: pd.DataFrame, *, year: int | None = None, scope: str = "city",
                    metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of the comparison table for one year and scope (default: the last year,
    citywide), age bands left out unless named; with ``relative`` (difference in % of the
    baseline mean) and its interval."""
    rows = comparison[comparison["scope"].astype(str) == scope]
    year = int(rows["year"].max()) if year is None else int(year)
    rows = rows[rows["year"] == year]
    if metrics is not None:
        rows = rows[rows["metric"].isin(list(metrics))]
    else:
        rows = rows[~rows["metric"].astype(str).str.startswith("persons_")]
    base = rows["baseline_mean"].abs().where(rows["baseline_mean"].abs() > 0)
    rows = rows.assign(relative=100 * rows["difference"] / base,
                       relative_low=100 * rows["ci_low"] / base,
                       relative_high=100 * rows["ci_high"] / base)
    return rows.reset_index(drop=True)


def comparison_whiskers(comparison: pd.DataFrame, *, year: int | None = None,
                        scope: str = "city", metrics: Sequence[str] | None = None,
                        lang: str = "de") -> go.Figure:
    """Each scenario's difference from the baseline with its 95 % interval (whiskers), in % of
    the baseline mean so that metrics of different units share one axis. Filled markers:
    significant (the interval excludes 0)."""
    rows = comparison_rows(comparison, year=year, scope=scope, metrics=metrics)
    rows = rows.dropna(subset=["relative"])
    if rows.empty:
        raise ValueError("no comparison rows")
    order = list(pd.unique(rows["metric"]))
    labels = {m: metric_label(m, lang) for m in order}
    fig = go.Figure()
    fig.add_vline(x=0, line={"color": "#888", "width": 1})
    for i, (name, part) in enumerate(rows.groupby("scenario", sort=False)):
        low = (part["relative"] - part["relative_low"]).fillna(0)
        high = (part["relative_high"] - part["relative"]).fillna(0)
        sig = part["significant"].astype(bool).to_numpy()
        fig.add_trace(go.Scatter(
            x=part["relative"], y=[labels[m] for m in part["metric"]], mode="markers",
            name=str(name), marker={"color": _color(i + 1), "size": 9,
                                    "symbol": np.where(sig, "circle", "circle-open")},
            error_x={"type": "data", "symmetric": False, "array": high, "arrayminus": low},
            customdata=np.c_[part["baseline_mean"], part["scenario_mean"], part["difference"],
                             part["ci_low"], part["ci_high"]],
            hovertemplate=("%{y}<br>" + text("baseline", lang) + " %{customdata[0]:.4g} → "
                           "%{customdata[1]:.4g}<br>Δ %{customdata[2]:+.4g} "
                           "[%{customdata[3]:+.4g}, %{customdata[4]:+.4g}]<extra>" + str(name)
                           + "</extra>")))
    year = int(rows["year"].iloc[0])
    fig.update_layout(
        template=TEMPLATE, legend_title=text("scenario", lang),
        title=f"{text('comparison', lang)} – {scope_label(scope, lang)}, {year}",
        xaxis_title=text("relative_difference", lang), height=max(420, 26 * len(order) + 160),
        yaxis={"autorange": "reversed", "categoryorder": "array",
               "categoryarray": [labels[m] for m in order]},
        margin={"l": 260})
    return fig


def localise(number: str, lang: str) -> str:
    """German number format (1.234,5) for ``lang="de"``; English unchanged."""
    if lang != "de":
        return number
    return number.translate(str.maketrans({",": ".", ".": ","}))


def format_value(metric: str, value: float, lang: str = "en") -> str:
    """A value as a planner reads it (shares in %, counts with separators)."""
    if value is None or not math.isfinite(value):
        return "–"
    if is_share(metric):
        return localise(f"{value:.1%}", lang)
    magnitude = abs(value)
    decimals = 0 if magnitude >= 1000 else 1 if magnitude >= 10 else 2 if magnitude >= 1 else 3
    return localise(f"{value:,.{decimals}f}", lang)


def format_difference(metric: str, value: float, lang: str = "en") -> str:
    """A difference: percentage points for shares, else signed with separators."""
    if value is None or not math.isfinite(value):
        return "–"
    if is_share(metric):
        return localise(f"{100 * value:+.2f}", lang) + (" Pp." if lang == "de" else " pp")
    magnitude = abs(value)
    decimals = 0 if magnitude >= 1000 else 1 if magnitude >= 10 else 2 if magnitude >= 1 else 4
    return localise(f"{value:+,.{decimals}f}", lang)


def comparison_table(comparison: pd.DataFrame, *, year: int | None = None, scope: str = "city",
                     metrics: Sequence[str] | None = None, lang: str = "de") -> go.Figure:
    """The comparison as a table: scenario, metric, baseline, scenario, difference, 95 % CI
    and a mark for significant rows."""
    rows = comparison_rows(comparison, year=year, scope=scope, metrics=metrics)
    if rows.empty:
        raise ValueError("no comparison rows")
    cells = [
        rows["scenario"].tolist(),
        [metric_label(m, lang) for m in rows["metric"]],
        [format_value(m, v, lang) for m, v in zip(rows["metric"], rows["baseline_mean"],
                                                  strict=True)],
        [format_value(m, v, lang) for m, v in zip(rows["metric"], rows["scenario_mean"],
                                                  strict=True)],
        [format_difference(m, v, lang) for m, v in zip(rows["metric"], rows["difference"],
                                                        strict=True)],
        [f"[{format_difference(m, lo, lang)}, {format_difference(m, hi, lang)}]"
         for m, lo, hi in zip(rows["metric"], rows["ci_low"], rows["ci_high"], strict=True)],
        ["*" if s else "" for s in rows["significant"]],
    ]
    header = [text(k, lang) for k in ("scenario", "metric", "baseline", "scenario",
                                      "difference", "ci")] + ["*"]
    fill = [["#fff3e0" if s else "white" for s in rows["significant"]]]
    fig = go.Figure(go.Table(
        columnwidth=[2.2, 3.6, 1.3, 1.3, 1.4, 2.2, 0.3],
        header={"values": header, "fill_color": "#1f4e79", "font": {"color": "white"},
                "align": "left"},
        cells={"values": cells, "fill_color": fill * len(cells), "align": "left",
               "height": 24}))
    fig.update_layout(template=TEMPLATE, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      height=min(2400, 28 * len(rows) + 120),
                      title=f"{text('comparison', lang)} – {scope_label(scope, lang)}, "
                            f"{int(rows['year'].iloc[0])}")
    return fig
