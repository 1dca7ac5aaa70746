"""What the maps draw over the cells: quartier (Stadtteil) outlines and names, and facilities
as markers, for every map of :mod:`dashboards.figures` (report, dashboard, what-if panel).

A city built from files has Stadtteil polygons (:func:`sim.experiments.gis.map_geography`); its
grid rows count from the south, so its maps are drawn north up. The built-in city's quartiers
are groups of grid cells: :func:`quartier_outlines` draws their borders along the cell edges.
Facilities come from the files (real cities) or from the facility table each run stores
(:func:`run_facilities`).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboards.labels import facility_label

MARKERS = {"gp": ("cross", 11), "ambulant_care": ("diamond", 8), "nursing_home": ("square", 8),
           "primary_school": ("triangle-up", 8), "secondary_school": ("triangle-down", 9),
           "kita": ("circle", 4), "stop": ("circle-open", 5)}
"""Facility kinds drawn on maps, with their marker (employers are left out: there are
hundreds)."""
MARKER_COLOUR = "#1f3b5a"
LABEL_SHADOW = "1px 1px 2px white, -1px -1px 2px white, 1px -1px 2px white, -1px 1px 2px white"
"""A white halo: names stay readable on dark cells."""


def facility_traces(facilities: pd.DataFrame | None, lang: str = "de") -> list[go.Scatter]:
    """One marker trace per facility kind (columns kind, col, row; optional name, capacity,
    amount). Kinds outside :data:`MARKERS` keep a generic marker unless they are employers."""
    if facilities is None or facilities.empty:
        return []
    traces = []
    kinds = [k for k in MARKERS if k in set(facilities["kind"])]
    kinds += [k for k in pd.unique(facilities["kind"]) if k not in MARKERS and k != "employer"]
    for kind in kinds:
        part = facilities[facilities["kind"] == kind]
        symbol, size = MARKERS.get(kind, ("x", 9))
        label = facility_label(str(kind), lang)
        name = part["name"].astype(str) if "name" in part else pd.Series("", index=part.index)
        amount = next((part[c].to_numpy(float) for c in ("capacity", "amount") if c in part),
                      np.full(len(part), np.nan))
        amount_text = ["" if not np.isfinite(a) else f" ({a:,.0f})".replace(
            ",", "." if lang == "de" else ",") for a in amount]
        traces.append(go.Scatter(
            x=part["col"], y=part["row"], mode="markers", name=label,
            marker={"symbol": symbol, "size": size, "color": MARKER_COLOUR,
                    "line": {"color": "white", "width": 1}},
            customdata=np.c_[name.to_numpy(object), np.asarray(amount_text, dtype=object)],
            hovertemplate=f"{label}: %{{customdata[0]}}%{{customdata[1]}}<extra></extra>"))
    return traces


def run_facilities(experiments: pd.DataFrame, run_ids=None) -> pd.DataFrame | None:
    """The facility table a run stored (``facilities`` column of its experiments row: kind,
    col, row, capacity, opening_year, name), of the first of ``run_ids`` (default: any run);
    None for runs of a version that did not store it."""
    if "facilities" not in experiments.columns:
        return None
    rows = experiments if run_ids is None else experiments[
        experiments["run_id"].isin(list(run_ids))]
    stored = rows["facilities"].dropna()
    if stored.empty:
        return None
    return pd.DataFrame(json.loads(stored.iloc[0]),
                        columns=["kind", "col", "row", "capacity", "opening_year", "name"])


def quartier_outlines(grid: pd.DataFrame) -> pd.DataFrame:
    """Borders between quartiers (and the city's edge) along the cell edges of a grid (columns
    col, row, quartier): one line segment per edge, segments separated by NaN rows."""
    width, height = int(grid["col"].max()) + 1, int(grid["row"].max()) + 1
    q = np.full((height + 2, width + 2), "", dtype=object)
    q[grid["row"].to_numpy(int) + 1, grid["col"].to_numpy(int) + 1] = grid["quartier"].astype(str)
    xs, ys = [], []
    # vertical edges: between (r, c) and (r, c + 1) of the padded grid
    r, c = np.nonzero(q[:, :-1] != q[:, 1:])
    for row, col in zip(r - 1, c - 1, strict=True):
        xs += [col + 0.5, col + 0.5, np.nan]
        ys += [row - 0.5, row + 0.5, np.nan]
    r, c = np.nonzero(q[:-1, :] != q[1:, :])
    for row, col in zip(r - 1, c - 1, strict=True):
        xs += [col - 0.5, col + 0.5, np.nan]
        ys += [row + 0.5, row + 0.5, np.nan]
    return pd.DataFrame({"col": xs, "row": ys})


def quartier_centres(grid: pd.DataFrame) -> pd.DataFrame:
    """A label point per quartier of a grid: the cell of the quartier nearest its centroid
    (columns quartier, col, row)."""
    first = grid.drop_duplicates(["col", "row"])
    out = []
    for quartier, part in first.groupby("quartier", observed=True, sort=True):
        c, r = part["col"].mean(), part["row"].mean()
        k = int(np.argmin((part["col"] - c) ** 2 + (part["row"] - r) ** 2))
        out.append({"quartier": str(quartier), "col": float(part["col"].iloc[k]),
                    "row": float(part["row"].iloc[k])})
    return pd.DataFrame(out, columns=["quartier", "col", "row"])


def outline_trace(outlines: pd.DataFrame, name: str = "Quartiere") -> go.Scatter:
    return go.Scatter(x=outlines["col"], y=outlines["row"], mode="lines",
                      line={"color": "#333", "width": 1.2}, hoverinfo="skip",
                      showlegend=False, name=name)


def label_trace(labels: pd.DataFrame, text, size: int = 10) -> go.Scatter:
    return go.Scatter(x=labels["col"], y=labels["row"], mode="text", text=list(text),
                      textfont={"size": size, "color": "#111", "shadow": LABEL_SHADOW},
                      hoverinfo="skip", showlegend=False, name="quartier names")


def add_outlines(fig: go.Figure, grid: pd.DataFrame | None, geography: dict | None = None
                 ) -> go.Figure:
    """Quartier outlines over a map: the Stadtteil polygons of a city built from files, else
    the borders of the grid's quartiers (nothing without either)."""
    if geography is not None:
        fig.add_trace(outline_trace(geography["outlines"], "Stadtteile"))
    elif grid is not None and not grid.empty:
        fig.add_trace(outline_trace(quartier_outlines(grid)))
    return fig


def add_geography(fig: go.Figure, geography: dict | None, lang: str = "de",
                  facilities: pd.DataFrame | None = None, grid: pd.DataFrame | None = None
                  ) -> go.Figure:
    """Outlines, names and facility markers added to a cell map. With ``geography`` (a city
    built from files): its Stadtteil polygons, names and facilities, drawn north up; else the
    grid's quartier borders (``grid``: col, row, quartier) and ``facilities`` (a run's table).
    The heatmap stays the first trace (clicks still give the cell)."""
    if not fig.data or fig.data[0].type != "heatmap":
        return fig
    if geography is None:
        add_outlines(fig, grid)
        for trace in facility_traces(facilities, lang):
            fig.add_trace(trace)
        return fig
    add_outlines(fig, None, geography)
    labels = geography["labels"]
    # The grid's quartier ids give way to the names at their polygons' inner points.
    fig.data = tuple(t for t in fig.data if t.name != "quartier names")
    fig.add_trace(label_trace(labels, labels["name"], 9))
    for trace in facility_traces(geography["facilities"], lang):
        fig.add_trace(trace)
    north_up(fig)
    return fig


def north_up(fig: go.Figure) -> go.Figure:
    """Draw a map whose grid rows count from the south with row 0 at the bottom."""
    y_range = fig.layout.yaxis.range
    if y_range is not None and y_range[0] > y_range[1]:
        fig.update_yaxes(range=[y_range[1], y_range[0]])
    return fig
