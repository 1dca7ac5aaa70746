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

from dashboards.geography import (
    add_outlines,
    facility_traces,
    label_trace,
    quartier_centres,
)
from dashboards.labels import (
    CAUSE_LABELS,
    INDEX_LABELS,
    age_band_label,
    axis_title,
    cause_label,
    cell_variable_label,
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


def scenario_colors(scenarios: Sequence[str]) -> dict[str, str]:
    """One colour per scenario (in the given order, the baseline first), for every figure."""
    return {str(s): _color(i) for i, s in enumerate(scenarios)}


SEPARATORS = {"de": ",.", "en": ".,"}
"""Plotly's decimal and thousands marks per language."""


def localised(fig: go.Figure, lang: str = "de") -> go.Figure:
    """German (1.234,5) or English (1,234.5) number formats in a figure's ticks and hovers."""
    return fig.update_layout(separators=SEPARATORS.get(lang, ".,"))


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
                      lang: str = "de", confidence: float = 0.95,
                      colors: dict[str, str] | None = None) -> go.Figure:
    """``metric`` over the years, one line per scenario with its 95 % band over replications.

    Per scenario: the band (a filled polygon, when there are at least two replications) and
    the mean line, in the scenario's colour (``colors``; default: by order). Raises ValueError
    when the metric has no values in ``scope``.
    """
    stats = replicate_bands(outcomes, experiments, metric, scope, confidence)
    if stats.empty:
        raise ValueError(f"no values for metric {metric!r} in scope {scope!r}")
    order = list(scenarios) if scenarios is not None else list(pd.unique(stats["scenario"]))
    colors = colors or scenario_colors(order)
    share = is_share(metric)
    value_format = ".1%" if share else ",.4~g"
    fig = go.Figure()
    for i, name in enumerate(order):
        part = stats[stats["scenario"] == name]
        if part.empty:
            continue
        color = colors.get(name, _color(i))
        band = part.dropna(subset=["half_width"])
        if len(band):
            fig.add_trace(go.Scatter(
                x=np.r_[band["year"], band["year"][::-1]],
                y=np.r_[band["high"], band["low"][::-1]],
                fill="toself", fillcolor=_fill(color), line={"width": 0}, mode="lines",
                hoverinfo="skip", showlegend=False, legendgroup=name,
                name=f"{name} {text('band', lang)}"))
        with_band = bool(part["half_width"].notna().all())
        interval = (f" [%{{customdata[0]:{value_format}}}, %{{customdata[1]:{value_format}}}]"
                    if with_band else "")
        fig.add_trace(go.Scatter(
            x=part["year"], y=part["mean"], mode="lines+markers", name=name or metric,
            legendgroup=name, line={"color": color, "width": 2.5}, marker={"size": 4},
            customdata=np.c_[part["low"].fillna(0), part["high"].fillna(0), part["n"]],
            hovertemplate=(f"%{{y:{value_format}}}{interval} n=%{{customdata[2]}}<extra>"
                           + (name or "") + "</extra>")))
    fig.update_layout(
        title=f"{metric_label(metric, lang)} – {scope_label(scope, lang)}",
        xaxis_title=text("year", lang), yaxis_title=axis_title(metric, lang),
        template=TEMPLATE, legend_title=text("scenario", lang), hovermode="x unified")
    if share:
        fig.update_yaxes(tickformat=".1%")
    return localised(fig, lang)


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
    first = cells.drop_duplicates(["col", "row"])
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


def _map_layout(fig: go.Figure, width: int, height: int, title: str, *,
                rows_from_south: bool = False) -> None:
    """Axes of a grid map. Row 0 is drawn at the top, as every map of the built-in city is;
    ``rows_from_south`` (cities built from files) puts it at the bottom (north up)."""
    fig.update_xaxes(range=[-0.5, width - 0.5], showgrid=False, zeroline=False,
                     showticklabels=False, constrain="domain")
    y_range = [-0.5, height - 0.5] if rows_from_south else [height - 0.5, -0.5]
    fig.update_yaxes(range=y_range, showgrid=False, zeroline=False,
                     showticklabels=False, scaleanchor="x", scaleratio=1, constrain="domain")
    fig.update_layout(title=title, template=TEMPLATE, margin={"l": 10, "r": 10, "t": 60,
                                                                "b": 10},
                      plot_bgcolor="#f4f4f4", legend={"orientation": "h", "y": -0.02})


def _quartier_labels(cells: pd.DataFrame) -> go.Scatter:
    centre = quartier_centres(cells)
    return label_trace(centre, centre["quartier"], 11)


def quartier_pick_map(grid: pd.DataFrame, facilities: pd.DataFrame | None = None, *,
                      selected: tuple[int, int] | None = None, lang: str = "de",
                      title: str | None = None, rows_from_south: bool = False) -> go.Figure:
    """The quartiers of a city's grid, coloured, with facilities as markers: the map of the
    what-if panel, on which a click places an MVZ (drawn the same way up as the other maps).

    Args:
        grid: One row per cell of the city: col, row, quartier (cells outside the city's
            quartiers left out: they stay blank, and a click there gives that cell too).
        facilities: The model's facility table (kind, col, row, capacity, opening_year, name),
            or None while it is not known.
        selected: (col, row) of the MVZ placed (a large marker).
        rows_from_south: The grid's rows count from the south (a city built from files).

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
        hoverongaps=False,
        hovertemplate=(f"{text('quartier', lang)} %{{customdata}}<br>"
                       f"{'Zelle' if lang == 'de' else 'cell'} %{{x}}, %{{y}}<extra></extra>"))])
    fig.add_trace(_quartier_labels(grid))
    for trace in facility_traces(facilities, lang):
        fig.add_trace(trace)
    if selected is not None:
        fig.add_trace(go.Scatter(
            x=[selected[0]], y=[selected[1]], mode="markers", name="MVZ (Was-wäre-wenn)"
            if lang == "de" else "MVZ (what-if)",
            marker={"symbol": "star", "size": 20, "color": "#c0504d",
                    "line": {"color": "white", "width": 1.5}}))
    _map_layout(fig, width, height, title or "", rows_from_south=rows_from_south)
    return localised(fig, lang)


def _value_format(variable: str) -> str:
    return ".1%" if variable.startswith("share") or variable.endswith(("rate", "share")) \
        else ",.2f"


def cell_map(cells: pd.DataFrame, variable: str = "share_poor", *, year: int | None = None,
             lang: str = "de", facilities: pd.DataFrame | None = None,
             title: str | None = None) -> go.Figure:
    """The cell grid coloured by ``variable``, with quartier names and facility markers.

    Args:
        cells: Per-cell snapshots of the runs to show (pooled, see :func:`cell_values`).
        variable: One of :data:`dashboards.labels.CELL_VARIABLES`.
        year: Show this year only; None: every year with a year slider (animation frames).
        lang: ``"de"`` or ``"en"``.
        facilities: Markers (columns col, row, kind and capacity or amount); default: from the
            cell table's facility columns, when it has any.
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
    fmt = _value_format(variable)

    def heatmap(y: int) -> go.Heatmap:
        return go.Heatmap(
            z=_grid(values[values["year"] == y], width, height), customdata=quartiers,
            zmin=zmin, zmax=zmax, colorscale="YlOrRd", hoverongaps=False,
            colorbar={"title": "", "tickformat": fmt.replace(",", "")},
            hovertemplate=(f"{text('quartier', lang)} %{{customdata}}<br>"
                           f"col %{{x}}, row %{{y}}<br>{label}: %{{z:{fmt}}}<extra></extra>"),
            name=label)

    if facilities is None:
        facilities = facilities_from_cells(cells, shown, lang)
    fig = go.Figure([heatmap(shown), _quartier_labels(cells),
                     *facility_traces(facilities, lang)])
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
    return localised(fig, lang)


def _smoothed(cells: pd.DataFrame, variable: str, radius: int) -> pd.DataFrame:
    """:func:`cell_values` over a (2 radius + 1)² window of cells: shares pool the window's
    counts, means average its cells (cells without persons or dwellings stay blank)."""
    from scipy.ndimage import uniform_filter

    values = cell_values(cells, variable)
    shares = {"share_poor": ("poor", "persons"), "share_high": ("high", "persons"),
              "share_migration_background": ("migration_background", "persons"),
              "share_65plus": ("age_65plus", "persons"), "vacancy_rate": ("vacant", "dwellings"),
              "social_share": ("social", "dwellings")}
    width, height = int(cells["col"].max()) + 1, int(cells["row"].max()) + 1
    size = 2 * radius + 1
    r, c = values["row"].to_numpy(int), values["col"].to_numpy(int)
    if variable in shares:
        num, den = shares[variable]
        g = cells.groupby(["col", "row"], observed=True)[[num, den]].sum().reset_index()
        grids = []
        for column in (num, den):
            z = np.zeros((height, width))
            z[g["row"].to_numpy(int), g["col"].to_numpy(int)] = g[column].to_numpy(float)
            grids.append(uniform_filter(z, size=size, mode="constant"))
        ratio = np.divide(grids[0], grids[1], out=np.full_like(grids[0], np.nan),
                          where=grids[1] > 0)
        smooth = ratio[r, c]
    else:
        z = np.zeros((height, width))
        present = np.zeros((height, width))
        z[r, c] = np.nan_to_num(values["value"].to_numpy(float))
        present[r, c] = np.isfinite(values["value"].to_numpy(float))
        total = uniform_filter(z, size=size, mode="constant")
        count = uniform_filter(present, size=size, mode="constant")
        smooth = np.divide(total, count, out=np.full_like(total, np.nan), where=count > 0)[r, c]
    return values.assign(value=smooth)


def difference_map(cells: pd.DataFrame, experiments: pd.DataFrame, *, baseline: str,
                   scenario: str, variable: str = "share_poor", year: int | None = None,
                   lang: str = "de", smooth: int = 0) -> go.Figure:
    """Per cell: ``variable`` of the scenario minus the baseline (pooled over replications).

    A diverging scale centred on 0; cells present in only one of the two are left blank.
    ``smooth`` > 0 pools each cell with its neighbours within that many cells first (a
    smoothed view, so titled: single cells are noisy).
    """
    runs = experiments[["run_id", "scenario"]]
    data = cells.merge(runs, on="run_id")
    base = data[data["scenario"] == baseline]
    other = data[data["scenario"] == scenario]
    if base.empty or other.empty:
        raise ValueError(f"no cell data for {baseline!r} or {scenario!r}")
    year = int(min(base["year"].max(), other["year"].max())) if year is None else int(year)
    keys = ["cell", "col", "row", "quartier"]

    def values(part: pd.DataFrame) -> pd.Series:
        part = part[part["year"] == year]
        table = _smoothed(part, variable, smooth) if smooth > 0 else cell_values(part, variable)
        return table.set_index(keys)["value"]

    diff = (values(other) - values(base)).dropna().reset_index()
    diff.columns = [*keys, "value"]
    width, height = int(cells["col"].max()) + 1, int(cells["row"].max()) + 1
    limit = float(np.nanquantile(np.abs(diff["value"]), 0.98)) if len(diff) else 1.0
    limit = limit if limit > 0 else 1.0
    label = cell_variable_label(variable, lang)
    share = variable.startswith("share") or variable.endswith(("rate", "share"))
    fmt = "+.2%" if share else "+,.2f"
    fig = go.Figure([go.Heatmap(
        z=_grid(diff, width, height), customdata=_quartier_grid(cells, width, height),
        zmid=0, zmin=-limit, zmax=limit, colorscale="RdBu_r", hoverongaps=False,
        colorbar={"tickformat": fmt.replace(",", "")},
        hovertemplate=(f"{text('quartier', lang)} %{{customdata}}<br>col %{{x}}, row %{{y}}<br>"
                       f"Δ {label}: %{{z:{fmt}}}<extra></extra>"), name=label),
        _quartier_labels(cells)])
    title = f"{label}: {scenario} − {baseline}, {year}"
    if smooth > 0:
        title += (f" – {text('smoothed', lang)} ({2 * smooth + 1}×{2 * smooth + 1} "
                  f"{'Zellen' if lang == 'de' else 'cells'})")
    _map_layout(fig, width, height, title)
    return localised(fig, lang)


def quartier_difference_map(comparison: pd.DataFrame, grid: pd.DataFrame, *, scenario: str,
                            metric: str, baseline: str = "", year: int | None = None,
                            lang: str = "de") -> go.Figure:
    """Per quartier: the paired difference scenario minus baseline of ``metric`` (the
    comparison's quartier rows), drawn over the quartier's cells; quartiers whose 95 % interval
    includes 0 are grey (not significant) and labelled "n. s.".

    Args:
        comparison: The comparison table (scopes city and quartier ids).
        grid: The cells of the city (col, row, quartier).

    The first trace is the heatmap of the significant quartiers, the second the grey one of
    the others; ``layout.meta`` says which quartiers are which.
    """
    rows = comparison[(comparison["scenario"] == scenario) & (comparison["metric"] == metric)
                      & (comparison["scope"].astype(str) != "city")]
    if rows.empty:
        raise ValueError(f"no quartier rows of {metric!r} for {scenario!r}")
    year = int(rows["year"].max()) if year is None else int(year)
    rows = rows[rows["year"] == year].set_index(rows[rows["year"] == year]["scope"].astype(str))
    first = grid.drop_duplicates(["col", "row"])
    width, height = int(first["col"].max()) + 1, int(first["row"].max()) + 1
    quartier = first["quartier"].astype(str)
    diff = quartier.map(rows["difference"]).to_numpy(float)
    sig = quartier.map(rows["significant"].astype(bool)).fillna(False).to_numpy(bool)
    low = quartier.map(rows["ci_low"]).to_numpy(float)
    high = quartier.map(rows["ci_high"]).to_numpy(float)
    r, c = first["row"].to_numpy(int), first["col"].to_numpy(int)
    share = is_share(metric)
    scale = 100.0 if share else 1.0  # shares in percentage points
    unit = (" Pp." if lang == "de" else " pp") if share else ""
    fmt = "+,.2f" if share else "+,.3~g"

    def layer(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = np.full((height, width), np.nan)
        z[r[mask], c[mask]] = diff[mask] * scale
        info = np.full((height, width, 3), np.nan)
        info[r[mask], c[mask]] = np.c_[low[mask], high[mask], diff[mask]] * scale
        return z, info

    names = _quartier_grid(first, width, height)
    finite = np.abs(diff[np.isfinite(diff)]) * scale
    limit = float(finite.max()) if len(finite) and finite.max() > 0 else 1.0
    label = metric_label(metric, lang)
    hover = (f"{text('quartier', lang)} %{{text}}<br>Δ {label}: %{{customdata[2]:{fmt}}}{unit}"
             f"<br>{text('ci', lang)} [%{{customdata[0]:{fmt}}}, %{{customdata[1]:{fmt}}}]")
    z_sig, info_sig = layer(sig & np.isfinite(diff))
    z_ns, info_ns = layer(~sig & np.isfinite(diff))
    fig = go.Figure([
        go.Heatmap(z=z_sig, customdata=info_sig, text=names, zmid=0, zmin=-limit, zmax=limit,
                   colorscale="RdBu_r", hoverongaps=False, name=text("significant", lang),
                   colorbar={"title": {"text": f"Δ{unit}" if unit else "Δ"}},
                   hovertemplate=hover + "<extra></extra>"),
        go.Heatmap(z=np.where(np.isfinite(z_ns), 0.0, np.nan), customdata=info_ns,
                   text=names, colorscale=[[0, "#d9d9d9"], [1, "#d9d9d9"]], showscale=False,
                   hoverongaps=False, name=text("not_significant", lang),
                   hovertemplate=hover + f"<br>{text('not_significant', lang)}<extra></extra>"),
        go.Scatter(x=[None], y=[None], mode="markers", name=text("not_significant_legend", lang),
                   marker={"symbol": "square", "size": 12, "color": "#d9d9d9",
                           "line": {"color": "#999", "width": 1}}),
    ])
    add_outlines(fig, first)
    centre = quartier_centres(first)
    values = []
    for q in centre["quartier"]:
        if q not in rows.index or not np.isfinite(rows.loc[q, "difference"]):
            values.append(q)
            continue
        d = localise(f"{rows.loc[q, 'difference'] * scale:+,.{1 if share else 0}f}", lang) \
            if share or abs(rows.loc[q, "difference"]) >= 10 else \
            localise(f"{rows.loc[q, 'difference']:+.2g}", lang)
        mark = "" if bool(rows.loc[q, "significant"]) else " (n. s.)"
        values.append(f"{q}<br>{d}{unit}{mark}")
    for (_, point), label_text in zip(centre.iterrows(), values, strict=True):
        fig.add_annotation(x=point["col"], y=point["row"], text=label_text, showarrow=False,
                           font={"size": 10, "color": "#111"}, bgcolor="rgba(255,255,255,0.8)",
                           borderpad=2)
    versus = f" − {baseline}" if baseline else ""
    _map_layout(fig, width, height, f"Δ {label}: {scenario}{versus}, {year} "
                f"({text('by_quartier', lang)})")
    fig.update_layout(meta={"map": "quartier_difference", "metric": metric,
                            "scenario": scenario,
                            "significant": sorted(rows.index[rows["significant"]
                                                              .astype(bool)].tolist()),
                            "not_significant": sorted(rows.index[~rows["significant"]
                                                                  .astype(bool)].tolist())},
                      legend={"orientation": "h", "y": -0.02})
    return localised(fig, lang)


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
               "ticktext": [localise(f"{abs(v):,.0f}", lang) for v in ticks]},
        yaxis={"title": text("age_years", lang)}, legend={"orientation": "h", "y": -0.15})
    return localised(fig, lang)


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
        yaxis_title=f"{text('persons', lang)} ({first}–{last})",
        xaxis_title=text("scenario", lang))
    return localised(fig, lang)


def segregation_indices(outcomes: pd.DataFrame, experiments: pd.DataFrame | None, *,
                        unit: str = "quartiers", year: int | None = None,
                        scenarios: Sequence[str] | None = None, lang: str = "de",
                        confidence: float = 0.95,
                        colors: dict[str, str] | None = None) -> go.Figure:
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
    colors = colors or scenario_colors(order)
    present = set(stats["scenario"])
    fig = go.Figure()
    for i, name in enumerate(s for s in order if s in present):
        part = stats[stats["scenario"] == name].set_index("metric").reindex(names)
        fig.add_trace(go.Bar(
            x=[index_label(m.removesuffix(suffix), lang) for m in names], y=part["mean"],
            name=name or "–", marker_color=colors.get(name, _color(i)),
            error_y={"type": "data", "array": part["half_width"].fillna(0), "visible": True},
            hovertemplate="%{x}: %{y:.3f}<extra>" + (name or "") + "</extra>"))
    unit_text = text("over_quartiers" if unit == "quartiers" else "over_cells", lang)
    fig.update_layout(barmode="group", template=TEMPLATE, legend_title=text("scenario", lang),
                      title=f"{text('indices', lang)} ({unit_text}), {year}",
                      yaxis={"range": [0, 1], "title": text("index_axis", lang)})
    return localised(fig, lang)


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


def _axis_limit(extents: np.ndarray) -> float:
    """A symmetric axis half-range that shows the bulk of the rows (``extents``: each row's
    largest absolute value, interval included): the largest extent, leaving out those beyond
    10 times the median (drawn at the edge)."""
    extents = np.abs(extents[np.isfinite(extents)])
    if not len(extents):
        return 1.0
    median = float(np.median(extents))
    keep = extents[extents <= 10 * median] if median > 0 else extents
    return max(float(keep.max() if len(keep) else extents.max()) * 1.15, 0.1)


def comparison_whiskers(comparison: pd.DataFrame, *, year: int | None = None,
                        scope: str = "city", metrics: Sequence[str] | None = None,
                        lang: str = "de", colors: dict[str, str] | None = None) -> go.Figure:
    """Each scenario's difference from the baseline with its 95 % interval (whiskers), in % of
    the baseline mean so that metrics of different units share one axis. Filled markers:
    significant (the interval excludes 0). The axis is scaled to the data so small effects
    show; a dot beyond it sits at the edge as an arrow, its value in the hover."""
    rows = comparison_rows(comparison, year=year, scope=scope, metrics=metrics)
    rows = rows.dropna(subset=["relative"])
    if rows.empty:
        raise ValueError("no comparison rows")
    order = list(pd.unique(rows["metric"]))
    labels = {m: metric_label(m, lang) for m in order}
    scenarios = list(pd.unique(rows["scenario"]))
    colors = colors or {s: _color(i + 1) for i, s in enumerate(scenarios)}
    limit = _axis_limit(np.nanmax(np.abs(np.c_[
        rows["relative"], rows["relative_low"].fillna(0), rows["relative_high"].fillna(0)]),
        axis=1))
    fig = go.Figure()
    fig.add_vline(x=0, line={"color": "#888", "width": 1})
    for i, (name, part) in enumerate(rows.groupby("scenario", sort=False)):
        x = part["relative"].to_numpy(float)
        shown = np.clip(x, -limit, limit)
        low = np.clip(part["relative_low"].fillna(part["relative"]).to_numpy(float),
                      -limit, limit)
        high = np.clip(part["relative_high"].fillna(part["relative"]).to_numpy(float),
                       -limit, limit)
        sig = part["significant"].astype(bool).to_numpy()
        symbol = np.where(x > limit, "triangle-right", np.where(x < -limit, "triangle-left",
                                                                  "circle"))
        symbol = np.where(sig, symbol, np.char.add(symbol.astype(str), "-open"))
        values = part[["baseline_mean", "scenario_mean", "difference", "ci_low",
                       "ci_high"]].fillna(0).to_numpy(float)
        fig.add_trace(go.Scatter(
            x=shown, y=[labels[m] for m in part["metric"]], mode="markers",
            name=str(name), marker={"color": colors.get(str(name), _color(i + 1)), "size": 9,
                                    "symbol": symbol},
            error_x={"type": "data", "symmetric": False, "array": high - shown,
                     "arrayminus": shown - low},
            customdata=np.c_[values, x],
            hovertemplate=("%{y}<br>" + text("baseline", lang) + " %{customdata[0]:,.4~g} → "
                           "%{customdata[1]:,.4~g}<br>Δ %{customdata[2]:+,.4~g} "
                           "[%{customdata[3]:+,.4~g}, %{customdata[4]:+,.4~g}] = "
                           "%{customdata[5]:+,.1f} %<extra>" + str(name) + "</extra>")))
    year = int(rows["year"].iloc[0])
    kind = ""
    if with_draws(rows):  # say which kind of interval the whiskers are
        kind = (" · 95 %-Intervalle: Parameter + Zufall" if lang == "de"
                else " · 95 % intervals: parameters + noise")
    fig.update_layout(
        template=TEMPLATE, legend_title=text("scenario", lang),
        title=f"{text('comparison', lang)} – {scope_label(scope, lang)}, {year}{kind}",
        xaxis={"title": text("relative_difference", lang), "range": [-limit, limit],
               "ticksuffix": " %"},
        height=max(420, 26 * len(order) + 160),
        yaxis={"autorange": "reversed", "categoryorder": "array",
               "categoryarray": [labels[m] for m in order]},
        margin={"l": 260})
    return localised(fig, lang)


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


def with_draws(comparison: pd.DataFrame | None) -> bool:
    """Whether a comparison's intervals combine parameter and stochastic uncertainty
    (``quartier compare --parameter-draws``)."""
    return (comparison is not None and "interval" in comparison
            and (comparison["interval"].astype(str) == "parameter+stochastic").any())


def interval_note(comparison: pd.DataFrame | None, lang: str = "de") -> str:
    """Which kind of interval a comparison shows, for the report and the dashboard."""
    if comparison is None:
        return ""
    if with_draws(comparison):
        draws = int(comparison["draws"].max())
        reps = int(comparison["replications"].max())
        if lang == "de":
            return (f"Intervalle: Parameter- und Zufallsunsicherheit zusammen – {draws} "
                    f"Parametersätze der Kalibrierung mit je {reps} gepaarten Wiederholungen "
                    "(Gesetz der totalen Varianz). »Anteil Param.«: der Anteil der Varianz, "
                    "der aus der Unsicherheit der Parameter kommt.")
        return (f"Intervals: parameter and stochastic uncertainty combined – {draws} "
                f"parameter sets of the calibration with {reps} paired replications each (law "
                "of total variance). 'Param. share': the part of the variance that comes "
                "from the parameters' uncertainty.")
    if lang == "de":
        return ("Intervalle: nur Zufallsunsicherheit (gepaarte Wiederholungen mit festen "
                "Parametern); die Unsicherheit der Parameter ist nicht enthalten (quartier "
                "compare --parameter-draws).")
    return ("Intervals: stochastic uncertainty only (paired replications with fixed "
            "parameters); the parameters' uncertainty is not included (quartier compare "
            "--parameter-draws).")


def share_cells(rows: pd.DataFrame, lang: str = "de") -> list[str]:
    """The parametric share of each row's interval variance, in %."""
    return [localise(f"{v:.0%}", lang) if v is not None and math.isfinite(v) else "–"
            for v in rows["parametric_share"].astype(float)]


def comparison_table(comparison: pd.DataFrame, *, year: int | None = None, scope: str = "city",
                     metrics: Sequence[str] | None = None, lang: str = "de") -> go.Figure:
    """The comparison as a table: scenario, metric, baseline, scenario, difference, 95 % CI
    (with parameter draws: the combined interval and the parametric share) and a mark for
    significant rows."""
    rows = comparison_rows(comparison, year=year, scope=scope, metrics=metrics)
    if rows.empty:
        raise ValueError("no comparison rows")
    draws = with_draws(rows)
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
    widths = [2.2, 3.6, 1.3, 1.3, 1.4, 2.2, 0.3]
    if draws:
        cells.insert(6, share_cells(rows, lang))
        header.insert(6, "Anteil Param." if lang == "de" else "Param. share")
        header[5] = ("95 %-Intervall (Param. + Zufall)" if lang == "de"
                     else "95 % interval (param. + stoch.)")
        widths.insert(6, 1.0)
    fill = [["#fff3e0" if s else "white" for s in rows["significant"]]]
    fig = go.Figure(go.Table(
        columnwidth=widths,
        header={"values": header, "fill_color": "#1f4e79", "font": {"color": "white"},
                "align": "left"},
        cells={"values": cells, "fill_color": fill * len(cells), "align": "left",
               "height": 24}))
    fig.update_layout(template=TEMPLATE, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      height=min(2400, 28 * len(rows) + 120),
                      title=f"{text('comparison', lang)} – {scope_label(scope, lang)}, "
                            f"{int(rows['year'].iloc[0])}")
    return fig
