"""Scenarios checked against their city and this machine: lever locations must lie in the
city's cells and quartiers, and a run must fit in memory. The scenario schema cannot check this
alone (it knows no city); every path to a run (``quartier scenario``, ``run``, comparisons,
sweeps, :func:`sim.build_model`) goes through :func:`check_levers`, and :func:`load_scenario`
reads a file and checks it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.inputs.city import build_city
from sim.inputs.memory import memory_problem
from sim.scenario import Scenario, read_scenario
from sim.state.city import cell_of, quartier_index


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (following ``extends``) and check its levers against
    the city.

    Raises:
        InputError: naming the file and the field for any invalid input.
    """
    scenario = read_scenario(path)
    check_levers(scenario)
    return scenario


def check_levers(scenario: Scenario) -> None:
    """Raise :class:`InputError` (naming the file that set the field) for the first lever
    placed outside the city or in an unknown quartier, or for a run too large for this
    machine's memory (checked first: it needs no city)."""
    problem = memory_problem(scenario) or lever_problem(scenario)
    if problem is not None:
        field, message = problem
        raise InputError(scenario.file_of(field), field, message)


def lever_problem(scenario: Scenario) -> tuple[str, str] | None:
    """(field, message) for the first lever placed outside the city or in an unknown
    quartier, else None. Builds the city's geometry (cheap; no population)."""
    lev = scenario.levers
    if scenario.model != "quartier" or (
            lev.mvz is None and lev.public_transport is None and not lev.school_investment
            and lev.ambulant_care is None and lev.demolition is None
            and not lev.kitas and not lev.nursing_homes and not lev.tagespflege
            and not _quartier_targets(scenario)):
        return None
    city = build_city(scenario)
    checks: list[tuple[str, Any]] = []
    if lev.mvz is not None:
        for i, c in enumerate(lev.mvz.centres):
            field = "cell" if c.cell is not None else "coordinates"
            checks.append((f"levers.mvz.centres.{i}.{field}",
                           lambda c=c: cell_of(city, cell=c.cell, coordinates=c.coordinates)))
    if lev.public_transport is not None:
        for i, cell in enumerate(lev.public_transport.extra_stops):
            checks.append((f"levers.public_transport.extra_stops.{i}",
                           lambda cell=cell: cell_of(city, cell=cell)))
    for i, inv in enumerate(lev.school_investment):
        checks.append((f"levers.school_investment.{i}.quartier",
                       lambda inv=inv: quartier_index(city, inv.quartier)))
    for i, kita in enumerate(lev.kitas):
        checks.append((f"levers.kitas.{i}.quartier",
                       lambda kita=kita: quartier_index(city, kita.quartier)))
    if (lev.mvz is not None and lev.mvz.incentive is not None
            and lev.mvz.incentive.quartier is not None):
        checks.append(("levers.mvz.incentive.quartier",
                       lambda: quartier_index(city, lev.mvz.incentive.quartier)))
    for qid in _quartier_targets(scenario):
        checks.append((f"levers.rent_mixing.social_share_target.{qid}",
                       lambda qid=qid: quartier_index(city, qid)))
    if lev.ambulant_care is not None and lev.ambulant_care.quartier is not None:
        checks.append(("levers.ambulant_care.quartier",
                       lambda: quartier_index(city, lev.ambulant_care.quartier)))
    if lev.demolition is not None and isinstance(lev.demolition.rate, dict):
        for qid in lev.demolition.rate:
            checks.append((f"levers.demolition.rate.{qid}",
                           lambda qid=qid: quartier_index(city, qid)))
    for kind in ("nursing_homes", "tagespflege"):
        for i, item in enumerate(getattr(lev, kind)):
            checks.append((f"levers.{kind}.{i}.quartier",
                           lambda item=item: quartier_index(city, item.quartier)))
    for field, check in checks:
        try:
            check()
        except ValueError as exc:
            return field, str(exc)
    return None


def _quartier_targets(scenario: Scenario) -> list[str]:
    """Quartier ids named by a per-quartier social-share target."""
    mixing = scenario.levers.rent_mixing
    target = mixing.social_share_target if mixing is not None else None
    return list(target) if isinstance(target, dict) else []
