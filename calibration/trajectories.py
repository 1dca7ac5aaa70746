"""Reachable trajectories: the in-migration demand that makes the built-in city shrink or grow
by a given share over 19 years.

The targets are of the order of IT.NRW's projections 2011→2030 (``population_projection_nrw_cities``
in ../shared/calibration-data; SOURCES.md section 18): Essen −4.9 %, Köln +10.4 %. Only
``parameters.migration.in_migration_rate`` (the demand at the target vacancy) varies; every
other parameter keeps the baseline's value, construction and demolition included, so both
trajectories start from the same city. The demand is found by bisection on the mean over
common seeds (the population change rises with the demand).

    python -m calibration.trajectories            # writes calibration/trajectories.toml

The result file lists each trajectory's demand with the change it gives; ``docs/ODD.md``
quotes it and ``tests/test_migration_demand.py`` re-runs it (±1 percentage point).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import sim
from sim.experiments.files import write_atomic

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "trajectories.toml"
TARGETS = {"shrinking": -0.05, "growing": 0.10}
YEARS = 19
HOUSEHOLDS = 10_000
SEEDS = (1, 2, 3)
PATH = "parameters.migration.in_migration_rate"


def change(scenario: sim.Scenario, rate: float, seeds=SEEDS, years: int = YEARS,
           households: int = HOUSEHOLDS) -> float:
    """Mean relative population change over ``years`` with demand ``rate`` (seeds ``seeds``)."""
    sc = scenario.with_values({PATH: rate, "city.households": households, "years": years,
                               "outcomes.cell_snapshots": False})
    changes = []
    for seed in seeds:
        out = sim.build_model(sc, seed=seed).run().outcomes()
        pop = out[(out.scope == "city") & (out.metric == "population")].sort_values("year")
        changes.append(pop.value.iloc[-1] / pop.value.iloc[0] - 1.0)
    return float(np.mean(changes))


def find_rate(scenario: sim.Scenario, target: float, low: float = 0.0, high: float = 0.4,
              tolerance: float = 0.002, steps: int = 14) -> tuple[float, float]:
    """The demand whose mean change is within ``tolerance`` of ``target`` (bisection)."""
    rate = got = float("nan")
    for _ in range(steps):
        rate = 0.5 * (low + high)
        got = change(scenario, rate)
        if abs(got - target) <= tolerance:
            break
        if got < target:
            low = rate
        else:
            high = rate
    return rate, got  # not rounded: the Poisson draws change with the last digit


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    base = sim.load_scenario(args.scenario)
    lines = ["# Written by `python -m calibration.trajectories`: the in-migration demand",
             f"# (in_migration_rate) that changes the built-in city's population over {YEARS}",
             f"# years by the target, mean of seeds {', '.join(map(str, SEEDS))} at "
             f"{HOUSEHOLDS:,} households;",
             "# every other parameter as in the baseline. Targets: IT.NRW 2011->2030, Essen",
             "# -4.9 %, Koeln +10.4 % (population_projection_nrw_cities.csv).",
             f"years = {YEARS}", f"households = {HOUSEHOLDS}",
             f"seeds = [{', '.join(map(str, SEEDS))}]",
             f"baseline_rate = {base.parameters.migration.in_migration_rate}", ""]
    for name, target in TARGETS.items():
        rate, got = find_rate(base, target)
        print(f"{name}: in_migration_rate = {rate} gives {got:+.2%} (target {target:+.0%})")
        lines += [f"[{name}]", f"target = {target}", f"in_migration_rate = {rate}",
                  f"change = {got!r}", ""]
    text = "\n".join(lines)
    write_atomic(Path(args.out), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


if __name__ == "__main__":
    main()
