"""Figures from the tidy ``outcomes`` table (run_id, year, scope, metric, value)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from sim.metrics import DESCRIPTIONS


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
                      yaxis_title=metric, template="plotly_white", legend_title="Quartier")
    return fig
