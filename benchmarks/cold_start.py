"""Cold start: how much slower is the first ``quartier run`` on a fresh install than a warm one?

A fresh install has no compiled numba kernels and no byte-compiled modules. Each round gives
the command an empty numba cache (``NUMBA_CACHE_DIR``) and an empty byte-code cache
(``PYTHONPYCACHEPREFIX``), runs it once (cold), then again with the same caches (warm), and
reports both and their difference; the summary is the median over the rounds. ``--warm-up``
first runs ``quartier warm-up`` in the fresh caches (the install step) and reports its time
separately. Wall time depends on what else the machine runs; CPU time (user + system of the
command and its children) much less, so both are printed.

    python benchmarks/cold_start.py                      # 3 rounds, quartier run baseline
    python benchmarks/cold_start.py --warm-up            # with the install step
    python benchmarks/cold_start.py --rounds 5 -- run scenarios/baseline.toml --years 5
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ["run", "scenarios/baseline.toml", "--quiet"]


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``python -m sim.cli *args``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def one_round(command: list[str], warm_up: bool) -> dict[str, float]:
    fresh = Path(tempfile.mkdtemp(prefix="quartier-cold-"))
    env = dict(os.environ, NUMBA_CACHE_DIR=str(fresh / "numba"),
               PYTHONPYCACHEPREFIX=str(fresh / "pycache"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    out = fresh / "results"
    row = {}
    try:
        if warm_up:
            row["install_wall"], row["install_cpu"] = timed(["warm-up"], env)
        row["cold_wall"], row["cold_cpu"] = timed([*command, "--out", str(out / "a")], env)
        row["warm_wall"], row["warm_cpu"] = timed([*command, "--out", str(out / "b")], env)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="fresh installs (default 3)")
    parser.add_argument("--warm-up", action="store_true",
                        help="run 'quartier warm-up' first in every fresh install")
    parser.add_argument("command", nargs="*", help="quartier command (default: run "
                        "scenarios/baseline.toml --quiet); --out is added")
    args = parser.parse_args()
    command = args.command or DEFAULT
    print(f"quartier {' '.join(command)}; {args.rounds} fresh installs"
          + (", each with 'quartier warm-up' first" if args.warm_up else ""))
    rows = []
    for i in range(args.rounds):
        row = one_round(command, args.warm_up)
        rows.append(row)
        install = (f"warm-up {row['install_wall']:5.1f} s ({row['install_cpu']:5.1f} CPU)  "
                   if args.warm_up else "")
        print(f"round {i + 1}: {install}first {row['cold_wall']:5.1f} s "
              f"({row['cold_cpu']:5.1f} CPU)  warm {row['warm_wall']:5.1f} s "
              f"({row['warm_cpu']:5.1f} CPU)  extra {row['cold_wall'] - row['warm_wall']:+5.1f} s "
              f"({row['cold_cpu'] - row['warm_cpu']:+5.1f} CPU)", flush=True)
    med = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
    extra = statistics.median(r["cold_wall"] - r["warm_wall"] for r in rows)
    extra_cpu = statistics.median(r["cold_cpu"] - r["warm_cpu"] for r in rows)
    print(f"median: first run {med['cold_wall']:.1f} s, warm {med['warm_wall']:.1f} s, "
          f"extra {extra:+.1f} s wall ({extra_cpu:+.1f} s CPU)"
          + (f"; warm-up {med['install_wall']:.1f} s" if args.warm_up else ""))


if __name__ == "__main__":
    main()
