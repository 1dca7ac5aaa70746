"""Compiling the model's numba kernels ahead of the first run (``quartier warm-up``).

Every kernel is ``@njit(cache=True)``: compiled at its first call, then loaded from numba's cache
(``__pycache__`` beside the module, or ``NUMBA_CACHE_DIR``). On a fresh install the first run
would compile them all, about 20 s. :func:`warm_up` compiles them instead, for the argument
types the model calls them with (:data:`sim.model.kernel_signatures.SIGNATURES`), spread over
several processes; each writes its kernels to the cache, and every later run loads them.

The signature list is recorded from small runs of every scenario in ``scenarios/``
(``python -m sim.model.kernels``); a test checks that it covers what the model compiles.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

Kernel = tuple[str, str, str]  # module, function, signature (repr of the argument types)


def dispatchers() -> dict[tuple[str, str], object]:
    """The numba kernels of the loaded ``sim`` modules, by (module, function)."""
    from numba.core.registry import CPUDispatcher

    found = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("sim.") or module is None:
            continue
        for attr, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == name:
                found[(name, attr)] = obj
    return found


def compiled_signatures() -> set[Kernel]:
    """(module, function, signature) of every kernel compiled in this process so far."""
    return {(module, attr, repr(tuple(sig)))
            for (module, attr), kernel in dispatchers().items() for sig in kernel.signatures}


def _types(signature: str) -> tuple:
    from numba.core import types

    return tuple(eval(signature, dict(vars(types))))  # noqa: S307 (our own recorded list)


def compile_kernels(kernels: Iterable[Kernel]) -> float:
    """Compile (or load from the cache) each kernel for its signature; returns the seconds."""
    t0 = time.perf_counter()
    for module, function, signature in kernels:
        kernel = getattr(importlib.import_module(module), function)
        kernel.compile(_types(signature))
    return time.perf_counter() - t0


def _shares(kernels: list[tuple[Kernel, float]], n: int) -> list[list[Kernel]]:
    """Split the kernels into ``n`` shares of about equal compile time (largest first)."""
    shares: list[list[Kernel]] = [[] for _ in range(n)]
    load = [0.0] * n
    for kernel, seconds in sorted(kernels, key=lambda k: -k[1]):
        i = load.index(min(load))
        shares[i].append(kernel)
        load[i] += seconds
    return [s for s in shares if s]


MAX_WORKERS = 4
"""Default cap on warm-up processes: each holds numba and LLVM (about 0.3 GB), and the largest
kernels bound the time anyway."""


def warm_up(workers: int | None = None) -> tuple[int, float]:
    """Compile every kernel of :data:`~sim.model.kernel_signatures.SIGNATURES` into numba's
    cache, in ``workers`` processes (default: one per CPU core, at most :data:`MAX_WORKERS`).
    Kernels already in the cache are only loaded. Returns (number of kernels, seconds)."""
    from concurrent.futures import ProcessPoolExecutor

    from sim.model.kernel_signatures import SIGNATURES

    t0 = time.perf_counter()
    kernels = [((m, f, s), seconds) for m, f, s, seconds in SIGNATURES]
    workers = max(1, min(workers or min(os.cpu_count() or 1, MAX_WORKERS), len(kernels)))
    if workers == 1:
        compile_kernels(k for k, _ in kernels)
    else:
        import multiprocessing
        import threading

        # fork copies the imported model; with other threads running, a fresh interpreter
        fork = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
        ctx = multiprocessing.get_context("fork" if fork else "spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            list(pool.map(compile_kernels, _shares(kernels, workers)))
    return len(kernels), time.perf_counter() - t0


def cache_is_warm() -> bool:
    """Whether numba's cache already holds the model's largest kernel (a cold cache means the
    next run compiles for about 20 s)."""
    try:
        from sim.model.kernel_signatures import SIGNATURES

        module, function, signature, _ = max(SIGNATURES, key=lambda k: k[3])
        kernel = getattr(importlib.import_module(module), function)
        cache = kernel._cache  # numba's FunctionCache (private API: treat failures as warm)
        key = cache._index_key(_types(signature), kernel.targetctx.codegen())
        return cache._cache_file._load_index().get(key) is not None
    except Exception:  # noqa: BLE001
        return True


# -- recording the signature list -----------------------------------------------------------


def record(scenarios: Iterable[Path], households: int = 300, years: int = 2) -> list[tuple]:
    """Run each scenario small and return (module, function, signature, compile seconds) of
    every kernel the runs compiled."""
    from numba.core import event

    import sim
    from sim.errors import InputError
    from sim.model import build_model

    seconds: dict[Kernel, float] = {}
    stack: list[list] = []

    class Timer(event.Listener):
        def on_start(self, ev):
            stack.append([time.perf_counter(), ev.data["dispatcher"], ev.data["args"]])

        def on_end(self, ev):
            t0, kernel, args = stack.pop()
            key = (kernel.py_func.__module__, kernel.py_func.__name__, repr(tuple(args)))
            seconds[key] = seconds.get(key, 0.0) + time.perf_counter() - t0

    with event.install_listener("numba:compile", Timer()):
        for path in scenarios:
            sc = sim.load_scenario(path)
            if sc.city.kind == "files":
                continue  # real cities: the same kernels, but their files take long to read
            try:
                model = build_model(sc.with_values({"city.households": households,
                                                    "years": years}), seed=1)
            except InputError:  # levers placed on cells of the full-size grid
                model = build_model(sc.with_values({"years": years}), seed=1)
            model.run(years)
    return sorted((m, f, s, round(seconds.get((m, f, s), 0.0), 2))
                  for m, f, s in compiled_signatures())


def write_signatures(rows: list[tuple], path: Path) -> None:
    lines = ["# ruff: noqa: E501",
             '"""The argument types the model calls its numba kernels with: (module, function,',
             "signature, compile seconds when recorded). Written by ``python -m "
             'sim.model.kernels``;',
             'read by :func:`sim.model.kernels.warm_up`."""', "", "SIGNATURES = ("]
    lines += [f"    {row!r}," for row in rows]
    lines += [")", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":  # python -m sim.model.kernels [SCENARIO ...]
    root = Path(__file__).resolve().parents[2]
    paths = [Path(p) for p in sys.argv[1:]] or sorted((root / "scenarios").glob("*.toml"))
    rows = record(paths)
    write_signatures(rows, Path(__file__).with_name("kernel_signatures.py"))
    print(f"{len(rows)} kernel signatures from {len(paths)} scenarios")
