"""Small result folders for the dashboard tests, built once per pytest run (shared by the
workers of a parallel run)."""

from __future__ import annotations

from pathlib import Path

import sim

from .conftest import SCENARIOS, shared_folder

HOUSEHOLDS = 600
YEARS = 4


def _small(name: str) -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / f"{name}.toml").with_values(
        {"city.households": HOUSEHOLDS, "years": YEARS})


def compare_folder(tmp_path_factory) -> Path:
    """A comparison: baseline and the 30 % quota, 3 paired replications, cell snapshots."""
    return shared_folder(tmp_path_factory, "dash-compare", lambda out: sim.compare(
        _small("baseline"), [_small("rent_mix_quota_30")], out=out, replications=3, workers=1))


def run_folder(tmp_path_factory) -> Path:
    """The folder of a single run (as ``quartier run --out`` writes it)."""
    from sim.experiments.results import write_run

    return shared_folder(tmp_path_factory, "dash-run", lambda out: write_run(
        sim.build_model(_small("baseline"), seed=2).run(YEARS), out))


def sweep_folder(tmp_path_factory) -> Path:
    """A sweep of two design points, one replication each."""
    return shared_folder(tmp_path_factory, "dash-sweep", lambda out: sim.sweep(
        _small("baseline"), {"parameters.demography.total_fertility_rate": [1.2, 1.6]}, out=out,
        replications=1))
