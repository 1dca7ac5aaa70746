"""Running many simulations: seeds, the worker function and executors.

A run is shipped to a worker as a :class:`RunSpec`: the scenario as plain data (``model_dump``),
its content hash, the seed and the horizon, never a model object. The worker rebuilds the
scenario, checks the hash, runs the model and writes the run's Parquet files into the experiment
folder (:mod:`sim.experiments.store`); it returns a few numbers only. So memory stays bounded
however many runs a sweep has, and any ``concurrent.futures.Executor`` can run the work: local
processes (:func:`process_pool`), a Dask cluster (``distributed.Client(address).get_executor()``),
or none (in this process).

Seeds (common random numbers): replicate ``r`` of every scenario and design point runs with seed
``seed + r``. Every process draws from its own named stream of that seed (``sim.model.rng``), so a
baseline and a policy run of the same replicate share their random numbers wherever they share
events, and their difference comes from the levers rather than from noise. With
``independent_seeds`` each (scenario, replicate) gets its own seed instead (see
:func:`replicate_seed`), which exists to show what common random numbers gain.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import InputError
from sim.experiments.files import share_like_new_file, temporary_name
from sim.experiments.results import check_seed
from sim.experiments.store import ExperimentStore, LockLost, PlannedRun, check_lock, run_paths
from sim.scenario import Scenario, run_id

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` when runs start and after each run."""


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs for one run (small, picklable, no model objects).

    Attributes:
        scenario: The scenario as plain data (``Scenario.model_dump()`` plus ``source_file``),
            with ``years`` already set to the horizon.
        scenario_hash: Its content hash; the worker checks it after rebuilding the scenario.
        run_id: The model's run id for (scenario, seed); names the run's files.
        seed: The run's seed.
        replicate: Replicate number (0-based).
        years: Years to simulate.
        out_dir: The experiment folder.
        command: The command that started the experiment (provenance).
        design_point: Index of the sweep's design point, if any.
        values: The swept values of the design point, by dotted path.
        lock_token: The token of the folder's lock held by the command that planned the run
            (set by :class:`Runner`): the worker stores the run only while that command holds
            the folder.
    """

    scenario: dict[str, Any]
    scenario_hash: str
    run_id: str
    seed: int
    replicate: int
    years: int
    out_dir: str
    command: str = ""
    design_point: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    lock_token: str = ""

    @property
    def scenario_name(self) -> str:
        return str(self.scenario["name"])

    def planned(self) -> PlannedRun:
        """The manifest entry of this run."""
        return PlannedRun(run_id=self.run_id, scenario=self.scenario_name,
                          scenario_hash=self.scenario_hash, seed=self.seed,
                          replicate=self.replicate, years=self.years,
                          design_point=self.design_point, values=dict(self.values))


# -- identities and seeds --------------------------------------------------------------------


def with_horizon(scenario: Scenario, years: int | None) -> Scenario:
    """The scenario with ``years`` set (the horizon is part of its content and run id)."""
    if years is None or years == scenario.years:
        return scenario
    return scenario.with_values({"years": int(years)})


def scenario_identity(scenario: Scenario) -> str:
    """Content hash of a scenario regardless of its horizon (``years``).

    An experiment folder holds one content per scenario name; runs of different horizons of the
    same content may share the folder.
    """
    return scenario.model_copy(update={"years": 0}).content_hash()


def replicate_seed(seed: int, replicate: int, *, scenario: str = "",
                   independent: bool = False) -> int:
    """The seed of a replicate.

    Args:
        seed: The experiment's base seed.
        replicate: Replicate number, 0-based.
        scenario: Scenario name (used only with ``independent``).
        independent: Give every (scenario, replicate) its own seed instead of common random
            numbers: the first 32-bit word of ``SeedSequence([seed, crc32(scenario), r])``.

    Returns:
        ``seed + replicate`` (common random numbers), or the independent seed.
    """
    if not independent:
        return int(seed) + int(replicate)
    key = zlib.crc32(scenario.encode("utf-8"))
    return int(np.random.SeedSequence([int(seed), key, int(replicate)]).generate_state(
        1, np.uint32)[0])


def scenario_payload(scenario: Scenario) -> dict[str, Any]:
    """The scenario as plain data a worker can rebuild it from."""
    data = scenario.model_dump()
    data["source_file"] = scenario.source_file
    return data


def make_specs(scenario: Scenario, *, replicates: Iterable[int], seed: int, out_dir: str | Path,
               years: int | None = None, independent_seeds: bool = False, command: str = "",
               design_point: int | None = None,
               values: dict[str, Any] | None = None) -> list[RunSpec]:
    """The runs of one scenario (or design point), one per replicate."""
    sc = with_horizon(scenario, years)
    payload = scenario_payload(sc)
    digest = sc.content_hash()
    specs = []
    for r in replicates:
        s = replicate_seed(seed, r, scenario=sc.name, independent=independent_seeds)
        check_seed(s, "seed")
        specs.append(RunSpec(scenario=payload, scenario_hash=digest, run_id=run_id(digest, s),
                             seed=s, replicate=int(r), years=sc.years, out_dir=str(out_dir),
                             command=command, design_point=design_point,
                             values=dict(values or {})))
    return specs


# -- the worker ------------------------------------------------------------------------------


def execute_run(spec: RunSpec) -> dict[str, Any]:
    """Run one simulation and store it (the worker function; module level, so picklable).

    Writes ``runs/<run_id>.outcomes.parquet``, optionally ``.cells.parquet`` (when the model
    records cell snapshots: :func:`~sim.experiments.results.cells_to_write`) and
    ``.vital.parquet`` (``vital_statistics()``), and last ``.experiments.parquet``, each
    atomically.

    The run uses one BLAS thread: parallelism comes from running one run per core, and BLAS
    threads of several workers oversubscribe the cores (measured on 2 cores, 2 workers, 10-year
    runs of 50,000 households: 0.42 s per run with one BLAS thread each, 1.32 s without).

    Returns:
        ``{"run_id", "seconds", "outcome_rows"}``.
    """
    from threadpoolctl import threadpool_limits

    from sim.model.threads import limited

    with threadpool_limits(limits=1), limited(1):
        return _execute_run(spec)


def _execute_run(spec: RunSpec) -> dict[str, Any]:
    import pandas as pd

    from sim.experiments.results import cells_to_write, experiment_row
    from sim.model import build_model

    t0 = time.perf_counter()
    scenario = Scenario.model_validate(spec.scenario)
    digest = scenario.content_hash()
    if digest != spec.scenario_hash:
        raise RuntimeError(
            f"scenario '{scenario.name}' has hash {digest[:12]} on this worker, expected "
            f"{spec.scenario_hash[:12]} (a referenced file differs here?)")
    model = build_model(scenario, seed=spec.seed)
    if model.run_id != spec.run_id:
        raise RuntimeError(f"run id {model.run_id} differs from the planned {spec.run_id}")
    model.run(spec.years)
    outcomes = model.outcomes()
    tables = {"outcomes": outcomes}
    cells = cells_to_write(model)
    if cells is not None:
        tables["cells"] = cells
    vital = getattr(model, "vital_statistics", None)
    if callable(vital):
        table = vital()
        table.insert(0, "run_id", spec.run_id)
        tables["vital"] = table
    experiments = experiment_row(model, spec.command)
    experiments["replicate"] = np.int64(spec.replicate)
    experiments["design_point"] = pd.array([spec.design_point], dtype="Int64")
    experiments["design_values"] = _json(spec.values)
    tables["experiments"] = experiments  # last: marks the run complete
    store_run(spec, tables)
    return {"run_id": spec.run_id, "seconds": time.perf_counter() - t0,
            "outcome_rows": len(outcomes)}


def store_run(spec: RunSpec, tables: dict[str, Any]) -> None:
    """Store a run's tables (in their order; ``experiments`` last) as one unit, as far as files
    allow: every file is written under a temporary name first; only then, and only while the
    command that planned the run still holds the folder (:func:`check_lock`), are they renamed
    into place, the experiments file last. A failure before the renames stores nothing."""
    paths = run_paths(spec.out_dir, spec.run_id)
    written: list[tuple[Path, Path]] = []
    try:
        for name, table in tables.items():
            tmp = paths[name].parent / temporary_name(paths[name].name)
            written.append((tmp, paths[name]))
            table.to_parquet(tmp, index=False)
            share_like_new_file(tmp)
        if spec.lock_token:
            check_lock(spec.out_dir, spec.lock_token)
        for tmp, final in written:
            os.replace(tmp, final)
    finally:
        for tmp, _ in written:
            tmp.unlink(missing_ok=True)


def run_in_memory(scenario: dict[str, Any], seed: int, years: int):
    """Run one scenario (plain data, as ``Scenario.model_dump()`` gives it) and return its
    outcomes table without storing it: the what-if panel's runs (module level, so picklable;
    one BLAS thread, as :func:`execute_run`)."""
    from threadpoolctl import threadpool_limits

    from sim.model import build_model
    from sim.model.threads import limited

    with threadpool_limits(limits=1), limited(1):
        return build_model(Scenario.model_validate(scenario), seed=seed).run(years).outcomes()


def keep_start_populations(entries: int) -> None:
    """Keep, in this process, the start populations (city and synthetic households) of the last
    ``entries`` (city, seed) built, so that later builds with the same city and seed but other
    levers copy them (:mod:`sim.model.startcache`; the runs are identical). For worker
    processes that run the same seeds again and again: the dashboard's what-if workers."""
    from sim.model import startcache

    startcache.enable(entries)


def facility_table(scenario: dict[str, Any], seed: int):
    """The facilities of a scenario's city: ``kind, cell, col, row, capacity, opening_year,
    name``. Facilities are geography, the same for every seed, but they are sized by the
    synthetic population, so this takes a model build (run it in a worker)."""
    import pandas as pd

    from sim.model import build_model

    model = build_model(Scenario.model_validate(scenario), seed=seed)
    return pd.DataFrame(model.services.facilities.table(model.city),
                        columns=["kind", "cell", "col", "row", "capacity", "opening_year",
                                 "name"])


def city_cells(scenario: Scenario):
    """The cells of a scenario's quartiers: ``col, row, cell, quartier`` (from the geography
    alone; no population is built)."""
    import pandas as pd

    from sim.inputs.city import build_city

    city = build_city(scenario)
    cells = np.flatnonzero(city.cell_quartier >= 0)
    ids = np.array(city.quartier_ids(), dtype=object)
    return pd.DataFrame({"col": cells % city.width, "row": cells // city.width, "cell": cells,
                         "quartier": ids[city.cell_quartier[cells]]})


def _json(values: dict[str, Any]) -> str:
    import json

    return json.dumps(values, sort_keys=True, ensure_ascii=False)


def _warm_up() -> None:
    """Pool initializer: end with the command, and import the model once per worker, before
    the first run."""
    end_with_parent()
    import sim.model  # noqa: F401


def end_with_parent(interval_s: float = 0.2) -> None:
    """End this worker process soon after its parent ends (a killed command, or the fork
    server of a killed command): a daemon thread watches the parent's process id. Without it,
    workers of a killed command would go on with the runs already queued."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def _ready() -> int:
    return os.getpid()


def start_method() -> str:
    """The start method for local worker processes.

    ``fork`` on Linux when this process runs no other Python thread: the workers are copies of
    this process with the model already imported, so they start at once (a fresh interpreter
    needs about 0.6 s to import numpy, pandas, pydantic and mesa, which on a 16-run sweep of
    50,000-household runs costs a tenth of the wall time). Otherwise ``forkserver`` (a server
    process imports the model once and forks the workers), or ``spawn`` where neither exists.
    """
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def process_pool(workers: int, method: str | None = None) -> ProcessPoolExecutor:
    """A pool of ``workers`` local processes, started at once.

    Args:
        workers: Number of processes.
        method: ``"fork"``, ``"forkserver"`` or ``"spawn"`` (default: :func:`start_method`).
            ``fork`` is only safe while no other thread runs; the pool then forks every
            worker here, before the caller starts threads (e.g. a progress bar).
    """
    method = method or start_method()
    ctx = multiprocessing.get_context(method)
    if method == "fork":
        import sim.model  # noqa: F401  (inherited by the workers)
    elif method == "forkserver":
        ctx.set_forkserver_preload(["sim.experiments.runner", "sim.model"])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_warm_up)
    # start the workers now (with fork, all are forked at the first submit)
    wait([pool.submit(_ready) for _ in range(workers)])
    return pool


# -- running a batch of specs ---------------------------------------------------------------


@dataclass
class RunReport:
    """What a call of :meth:`Runner.run` did."""

    planned: int = 0
    skipped: int = 0
    done: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


class RunsFailed(RuntimeError):
    """Some runs raised; the others are stored, and re-running retries the failed ones.
    ``bad_input``: every failure was an :class:`~sim.errors.InputError` (a file or value the
    user gave)."""

    def __init__(self, failed: dict[str, str], bad_input: bool = False) -> None:
        self.failed = failed
        self.bad_input = bad_input
        first_id, first = next(iter(failed.items()))
        super().__init__(f"{len(failed)} run(s) failed (stored runs are kept; re-run to retry); "
                         f"first: run {first_id}: {first}")


class Runner:
    """Runs batches of :class:`RunSpec` into one experiment folder, skipping stored runs.

    Use as a context manager; it holds the folder's lock and, unless an executor is given, a
    pool of ``workers`` local processes (``workers=1``: runs in this process).

    Args:
        out_dir: The experiment folder.
        executor: Any ``concurrent.futures.Executor`` (e.g. a Dask ``Client.get_executor()``);
            the caller keeps ownership.
        workers: Local worker processes when no executor is given.
        command: Recorded in the manifest and in each run's experiments row.
        progress: ``progress(done, total)`` callback.
        max_pending: Runs submitted at once (default: 2 per local worker, 256 for a given
            executor); results stream to disk as runs finish.
        start_method: For the local pool: ``"fork"``, ``"forkserver"`` or ``"spawn"``
            (default: :func:`start_method`).
    """

    def __init__(self, out_dir: str | Path, *, executor: Executor | None = None, workers: int = 1,
                 command: str = "", progress: Progress | None = None,
                 max_pending: int | None = None, start_method: str | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.executor = executor
        self.workers = max(1, int(workers))
        self.command = command
        self.progress = progress
        self.max_pending = max_pending or (256 if executor is not None else 2 * self.workers)
        self.start_method = start_method
        self.store: ExperimentStore | None = None
        self._own_pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Runner:
        self.store = ExperimentStore.open(self.out_dir, command=self.command)
        if self.executor is None and self.workers > 1:
            try:  # before the caller's progress bar starts a thread (see start_method)
                self._own_pool = process_pool(self.workers, self.start_method)
            except BaseException:
                self.store.close()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._own_pool is not None:
                self._own_pool.shutdown(wait=True, cancel_futures=True)
                self._own_pool = None
        finally:
            if self.store is not None:
                self.store.close()
                self.store = None

    def register(self, scenarios: dict[str, dict[str, Any]], *, force: bool = False) -> list[str]:
        """Check and record the experiment's scenarios (``ExperimentStore.check_scenarios``)."""
        assert self.store is not None, "use Runner as a context manager"
        return self.store.check_scenarios(scenarios, force=force)

    def run(self, specs: list[RunSpec], *, raise_on_failure: bool = True) -> RunReport:
        """Run the specs not yet stored; stream each finished run to disk.

        Raises:
            RunsFailed: if any run raised (after all others have finished).
        """
        assert self.store is not None, "use Runner as a context manager"
        t0 = time.perf_counter()
        token = self.store.token
        unique = list({s.run_id: replace(s, lock_token=token) for s in specs}.values())
        todo = self.store.plan(s.planned() for s in unique)
        todo_ids = {p.run_id for p in todo}
        todo_specs = [s for s in unique if s.run_id in todo_ids]
        report = RunReport(planned=len(unique), skipped=len(unique) - len(todo_specs))
        total = len(unique)
        self._tick(report.skipped, total)

        other_errors: list[str] = []

        def finished(spec: RunSpec, info: dict[str, Any] | None, error: BaseException | None):
            if isinstance(error, LockLost):
                raise error  # the folder is another command's now: stop at once
            if error is None:
                report.done += 1
                self.store.mark_done(spec.run_id, {"seconds": round(info["seconds"], 3)})
            else:
                report.failed[spec.run_id] = f"{error.__class__.__name__}: {error}"
                if not isinstance(error, InputError):
                    other_errors.append(spec.run_id)
                entry = self.store.manifest["runs"][spec.run_id]
                entry["status"] = "failed"
                entry["error"] = report.failed[spec.run_id]
            self._tick(report.skipped + report.done + len(report.failed), total)

        try:
            if self.executor is None and self.workers == 1:
                for spec in todo_specs:
                    try:
                        info = execute_run(spec)
                    except Exception as exc:  # recorded; the other runs go on
                        finished(spec, None, exc)
                    else:
                        finished(spec, info, None)
            elif todo_specs:
                self._stream(todo_specs, finished)
        finally:
            if self.store.holds_lock():
                self.store.refresh_status()
                self.store.save()
        report.seconds = time.perf_counter() - t0
        if report.failed and raise_on_failure:
            raise RunsFailed(report.failed, bad_input=not other_errors)
        return report

    # -- internals --------------------------------------------------------------------------

    def _pool(self) -> Executor:
        if self.executor is not None:
            return self.executor
        if self._own_pool is None:
            self._own_pool = process_pool(self.workers, self.start_method)
        return self._own_pool

    def _stream(self, specs: list[RunSpec], finished) -> None:
        executor = self._pool()
        queue = iter(specs)
        pending: dict[Future, RunSpec] = {}

        def fill() -> None:
            while len(pending) < self.max_pending:
                spec = next(queue, None)
                if spec is None:
                    return
                pending[executor.submit(execute_run, spec)] = spec

        try:
            fill()
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    spec = pending.pop(future)
                    error = future.exception()
                    finished(spec, None if error else future.result(), error)
                fill()
        except BaseException:
            for future in pending:
                future.cancel()
            raise

    def _tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)
