"""Maps of a city built from files: quartier (Stadtteil) outlines and names, and the
facilities its files give as markers, drawn over the cell maps of :mod:`dashboards.figures`.

The geography comes from :func:`sim.experiments.gis.map_geography` (None for the built-in and
Zensus-block cities, whose maps stay as they are). Its grid rows count from the south, so a map
with geography is drawn north up.
"""

from __future__ import annotations

import plotly.graph_objects as go

from dashboards.labels import facility_label

MARKERS = {"primary_school": ("triangle-up", 8), "secondary_school": ("triangle-down", 9),
           "kita": ("circle", 3), "gp": ("cross", 10), "nursing_home": ("square", 8),
           "ambulant_care": ("diamond", 8), "stop": ("circle-open", 5)}


def add_geography(fig: go.Figure, geography: dict | None, lang: str = "de") -> go.Figure:
    """The outlines, names and facility markers added to a cell map (unchanged when
    ``geography`` is None). The heatmap stays the first trace (clicks still give the cell)."""
    if geography is None or not fig.data or fig.data[0].type != "heatmap":
        return fig
    outlines = geography["outlines"]
    fig.add_trace(go.Scatter(x=outlines["col"], y=outlines["row"], mode="lines",
                             line={"color": "#333", "width": 1}, hoverinfo="skip",
                             showlegend=False, name="Stadtteile"))
    labels = geography["labels"]
    # The grid's quartier ids give way to the names at their polygons' inner points.
    fig.data = tuple(t for t in fig.data if t.name != "quartiers")
    fig.add_trace(go.Scatter(x=labels["col"], y=labels["row"], mode="text",
                             text=labels["name"], textfont={"size": 9, "color": "#111"},
                             hoverinfo="skip", showlegend=False, name="quartier names"))
    facilities = geography["facilities"]
    for kind, (symbol, size) in MARKERS.items():
        part = facilities[facilities["kind"] == kind]
        if part.empty:
            continue
        label = facility_label(kind, lang)
        fig.add_trace(go.Scatter(
            x=part["col"], y=part["row"], mode="markers", name=label,
            marker={"symbol": symbol, "size": size, "color": "#1f3b5a",
                    "line": {"color": "white", "width": 0.5}},
            customdata=part[["name"]], hovertemplate=f"{label}: %{{customdata[0]}}"
                                                     "<extra></extra>"))
    y_range = fig.layout.yaxis.range
    if y_range is not None and y_range[0] > y_range[1]:
        fig.update_yaxes(range=[y_range[1], y_range[0]])  # north up
    return fig
