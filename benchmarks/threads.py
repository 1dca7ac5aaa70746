"""Two threads against one on the same run: speed-up and identical results.

Each measurement is a fresh child process that builds the scenario (baseline at
``--households``, or any scenario file with ``--scenario``), runs ``--years`` years with the
given number of threads and prints the build and run seconds and a digest of every outcome,
cell and vital-statistics table. One and two threads alternate (1, 2, 2, 1, 1, 2, ...: each
goes first in every other pair) so that the machine's load hits both alike; the script prints
each pair, the median speed-up of the run (and of build plus run), and whether every digest was
the same.

    python benchmarks/threads.py                         # 100k households, 10 years, 5 pairs
    python benchmarks/threads.py --households 1000000 --years 30 --pairs 1
    python benchmarks/threads.py --scenario scenarios/essen.toml --years 20 --pairs 3

Not a timed test: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"


def child(scenario_path: str, households: int, years: int, seed: int, threads: int) -> None:
    import pandas as pd

    import sim
    from sim.scenario import Scenario

    sim.set_threads(threads)
    from sim.model.threads import keep_freed_memory  # as ``quartier run`` does

    keep_freed_memory()
    base = sim.load_scenario(scenario_path)
    if households:
        data = base.model_dump()
        data["city"]["households"] = households
        data["source_file"] = base.source_file
        base = Scenario.model_validate(data)
    t0 = time.perf_counter()
    model = sim.build_model(base, seed=seed)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.run(years)
    run_s = time.perf_counter() - t0
    digest = hashlib.sha256()
    for table in (model.outcomes(), model.cell_snapshots(), model.vital_statistics()):
        if table is not None:
            digest.update(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
    print(json.dumps({"threads": threads, "build_s": build_s, "run_s": run_s,
                      "digest": digest.hexdigest()[:16],
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def measure(a, threads: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(threads), "--scenario", str(a.scenario),
         "--households", str(a.households), "--years", str(a.years), "--seed", str(a.seed)],
        check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default=str(BASELINE), help="scenario file (baseline)")
    p.add_argument("--households", type=int, default=100_000,
                   help="city size (100000; 0 keeps the scenario's)")
    p.add_argument("--years", type=int, default=10, help="simulated years (10)")
    p.add_argument("--pairs", type=int, default=5, help="alternating pairs (5)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2, help="the threads compared with 1 (2)")
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        child(a.scenario, a.households, a.years, a.seed, a.child)
        return
    print(f"{Path(a.scenario).name}, households {a.households or 'as in the scenario'}, "
          f"{a.years} years, seed {a.seed}: 1 vs {a.threads} threads, {a.pairs} pairs")
    one, many = [], []
    for i in range(1, a.pairs + 1):
        runs = [(1, one), (a.threads, many)]
        for n_threads, into in runs if i % 2 else runs[::-1]:  # each first every other pair
            into.append(measure(a, n_threads))
        print(f"pair {i}: run {one[-1]['run_s']:.2f} s vs {many[-1]['run_s']:.2f} s "
              f"({one[-1]['run_s'] / many[-1]['run_s']:.2f}x); build {one[-1]['build_s']:.2f} s "
              f"vs {many[-1]['build_s']:.2f} s; peak {one[-1]['peak_rss_mib']:.0f} / "
              f"{many[-1]['peak_rss_mib']:.0f} MiB", flush=True)
    run_ratio = statistics.median(o["run_s"] / m["run_s"] for o, m in zip(one, many, strict=True))
    total_ratio = statistics.median((o["build_s"] + o["run_s"]) / (m["build_s"] + m["run_s"])
                                    for o, m in zip(one, many, strict=True))
    same = len({r["digest"] for r in one + many}) == 1
    med = {k: statistics.median(r[k] for r in many) for k in ("build_s", "run_s")}
    print(f"\nsummary: {a.threads} threads run {run_ratio:.2f}x one thread (build + run "
          f"{total_ratio:.2f}x; median of {a.pairs} pairs); with {a.threads} threads build "
          f"{med['build_s']:.1f} s + run {med['run_s']:.1f} s = "
          f"{med['build_s'] + med['run_s']:.1f} s; results identical: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
