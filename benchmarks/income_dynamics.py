"""Poverty dynamics of the baseline: persistence, entry and exit rates, unemployment.

    PYTHONPATH=. python benchmarks/income_dynamics.py --households 20000 --years 8 --seeds 1 2

For each seed: per 4-year window (households present throughout) the share of the bottom fifth
still in the bottom fifth after 4 years (SOEP: 54-60 %) and the share of the poor in the
window's last year who were poor in each of its 4 years (SOEP: 20-44 %); the city's poverty
entry and exit rates, the share at risk of poverty and the unemployment rate by year. Not a
test: docs/incomes.md reports its output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402, I001 (before numpy: sim.numerics)
import numpy as np  # noqa: E402
from tests.test_income_dynamics import persistence  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--households", type=int, default=20_000)
    p.add_argument("--years", type=int, default=8)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()
    base = sim.load_scenario(ROOT / "scenarios" / "baseline.toml")
    for seed in args.seeds:
        sc = base.with_values({"city.households": args.households, "years": args.years,
                               "outcomes.cell_snapshots": False})
        model = sim.build_model(sc, seed=seed)
        history = [(model.population.hid.copy(), model.population.income / model.median_income)]
        unemployment = []
        for _ in range(args.years):
            model.step()
            pop = model.population
            history.append((pop.hid.copy(), pop.income / model.median_income))
            labour = (pop.age >= 18) & (pop.age < 65) & (pop.employment != 3)
            unemployment.append(float(np.isin(pop.employment[labour], [1, 2]).mean()))
        print(f"seed {seed}, {args.households} households")
        for t0 in range(args.years - 3):
            bottom, continuous = persistence(history, t0)
            print(f"  window {model.scenario.start_year - 1 + t0}+4: bottom fifth still there "
                  f"{bottom:.3f}, poor in each of 4 years {continuous:.3f}")
        out = model.outcomes()
        city = out[out.scope == "city"].pivot(index="year", columns="metric", values="value")
        city = city[["share_poor", "poverty_entry_rate", "poverty_exit_rate"]].iloc[1:].copy()
        city["unemployment_rate"] = unemployment
        print(city.round(3).to_string())


if __name__ == "__main__":
    main()
