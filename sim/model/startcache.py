"""The start population of a (city, seed), kept for processes that build it again and again.

A model's build begins with the city and its synthetic households (``build_city``, then
``synthesize``), their incomes and their match to the dwellings (``housing.initialise``), and
the in-migrants' profile drawn from the synthetic pool
(``in_migration.InMigrantProfile``): the same for every scenario that differs only in its
levers, which act from later on. A process that builds the same city with the same seeds many
times, only the levers moved (the dashboard's what-if workers), can keep that part:
:func:`enable` turns the cache on for the process; :func:`start_population` then builds it
once per key and hands every later build its own copy, with the population stream where the
build left it. The rest of the build (facilities, the housing market, the levers) runs as
always, so a model built from the cache is the model built without it
(``tests/test_dashboards_report.py`` checks that runs are identical).

The key is the seed and the scenario's content hash with its levers left out: nothing before
the levers reads them (``sim.inputs.city``, ``sim.inputs.synthesis``,
``sim.inputs.realpopulation``, ``sim.model.housing.initialise`` and the in-migrants' profile
do not).
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

_cache: OrderedDict[tuple[str, int], bytes] | None = None
_entries = 0
hits = 0
"""Builds served from the cache in this process (for tests and benchmarks)."""


def enable(entries: int = 8) -> None:
    """Keep the start populations of the last ``entries`` (city, seed) keys in this process."""
    global _cache, _entries
    if entries < 1:
        raise ValueError(f"entries must be at least 1, got {entries}")
    _entries = int(entries)
    if _cache is None:
        _cache = OrderedDict()
    while len(_cache) > _entries:
        _cache.popitem(last=False)


def disable() -> None:
    """Forget the kept start populations and build every model in full again."""
    global _cache, hits
    _cache, hits = None, 0


def enabled() -> bool:
    return _cache is not None


def key(scenario, seed: int) -> tuple[str, int]:
    """The cache key of a build: the scenario's content hash without its levers, and the
    seed."""
    unlevered = scenario.model_copy(update={"levers": type(scenario.levers)()})
    return unlevered.content_hash(), int(seed)


def start_population(scenario, seed: int, rng: np.random.Generator,
                     build: Callable[[], tuple[Any, ...]]) -> tuple[Any, ...]:
    """``build()`` (which draws from ``rng``), or a copy of what it returned for the same key
    before, with ``rng`` set to where that build left it."""
    global hits
    if _cache is None:
        return build()
    k = key(scenario, seed)
    blob = _cache.get(k)
    if blob is not None:
        _cache.move_to_end(k)
        result, state = pickle.loads(blob)
        rng.bit_generator.state = state
        hits += 1
        return result
    result = build()
    _cache[k] = pickle.dumps((result, rng.bit_generator.state),
                             protocol=pickle.HIGHEST_PROTOCOL)
    while len(_cache) > _entries:
        _cache.popitem(last=False)
    return result
