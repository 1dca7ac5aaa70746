"""Where the mean household size goes: each process's part in the yearly change of persons,
households and persons per household.

The year is run as ``QuartierModel.step`` runs it (the same processes in the same order, the
same random numbers: the results are those of an ordinary run), and after every process the
private households are counted: households in the city with living members, not in a nursing
home (with or without a dwelling: young adults who have just left home and separated partners
search in ``moving``). For each process this gives

- ``h_gone``, ``p_gone``: households counted before and not after it, and their persons before
  (deaths of people living alone, out-migration, partners moving together, moves to a nursing
  home);
- ``h_new``, ``p_new``: households counted after and not before, and their persons
  (in-migrants, young adults leaving home, separated partners);
- ``p_stay``: the change of persons of the households counted before and after (births and
  deaths in a household, children leaving, partners moving in or out);
- ``dh``, ``dp`` and ``dm``: the change of households, persons, and persons per household
  (``dm`` = mean size after the process − mean size before it: the processes' ``dm`` add up
  exactly to the year's change, in the order they run).

``moving`` is split into ``moving_no_dwelling`` (households without a dwelling before the step,
i.e. founded this year, that leave the city) and ``moving`` (housed households leaving).
The year-end counts equal the recorded ``households`` and ``population`` less nursing-home
residents (tested on the fly: the script stops if not).

    python -m calibration.household_flows                         # Essen and the built-in city
    python -m calibration.household_flows --city essen --seeds 1 2 3 --years 12 --households 40000
    python -m calibration.household_flows --city baseline --out flows.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

import sim
from sim.model.processes import in_migration
from sim.model.schedule import SCHEDULE, run_processes
from sim.model.threads import one_blas_thread
from sim.state.city import in_nursing_home

ROOT = Path(__file__).resolve().parent.parent
CITIES = {"essen": ROOT / "scenarios" / "essen.toml",
          "baseline": ROOT / "scenarios" / "baseline.toml"}
HOUSEHOLDS = {"essen": 40_000, "baseline": 30_000}


# what the processes' rows hold besides their name
LABELS = {"mortality": "mortality (deaths)", "ageing": "ageing (newborns join)",
          "household_change": "household_change (minors alone leave)",
          "care": "care (nursing-home moves)", "in_migration": "in_migration (come)",
          "moving_no_dwelling": "moving: new households leave",
          "moving": "moving: housed households leave"}
AGE_BANDS = ((0, 17), (18, 29), (30, 49), (50, 64), (65, 200))
BAND_NAMES = tuple(f"{lo}_{hi}" if hi < 200 else f"{lo}plus" for lo, hi in AGE_BANDS)


class Snapshot:
    """The private households' sizes (0: not a private household in the city), and each
    person's household and age, at one moment of the year."""

    def __init__(self, model, year) -> None:
        pop = model.population
        alive = year.person_alive[: pop.n_persons]
        self.household = pop.household.copy()
        self.age = pop.age.copy()
        self.alive = alive.copy()
        size = np.bincount(pop.household[alive], minlength=pop.n_households)
        private = year.household_alive[: pop.n_households] & ~in_nursing_home(pop.dwelling,
                                                                               model.city)
        self.size = np.where(private, size, 0)

    def without(self, rows: np.ndarray) -> Snapshot:
        """A copy in which the households ``rows`` (a mask) are not counted."""
        out = object.__new__(Snapshot)
        out.household, out.age, out.alive = self.household, self.age, self.alive
        out.size = np.where(rows[: self.size.size], 0, self.size)
        return out


def _bands(age: np.ndarray) -> np.ndarray:
    return np.array([((age >= lo) & (age <= hi)).sum() for lo, hi in AGE_BANDS], float)


def _diff(before: Snapshot, after: Snapshot) -> dict[str, float]:
    b = np.zeros(after.size.size, before.size.dtype)
    b[: before.size.size] = before.size
    a = after.size
    was, now = b > 0, a > 0
    gone, new, stay = was & ~now, now & ~was, was & now
    h0, p0, h1, p1 = was.sum(), b.sum(), now.sum(), a.sum()
    row = {"h_gone": float(gone.sum()), "p_gone": float(b[gone].sum()),
           "h_new": float(new.sum()), "p_new": float(a[new].sum()),
           "p_stay": float((a[stay] - b[stay]).sum()),
           "dh": float(h1 - h0), "dp": float(p1 - p0),
           "dm": float(p1 / max(h1, 1) - p0 / max(h0, 1))}
    # persons of the households gone (ages before) and of the new ones (ages after)
    hb = before.household[before.alive]
    g = _bands(before.age[before.alive][gone[hb]])
    ha = after.household[after.alive]
    n = _bands(after.age[after.alive][new[ha]])
    for k, name in enumerate(BAND_NAMES):
        row[f"gone_{name}"], row[f"new_{name}"] = g[k], n[k]
    return row


class ChoiceLog:
    """Records, per size of household (1 … 5+), the in-migrant households drawn and those
    who came (a wrapper around the in-migration step's choice)."""

    def __init__(self) -> None:
        self.drawn = np.zeros(6)
        self.came = np.zeros(6)

    def __enter__(self) -> ChoiceLog:
        self._choose = in_migration.choose

        def choose(newcomers, *args, **kwargs):
            chosen = self._choose(newcomers, *args, **kwargs)
            size = np.minimum(newcomers["size"], 5)
            self.drawn += np.bincount(size, minlength=6)
            self.came += np.bincount(size[chosen >= 0], minlength=6)
            return chosen

        in_migration.choose = choose
        return self

    def __exit__(self, *exc) -> None:
        in_migration.choose = self._choose


def step_with_flows(model) -> list[dict]:
    """One year of ``model`` (as ``model.step()``), returning a row per process."""
    rows = []
    with one_blas_thread():
        year = model.begin_year(model.year + 1)
        snap = start = Snapshot(model, year)
        for process in SCHEDULE:
            if process.name == "moving":
                homeless = model.population.dwelling < 0
            run_processes(model, year, (process,))
            after = Snapshot(model, year)
            if process.name == "moving":
                # households without a dwelling before the season (founded this year) that
                # leave: their departure first, then the housed households'
                left = np.zeros(after.size.size, bool)
                left[: homeless.size] = homeless
                left &= after.size == 0
                mid = snap.without(left)
                rows.append({"process": "moving_no_dwelling", **_diff(snap, mid)})
                rows.append({"process": "moving", **_diff(mid, after)})
            else:
                rows.append({"process": process.name, **_diff(snap, after)})
            snap = after
        flows = year.finish()
        year.situation, year.vacancies = {}, None
        model.population.keep(year.person_alive, year.household_alive)
        model.year = year.year
        model.records.record(model, flows, year.access)
    end = {"process": "year", **_diff(start, snap)}
    private = start.alive & (start.size[start.household] > 0)
    for k, v in zip(BAND_NAMES, _bands(start.age[private]), strict=True):
        end[f"start_{k}"] = v
    for r in rows + [end]:
        r["year"] = year.year
    return rows + [end]


def run(city: str, seeds: list[int], years: int, households: int | None,
        values: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows per process, year and seed, and the recorded city stocks per year and seed."""
    scenario = sim.load_scenario(CITIES[city])
    scenario = scenario.with_values({"city.households": households or HOUSEHOLDS[city],
                                     **(values or {})})
    frames = []
    for seed in seeds:
        model = sim.build_model(scenario, seed=seed)
        rows = []
        with ChoiceLog() as log:
            for _ in range(years):
                rows += step_with_flows(model)
        df = pd.DataFrame(rows)
        choice = pd.DataFrame({"size": ["1", "2", "3", "4", "5plus"], "drawn": log.drawn[1:],
                               "came": log.came[1:], "seed": seed, "city": city})
        out = model.outcomes()
        city_rows = out[out["scope"] == "city"].pivot_table(index="year", columns="metric",
                                                           values="value")
        # the year-end private households are the recorded ones
        h_end = df[df.process == "year"].set_index("year")
        start_year = int(city_rows.index.min())
        h = city_rows["households"].to_numpy()
        counted = h[0] + h_end["dh"].cumsum().to_numpy()
        if not np.allclose(counted, h[1:]):
            raise AssertionError(f"households counted {counted} != recorded {h[1:]}")
        df["seed"] = seed
        df["city"] = city
        df["start_year"] = start_year
        stocks = city_rows[["households", "population", "mean_household_size",
                            "share_households_size_1"]].reset_index()
        stocks["seed"], stocks["city"] = seed, city
        frames.append((df, stocks, choice))
    return tuple(pd.concat([f[i] for f in frames], ignore_index=True) for i in range(3))


def migration_by_age(df: pd.DataFrame) -> pd.DataFrame:
    """In- and out-migrants by age band (persons of the private households that arrive or
    leave: in-migrants with their partners from outside excluded, out-migrants of
    ``education_job`` and ``moving``), per 1,000 residents of the band and year."""
    years = df[df.process == "year"]
    start = years[[f"start_{b}" for b in BAND_NAMES]].sum().to_numpy()
    inn = df[df.process == "in_migration"][[f"new_{b}" for b in BAND_NAMES]].sum().to_numpy()
    out = df[df.process.isin(["education_job", "moving_no_dwelling", "moving"])][
        [f"gone_{b}" for b in BAND_NAMES]].sum().to_numpy()
    t = pd.DataFrame({"in_per_1000": 1000 * inn / start, "out_per_1000": 1000 * out / start,
                      "net_per_1000": 1000 * (inn - out) / start,
                      "share_of_in": inn / inn.sum(), "share_of_out": out / out.sum()},
                     index=list(BAND_NAMES))
    return t


def summary(df: pd.DataFrame, stocks: pd.DataFrame, choice: pd.DataFrame | None = None
            ) -> str:
    """Per process: mean per year over years and seeds, per 1,000 households at the start."""
    h0 = stocks.sort_values("year").groupby("seed")["households"].first()
    per = df.merge(h0.rename("h0"), left_on="seed", right_index=True)
    cols = ["h_gone", "p_gone", "h_new", "p_new", "p_stay", "dh", "dp"]
    for c in cols:
        per[c] = 1000 * per[c] / per["h0"]
    per["dm"] = 1000 * per["dm"]
    order = [p.name for p in SCHEDULE if p.name != "moving"] + ["moving_no_dwelling", "moving",
                                                                "year"]
    t = per.groupby("process")[cols + ["dm"]].mean().reindex(order).dropna(how="all")
    t = t[(t.abs() > 1e-9).any(axis=1)]
    t = t.rename(index=LABELS)
    t["size_gone"] = t["p_gone"] / t["h_gone"].where(t["h_gone"] > 0)
    t["size_new"] = t["p_new"] / t["h_new"].where(t["h_new"] > 0)
    lines = ["per 1,000 households at the start, mean per year; dm in 1/1000 persons per "
             "household", t.round(2).to_string()]
    traj = stocks.groupby("year")[["mean_household_size", "population", "households",
                                   "share_households_size_1"]].median()
    lines.append("migration by age (per 1,000 residents of the band, all years and seeds):")
    lines.append(migration_by_age(df).round(3).to_string())
    if choice is not None:
        c = choice.groupby("size")[["drawn", "came"]].sum()
        c["came_share"] = c["came"] / c["drawn"]
        c["share_of_drawn"] = c["drawn"] / c["drawn"].sum()
        c["share_of_came"] = c["came"] / c["came"].sum()
        lines.append("in-migrant households by size, drawn and come:")
        lines.append(c.round(3).to_string())
    lines.append("median over seeds:")
    lines.append(traj.round(4).to_string())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--city", choices=sorted(CITIES), nargs="+", default=["essen", "baseline"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--years", type=int, default=12)
    ap.add_argument("--households", type=int, default=None)
    ap.add_argument("--set", nargs="*", default=[], metavar="PATH=VALUE",
                    help="scenario values, e.g. parameters.migration.in_migrant_mean_age=28")
    ap.add_argument("--out", type=Path, default=None, help="CSV of the rows (one per process, "
                    "year, seed, city)")
    a = ap.parse_args(argv)
    values = {}
    for item in a.set:
        path, _, text = item.partition("=")
        values[path] = json.loads(text)
    frames = []
    for city in a.city:
        df, stocks, choice = run(city, a.seeds, a.years, a.households, values)
        print(f"== {city}")
        print(summary(df, stocks, choice))
        frames.append(df)
    if a.out:
        pd.concat(frames).to_csv(a.out, index=False)


if __name__ == "__main__":
    main()
