"""Throughput and peak memory of the model at 10k, 100k and 1M households.

Each configuration (households, years, seed) runs in a fresh child process, so that the peak
resident set size it reports (``ru_maxrss``) is that configuration's own. The child loads
``scenarios/baseline.toml``, sets ``city.households``, builds the model (timed apart) and times
``model.run(years)``. Household-years are summed over the simulated years from the households
alive at the start of each year. The parent prints the machine, a Markdown table (medians over
the repeats; memory is the maximum) and, last, a one-line summary against the goals:
>= 1.2M household-years/s at 100k households with one thread, and 1M households x 30 years
under 1 GiB and within 45 s of build plus run with two threads (``--threads 2``).

    python benchmarks/throughput.py            # full: 10k, 100k (10 years, 3 repeats), 1M x 30
    python benchmarks/throughput.py --quick    # 10k, 100k, 5 years, 2 repeats

Not a timed test: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
LARGE = 1_000_000
GOAL_RATE, GOAL_MIB, GOAL_LARGE_S = 1_200_000, 1024, 45.0


def child(households: int, years: int, seed: int, threads: int = 1,
          default_allocator: bool = False) -> None:
    """Run one configuration and print its measurements as one JSON line."""
    import sim
    from sim.scenario import Scenario

    sim.set_threads(threads)
    if not default_allocator:
        from sim.model.threads import keep_freed_memory  # as ``quartier run`` does

        keep_freed_memory()

    base = sim.load_scenario(BASELINE)
    data = base.model_dump()
    data["city"]["households"] = households
    data["outcomes"]["cell_snapshots"] = False  # the model alone (the maps' tables aside)
    data["source_file"] = base.source_file
    scenario = Scenario.model_validate(data)

    t0 = time.perf_counter()
    model = sim.build_model(scenario, seed=seed)
    build_s = time.perf_counter() - t0
    at_start = [model.population.n_households]  # households alive at the start of each year
    t0 = time.perf_counter()
    model.run(years, progress=lambda _: at_start.append(model.population.n_households))
    run_s = time.perf_counter() - t0
    household_years = sum(at_start[:years])
    print(json.dumps({
        "households": households, "years": years, "seed": seed, "threads": threads,
        "build_s": build_s, "run_s": run_s,
        "household_years_per_s": household_years / run_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "state_mib": model.population.nbytes() / 2**20,
        "households_end": model.population.n_households,
    }))


def measure(households: int, years: int, seed: int, threads: int = 1,
            default_allocator: bool = False) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(households), str(years), str(seed),
         "--threads", str(threads), *(["--default-allocator"] if default_allocator else [])],
        check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT,  # child errors go to stderr
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def human(x: float) -> str:
    return f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x / 1e3:.0f}k"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10000,100000,1000000", help="households, comma-separated")
    p.add_argument("--years", type=int, default=10, help="years for the throughput runs")
    p.add_argument("--large-years", type=int, default=30, help="years for the 1M run")
    p.add_argument("--repeats", type=int, default=3, help="runs per configuration (seeds)")
    p.add_argument("--repeats-large", type=int, default=1, help="runs of the 1M configuration")
    p.add_argument("--quick", action="store_true", help="10k and 100k, 5 years, 2 repeats")
    p.add_argument("--threads", type=int, default=1,
                   help="threads within each run (1; older checkouts ignore it)")
    p.add_argument("--default-allocator", action="store_true",
                   help="keep the memory allocator's defaults (by default the runs keep freed "
                   "memory for the next arrays, as `quartier run` does)")
    p.add_argument("--child", nargs=3, type=int, metavar=("N", "YEARS", "SEED"),
                   help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        child(*a.child, threads=a.threads, default_allocator=a.default_allocator)
        return
    if a.quick:
        a.sizes, a.years, a.repeats = "10000,100000", 5, 2
    sizes = [int(s) for s in a.sizes.split(",")]

    import numpy as np

    print(f"machine: {os.cpu_count()} cpus, {platform.machine()}, "
          f"python {platform.python_version()}, numpy {np.__version__}; "
          f"{a.threads} thread(s) per run"
          f"{', allocator defaults' if a.default_allocator else ''}")
    print()
    print("| households | years | repeats | build s (median) | run s (median) "
          "| household-years/s (median) | peak memory MiB (max) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    results = {}
    for n in sizes:
        years, repeats = (a.large_years, a.repeats_large) if n >= LARGE else (a.years, a.repeats)
        runs = [measure(n, years, seed, a.threads, a.default_allocator)
                for seed in range(1, repeats + 1)]
        med = {k: statistics.median(r[k] for r in runs)
               for k in ("build_s", "run_s", "household_years_per_s")}
        peak = max(r["peak_rss_mib"] for r in runs)
        results[n] = (years, med["household_years_per_s"], peak,
                      med["build_s"] + med["run_s"])
        print(f"| {n:,} | {years} | {repeats} | {med['build_s']:.2f} | {med['run_s']:.2f} "
              f"| {med['household_years_per_s']:,.0f} | {peak:.0f} |", flush=True)

    parts = []
    if 100_000 in results:
        rate = results[100_000][1]
        parts.append(f"100k households: {human(rate)} household-years/s "
                     f"(goal >= 1.2M with 1 thread: "
                     f"{'met' if rate >= GOAL_RATE else 'NOT met'})")
    if LARGE in results:
        years, _, peak, seconds = results[LARGE]
        parts.append(f"1M households x {years} years: peak {peak:.0f} MiB "
                     f"(goal < 1 GiB: {'met' if peak < GOAL_MIB else 'NOT met'}), "
                     f"build + run {seconds:.1f} s (goal <= 45 s with 2 threads: "
                     f"{'met' if seconds <= GOAL_LARGE_S else 'NOT met'})")
    print()
    print("summary: " + ("; ".join(parts) or "no goal configuration run"))


if __name__ == "__main__":
    main()
