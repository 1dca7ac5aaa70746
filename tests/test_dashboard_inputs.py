"""Malformed values sent to the dashboard's callbacks (as a browser's requests would carry
them) are answered in the page, never with an HTTP error: each request below gets status 200
and a body that names the control and what is wrong."""

from __future__ import annotations

import json

import pytest

from dashboards.app import create_app

from .dashboard_helpers import compare_folder


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(compare_folder(tmp_path_factory), lang="en")
    return app, app.server.test_client()


def _outputs(key: str) -> list[dict[str, str]]:
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    result = []
    for part in parts:
        ident, _, prop = part.rpartition(".")
        result.append({"id": ident, "property": prop})
    return result


def call(client, output: str, values: dict):
    """POST one callback request whose outputs include ``output`` (``id.property``)."""
    app, http = client
    key = next(k for k in app.callback_map
               if output in [f"{o['id']}.{o['property'].split('@')[0]}" for o in _outputs(k)])
    spec = app.callback_map[key]
    outputs = _outputs(key)
    body = {
        "output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])}
                   for i in spec["inputs"]],
        "state": [{"id": s["id"], "property": s["property"], "value": values.get(s["id"])}
                  for s in spec["state"]],
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in spec["inputs"]
                           if i["id"] in values],
    }
    response = http.post("/_dash-update-component", json=body)
    return response.status_code, response.get_data(as_text=True)


MALFORMED = [
    ("whatif-status.children", {"whatif-run": 1, "social-share": "abc", "ticket-price": 49},
     "social_share_target: must be a number"),
    ("whatif-status.children", {"whatif-run": 1, "social-share": [1, 2], "ticket-price": 49},
     "social_share_target: must be a number"),
    ("whatif-status.children", {"whatif-run": 1, "social-share": 0.2, "ticket-price": "NaN"},
     "ticket_price_eur: must be a finite number"),
    ("whatif-status.children", {"whatif-run": 1, "social-share": 0.2, "ticket-price": 49,
                                "mvz-cell": [1]}, "mvz-cell: must be a cell"),
    ("mvz-label.children", {"whatif-map": {"points": [{"x": float("inf"), "y": 3}]}},
     "clickData.x: must be a finite number"),
    ("map.figure", {"scenarios": [f"s{i}" for i in range(10_000)], "map-variable": "share_poor",
                    "map-mode": "values"}, "scenarios: give at most"),
    ("map.figure", {"map-variable": "__class__", "map-mode": "values"},
     "map-variable: not one of the"),
    ("map.figure", {"map-variable": "share_poor", "map-mode": {"a": 1}},
     "map-mode: not one of the"),
    ("series.figure", {"scenarios": ["baseline"], "metric": "__class__", "quartier": "city"},
     "metric: not one of the"),
    ("series.figure", {"scenarios": [1, 2], "metric": "population", "quartier": "city"},
     "scenarios: unknown name"),
    ("causes.figure", {"quartier": "atlantis"},
     "quartier: not one of the"),
    ("segregation.figure", {"year": "Infinity"},
     "year: not one of the"),
]


def _with_defaults(client, values: dict) -> dict:
    """Valid values for every control the test leaves out (the folder's last year)."""
    app, _ = client
    year = app.layout["year"].value
    return {"scenarios": None, "year": year, "map-variable": "share_poor",
            "map-mode": "values", "metric": "population", "quartier": "city", **values}


def _message(body: str) -> str:
    """The text the page shows: the status text or the figure's annotation."""
    response = json.loads(body)["response"]
    texts = []
    for props in response.values():
        for value in props.values():
            if isinstance(value, str):
                texts.append(value)
            elif isinstance(value, dict):
                texts += [a.get("text", "") for a in value.get("layout", {}).get(
                    "annotations", [])]
    return " | ".join(texts)


@pytest.mark.parametrize("output, values, expected", MALFORMED,
                         ids=[f"{o}-{i}" for i, (o, _, _) in enumerate(MALFORMED)])
def test_malformed_callback_values_are_answered_in_the_page(client, output, values, expected):
    status, body = call(client, output, _with_defaults(client, values))
    assert status == 200, body[:300]
    assert expected in _message(body), _message(body)


def test_good_values_still_draw_the_figures(client):
    status, body = call(client, "series.figure", _with_defaults(client, {}))
    assert status == 200 and '"scatter"' in body and _message(body) == ""
