"""Checking what the browser sends to the dashboard's callbacks.

A callback's inputs are whatever a request carries, not only what the controls offer: a
number may arrive as ``'abc'`` or ``[1, 2]``, a click at ``Infinity``, thousands of scenario
names, a map variable of ``'__class__'``. Each value is checked here against what the page
offers (the folder's scenarios, years, metrics, quartiers, the map's variables) or, for the
what-if levers, turned into a number that the scenario schema then checks
(:func:`dashboards.whatif.whatif_scenario`). A bad value raises :class:`InputError` naming the
control; :func:`in_page` turns it into an answer shown in the page.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from dash.exceptions import PreventUpdate

from sim.errors import InputError

SOURCE = "dashboard"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def number(value: Any, control: str, field: str | None = None) -> float | None:
    """A finite number (None stays None); the schema checks its range later."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(SOURCE, field or control, f"must be a number (got {_shown(value)})")
    try:
        result = float(value)
    except ValueError:
        raise InputError(SOURCE, field or control, f"must be a number (got {_shown(value)})"
                         ) from None
    if not math.isfinite(result):
        raise InputError(SOURCE, field or control, f"must be a finite number (got "
                         f"{_shown(value)})")
    return result


def cell(value: Any, control: str = "mvz-cell") -> tuple[int, int] | None:
    """A grid cell ``[column, row]`` of two whole numbers, or None."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InputError(SOURCE, control, f"must be a cell [column, row] (got {_shown(value)})")
    col, row = (number(v, control) for v in value)
    if col != int(col) or row != int(row):
        raise InputError(SOURCE, control, f"must be whole numbers (got {_shown(value)})")
    return int(col), int(row)


def click_cell(click: Any) -> tuple[int, int]:
    """The cell of a click on a map (its x and y, rounded)."""
    try:
        point = click["points"][0]
        x, y = point["x"], point["y"]
    except (TypeError, KeyError, IndexError):
        raise InputError(SOURCE, "clickData", "not a click on the map") from None
    return int(round(number(x, "clickData.x"))), int(round(number(y, "clickData.y")))


def choice(value: Any, allowed: Iterable[Any], control: str) -> Any:
    """One of ``allowed``."""
    options = list(allowed)
    if isinstance(value, list | dict) or value not in options:
        raise InputError(SOURCE, control, f"not one of the {len(options)} choices "
                         f"(got {_shown(value)})")
    return value


def choices(value: Any, allowed: Sequence[str], control: str, default: list[str]
            ) -> list[str]:
    """A list of distinct names among ``allowed`` (None or empty: ``default``)."""
    if value is None or value == []:
        return list(default)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > len(allowed):
        raise InputError(SOURCE, control, f"give at most {len(allowed)} of the listed names "
                         f"(got {len(value) if isinstance(value, list) else _shown(value)})")
    known = set(allowed)
    unknown = [v for v in value if not isinstance(v, str) or v not in known]
    if unknown:
        raise InputError(SOURCE, control, f"unknown name {_shown(unknown[0])}")
    return list(dict.fromkeys(value))


def in_page(answer: Callable[[str], Any]) -> Callable:
    """Decorate a callback so that a bad input, or any failure, is answered in the page:
    ``answer(message)`` gives the callback's outputs (a figure that says what is wrong, a
    status text, or no update), never an HTTP error."""
    def decorate(callback: Callable) -> Callable:
        @functools.wraps(callback)
        def guarded(*args, **kwargs):
            try:
                return callback(*args, **kwargs)
            except PreventUpdate:
                raise
            except InputError as exc:
                return answer(exc.one_line())
            except Exception as exc:  # noqa: BLE001  (the page says what failed)
                return answer(f"{type(exc).__name__}: {exc}")
        return guarded
    return decorate
