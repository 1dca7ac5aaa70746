"""Essen from open data: its start state against the census, and how fast it builds and runs.

    python benchmarks/essen.py start            # seeds 1-3: per-Stadtteil differences
    python benchmarks/essen.py build            # reading and building Essen, median of 3
    python benchmarks/essen.py run [--years 20] [--threads 2]   # 20 years, median of 3 runs

``start`` prints, per seed, the largest absolute difference per Stadtteil of each census
attribute (model minus census, both aggregated to the 50 Stadtteile; see
``sim/experiments/startstate.py``), the citywide population against the official 566,201, the
dissimilarity D of foreigners vs the rest over Stadtteile (model and census) and Moran's I over
the cells of the share with a migration background and of the share in poverty. The share 65+
is also given for persons in private households (``age65_private``): nursing homes are not in
the open data, so the model synthesises them and counts their residents where they lie.
Each timing runs in a fresh process (imports included in ``build``).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "essen.toml"
OFFICIAL_POPULATION = 566_201  # Zensus 2011, Essen (9 May 2011)
TOLERANCE = {"under18": 0.02, "age65": 0.02, "foreign": 0.02, "household_size": 0.05,
             "vacancy": 0.01, "floor_per_resident": 2.0}


def start(seeds: list[int]) -> None:
    import sim
    from sim.experiments import startstate

    scenario = sim.load_scenario(SCENARIO)
    census = None
    rows = []
    for seed in seeds:
        model = sim.build_model(scenario, seed=seed)
        if census is None:
            census = startstate.census_by_quartier(
                model.city, [scenario.resolve_path(f) for f in scenario.city.census])
        table = startstate.compare(model, census)
        persons = table["persons_model"].sum()
        row = {"seed": seed, "persons": int(persons),
               "vs_official_%": round(100 * (persons / OFFICIAL_POPULATION - 1), 2)}
        for column, tol in TOLERANCE.items():
            diff = table[f"{column}_diff"].abs()
            row[f"{column}_max"] = round(float(diff.max()), 4)
            row[f"{column}_worst"] = table["name"].iloc[int(diff.argmax())]
            row[f"{column}_ok"] = bool(diff.max() <= tol)
        private = startstate.model_by_quartier(model, private_only=True)
        diff = (private["age65"] - census.set_index("quartier")["age65"].reindex(
            private["quartier"]).to_numpy()).abs()
        row["age65_private_max"] = round(float(diff.max()), 4)
        row["age65_private_worst"] = private["name"].iloc[int(diff.argmax())]
        row["D_model"] = round(startstate.foreign_dissimilarity_model(model), 4)
        row["D_census"] = round(startstate.foreign_dissimilarity_census(census), 4)
        row["moran_background"] = round(startstate.morans_i_cells(model), 3)
        row["moran_poor"] = round(startstate.morans_i_cells(model, "poor"), 3)
        rows.append(row)
        print(row, flush=True)


def _child(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def build(repeats: int) -> None:
    code = ("import time; t = time.perf_counter(); import sim; "
            f"m = sim.build_model(sim.load_scenario({str(SCENARIO)!r}), seed=1); "
            "print(time.perf_counter() - t)")
    times = [_child(code) for _ in range(repeats)]
    print(f"read and build Essen: {[round(t, 1) for t in times]} s, "
          f"median {statistics.median(times):.1f} s")


def run(repeats: int, years: int, threads: int) -> None:
    code = (f"import time, sim; sim.set_threads({threads}); "
            f"m = sim.build_model(sim.load_scenario({str(SCENARIO)!r}), seed=1); "
            f"t = time.perf_counter(); m.run({years}); print(time.perf_counter() - t)")
    times = [_child(code) for _ in range(repeats)]
    print(f"{years} years of Essen, {threads} thread(s): {[round(t, 1) for t in times]} s, "
          f"median {statistics.median(times):.1f} s per run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("start", "build", "run"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="threads within a run (run)")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.what == "start":
        start(args.seeds)
    elif args.what == "build":
        build(args.repeats)
    else:
        run(args.repeats, args.years, args.threads)
    print(f"({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
