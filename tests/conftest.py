"""Shared fixtures: small scenarios built in memory from the baseline."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def variant(base: sim.Scenario, **nested) -> sim.Scenario:
    """A copy of ``base`` with dotted-path overrides, e.g. ``{"city.households": 500}``."""
    return base.with_values(nested)


@pytest.fixture(scope="session")
def baseline() -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="session")
def small(baseline) -> sim.Scenario:
    return variant(baseline, **{"city.households": 2000, "years": 5})


@pytest.fixture()
def tiny(baseline) -> sim.Scenario:
    """A tiny run for the results store: its own files only (the baseline records cell
    snapshots for the maps)."""
    return baseline.with_values({"city.households": 150, "years": 2, "name": "tiny",
                                 "outcomes.cell_snapshots": False})


# -- running on two workers (pytest-xdist, see addopts in pyproject.toml) -------------------------


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def _run_root(config) -> Path:
    """A folder all workers of this pytest run share (the parent of each worker's basetemp)."""
    return config._tmp_path_factory.getbasetemp().parent


def pytest_sessionstart(session):
    """On a cold numba cache, compile every kernel once, in parallel, before the tests start
    (otherwise each worker compiles the same kernels at its first run).
    QUARTIER_TEST_NO_WARM_UP=1 leaves them to the tests."""
    if _is_worker(session.config) or os.environ.get("QUARTIER_TEST_NO_WARM_UP") == "1":
        return
    from sim.model.kernels import cache_is_warm, warm_up

    if not cache_is_warm():
        try:
            warm_up()
        except Exception:  # noqa: BLE001 (the tests that compile a kernel then report it)
            pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Tests marked ``alone`` (they judge elapsed times) run while no other worker runs a test:
    an exclusive lock against the shared lock every other test holds (a gate lock first, so
    a waiting ``alone`` test is not starved)."""
    if not _is_worker(item.config):
        yield
        return
    alone = item.get_closest_marker("alone") is not None
    root = _run_root(item.config)
    with open(root / "alone.gate", "a") as gate, open(root / "alone.lock", "a") as lock:
        fcntl.flock(gate, fcntl.LOCK_EX)
        fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        if not alone:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            if alone:
                fcntl.flock(gate, fcntl.LOCK_UN)


def shared_folder(tmp_path_factory, name: str, build) -> Path:
    """``build(folder)`` once per pytest run, for every worker: the folder ``name`` in the run's
    shared temporary folder (built under a lock by the first worker that needs it)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    out = root / name
    with open(root / f"{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            done = root / f"{name}.complete"
            if not done.exists():
                if out.exists():
                    shutil.rmtree(out)
                build(out)
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return out
