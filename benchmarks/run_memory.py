"""Peak memory and time of ``quartier run`` as a planner runs it.

Runs ``quartier run`` on ``--scenario`` (default the baseline) at ``--households`` (default
1,000,000; 0 keeps the scenario's own) for ``--years`` (30) with ``--threads`` (2), the
scenario's cell snapshots (on in the baseline and the scenarios extending it; off with
``--no-cell-snapshots``, as ``throughput.py`` runs the model) and every result file written,
each run in a fresh process, and prints each run's wall time and peak resident memory (the
child process's ``ru_maxrss``), then their medians. With ``--base REV`` the same
runs of that git revision (checked out into a temporary worktree) alternate with this
checkout's, so both meet the same moments of a shared machine. A small run of each tree first
fills its compiled kernels' cache.

    python benchmarks/run_memory.py                                # 1M x 30, 2 runs
    python benchmarks/run_memory.py --base 4e121d3 --rounds 2
    python benchmarks/run_memory.py --households 100000 --years 10 --rounds 3
    python benchmarks/run_memory.py --scenario scenarios/essen.toml --households 0 --years 20
    python benchmarks/run_memory.py --no-cell-snapshots --base c4da34d --rounds 5

Not a timed test: the figures depend on the machine, its load and its allocator.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from compare_revisions import revision_tree  # this script's folder is on sys.path

ROOT = Path(__file__).resolve().parent.parent
WARM_UP_HOUSEHOLDS = 2_000


def run_once(tree: Path, scenario_file: str, households: int, years: int, threads: int,
             out: Path, cell_snapshots: bool = True) -> tuple[float, float]:
    """Wall seconds and peak MiB of one ``quartier run`` of ``tree``'s code and scenarios."""
    scenario = out.parent / f"run_memory_{households}.toml"
    base = (tree / scenario_file).as_posix()
    size = f"\n[city]\nhouseholds = {households}\n" if households else ""
    off = "" if cell_snapshots else "\n[outcomes]\ncell_snapshots = false\n"
    scenario.write_text(f'extends = "{base}"\nname = "run_memory"\n{size}{off}')
    # The child's peak alone: run it through a small wrapper that reports its own rusage.
    code = ("import resource, sys\nfrom sim.cli import main\nsys.argv = ['quartier'] + "
            "sys.argv[1:]\ntry:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
            "else:\n    code = 0\nprint('PEAK_KIB', resource.getrusage(resource.RUSAGE_SELF)"
            ".ru_maxrss, file=sys.stderr)\nsys.exit(code)\n")
    env = dict(os.environ, PYTHONPATH=str(tree))
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, "run", str(scenario), "-n", str(years), "-q",
         "-t", str(threads), "-o", str(out)], cwd=tree, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"quartier run failed in {tree}:\n{done.stderr[-2000:]}")
    peak = [line for line in done.stderr.splitlines() if line.startswith("PEAK_KIB")]
    return seconds, int(peak[-1].split()[1]) / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="scenarios/baseline.toml",
                   help="scenario file, relative to the checkout (scenarios/baseline.toml)")
    p.add_argument("--households", type=int, default=1_000_000,
                   help="city size (1000000; 0: the scenario's own)")
    p.add_argument("--years", type=int, default=30, help="simulated years (30)")
    p.add_argument("--threads", type=int, default=2, help="threads within the run (2)")
    p.add_argument("--rounds", type=int, default=2, help="runs of each tree (2)")
    p.add_argument("--base", default=None, help="git revision to run alternately (none)")
    p.add_argument("--no-cell-snapshots", dest="cell_snapshots", action="store_false",
                   help="turn the cell snapshots off, as throughput.py runs the model")
    a = p.parse_args()
    if a.households < 0:
        print("run_memory: --households: must be at least 0", file=sys.stderr)
        sys.exit(2)
    if not (ROOT / a.scenario).is_file():
        print(f"run_memory: --scenario: no such file in this checkout: {a.scenario}",
              file=sys.stderr)
        sys.exit(2)
    for name in ("years", "threads", "rounds"):
        if getattr(a, name) < 1:
            print(f"run_memory: --{name}: must be at least 1", file=sys.stderr)
            sys.exit(2)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="quartier-run-memory-"))
        trees = {"this checkout": ROOT}
        if a.base is not None:
            base, short = stack.enter_context(revision_tree(a.base, "run_memory"))
            trees = {f"base {short}": base, **trees}
        size = f"{a.households:,} households" if a.households else "its own size"
        print(f"quartier run {a.scenario}: {size}, {a.years} years, {a.threads} threads, "
              f"cell snapshots {'as the scenario says' if a.cell_snapshots else 'off'}, "
              "results written")
        for tree in trees.values():
            run_once(tree, a.scenario, WARM_UP_HOUSEHOLDS, 1, 1, Path(tmp) / "warm")
        got: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        for r in range(1, a.rounds + 1):
            for name, tree in trees.items():
                s, mib = run_once(tree, a.scenario, a.households, a.years, a.threads,
                                  Path(tmp) / "out", a.cell_snapshots)
                got[name].append((s, mib))
                print(f"round {r}, {name}: {s:.1f} s, peak {mib:,.0f} MiB", flush=True)
        print()
        for name, runs in got.items():
            print(f"{name}: median {statistics.median(s for s, _ in runs):.1f} s, peak "
                  f"{statistics.median(m for _, m in runs):,.0f} MiB "
                  f"(range {min(m for _, m in runs):,.0f}-{max(m for _, m in runs):,.0f})")

if __name__ == "__main__":
    main()
