"""Threads within one run: per-agent work split into contiguous chunks.

A run uses ``threads()`` threads (default 1; ``quartier run --threads N`` sets it, and sweeps
and comparisons keep one per worker process). Work that is independent per agent (every
random draw is keyed to agent ids, see :mod:`sim.model.rng`) is split into contiguous ranges
of agents, each handed to a numba kernel compiled with ``nogil=True``, which writes only its
own range of the outputs. The results are therefore identical whatever the number of threads.
Sums over agents stay in one thread (or are summed per chunk in integers), so no
floating-point sum changes its order.

A kernel for :func:`parallel_for` takes ``(lo, hi, *args)`` and treats agents ``lo..hi-1``::

    @njit(cache=True, nogil=True)
    def _kernel(lo, hi, x, out):
        for i in range(lo, hi):
            out[i] = ...

    parallel_for(_kernel, n, x, out)

Below :data:`MIN_CHUNK` agents per thread the work runs in the calling thread. A split costs
some 0.1-0.15 ms on this project's machine: handing the range to a pool thread (a Python
thread, which takes the interpreter lock before it calls the kernel) and waiting for it
(``benchmarks/bandwidth.py``, docs/performance.md block ``recorded/status``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

MIN_CHUNK = 20_000
"""Fewest agents per thread worth a handoff (tests lower it to exercise the threaded path)."""

_threads = 1
_pool: ThreadPoolExecutor | None = None
_blas = None


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def set_threads(n: int | None) -> int:
    """Use ``n`` threads within a run (None or 0: all available cores). Returns the number."""
    global _threads, _pool
    n = available_cores() if not n else int(n)
    if n < 1:
        raise ValueError(f"threads must be at least 1, got {n}")
    if n != _threads and _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
    _threads = n
    return n


def threads() -> int:
    """The number of threads a run uses."""
    return _threads


@contextmanager
def limited(n: int = 1) -> Iterator[None]:
    """Use ``n`` threads inside the block (a worker process of a sweep runs with one: its
    parallelism is the other workers), then the number before."""
    before = _threads
    set_threads(n)
    try:
        yield
    finally:
        set_threads(before)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Linear algebra (BLAS) in one thread inside the block. A threaded BLAS splits long dot
    products into parts summed in another order, so results would depend on the machine's
    cores; the model builds and steps in this block, in every process alike."""
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController

        _blas = ThreadpoolController()
    with _blas.limit(limits=1, user_api="blas"):
        yield


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_kept = False


def keep_freed_memory() -> bool:
    """Let the process keep the memory its arrays free, for the next ones (glibc only; a
    no-op elsewhere). Arrays up to 32 MiB then come from the allocator's heap rather than from
    fresh pages of the operating system, and freed memory is not given back while less than
    2 GiB of it is free: a year's arrays reuse last year's memory without page faults. No
    result changes; what it does to time and peak memory is measured in docs/performance.md
    (block ``recorded/allocator``). ``quartier run`` sets it; the other commands, the tests
    and scripts keep the allocator's defaults. Returns whether it is set."""
    global _kept
    if _kept:
        return True
    import ctypes
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    _kept = (libc.mallopt(M_MMAP_THRESHOLD, 32 * 2 ** 20) == 1
             and libc.mallopt(M_TRIM_THRESHOLD, 2 ** 31 - 1) == 1)
    return _kept


def chunks(n: int, min_chunk: int | None = None) -> list[tuple[int, int]]:
    """Contiguous ranges covering ``0..n-1``, one per thread, each at least ``min_chunk``
    long (except when ``n`` itself is shorter)."""
    lower = MIN_CHUNK if min_chunk is None else min_chunk
    parts = max(1, min(_threads, n // max(lower, 1)))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(parts)]


def balanced(start) -> list[tuple[int, int]]:
    """Ranges of groups with about equal numbers of members, one per thread (as
    :func:`chunks` would split the members): group ``g`` holds members
    ``start[g]..start[g+1]-1``, ``start`` ascending from 0. For work per group (cells of
    persons) whose groups differ much in size."""
    import numpy as np

    n_groups = len(start) - 1
    parts = len(chunks(int(start[-1])))
    cuts = [0] + [int(np.searchsorted(start, start[-1] * j // parts)) for j in range(1, parts)]
    cuts.append(n_groups)
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a] or [
        (0, n_groups)]


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="quartier")
    return _pool


def parallel_for(kernel: Callable, n: int, *args, min_chunk: int | None = None) -> None:
    """Run ``kernel(lo, hi, *args)`` over contiguous ranges covering ``0..n-1``, in
    ``threads()`` threads when the ranges are long enough; the calling thread takes the
    first range. Exceptions of any range are raised here."""
    _run([(kernel, lo, hi, *args) for lo, hi in chunks(n, min_chunk)])


def per_chunk(kernel: Callable, ranges: list[tuple[int, int]], *args) -> None:
    """Run ``kernel(k, lo, hi, *args)`` for each range ``k`` of ``ranges`` (from
    :func:`chunks`), in threads: for work that keeps a result per chunk (counts in row ``k``,
    added after; rows written from ``lo`` on)."""
    _run([(kernel, k, lo, hi, *args) for k, (lo, hi) in enumerate(ranges)])


def _run(calls: list[tuple]) -> None:
    """Each call ``(function, *arguments)``: the first in this thread, the others in the
    pool; exceptions of any are raised here."""
    if len(calls) == 1:
        calls[0][0](*calls[0][1:])
        return
    pool = _executor()
    futures = [pool.submit(*call) for call in calls[1:]]
    calls[0][0](*calls[0][1:])
    for f in futures:
        f.result()


def _after_fork_in_child() -> None:
    """A forked process has none of its parent's threads: start a fresh pool when needed."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
