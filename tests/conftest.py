"""Shared fixtures: small scenarios built in memory from the baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def variant(base: sim.Scenario, **nested) -> sim.Scenario:
    """A copy of ``base`` with dotted-path overrides, e.g. ``{"city.households": 500}``."""
    return base.with_values(nested)


@pytest.fixture(scope="session")
def baseline() -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="session")
def small(baseline) -> sim.Scenario:
    return variant(baseline, **{"city.households": 2000, "years": 5})


@pytest.fixture()
def tiny(baseline) -> sim.Scenario:
    """A tiny run for the results store: its own files only (the baseline records cell
    snapshots for the maps)."""
    return baseline.with_values({"city.households": 150, "years": 2, "name": "tiny",
                                 "outcomes.cell_snapshots": False})
