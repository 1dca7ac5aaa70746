"""Who stays poor: the continuously poor of a 4-year window by household group, and the spells
on SGB II transfers against the BA figures.

    PYTHONPATH=. python benchmarks/poverty_spells.py --households 10000 --seed 2
    PYTHONPATH=. python benchmarks/poverty_spells.py --seed 2 \\
        --set employment.inactive_income_share=0.3 employment.transitory_sd=0.3 \\
        employment.potential_household_correlation=0.5        # the defaults before issue 17

For the windows 2023+4 and 2027+4 (households present throughout): the share of the poor in
the window's last year poor in each of its 4 years, by group in that year (households without
a member 18-64; of working age without a worker; with a worker), how many of them lived on
their SGB II level in all 4 years; and for the households on transfers in years 4 and 8 the
share whose spell began this year and the share on transfers for 4 years or more (BA: 19-22 %
of SGB II recipients under a year, 44.6 % four years or more, `poverty_employment_dynamics.csv`).
Not a test: docs/ODD.md 7.6b quotes its output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402, I001 (before numpy: sim.numerics)
import numpy as np  # noqa: E402
from sim.model.processes import incomes  # noqa: E402


def snapshot(model) -> dict[str, np.ndarray]:
    pop = model.population
    n, h, a, status = pop.n_households, pop.household, pop.age, pop.employment
    ep = model.scenario.parameters.employment
    _, transfers = incomes.household_incomes(
        h, a, pop.is_child, status, pop.potential, pop.transitory, np.ones(a.size, bool), n,
        float(model.income_index), model.employment.weights,
        incomes.age_profile(ep.earnings_growth_with_age), incomes.benefit_levels(ep))
    working = (a >= 18) & (a < 65)
    return {"hid": pop.hid.copy(), "rel": pop.income / model.median_income,
            "working": np.bincount(h[working], minlength=n),
            "workers": np.bincount(h[working & (status == 0)], minlength=n),
            "transfers": transfers}


def aligned(history, t, hids, key):
    s = history[t]
    order = np.argsort(s["hid"])
    return s[key][order][np.searchsorted(s["hid"][order], hids)]


def present(history, t0, t1):
    hids = history[t0]["hid"]
    for s in history[t0 + 1:t1 + 1]:
        hids = np.intersect1d(hids, s["hid"])
    return hids


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--households", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=2)
    p.add_argument("--set", nargs="*", default=[], help="parameters.KEY=VALUE overrides")
    args = p.parse_args()
    values = {"city.households": args.households, "years": 8, "outcomes.cell_snapshots": False}
    for item in args.set:
        key, value = item.split("=")
        values[f"parameters.{key}"] = float(value)
    sc = sim.load_scenario(ROOT / "scenarios" / "baseline.toml").with_values(values)
    model = sim.build_model(sc, seed=args.seed)
    history = [snapshot(model)]
    for _ in range(8):
        model.step()
        history.append(snapshot(model))
    for t0 in (0, 4):
        hids = present(history, t0, t0 + 4)
        poor = np.array([aligned(history, t, hids, "rel") < 0.6 for t in range(t0 + 1, t0 + 5)])
        on = np.array([aligned(history, t, hids, "transfers") for t in range(t0 + 1, t0 + 5)])
        last, always = poor[-1], poor.all(0)
        working = aligned(history, t0 + 4, hids, "working")
        workers = aligned(history, t0 + 4, hids, "workers")
        print(f"window {sc.start_year + t0 - 1}+4: poor in the last year {last.sum()}, in all 4 "
              f"{always.sum()} ({always.sum() / last.sum():.1%}); of these on their SGB II "
              f"level in all 4: {(always & on.all(0)).sum()}")
        for name, group in (("no member 18-64", working == 0),
                            ("18-64 without a worker", (working > 0) & (workers == 0)),
                            ("with a worker", workers > 0)):
            n_poor, n_always = (last & group).sum(), (always & group).sum()
            print(f"  {name:24s} poor {n_poor:5d}, in all 4 {n_always:5d} "
                  f"({n_always / max(n_poor, 1):.1%})")
    for t in (4, 8):
        hids = present(history, t - 4, t)
        on = np.array([aligned(history, k, hids, "transfers") for k in range(t - 4, t + 1)])
        stock = on[-1]
        print(f"year {sc.start_year + t - 1}: households on transfers {stock.sum()}; spell begun "
              f"this year {(stock & ~on[-2]).sum() / stock.sum():.1%}, 4 years or more "
              f"{on.all(0).sum() / stock.sum():.1%}")


if __name__ == "__main__":
    main()
