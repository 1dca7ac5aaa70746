"""How fast the dashboard's what-if panel answers (not a test).

A question = R paired replications of the baseline with one lever moved (10,000 households,
20 years, 5 replications by default), run on the app's warm worker pool against the cached
baseline, as the dashboard does. Prints the start-up cost (pool, compiled kernels, baseline
runs) and the median and range of the answer time over several questions.

    python benchmarks/whatif.py [--households 10000] [--years 20] [--replications 5]
                                [--repeats 7] [--workers 2] [--lever social|mvz|ticket]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def question(lever: str, k: int, grid):
    """The k-th question moving ``lever`` (a different value each time); MVZ cells are drawn
    from the what-if city's ``grid``."""
    from dashboards.whatif import WhatIf

    if lever == "mvz":
        cell = grid.iloc[(k * 997) % len(grid)]
        return WhatIf(mvz_cell=(int(cell["col"]), int(cell["row"])))
    if lever == "ticket":
        return WhatIf(ticket_price=29.0 + 5.0 * (k % 5))
    return WhatIf(social_share=0.10 + 0.05 * (k % 5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    parser.add_argument("--lever", choices=("social", "mvz", "ticket"), default="social",
                        help="the lever each question moves (default: the social-housing share)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    import sim
    from dashboards.whatif import WhatIfEngine

    engine = WhatIfEngine(sim.load_scenario(args.scenario), households=args.households,
                          years=args.years, replications=args.replications,
                          workers=args.workers)
    engine.start()
    started = time.perf_counter()
    while not engine.baseline_ready():
        time.sleep(0.01)
    ready = time.perf_counter()
    print(f"what-if: {args.households:,} households, {args.years} years, "
          f"{args.replications} replications, {args.workers} workers, lever {args.lever}")
    print(f"start-up: imports and pool {started - t0:.2f} s, baseline runs "
          f"{ready - started:.2f} s")
    times = []
    try:
        for k in range(args.repeats):
            t = time.perf_counter()
            job = engine.wait(engine.submit(question(args.lever, k, engine.city_grid())))
            engine.comparison(job)
            times.append(time.perf_counter() - t)
            if job.error:
                raise SystemExit(f"what-if failed: {job.error}")
    finally:
        engine.shutdown(wait=True)
    print("answer times s: " + " ".join(f"{x:.2f}" for x in times))
    print(f"median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f})"
          f" per question incl. the paired comparison")


if __name__ == "__main__":
    main()
