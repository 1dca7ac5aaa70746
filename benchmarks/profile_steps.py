"""Time per process step of the year, in ms per simulated year.

Builds the baseline scenario at ``--households`` (default 100,000), runs ``--years`` years
with every step of :data:`sim.model.schedule.SCHEDULE` timed, and prints a Markdown table:
median ms per year per step over ``--repeats`` fresh models, its share of the year, and the
end of year (removal of the dead and departed, the year's record) as its own rows. Below the
table: the sequential choice of dwellings (inside moving and in-migration), the one part of the
year that cannot be split between threads without changing results, and the speed-up with
``--threads`` that it alone leaves possible (Amdahl's law).

    python benchmarks/profile_steps.py                       # 100k, 10 years, 3 repeats
    python benchmarks/profile_steps.py --households 10000 --years 5 --repeats 1
    python benchmarks/profile_steps.py --threads 2
    python benchmarks/profile_steps.py --cell-snapshots      # as the scenarios record

Not a timed test: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"


def profile_once(households: int, years: int, seed: int, cell_snapshots: bool = False
                 ) -> tuple[dict[str, float], float, float, float]:
    """ms per year by step for one fresh model, the build's seconds, the run's seconds and
    the sequential choice's ms per year."""
    import sim
    from sim.model import kernel, mobility, schedule
    from sim.scenario import Scenario

    base = sim.load_scenario(BASELINE)
    data = base.model_dump()
    data["city"]["households"] = households
    data["outcomes"]["cell_snapshots"] = cell_snapshots
    data["source_file"] = base.source_file
    scenario = Scenario.model_validate(data)
    t0 = time.perf_counter()
    model = sim.build_model(scenario, seed=seed)
    build_s = time.perf_counter() - t0

    spent: dict[str, float] = defaultdict(float)
    original_steps = {p.name: p.step for p in schedule.SCHEDULE}

    def timed(name, step):
        def run(*args):
            t = time.perf_counter()
            try:
                return step(*args)
            finally:
                spent[name] += time.perf_counter() - t
        return run

    timed_schedule = tuple(
        schedule.Process(p.name, timed(p.name, original_steps[p.name]), p.parameters, p.draws,
                         p.at_start) for p in schedule.SCHEDULE)
    pop_keep, records_record = model.population.keep, model.records.record

    def keep(*a, **k):
        t = time.perf_counter()
        try:
            return pop_keep(*a, **k)
        finally:
            spent["(end) remove dead and departed"] += time.perf_counter() - t

    def record(*a, **k):
        t = time.perf_counter()
        try:
            return records_record(*a, **k)
        finally:
            spent["(end) record the year"] += time.perf_counter() - t

    model.population.keep, model.records.record = keep, record
    choice = [0.0]
    sequential_choice = mobility._choose

    def timed_choice(*a):
        t = time.perf_counter()
        try:
            return sequential_choice(*a)
        finally:
            choice[0] += time.perf_counter() - t

    saved = kernel.SCHEDULE
    kernel.SCHEDULE = timed_schedule
    mobility._choose = timed_choice
    try:
        t0 = time.perf_counter()
        model.run(years)
        run_s = time.perf_counter() - t0
    finally:
        kernel.SCHEDULE = saved
        mobility._choose = sequential_choice
    per_year = {k: 1000 * v / years for k, v in spent.items()}
    per_year["(rest of the year)"] = 1000 * run_s / years - sum(per_year.values())
    return per_year, build_s, run_s, 1000 * choice[0] / years


def amdahl(serial_share: float, threads: int) -> float:
    """The most ``threads`` can speed up work of which ``serial_share`` stays in one thread."""
    return 1.0 / (serial_share + (1.0 - serial_share) / threads)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--households", type=int, default=100_000)
    p.add_argument("--years", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="threads within the run, default 1")
    p.add_argument("--cell-snapshots", action="store_true",
                   help="record the cell snapshots, as the scenarios do (off by default; "
                        "their cost is in '(end) record the year')")
    a = p.parse_args()
    sys.path.insert(0, str(ROOT))
    try:
        from sim.model import threads
        threads.set_threads(a.threads)
    except ImportError:
        pass
    runs = [profile_once(a.households, a.years, a.seed + r, a.cell_snapshots)
            for r in range(a.repeats)]
    names = list(runs[0][0])
    med = {n: statistics.median(r[0].get(n, 0.0) for r in runs) for n in names}
    total = sum(med.values())
    print(f"{a.households:,} households, {a.years} years, {a.repeats} repeats, "
          f"{a.threads} thread(s), cell snapshots {'on' if a.cell_snapshots else 'off'}; "
          f"build {statistics.median(r[1] for r in runs):.2f} s, "
          f"run {statistics.median(r[2] for r in runs):.2f} s (medians)\n")
    print("| step | ms per year | share |")
    print("|---|---:|---:|")
    for n in names:
        print(f"| {n} | {med[n]:.1f} | {100 * med[n] / total:.1f} % |")
    print(f"| **year** | **{total:.1f}** | 100 % |")
    choice = statistics.median(r[3] for r in runs)
    share = choice / total
    print(f"\nThe sequential choice of dwellings (moving and in-migration): {choice:.1f} ms per "
          f"year, {100 * share:.1f} % of the year.", end="")
    if a.threads == 1:  # the bound needs the one-thread share
        print(f" With every other part split perfectly, 2 threads could at most run "
              f"{amdahl(share, 2):.2f}x as fast as one thread "
              f"(4 threads {amdahl(share, 4):.2f}x).", end="")
    print()


if __name__ == "__main__":
    main()
