"""Figure builders are pure functions of the outcomes table."""

from __future__ import annotations

import pytest

import sim
from dashboards.figures import time_series


def test_time_series_has_one_trace_per_scope(small):
    model = sim.build_model(small, seed=1).run(2)
    df = model.outcomes()
    fig = time_series(df, "population")
    names = {t.name for t in fig.data}
    assert names == set(model.city.quartier_ids()) | {"city"}
    city = next(t for t in fig.data if t.name == "city")
    assert list(city.x) == sorted(df["year"].unique())
    assert city.y[0] == model._records[0][1]["population"][-1]
    flows = time_series(df, "births", scopes=["city"])
    assert len(flows.data) == 1 and len(flows.data[0].x) == 2  # the start year has no flows
    with pytest.raises(ValueError):
        time_series(df, "no_such_metric")
