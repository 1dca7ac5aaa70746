"""Net migration by age group: who arrives and who leaves the city each simulated year, counted
person by person, as rates per 1,000 residents of the age group.

    python -m calibration.age_migration [--scenario scenarios/essen_historical.toml]
                                        [--seed 1] [--households N] [--set KEY=JSON ...]

A diagnostic for the age profile of migration (``migration_age_profiles.csv``,
``more_migration_age.csv``: kreisfreie Städte gain 18-29-year-olds and lose 30-49-year-olds).
Persons are followed by their ids (stable for life): an out-migrant is a person present at the
start of a year who neither died nor is present at its end; an in-migrant is a person present
at the end who was not at the start and is not a newborn of the year (the mortality and ageing
steps are watched for who died and who was born; the run itself is not changed, tested).
Ages are those at the end of the year; rates are per 1,000 residents of the age group at the
end of the year.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

import sim

#: Age groups of the published net migration rates (lower bounds; the last is open).
AGE_GROUPS = ((0, 18, "0-17"), (18, 30, "18-29"), (30, 50, "30-49"), (50, 65, "50-64"),
              (65, 999, "65+"))


@dataclass
class Flows:
    """Persons who died and were born in the year being simulated (ids)."""

    died: list[np.ndarray] = field(default_factory=list)
    born: list[np.ndarray] = field(default_factory=list)


@contextmanager
def watching(flows: Flows):
    """Record the ids of who dies (mortality step) and who is born (ageing step)."""
    from sim.model import kernel
    from sim.model.processes import ageing, mortality

    death_step, ageing_step = mortality.step, ageing.step

    def died(model, year, params, draws):
        result = death_step(model, year, params, draws)
        flows.died.append(model.population.pid[~year.person_alive].copy())
        return result

    def aged(model, year, params, draws):
        before = model.population.n_persons
        result = ageing_step(model, year, params, draws)
        flows.born.append(model.population.pid[before:].copy())
        return result

    schedule = kernel.SCHEDULE
    steps = {"mortality": died, "ageing": aged}
    watched = tuple(replace(p, step=steps[p.name]) if p.name in steps else p for p in schedule)
    kernel.SCHEDULE = watched
    try:
        yield flows
    finally:
        kernel.SCHEDULE = schedule


def _groups(age: np.ndarray) -> np.ndarray:
    out = np.empty(age.size, dtype=object)
    for lo, hi, label in AGE_GROUPS:
        out[(age >= lo) & (age < hi)] = label
    return out


def observe(scenario, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One run of ``scenario``: (in- and out-migrants and residents by year and age group,
    the run's outcomes)."""
    flows = Flows()
    rows = []
    with watching(flows):
        model = sim.build_model(scenario, seed=seed)
        for _ in range(scenario.years):
            pop = model.population
            pid0, age0 = pop.pid.copy(), pop.age.copy()
            model.step()
            pop = model.population
            died, born = flows.died[-1], flows.born[-1]
            gone = ~np.isin(pid0, pop.pid) & ~np.isin(pid0, died)
            new = ~np.isin(pop.pid, pid0) & ~np.isin(pop.pid, born)
            by = {
                "out_migrants": pd.Series(_groups(age0[gone] + 1)).value_counts(),
                "in_migrants": pd.Series(_groups(pop.age[new])).value_counts(),
                "residents": pd.Series(_groups(pop.age)).value_counts(),
            }
            for _, _, label in AGE_GROUPS:
                rows.append({"year": model.year, "age_group": label,
                             **{k: int(v.get(label, 0)) for k, v in by.items()}})
    table = pd.DataFrame(rows)
    table["net_per_1000"] = 1000 * (table.in_migrants - table.out_migrants) / table.residents
    return table, model.outcomes()


def main(argv: list[str] | None = None) -> None:
    from calibration.outflow import diagnostic_arguments

    args, scenario, values = diagnostic_arguments(__doc__.splitlines()[0], argv)
    table, _ = observe(scenario, args.seed)
    wide = table.pivot(index="year", columns="age_group", values="net_per_1000")
    wide = wide[[label for _, _, label in AGE_GROUPS]]
    print(f"{args.scenario}, seed {args.seed}" + (f", {values}" if values else ""))
    print("Net migration per 1,000 residents of the age group (in-migrants - out-migrants):")
    head = ["year", *wide.columns]
    print("| " + " | ".join(head) + " |")
    print("|" + "---:|" * len(head))
    for year, row in wide.iterrows():
        print("| " + " | ".join([str(year), *(f"{v:+.1f}" for v in row)]) + " |")
    totals = table.groupby("age_group")[["in_migrants", "out_migrants"]].sum()
    totals = totals.loc[[label for _, _, label in AGE_GROUPS]]
    print("\nIn- and out-migrants over all years:")
    for label, row in totals.iterrows():
        print(f"  {label:>5}: {row.in_migrants:>9,} in  {row.out_migrants:>9,} out")


if __name__ == "__main__":
    main()
