"""The sequential choice of dwellings with and without its cache hints (look-ahead).

Builds the baseline scenario at each of ``--sizes`` households (cell snapshots off), runs
``--years`` years and keeps the inputs of that last year's two choices (the movers', then the
in-migrants'). Then times :func:`sim.model.mobility._choose` on fresh copies of them, with
look-ahead and without, alternately, ``--repeats`` times, and checks that both give the same
choices and leave the same vacancy list. Prints a Markdown table: median ms per choice and the
ratio (without / with), and whether :func:`sim.model.mobility._looks_ahead` switches the hints
on at that size.

    python benchmarks/choice.py                          # 100k and 1M households, 9 repeats
    python benchmarks/choice.py --sizes 100000 --repeats 5
    python benchmarks/choice.py --scenario scenarios/essen.toml --sizes 0   # Essen, full size

Not a timed test: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"


def captured_choices(households: int, years: int, seed: int = 1,
                     scenario: Path = BASELINE) -> tuple[list[tuple], int]:
    """Copies of the arguments of the last year's calls of ``_choose``, and the model's
    households at the start (``households`` 0: the scenario's own)."""
    import numpy as np

    import sim
    from sim.model import mobility
    from sim.scenario import Scenario

    base = sim.load_scenario(scenario)
    data = base.model_dump()
    if households:
        data["city"]["households"] = households
    data["outcomes"]["cell_snapshots"] = False
    data["source_file"] = base.source_file
    model = sim.build_model(Scenario.model_validate(data), seed=seed)
    n_households = int(model.population.n_households)
    model.run(years - 1)
    calls: list[tuple] = []
    original = mobility._choose

    def keep(*args):
        calls.append(tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args))
        return original(*args)

    mobility._choose = keep
    try:
        model.run(1)
    finally:
        mobility._choose = original
    return calls, n_households


def time_choice(args: tuple, ahead: bool) -> tuple[float, object, tuple]:
    import numpy as np

    from sim.model import mobility

    fresh = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args[:-1]) + (ahead,)
    t = time.perf_counter()
    out = mobility._choose(*fresh)
    return time.perf_counter() - t, out, fresh


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="households (default: 100000 1000000; 0: the scenario's own)")
    parser.add_argument("--scenario", type=Path, default=BASELINE,
                        help="scenario file (default: scenarios/baseline.toml)")
    parser.add_argument("--years", type=int, default=2,
                        help="years run; the last one's choices are timed (default 2)")
    parser.add_argument("--repeats", type=int, default=9, help="timings per variant (default 9)")
    a = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import sim  # noqa: F401, I001  (before numpy: sim.numerics)
    import numpy as np
    from sim.model import mobility

    print("| households | choice | searchers | vacancies | hints on by size | ms with hints "
          "| ms without | without / with |")
    print("|---:|---|---:|---:|---|---:|---:|---:|")
    for households in a.sizes:
        calls, households = captured_choices(households, a.years, scenario=a.scenario)
        for name, args in zip(("movers", "in-migrants"), calls[-2:], strict=True):
            times = {True: [], False: []}
            results = {}
            for _ in range(a.repeats):
                for ahead in (True, False):
                    dt, out, fresh = time_choice(args, ahead)
                    times[ahead].append(dt)
                    results[ahead] = (out, fresh)
            (o1, f1), (o0, f0) = results[True], results[False]
            # bit for bit (some inputs are left unset for searchers they do not concern)
            same = o1 == o0 and all(x.tobytes() == y.tobytes()
                                    for x, y in zip(f1, f0, strict=True)
                                    if isinstance(x, np.ndarray))
            if not same:
                print(f"choices differ with and without hints at {households}", file=sys.stderr)
                return 1
            with_ms = statistics.median(times[True]) * 1000
            without_ms = statistics.median(times[False]) * 1000
            on = mobility._looks_ahead(args[17], args[9] + args[0].size)
            print(f"| {households:,} | {name} | {args[0].size:,} | {args[9]:,} | "
                  f"{'yes' if on else 'no'} | {with_ms:.1f} | {without_ms:.1f} | "
                  f"{without_ms / with_ms:.2f} |")
    print(f"\nmedian of {a.repeats} timings each, alternately; choices identical with and "
          "without hints")
    return 0


if __name__ == "__main__":
    sys.exit(main())
