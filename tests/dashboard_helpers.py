"""Small result folders for the dashboard tests, built once per test session."""

from __future__ import annotations

from pathlib import Path

import sim

from .conftest import SCENARIOS

HOUSEHOLDS = 600
YEARS = 4


def _small(name: str) -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / f"{name}.toml").with_values(
        {"city.households": HOUSEHOLDS, "years": YEARS})


def compare_folder(tmp_path_factory) -> Path:
    """A comparison: baseline and the 30 % quota, 3 paired replications, cell snapshots."""
    out = tmp_path_factory.getbasetemp() / "dash-compare"
    if not (out / "comparison.csv").exists():
        sim.compare(_small("baseline"), [_small("rent_mix_quota_30")], out=out,
                    replications=3, workers=1)
    return out


def run_folder(tmp_path_factory) -> Path:
    """The folder of a single run (as ``quartier run --out`` writes it)."""
    from sim.experiments.results import write_run

    out = tmp_path_factory.getbasetemp() / "dash-run"
    if not (out / "experiments.parquet").exists():
        write_run(sim.build_model(_small("baseline"), seed=2).run(YEARS), out)
    return out


def sweep_folder(tmp_path_factory) -> Path:
    """A sweep of two design points, one replication each."""
    out = tmp_path_factory.getbasetemp() / "dash-sweep"
    if not (out / "manifest.json").exists():
        sim.sweep(_small("baseline"), {"parameters.demography.total_fertility_rate": [1.2, 1.6]},
                  out=out, replications=1)
    return out
