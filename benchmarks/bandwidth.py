"""What a second thread can give on this machine: simple passes with 1 and 2 threads.

Most of the model's year is passes over person and household columns that do little
arithmetic per row, so their speed is set by how fast memory delivers the columns, and two
threads share that. This script times, with the model's own threads
(:func:`sim.model.threads.parallel_for`, every size split between the threads):

- a **stream**: read two float64 columns, write one (``out = 1.5 a + b``), at the sizes of the
  person columns at 100,000 and 1,000,000 households (200,000 and 2,000,000 rows) and at ten
  times the latter (far beyond the processor's caches). The 200,000 rows (4.8 MB) stay in the
  caches between repeats, as much of a 100,000-household city's columns do;
- a **compute-bound** pass: 50 logarithms per row, 2,000,000 rows;
- a **handoff**: an empty kernel split between the threads (what each split costs: handing
  the range to the pool's thread and waiting for it), right after the last one and after a
  million square roots in the calling thread (its time is printed below the table; as in a
  model's year, where the threaded passes lie between sequential work). With 1 thread
  ``parallel_for`` calls the kernel directly, so that row's figure is the call alone.

Each figure is the median of ``--repeats`` timings; the table gives ms with 1 and 2 threads and
the speed-up. Not a timed test: the figures depend on the machine and its load.

    python benchmarks/bandwidth.py
    python benchmarks/bandwidth.py --repeats 21
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

SIZES = (200_000, 2_000_000, 20_000_000)
WORK = 1_000_000  # square roots in the calling thread before the second handoff row

import sim  # noqa: E402, F401, I001 (before numpy: sim.numerics)
import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

from sim.model import threads  # noqa: E402


@njit(nogil=True)
def _stream(lo, hi, a, b, out):
    for i in range(lo, hi):
        out[i] = a[i] * 1.5 + b[i]


@njit(nogil=True)
def _compute(lo, hi, a, out):
    for i in range(lo, hi):
        s = 0.0
        for j in range(50):
            s += np.log(a[i] + j)
        out[i] = s


@njit(nogil=True)
def _nothing(lo, hi, out):
    if hi < lo:
        out[0] = 1.0


@njit(nogil=True)
def _work(n):
    s = 0.0
    for i in range(n):
        s += np.sqrt(i)
    return s


def _median_ms(run, repeats: int, before=None) -> float:
    run()  # compile and touch the pages
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def measure(repeats: int, n_threads: int = 2) -> list[tuple[str, int, float, float]]:
    """(pass, rows, ms with 1 thread, ms with ``n_threads``) per case, medians."""
    rng = np.random.default_rng(1)
    cases = []
    for n in SIZES:
        a, b, out = rng.random(n), rng.random(n), np.empty(n)
        cases.append(("stream", n, lambda n=n, a=a, b=b, out=out: threads.parallel_for(
            _stream, n, a, b, out, min_chunk=1)))
    n = 2_000_000
    a, out = rng.random(n) + 1.0, np.empty(n)
    cases.append(("compute", n, lambda n=n, a=a, out=out: threads.parallel_for(
        _compute, n, a, out, min_chunk=1)))
    tiny = np.zeros(1)
    for name in ("handoff", "handoff after the work"):  # one row per thread
        cases.append((name, n_threads, lambda k=n_threads, tiny=tiny: threads.parallel_for(
            _nothing, k, tiny, min_chunk=1)))
    _work(10)
    rows = []
    for name, n, run in cases:
        before = (lambda: _work(WORK)) if name.endswith("work") else None
        ms = []
        for used in (1, n_threads):
            with threads.limited(used):
                ms.append(_median_ms(run, repeats, before))
        rows.append((name, n, ms[0], ms[1]))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=9, help="timings per figure (9)")
    p.add_argument("--threads", type=int, default=2, help="the threads compared with 1 (2)")
    a = p.parse_args()
    if a.repeats < 1 or not 2 <= a.threads <= threads.available_cores():
        print("bandwidth: --repeats must be at least 1 and --threads between 2 and the "
              f"{threads.available_cores()} available cores", file=sys.stderr)
        sys.exit(2)
    print(f"{threads.available_cores()} cores available; medians of {a.repeats}\n")
    print(f"| pass | rows | 1 thread ms | {a.threads} threads ms | speed-up | "
          "1 thread GB/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, n, one, many in measure(a.repeats, a.threads):
        gbs = f"{24 * n / one / 1e6:.1f}" if name == "stream" else ""
        print(f"| {name} | {n:,} | {one:.3f} | {many:.3f} | {one / many:.2f}x | {gbs} |")
    work_ms = _median_ms(lambda: _work(WORK), a.repeats)
    print(f"\nthe work before the second handoff row ({WORK:,} square roots): {work_ms:.2f} ms "
          "(median)")


if __name__ == "__main__":
    main()
