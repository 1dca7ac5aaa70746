"""Parallel speed-up of a sweep: 1 local worker against 2 (or more).

The sweep: ``scenarios/baseline.toml`` at 50,000 households, a grid of 8 in-migration rates x
2 replications = 16 runs of 10 years. Each measurement is a fresh child process (interpreter
start, imports, the worker pool, every run and the Parquet files included) writing to a fresh
experiment folder, so nothing is reused between measurements. The parent prints the machine, a
Markdown table (median, min and max wall time per worker count) and, last, the speed-up: the
ratio of the median wall times.

    python benchmarks/parallel.py                # 16 runs x 50k households x 10 years, 3 repeats
    python benchmarks/parallel.py --quick        # 16 runs x 5k households x 3 years, 1 repeat
    python benchmarks/parallel.py --workers 1,2,4 --repeats 5 --years 20

Not a timed test: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"


def child(workers: int, households: int, years: int, runs: int, out: str) -> None:
    """Run the sweep once and print its timings as one JSON line."""
    t0 = time.perf_counter()
    import numpy as np

    import sim

    base = sim.load_scenario(BASELINE).with_values({"city.households": households})
    points = runs // 2
    rates = [round(float(x), 4) for x in np.linspace(0.03, 0.08, points)]
    t1 = time.perf_counter()
    experiments, outcomes = sim.sweep(
        base, {"parameters.migration.in_migration_rate": rates}, replications=2, years=years,
        workers=workers, out=out,
    )
    t2 = time.perf_counter()
    assert len(experiments) == points * 2, len(experiments)
    print(json.dumps({"workers": workers, "runs": len(experiments), "import_s": t1 - t0,
                      "sweep_s": t2 - t1}))


def measure(workers: int, households: int, years: int, runs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="quartier-bench-") as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(workers), str(households), str(years),
             str(runs), str(Path(tmp) / "sweep")],
            check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )
        wall = time.perf_counter() - t0
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    p.add_argument("--households", type=int, default=50_000)
    p.add_argument("--years", type=int, default=10)
    p.add_argument("--runs", type=int, default=16, help="runs in the sweep (even)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="5k households, 3 years, 1 repeat")
    p.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        w, h, y, r, out = args.child
        child(int(w), int(h), int(y), int(r), out)
        return
    if args.quick:
        args.households, args.years, args.repeats = 5_000, 3, 1
    counts = [int(x) for x in args.workers.split(",")]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    print(f"sweep: {args.runs} runs x {args.households:,} households x {args.years} years; "
          f"{args.repeats} repeat(s), each a fresh process and folder; order interleaved\n")
    results: dict[int, list[dict]] = {w: [] for w in counts}
    for _ in range(args.repeats):
        for w in counts:  # interleaved, so that drifting machine load hits all alike
            results[w].append(measure(w, args.households, args.years, args.runs))
    print("| workers | repeats | wall s (median) | wall s (min-max) | sweep s (median) "
          "| import s (median) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for w in counts:
        walls = [r["wall_s"] for r in results[w]]
        sweeps = [r["sweep_s"] for r in results[w]]
        imports = [r["import_s"] for r in results[w]]
        print(f"| {w} | {len(walls)} | {statistics.median(walls):.2f} | {min(walls):.2f}-"
              f"{max(walls):.2f} | {statistics.median(sweeps):.2f} | "
              f"{statistics.median(imports):.2f} |")
    one = statistics.median(r["wall_s"] for r in results[counts[0]])
    for w in counts[1:]:
        other = statistics.median(r["wall_s"] for r in results[w])
        print(f"\nspeed-up {w} workers vs {counts[0]}: {one / other:.2f}x (median wall time, "
              f"whole process)")


if __name__ == "__main__":
    main()
