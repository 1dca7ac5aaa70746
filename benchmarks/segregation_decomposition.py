"""Where the segregation of the poor changes: D (poor vs the rest, persons, over quartiers)
after each step of the year, and the income step and the move season split further.

    PYTHONPATH=. python benchmarks/segregation_decomposition.py --households 30000 --years 1
    PYTHONPATH=. python benchmarks/segregation_decomposition.py --scenario scenarios/essen.toml \
        --households 40000 --years 1
    PYTHONPATH=. python benchmarks/segregation_decomposition.py --years 12 --trajectory 1 2 3

D is computed as ``dissimilarity_income_quartiers``: persons of households at risk of poverty
(below 60 % of the median) against all other persons, over the quartiers of the households'
dwellings; households without a dwelling (new ones before the move season) are left out.
For each simulated year it prints D at the start, then after each process of the schedule
(the change is the process's share), with two splits:

- ``incomes``: the households' incomes recomputed (a) with last year's employment statuses and
  transitory parts (ageing, household composition, new adults; the income index), (b) with this
  year's transitory parts, (c) with this year's statuses (the step's result). Persons whose
  household changes poverty status in place are counted for each part, and their exits from
  and entries into poverty in the poorest third of the quartiers (by the share of the poor
  before the step) and in the rest.
- ``moving``: (a) out-migrants (movers choosing the outside option, households that found
  nothing) removed, (b) movers within the city at their new quartier, (c) new households
  (leavers, separated partners) housed.

The last column is the running change since the start of the year. At the start of each year
it also prints the long-term unemployed per person 19-64 in the poorest third of the quartiers
and in the rest (where the start statuses put them, and where the yearly moves keep them).
Over several years it ends with the steps' changes summed. With ``--trajectory`` it only runs
the model and prints D by year (start first) for each seed, and their median. Not a test;
the printed tables are quoted in docs/incomes.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402, I001 (before numpy: sim.numerics)
import numpy as np  # noqa: E402
from sim.model import schedule  # noqa: E402
from sim.model.processes import incomes  # noqa: E402


def dissimilarity(quartier: np.ndarray, poor: np.ndarray, n_q: int) -> float:
    """D of the poor against the rest over quartiers (persons; ``quartier`` < 0 left out)."""
    ok = quartier >= 0
    p = np.bincount(quartier[ok], weights=poor[ok].astype(float), minlength=n_q)
    r = np.bincount(quartier[ok], weights=(~poor[ok]).astype(float), minlength=n_q)
    if p.sum() == 0 or r.sum() == 0:
        return float("nan")
    return 0.5 * float(np.abs(p / p.sum() - r / r.sum()).sum())


def person_state(model, year) -> tuple[np.ndarray, np.ndarray]:
    """Quartier (-1: not in the city or not housed) and poverty of every person row."""
    pop, city = model.population, model.city
    hh = pop.household
    alive = year.person_alive & year.household_alive[hh]
    dw = pop.dwelling[hh]
    q = np.where(alive & (dw >= 0), city.dwelling_quartier[np.maximum(dw, 0)], -1)
    poor = pop.income[hh] < 0.6 * model.median_income
    return q.astype(np.int64), poor


def poorest_third(q: np.ndarray, poor: np.ndarray, n_q: int) -> np.ndarray:
    """Whether each person lives in the poorest third of the quartiers (by share poor)."""
    housed = q >= 0
    share = np.bincount(q[housed], weights=poor[housed], minlength=n_q) / np.maximum(
        np.bincount(q[housed], minlength=n_q), 1)
    poorest = np.zeros(n_q + 1, bool)
    poorest[np.argsort(-share)[: n_q // 3]] = True
    return poorest[q] & housed


def long_term_unemployment(model, q: np.ndarray, poor: np.ndarray) -> str:
    """Long-term unemployed per person 19-64 in the poorest third of the quartiers and in
    the rest."""
    pop = model.population
    n_q = model.city.n_quartiers
    in_poorest = poorest_third(q, poor, n_q)
    adult = (pop.age >= 19) & (pop.age < 65) & (q >= 0)
    long = pop.employment == 2
    shares = [long[adult & m].mean() if (adult & m).any() else float("nan")
              for m in (in_poorest, ~in_poorest)]
    return (f"    long-term unemployed per person 19-64: poorest third of quartiers "
            f"{shares[0]:.3f}, the rest {shares[1]:.3f}")


def income_parts(model, year, status0, transitory0) -> list[tuple[str, np.ndarray]]:
    """Household incomes with last year's statuses and transitory parts, with this year's
    transitory parts, and with this year's statuses too (after the income step's growth)."""
    pop = model.population
    ep = model.scenario.parameters.employment
    alive = year.person_alive & year.household_alive[pop.household]
    index = float(model.income_index) * (1.0 + model.scenario.parameters.income.income_growth)
    args = (model.employment.weights, incomes.age_profile(ep.earnings_growth_with_age),
            incomes.benefit_levels(ep))
    n0 = status0.size
    out = []
    for name, status, transitory in (
            ("(a) last year's status and transitory", status0, transitory0),
            ("(b) + this year's transitory", status0, pop.transitory[:n0]),
            ("(c) + this year's status", pop.employment[:n0], pop.transitory[:n0])):
        status = np.r_[status, pop.employment[n0:]]
        transitory = np.r_[transitory, pop.transitory[n0:]]
        eq, _ = incomes.household_incomes(pop.household, pop.age, pop.is_child, status,
                                          pop.potential, transitory, alive,
                                          pop.n_households, index, *args)
        out.append((name, np.where(year.household_alive, eq, pop.income)))
    return out


def decompose_year(model) -> list[tuple[str, float, int]]:
    """Simulate one year as the model does, recording D after each step (and the parts)."""
    n_q = model.city.n_quartiers
    year = model.begin_year(model.year + 1)
    rows = []
    q, poor = person_state(model, year)
    rows.append(("start", dissimilarity(q, poor, n_q), 0))
    rows.append((long_term_unemployment(model, q, poor), None, 0))
    status0 = transitory0 = None
    for process in schedule.SCHEDULE:
        if process.name == "employment":
            status0 = model.population.employment.copy()
            transitory0 = model.population.transitory.copy()
        if process.name == "incomes":
            q, poor = person_state(model, year)
            line = 0.6 * model.median_income * (
                1.0 + model.scenario.parameters.income.income_growth)
            hh = model.population.household
            housed = q >= 0
            in_poorest = poorest_third(q, poor, n_q)
            for name, eq in income_parts(model, year, status0, transitory0):
                new_poor = eq[hh] < line
                changed = int(((new_poor != poor) & housed).sum())
                rows.append((f"  incomes {name}", dissimilarity(q, new_poor, n_q), changed))
                flows = [int((a & b & c).sum()) for c in (in_poorest, housed & ~in_poorest)
                         for a, b in ((poor, ~new_poor), (~poor, new_poor))]
                rows.append(("      exits, entries: poorest third of quartiers "
                             f"{flows[0]}, {flows[1]}; the rest {flows[2]}, {flows[3]}", None, 0))
                poor = new_poor
        if process.name == "moving":
            q0, poor0 = person_state(model, year)
            alive0 = year.person_alive.copy() & year.household_alive[model.population.household]
        schedule.run_processes(model, year, (process,))
        if process.name == "moving":
            q1, poor1 = person_state(model, year)
            alive1 = year.person_alive & year.household_alive[model.population.household]
            gone = alive0 & ~alive1
            q_out = np.where(gone, -1, q0)
            rows.append(("  moving (a) out-migrants removed", dissimilarity(q_out, poor0, n_q),
                         int((gone & (q0 >= 0)).sum())))
            moved = (q0 >= 0) & (q1 >= 0) & ~gone
            q_move = np.where(moved, q1, q_out)
            rows.append(("  moving (b) movers within the city at their new quartier",
                         dissimilarity(q_move, poor0, n_q), int((moved & (q1 != q0)).sum())))
            rows.append(("  moving (c) new households housed", dissimilarity(q1, poor1, n_q),
                         int(((q0 < 0) & (q1 >= 0)).sum())))
        q, poor = person_state(model, year)
        rows.append((process.name, dissimilarity(q, poor, n_q), 0))
    flows = year.finish()
    year.situation, year.vacancies = {}, None
    model.population.keep(year.person_alive, year.household_alive)
    model.year = year.year
    model.records.record(model, flows, year.access)
    return rows


def trajectory(scenario, years: int, seeds: list[int]) -> None:
    """Print ``dissimilarity_income_quartiers`` by year for each seed, and the median."""
    rows = []
    for seed in seeds:
        out = sim.build_model(scenario.with_values({"years": years}), seed=seed).run().outcomes()
        city = out[(out.scope == "city") & (out.metric == "dissimilarity_income_quartiers")]
        rows.append(city.sort_values("year").value.to_numpy())
        print(f"seed {seed}: " + " ".join(f"{d:.3f}" for d in rows[-1]), flush=True)
    print("median: " + " ".join(f"{d:.3f}" for d in np.median(np.array(rows), axis=0)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    p.add_argument("--households", type=int, default=30_000)
    p.add_argument("--years", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--trajectory", type=int, nargs="+", metavar="SEED",
                   help="only D by year (the recorded metric) for these seeds and their median")
    args = p.parse_args()
    sc = sim.load_scenario(args.scenario).with_values(
        {"city.households": args.households, "outcomes.cell_snapshots": False})
    if args.trajectory:
        trajectory(sc, args.years, args.trajectory)
        return
    model = sim.build_model(sc, seed=args.seed)
    recorded = model.outcomes()
    recorded = recorded[(recorded.scope == "city")
                        & (recorded.metric == "dissimilarity_income_quartiers")]
    print(f"{Path(args.scenario).name}, {args.households} households, seed {args.seed}; "
          f"recorded D at the start {recorded.value.iloc[0]:.4f}")
    totals: dict[str, float] = {}
    first = None
    for _ in range(args.years):
        rows = decompose_year(model)
        start = rows[0][1]
        first = start if first is None else first
        print(f"\nyear {model.year}: step, D after it, persons concerned, change, since start")
        last = start
        for name, d, n in rows:
            if d is None:
                print(f"  {name}" if name.startswith(" ") else name)
                continue
            print(f"  {name:<58} {d:.4f} {n if n else '':>7} {d - last:+.4f} {d - start:+.4f}")
            key = name.strip()
            if name.startswith("  ") or not any(r[0].strip().startswith(key + " ")
                                                for r in rows):
                totals[key] = totals.get(key, 0.0) + d - last
            last = d
        out = model.outcomes()
        city = out[(out.scope == "city") & (out.metric == "dissimilarity_income_quartiers")]
        print(f"  recorded D at the end of the year {city.value.iloc[-1]:.4f}")
    if args.years > 1:
        print(f"\nover {args.years} years: D {first:.4f} -> {city.value.iloc[-1]:.4f}; "
              "the steps' changes summed")
        for key, value in totals.items():
            if abs(value) >= 0.00005:
                print(f"  {key:<58} {value:+.4f}")


if __name__ == "__main__":
    main()
