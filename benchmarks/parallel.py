"""Parallel speed-up of a sweep: 1 local worker against 2 (or more).

The sweep: ``scenarios/baseline.toml`` at 50,000 households, a grid of 8 in-migration rates x 2
replications = 16 runs of 20 years (the scenarios' horizon). Each measurement is a fresh child
process (interpreter start, imports, the worker pool, every run and the Parquet files included)
writing to a fresh experiment folder, so nothing is reused between measurements. The parent
prints the machine, a Markdown table (median, min and max wall time per worker count, the time
of one run inside a worker, and how many cores the machine kept busy) and, last, the speed-up:
the ratio of the median wall times, and the cap that the slower runs alone put on it when
several run at once.

    python benchmarks/parallel.py                # 16 runs x 50k households x 20 years, 3 repeats
    python benchmarks/parallel.py --quick        # 16 runs x 5k households x 3 years, 1 repeat
    python benchmarks/parallel.py --workers 1,2,4 --repeats 5 --years 20
    python benchmarks/parallel.py --wait-idle    # wait for an idle machine before each one

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

    base = sim.load_scenario(BASELINE).with_values({"city.households": households,
                                                    "outcomes.cell_snapshots": False})
    points = runs // 2
    rates = [round(float(x), 4) for x in np.linspace(0.03, 0.08, points)]
    t1 = time.perf_counter()
    experiments, outcomes = sim.sweep(
        base, {"parameters.migration.in_migration_rate": rates}, replications=2, years=years,
        workers=workers, out=out,
    )
    t2 = time.perf_counter()
    assert len(experiments) == points * 2, len(experiments)
    from sim.experiments.store import read_manifest

    run_s = [run["seconds"] for run in read_manifest(out)["runs"].values()]
    print(json.dumps({"workers": workers, "runs": len(experiments), "import_s": t1 - t0,
                      "sweep_s": t2 - t1, "run_s": sum(run_s) / len(run_s)}))


def busy_cpu_seconds() -> float | None:
    """CPU seconds all processes of the machine have used (Linux /proc/stat), else None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(max_wait_s: float = 900.0, busy_limit: float = 0.15) -> float:
    """Wait until the machine uses under ``busy_limit`` cores over 2 s; return the seconds
    waited (other processes would skew a measurement)."""
    start = time.monotonic()
    while time.monotonic() - start < max_wait_s:
        before = busy_cpu_seconds()
        if before is None:
            return 0.0
        time.sleep(2.0)
        if (busy_cpu_seconds() - before) / 2.0 < busy_limit:
            break
    return time.monotonic() - start


def measure(workers: int, households: int, years: int, runs: int, wait_idle: bool) -> dict:
    waited = wait_until_idle() if wait_idle else 0.0
    with tempfile.TemporaryDirectory(prefix="quartier-bench-") as tmp:
        busy0 = busy_cpu_seconds()
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(workers), str(households), str(years),
             str(runs), str(Path(tmp) / "sweep")],
            check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )
        wall = time.perf_counter() - t0
        busy1 = busy_cpu_seconds()
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    result["waited_s"] = waited
    # cores the whole machine kept busy during the measurement: about `workers` when only
    # the sweep ran; more means other processes competed for the cores
    result["busy_cores"] = (busy1 - busy0) / wall if busy0 is not None else float("nan")
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    p.add_argument("--households", type=int, default=50_000)
    p.add_argument("--years", type=int, default=20)
    p.add_argument("--runs", type=int, default=16, help="runs in the sweep (even)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="5k households, 3 years, 1 repeat")
    p.add_argument("--wait-idle", action="store_true",
                   help="before each measurement, wait until the machine is idle (Linux)")
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
    load_before = os.getloadavg()
    results: dict[int, list[dict]] = {w: [] for w in counts}
    for _ in range(args.repeats):
        for w in counts:  # interleaved, so that drifting machine load hits all alike
            results[w].append(measure(w, args.households, args.years, args.runs,
                                      args.wait_idle))
    print("| workers | repeats | wall s (median) | wall s (min-max) | sweep s (median) "
          "| s per run (median) | busy cores (median) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for w in counts:
        walls = [r["wall_s"] for r in results[w]]
        sweeps = [r["sweep_s"] for r in results[w]]
        per_run = [r["run_s"] for r in results[w]]
        busy = [r["busy_cores"] for r in results[w]]
        print(f"| {w} | {len(walls)} | {statistics.median(walls):.2f} | {min(walls):.2f}-"
              f"{max(walls):.2f} | {statistics.median(sweeps):.2f} | "
              f"{statistics.median(per_run):.3f} | {statistics.median(busy):.2f} |")
    load_after = os.getloadavg()
    print(f"\nload average (1 min) before: {load_before[0]:.2f}, after: {load_after[0]:.2f}; "
          "busy cores: CPU the whole machine used during a measurement divided by its wall "
          "time (about the worker count when nothing else ran)")
    waited = sum(r["waited_s"] for rs in results.values() for r in rs)
    if args.wait_idle:
        print(f"waited {waited:.0f} s in total for the machine to be idle")
    print("s per run: mean time of one run (build, simulate, write) inside a worker")
    one = statistics.median(r["wall_s"] for r in results[counts[0]])
    one_sweep = statistics.median(r["sweep_s"] for r in results[counts[0]])
    one_run = statistics.median(r["run_s"] for r in results[counts[0]])
    for w in counts[1:]:
        other = statistics.median(r["wall_s"] for r in results[w])
        other_sweep = statistics.median(r["sweep_s"] for r in results[w])
        other_run = statistics.median(r["run_s"] for r in results[w])
        ceiling = w * counts[0] * one_run / other_run
        print(f"speed-up {w} workers vs {counts[0]}: {one / other:.2f}x (median wall time, "
              f"whole process), {one_sweep / other_sweep:.2f}x (sweep call only); a run takes "
              f"{other_run / one_run - 1:+.0%} longer while {w} run at once, which alone caps "
              f"the speed-up at {ceiling:.2f}x")


if __name__ == "__main__":
    main()
