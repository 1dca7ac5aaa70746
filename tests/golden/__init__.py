"""Golden outputs: the guard of pure refactors.

Every outcome, cell snapshot and vital-statistics table of the scenario files below, each at
fixed seeds, at 5,000 households over 8 years (Schelling on a 50 × 50 grid; two cases at
10,000 households, where the school lever acts), stored as Parquet
under ``tests/golden/data/``. ``tests/test_golden.py`` reruns them and requires bit-identical
tables. A change that is *meant* to alter results regenerates them on purpose::

    python -m tests.golden            # rewrite every file
    python -m tests.golden baseline   # only the cases whose name starts with "baseline"

and says so in its commit message.

The files hold the results of numpy's and OpenBLAS's AVX2 code paths, which ``import sim``
selects on every x86-64 machine (:mod:`sim.numerics`); a process that imported numpy before
``sim`` on an AVX-512 machine cannot reproduce them, and both commands refuse to run there.
"""

from __future__ import annotations  # noqa: I001 (sim before pandas, see above)

from dataclasses import dataclass
from pathlib import Path

import sim
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
HOUSEHOLDS = 5_000
YEARS = 8
SEEDS = (1, 2)
SCENARIOS = (
    "baseline", "combined", "mvz_centre", "mvz_hochfeld", "mvz_incentive",
    "rent_mix_binding_extension", "rent_mix_no_action", "rent_mix_quota_30", "school_hochfeld",
    "ticket_58", "ticket_free", "ticket_sozialticket", "zensus_sample", "schelling", "rueckbau",
)
TABLES = ("outcomes", "cells", "vital")


@dataclass(frozen=True)
class Case:
    scenario: str
    seed: int
    households: int = HOUSEHOLDS

    @property
    def name(self) -> str:
        size = "" if self.households == HOUSEHOLDS else f"_h{self.households}"
        return f"{self.scenario}{size}_s{self.seed}"

    def path(self, table: str) -> Path:
        return DATA / f"{self.name}.{table}.parquet"


# At 5,000 households the city has one primary school (in Nordstadt), so the school lever
# acts only from about 10,000 households.
CASES = (*(Case(s, seed) for s in SCENARIOS for seed in SEEDS),
         Case("school_hochfeld", 1, 10_000), Case("baseline", 1, 10_000))


def scenario_of(case: Case) -> sim.Scenario:
    scenario = sim.load_scenario(ROOT / "scenarios" / f"{case.scenario}.toml")
    if scenario.model == "schelling":
        return scenario.with_values({"years": YEARS, "schelling.width": 50,
                                     "schelling.height": 50})
    values = {"city.households": case.households, "years": YEARS}
    mvz = scenario.levers.mvz
    if mvz is not None and mvz.centres and scenario.city.kind == "ruhrstadt":
        values["levers.mvz.centres"] = [
            {**c.model_dump(), "cell": scaled_cell(c.cell, scenario, case.households)}
            for c in mvz.centres]
    return scenario.with_values(values)


def scaled_cell(cell: tuple[int, int], scenario: sim.Scenario, households: int) -> list[int]:
    """A lever cell of the full-size Ruhrstadt moved to the same place on the smaller grid
    (the grid grows with the square root of the households)."""
    from sim.inputs.city import build_ruhrstadt

    full = build_ruhrstadt(scenario.city.households or 30_000, scenario.city.layout_seed)
    small = build_ruhrstadt(households, scenario.city.layout_seed)
    return [round(cell[0] * small.width / full.width), round(cell[1] * small.height / full.height)]


def produce(case: Case) -> dict[str, pd.DataFrame]:
    """The tables of one case, as the current code makes them."""
    model = sim.build_model(scenario_of(case), seed=case.seed).run()
    tables = {"outcomes": model.outcomes()}
    cells = getattr(model, "cell_snapshots", lambda: None)()
    if cells is not None:
        tables["cells"] = cells
    vital = getattr(model, "vital_statistics", lambda: None)()
    if vital is not None:
        tables["vital"] = vital
    return tables


def plain(table: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as strings, so that stored and fresh tables compare value by value."""
    out = table.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(str)
    return out.reset_index(drop=True)


def write(case: Case) -> list[Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    written = []
    for table, frame in produce(case).items():
        path = case.path(table)
        plain(frame).to_parquet(path, compression="zstd", index=False)
        written.append(path)
    return written
