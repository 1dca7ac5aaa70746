"""Where a run's memory goes: the model's own arrays by part, and what the process holds.

Builds the baseline scenario at ``--households`` (default 1,000,000), runs ``--years`` years
and prints, in MiB: the process's resident memory after the build and after the run, its peak,
the numpy arrays (and sparse matrices) the model keeps between years, by part of the model
(``model.services``, ``model.city``, ...) and, within the parts, every attribute of at least
``--min-mib``; and, with glibc, how much of the resident memory was free memory the allocator
still held (given back by ``malloc_trim``, which changes no result). With
``--cell-snapshots`` the run keeps the yearly cell snapshots, and their memory is printed
(compressed, as kept, and as plain arrays).

    python benchmarks/memory.py                          # 1M households, 2 years
    python benchmarks/memory.py --households 100000 --years 10 --threads 2
    python benchmarks/memory.py --years 3 --cell-snapshots

Not a timed test: the figures depend on the machine's allocator.
"""

from __future__ import annotations

import argparse
import ctypes
import platform
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
MIB = 2 ** 20


def resident_mib() -> float:
    """The process's resident memory now (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / MIB


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def array_bytes(obj, seen: dict, depth: int = 0) -> int:
    """Bytes of the numpy arrays and sparse matrices reachable from ``obj`` through
    attributes, dicts, lists and tuples (each buffer once, a view by its buffer). ``seen``
    keeps what was visited (alive, so that no id is reused)."""
    import numpy as np

    if isinstance(obj, np.ndarray):  # a view counts its buffer, once
        while isinstance(obj.base, np.ndarray):
            obj = obj.base
        if id(obj) in seen:
            return 0
        seen[id(obj)] = obj
        return obj.nbytes
    if id(obj) in seen or depth > 8:
        return 0
    seen[id(obj)] = obj
    if isinstance(obj, bytes):  # a compressed column
        return len(obj)
    if hasattr(obj, "__slots__") and not hasattr(obj, "__dict__"):
        return sum(array_bytes(getattr(obj, a, None), seen, depth + 1) for a in obj.__slots__)
    if all(hasattr(obj, a) for a in ("data", "indices", "indptr")):
        return sum(array_bytes(getattr(obj, a), seen, depth + 1)
                   for a in ("data", "indices", "indptr"))
    if isinstance(obj, dict):
        return sum(array_bytes(v, seen, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(array_bytes(v, seen, depth + 1) for v in obj)
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return sum(array_bytes(v, seen, depth + 1) for v in vars(obj).values())
    return 0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--households", type=int, default=1_000_000)
    p.add_argument("--years", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="threads within the run, default 1")
    p.add_argument("--min-mib", type=float, default=5.0,
                   help="list attributes of at least this many MiB (5)")
    p.add_argument("--cell-snapshots", action="store_true",
                   help="keep the yearly cell snapshots (off by default, as throughput.py)")
    a = p.parse_args()
    sys.path.insert(0, str(ROOT))
    import sim
    from sim.model import threads

    threads.set_threads(a.threads)
    scenario = sim.load_scenario(BASELINE).with_values(
        {"city.households": a.households, "outcomes.cell_snapshots": a.cell_snapshots})
    before = resident_mib()
    model = sim.build_model(scenario, seed=a.seed)
    built = resident_mib()
    model.run(a.years)
    after, peak = resident_mib(), peak_mib()
    print(f"{a.households:,} households, {a.years} years, {a.threads} thread(s)\n")
    print(f"resident before the build {before:.0f}, after the build {built:.0f}, after the run "
          f"{after:.0f}, peak {peak:.0f} MiB")
    seen = {id(model): model}  # each array counted once, under the first part that holds it
    parts = sorted(((array_bytes(v, seen), k) for k, v in vars(model).items()), reverse=True)
    print("\n| part of the model | arrays MiB |\n|---|---:|")
    for size, name in parts:
        if size >= 0.1 * MIB:
            print(f"| `model.{name}` | {size / MIB:.1f} |")
    print(f"| **all** | **{sum(s for s, _ in parts) / MIB:.1f}** |")
    if model.records.snapshots is not None:
        from sim.model.snapshots import column_values

        pieces = model.records.snapshots.pieces
        kept = array_bytes(pieces, {})
        plain = sum(column_values(c).nbytes for _, columns in pieces for c in columns.values())
        print(f"\ncell snapshots of {len(pieces)} years: {kept / MIB:.2f} MiB as kept, "
              f"{plain / MIB:.2f} MiB as plain arrays")
    print(f"\nattributes of at least {a.min_mib:g} MiB:")
    for name, part in vars(model).items():
        if not hasattr(part, "__dict__") or isinstance(part, type):
            continue
        for attr, value in vars(part).items():
            if any(value is other for other in vars(model).values()):
                continue  # another part of the model (a reference), listed under its name
            size = array_bytes(value, {})
            if size >= a.min_mib * MIB:
                print(f"  model.{name}.{attr}: {size / MIB:.1f} MiB")
    if platform.libc_ver()[0] == "glibc":
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        print(f"\nresident after malloc_trim: {resident_mib():.0f} MiB (the allocator held "
              f"{after - resident_mib():.0f} MiB free)")


if __name__ == "__main__":
    main()
