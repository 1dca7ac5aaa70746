"""Why a run's out-migration changes over the years: the searchers of each year and how many
of them choose the outside option (leave the city), split by whether they still live in their
start dwelling.

    python -m calibration.outflow [--scenario scenarios/essen_historical.toml] [--seed 1]
                                  [--households N] [--set KEY=JSON ...] [--metrics A,B]

A diagnostic: it watches the moving step's choice (``sim.model.processes.moving``) of one run
without changing it (the run's outcomes are those of a plain run, tested) and prints one row
per simulated year, as a Markdown table, with the city's population, births, in-migrants (and
those under 18), out-migrants, share under 18, rent burden and vacancy, and any citywide
outcomes named by ``--metrics``. The in-migrants' own
choice is not in it.
``--set`` overrides scenario values by their dotted path, e.g.
``--set parameters.mobility.utility_similar_neighbours=0``.
"""

from __future__ import annotations

import argparse
import json
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import sim
from sim.state.outcomes import METRICS


@dataclass
class ChoiceLog:
    """The moving step's searchers of each year, as :func:`watching` records them."""

    rows: list[dict] = field(default_factory=list)
    _moved_in: np.ndarray | None = None
    _year: int = 0
    start_year: int = 0

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


@contextmanager
def watching(log: ChoiceLog):
    """Record the moving step's searchers and choices in ``log`` while the block runs."""
    from sim.model.processes import moving

    searchers_of, choose = moving._searchers, moving.choose

    def searchers(model, year, rows):
        log._moved_in = model.population.moved_in[rows].copy()
        log._year, log.start_year = year.year, model.scenario.start_year
        return searchers_of(model, year, rows)

    def chosen(found, *args, **kwargs):
        result = choose(found, *args, **kwargs)
        current = found["current"]
        housed = current >= 0
        start = housed & (log._moved_in < log.start_year)  # the start state: start_year - 1
        moved = housed & ~start
        out = result < 0
        group = found["income_group"]
        log.rows.append({
            "year": log._year, "searchers": int(result.size),
            "outside_share": float(out.mean()) if result.size else np.nan,
            "without_dwelling": int((~housed).sum()),
            "outside_share_without_dwelling": _share(out, ~housed),
            "in_start_dwelling": int(start.sum()),
            "outside_share_in_start_dwelling": _share(out, start),
            "moved_since": int(moved.sum()),
            "outside_share_moved_since": _share(out, moved),
            "outside_share_poor": _share(out, group == 0),
        })
        return result

    moving._searchers, moving.choose = searchers, chosen
    try:
        yield log
    finally:
        moving._searchers, moving.choose = searchers_of, choose


def _share(flag: np.ndarray, among: np.ndarray) -> float:
    return float(flag[among].mean()) if among.any() else np.nan


def observe(scenario, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One run of ``scenario`` watched: (the choice table by year, the run's outcomes)."""
    log = ChoiceLog()
    with watching(log):
        model = sim.build_model(scenario, seed=seed).run(scenario.years)
    return log.table(), model.outcomes()


def diagnostic_arguments(description: str, argv: list[str] | None = None,
                         metrics: bool = False):
    """The command line of a diagnostic run (``--scenario``, ``--seed``, ``--households``,
    ``--set KEY=JSON``): (the parsed arguments, the scenario with the overrides, the
    overrides)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scenario", default="scenarios/essen_historical.toml")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--households", type=int, default=None,
                        help="a smaller copy of the city (default: the scenario's size)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                        help="override a scenario value by its dotted path (repeatable)")
    if metrics:
        parser.add_argument("--metrics", default="", metavar="NAME,...",
                            help="more citywide outcomes as columns, e.g. "
                            "dissimilarity_income_cells,relet_rent_m2 (see quartier metrics)")
    args = parser.parse_args(argv)
    scenario = sim.load_scenario(args.scenario)
    values = {}
    for item in args.set:
        key, _, text = item.partition("=")
        values[key] = json.loads(text)
    if args.households:
        values["city.households"] = args.households
    if values:
        scenario = scenario.with_values(values)
    return args, scenario, values


def main(argv: list[str] | None = None) -> None:
    args, scenario, values = diagnostic_arguments(__doc__.splitlines()[0], argv, metrics=True)
    extra = [m for m in args.metrics.split(",") if m]
    unknown = sorted(set(extra) - set(METRICS))
    if unknown:
        raise SystemExit(f"--metrics: unknown metric {unknown[0]!r} (see quartier metrics)")
    table, outcomes = observe(scenario, args.seed)
    city = outcomes[outcomes["scope"] == "city"].pivot_table(
        index="year", columns="metric", values="value")
    table = table.set_index("year")
    for metric in ("population", "births", "in_migrants", "in_migrants_under_18", "out_migrants",
                   "share_under_18", "mean_rent_burden", "vacancy_rate", *extra):
        table[metric] = city[metric].reindex(table.index)
    print(f"{args.scenario}, seed {args.seed}" + (f", {values}" if values else ""))
    print(_markdown(table))


def _markdown(table: pd.DataFrame) -> str:
    def cell(v, name):
        if pd.isna(v):
            return "–"
        if "share" in name or name in ("mean_rent_burden", "vacancy_rate"):
            return f"{100 * v:.1f} %"
        if abs(v) < 100 and v != round(v):  # indices, rates, EUR per m²
            return f"{v:.3f}"
        return f"{v:,.0f}"

    head = ["year", *table.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for year, row in table.iterrows():
        lines.append("| " + " | ".join([str(year), *(cell(row[c], c) for c in table.columns)])
                     + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
