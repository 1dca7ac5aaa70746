"""What a second thread can give on this machine: simple passes with 1 and 2 threads.

Most of the model's year is passes over person and household columns that do little
arithmetic per row, so their speed is set by how fast memory delivers the columns, and two
threads share that. This script times, with the model's own threads
(:func:`sim.model.threads.parallel_for`, every size split between the threads):

- a **stream**: read two float64 columns, write one (``out = 1.5 a + b``), at the sizes of the
  person columns at 100,000 and 1,000,000 households (200,000 and 2,000,000 rows) and at ten
  times the latter (far beyond the processor's caches);
- a **compute-bound** pass: 50 logarithms per row, 2,000,000 rows;
- a **handoff**: an empty kernel split between the threads (what each split costs), right
  after the last one and after some 3 ms of work in the calling thread (as in a model's year,
  where the threaded passes lie between sequential work).

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
    cases.append(("compute", n, lambda: threads.parallel_for(_compute, n, a, out,
                                                             min_chunk=1)))
    tiny = np.zeros(1)
    cases.append(("handoff", 2, lambda: threads.parallel_for(_nothing, 2, tiny, min_chunk=1)))
    cases.append(("handoff after 3 ms of work", 2,
                  lambda: threads.parallel_for(_nothing, 2, tiny, min_chunk=1)))
    _work(10)
    rows = []
    for name, n, run in cases:
        before = (lambda: _work(1_000_000)) if name.endswith("work") else None
        ms = []
        for k in (1, n_threads):
            with threads.limited(k):
                ms.append(_median_ms(run, repeats, before))
        rows.append((name, n, ms[0], ms[1]))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=9, help="timings per figure (9)")
    p.add_argument("--threads", type=int, default=2, help="the threads compared with 1 (2)")
    a = p.parse_args()
    if a.repeats < 1 or a.threads < 2:
        print("bandwidth: --repeats must be at least 1 and --threads at least 2",
              file=sys.stderr)
        sys.exit(2)
    print(f"{threads.available_cores()} cores available; medians of {a.repeats}\n")
    print(f"| pass | rows | 1 thread ms | {a.threads} threads ms | speed-up | "
          "1 thread GB/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, n, one, many in measure(a.repeats, a.threads):
        gbs = f"{24 * n / one / 1e6:.1f}" if name == "stream" else ""
        print(f"| {name} | {n:,} | {one:.3f} | {many:.3f} | {one / many:.2f}x | {gbs} |")


if __name__ == "__main__":
    main()
