"""What-if runs for the dashboard: move a lever, run a few paired replications, compare.

The engine keeps a pool of worker processes alive for the life of the app, with the model
imported and its compiled kernels loaded (a tiny run at start-up), and runs the baseline's
replications once, in the background, when the app starts. A what-if question then costs only
the policy runs: R replications with the seeds of the baseline's (common random numbers), so
the paired differences are precise with few runs.

Levers map to scenario fields in :func:`lever_overrides` (the one place to wire a lever); an
MVZ placed outside the city is an :class:`~sim.errors.InputError` before any run starts.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import sim
from sim.errors import InputError
from sim.experiments.runner import (
    city_cells,
    end_with_parent,
    facility_table,
    keep_start_populations,
    run_in_memory,
)
from sim.scenario import Scenario

BASELINE = "baseline"
WHATIF = "what-if"
MVZ_NAME = "MVZ (Was-wäre-wenn)"


@dataclass(frozen=True)
class WhatIf:
    """A what-if question: the lever settings (None: leave as in the baseline).

    Attributes:
        mvz_cell: (col, row) of a new MVZ.
        mvz_doctors: Doctors of the new MVZ (Germany 2022: 6.2 per MVZ).
        social_share: Share of social housing to reach in every quartier (0-1).
        ticket_price: Monthly general public-transport ticket (EUR).
    """

    mvz_cell: tuple[int, int] | None = None
    mvz_doctors: float = 6.0
    social_share: float | None = None
    ticket_price: float | None = None


def lever_year(base: Scenario) -> int:
    """The year a what-if lever acts from: the year after the start (the first simulated
    year), as the scenarios of the repository do."""
    return base.start_year + 1


def lever_overrides(base: Scenario, whatif: WhatIf) -> dict[str, Any]:
    """Dotted-path overrides (for ``Scenario.with_values``) of a what-if question.

    ``with_values`` sets leaves of existing tables only, so a lever table the baseline leaves
    out (None) is set whole; one it has is changed leaf by leaf (keeping its other settings).
    """
    overrides: dict[str, Any] = {}
    levers = base.levers
    year = lever_year(base)
    if whatif.social_share is not None:
        share = float(whatif.social_share)
        if levers.rent_mixing is None:
            overrides["levers.rent_mixing"] = {"social_share_target": share, "from_year": year}
        else:
            overrides["levers.rent_mixing.social_share_target"] = share
    if whatif.mvz_cell is not None:
        centre = {"cell": [int(whatif.mvz_cell[0]), int(whatif.mvz_cell[1])],
                  "doctors": float(whatif.mvz_doctors), "opening_year": year,
                  "name": MVZ_NAME}
        if levers.mvz is None:
            overrides["levers.mvz"] = {"centres": [centre]}
        else:
            existing = levers.mvz.model_dump()["centres"]
            overrides["levers.mvz.centres"] = [*existing, centre]
    if whatif.ticket_price is not None:
        price = float(whatif.ticket_price)
        if levers.public_transport is None:
            overrides["levers.public_transport"] = {"from_year": year, "ticket_price_eur": price}
        else:
            overrides["levers.public_transport.ticket_price_eur"] = price
    return overrides


def whatif_scenario(base: Scenario, whatif: WhatIf) -> Scenario:
    """The baseline with the what-if levers set.

    Raises:
        InputError: for invalid lever values, or an MVZ placed outside the city (the check of
            :func:`sim.check_levers`, which runs would fail with).
    """
    overrides = lever_overrides(base, whatif)
    scenario = base.with_values(overrides) if overrides else base
    try:
        sim.check_levers(scenario)
    except InputError as exc:
        raise InputError("what-if", exc.field, exc.message) from None
    return scenario


def _joined(parts: list[pd.Series]):
    """The values of ``parts`` one after the other; categorical ones as plain strings (looked
    up by their codes when all parts share their categories, as the runs of one city do)."""
    first = parts[0]
    if isinstance(first.dtype, pd.CategoricalDtype):
        categories = first.cat.categories
        codes = [p.cat.codes.to_numpy() for p in parts
                 if isinstance(p.dtype, pd.CategoricalDtype)
                 and p.cat.categories.equals(categories)]
        if len(codes) == len(parts) and all((c >= 0).all() for c in codes):
            return categories.astype(str).take(np.concatenate(codes)).array
        return pd.concat(parts, ignore_index=True).astype(str).array
    return pd.concat(parts, ignore_index=True).array


def worker_processes(replications: int, cores: int) -> int:
    """How many worker processes finish ``replications`` runs of equal length soonest on
    ``cores`` cores: the fewest with which no process runs more of them than the cores' even
    share (``replications / cores``). Five runs on 2 cores: 3 processes (2 + 2 + 1 runs, the
    cores shared by the operating system), where 2 processes would take three rounds with one
    core idle in the last."""
    replications, cores = max(1, int(replications)), max(1, int(cores))
    if replications <= cores:
        return replications
    per_process = replications // cores
    return -(-replications // per_process)


# -- the worker ------------------------------------------------------------------------------


def _warm_up(payload: dict[str, Any], entries: int) -> None:
    """Worker initializer: end with the app, keep the start populations of the worker's
    replications (:mod:`sim.model.startcache`), import the model and load its compiled kernels
    with a tiny run."""
    end_with_parent()
    keep_start_populations(entries)
    run_in_memory(payload, seed=0, years=int(payload["years"]))


# -- the engine ------------------------------------------------------------------------------


@dataclass
class Job:
    """One what-if question in flight."""

    id: str
    whatif: WhatIf
    overrides: dict[str, Any]
    futures: list[Future]
    started: float
    finished: float | None = None
    error: str | None = None
    outcomes: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    answered: threading.Event = field(default_factory=threading.Event)
    """Set once the question is answered (``on_answer`` done) or failed or cancelled."""


class WhatIfEngine:
    """Runs what-if questions against a cached baseline on warm worker processes.

    Replication ``r`` always runs in worker ``r % workers``, so each worker builds the start
    populations of the same seeds: it keeps them (:mod:`sim.model.startcache`, filled by the
    baseline's runs) and builds only the rest of each what-if model.

    Args:
        base: The baseline scenario of the result folder.
        households: Households of every what-if run.
        years: Years of every what-if run.
        replications: Paired replications (seeds ``seed + r``, as the baseline's).
        seed: Base seed.
        workers: Worker processes (at most ``replications`` are started); None: as many as
            share the machine's cores evenly (:func:`worker_processes`).
    """

    def __init__(self, base: Scenario | None, *, households: int = 10_000, years: int = 20,
                 replications: int = 5, seed: int = 1, workers: int | None = None,
                 unavailable_reason: str | None = None) -> None:
        self.reason = unavailable_reason
        self.households, self.years = int(households), int(years)
        if workers is None:
            workers = worker_processes(replications, os.cpu_count() or 1)
        self.replications, self.seed, self.workers = int(replications), int(seed), int(workers)
        self.base = None
        if base is not None and self.reason is None:
            self.base = base.with_values({"city.households": self.households,
                                          "years": self.years,
                                          "outcomes.cell_snapshots": False})
        self._pools: list[ProcessPoolExecutor] = []
        self._facilities: Future | None = None
        self._baseline: list[Future] = []
        self._jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.on_answer = None
        """Called with a question's job once its outcomes are collected (if set)."""

    @classmethod
    def from_results(cls, results, **options) -> WhatIfEngine:
        """The engine for a result folder: its baseline (or only) scenario, as stored."""
        name = results.baseline or results.scenarios[0]
        rows = results.experiments[results.experiments["scenario"] == name]
        if rows.empty or "parameters" not in rows:
            return cls(None, unavailable_reason="the runs do not record their scenario",
                       **options)
        try:
            base = Scenario.model_validate(json.loads(rows["parameters"].iloc[0]))
        except Exception:  # a scenario of another code version
            return cls(None, unavailable_reason=f"the stored scenario '{name}' does not match "
                       "this version of the model", **options)
        if base.model != "quartier":
            return cls(None, unavailable_reason="what-if runs need the full model, not "
                       "Schelling mode", **options)
        return cls(base, **options)

    @property
    def available(self) -> bool:
        return self.base is not None

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the warm pool and, in the background, the baseline runs."""
        if not self.available or self._pools:
            return
        # Not fork: the app has read Parquet files by now, and a child forked while pyarrow's
        # threads hold its allocator's locks can hang when it builds a table. A fork server
        # starts clean, imports the model once and forks the workers from there.
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
            else "spawn"
        ctx = multiprocessing.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(["dashboards.whatif", "sim.experiments.runner"])
        tiny = self.base.with_values({"city.households": 200, "years": 2})
        tiny = whatif_scenario(tiny, WhatIf(social_share=0.3)).model_dump()
        n = max(1, min(self.workers, self.replications))
        # one single-process executor per worker: a replication goes to the worker that keeps
        # its seed's start population (its own, the tiny warm-up's and the facilities' build)
        entries = -(-self.replications // n) + 2
        self._pools = [ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_warm_up,
                                           initargs=(tiny, entries)) for _ in range(n)]
        payload = self.base.model_dump()
        self._facilities = self._pools[0].submit(facility_table, payload, self.seed)
        import scipy.stats  # noqa: F401  (the comparison's t-quantiles; slow to import)

        self._baseline = self._submit_runs(payload)

    def shutdown(self, wait: bool = False) -> None:
        """Stop the pool (cancelling open runs); ``wait`` for its workers to end (scripts that
        exit next, so the pool's exit hook finds it closed)."""
        pools, self._pools = self._pools, []
        for job in list(self._jobs.values()):  # every worker's queue first, then each worker
            for f in job.futures:
                f.cancel()
        for f in self._baseline:
            f.cancel()
        for pool in pools:
            pool.shutdown(wait=wait, cancel_futures=True)

    def city_grid(self) -> pd.DataFrame:
        """The cells of the what-if city's quartiers (col, row, cell, quartier): the grid on
        which an MVZ is placed (it can differ from the result folder's city, whose size may
        differ)."""
        if not hasattr(self, "_grid"):
            self._grid = city_cells(self.base)
        return self._grid

    def facilities(self) -> pd.DataFrame | None:
        """The what-if city's facilities (``sim.model.services`` table, as rows), or None while the
        worker builds them (or if that failed)."""
        f = self._facilities
        if f is None or not f.done() or f.cancelled() or f.exception() is not None:
            return None
        return f.result()

    def baseline_ready(self) -> bool:
        return bool(self._baseline) and all(f.done() for f in self._baseline)

    # -- questions ----------------------------------------------------------------------------

    def submit(self, whatif: WhatIf) -> Job:
        """Start the policy runs of a question (earlier unfinished questions are cancelled).

        Raises:
            InputError: if the lever values are invalid for the scenario.
        """
        if not self.available:
            raise InputError("what-if", None, self.reason or "not available")
        if not self._pools:
            self.start()
        scenario = whatif_scenario(self.base, whatif)
        overrides = lever_overrides(self.base, whatif)
        payload = scenario.model_dump()
        with self._lock:
            for job in self._jobs.values():
                if job.finished is None:
                    for f in job.futures:
                        f.cancel()
                    job.error = job.error or "cancelled"
                    job.finished = time.perf_counter()
                    job.answered.set()
            job = Job(id=str(next(self._ids)), whatif=whatif, overrides=overrides,
                      started=time.perf_counter(),
                      futures=self._submit_runs(payload))
            self._jobs[job.id] = job
        for f in [*job.futures, *self._baseline]:  # (baseline runs still open count too)
            f.add_done_callback(lambda _, job=job: self._on_run_done(job))
        return job

    def _submit_runs(self, payload: dict[str, Any]) -> list[Future]:
        """The replications of a scenario, each on the worker that keeps its seed."""
        pools = self._pools
        return [pools[r % len(pools)].submit(run_in_memory, payload, self.seed + r, self.years)
                for r in range(self.replications)]

    def _on_run_done(self, job: Job) -> None:
        """When a question's last run ends: collect its outcomes and call ``on_answer`` (the
        app builds the answer's figures) in a thread of their own, so that the page's next
        poll finds the answer ready instead of starting the work."""
        if job.finished is not None or not all(f.done() for f in job.futures) \
                or not self.baseline_ready():
            return

        def answer() -> None:
            try:
                if self.poll(job) and job.error is None and self.on_answer is not None:
                    self.on_answer(job)
            except Exception:  # noqa: BLE001  (the page's poll says what failed)
                pass
            finally:
                job.answered.set()

        threading.Thread(target=answer, daemon=True, name=f"what-if {job.id}").start()

    def wait_answer(self, job: Job, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the question's answer (its figures built by
        ``on_answer``); whether it is there. The page's progress poll waits here, so the answer
        goes out as soon as it is ready instead of with the next poll."""
        return job.answered.wait(timeout)

    def job(self, job_id: str) -> Job | None:
        return self._jobs.get(str(job_id))

    def progress(self, job: Job) -> tuple[int, int]:
        """(runs done, runs in total) of a question, counting baseline runs still open."""
        pending_base = [f for f in self._baseline if not f.done()]
        done = sum(f.done() for f in job.futures)
        return done, len(job.futures) + len(pending_base)

    def poll(self, job: Job) -> bool:
        """Whether the question is answered (or failed); collects its outcomes once."""
        if job.finished is not None:
            return True
        if not (self.baseline_ready() and all(f.done() for f in job.futures)):
            return False
        with job.lock:  # the app polls from several server threads
            if job.finished is not None:
                return True
            self._collect(job)
        return True

    def _collect(self, job: Job) -> None:
        try:
            runs = [f.result() for f in job.futures]
            base = [f.result() for f in self._baseline]
        except Exception as exc:  # a failed run: shown in the page
            job.error = f"{exc.__class__.__name__}: {exc}"
        else:
            job.outcomes = self._tables(base, runs)
        job.finished = time.perf_counter()

    def wait(self, job: Job, timeout: float = 120.0) -> Job:
        """Block until the question is answered (for scripts, tests and the benchmark)."""
        end = time.perf_counter() + timeout
        while not self.poll(job):
            if time.perf_counter() > end:
                raise TimeoutError("what-if runs did not finish in time")
            time.sleep(0.01)
        return job

    def _tables(self, base: list[pd.DataFrame], runs: list[pd.DataFrame]) -> pd.DataFrame:
        """The runs' outcomes in one table, ``run_id`` renamed to ``baseline-r`` and
        ``what-if-r``, ``scope`` and ``metric`` as plain strings."""
        tables = [*base, *runs]
        names = [f"{name}-{r}" for name, group in ((BASELINE, base), (WHATIF, runs))
                 for r in range(len(group))]
        # by integer codes: each run's rows are tagged with its number, the categorical columns
        # joined by their codes; labels are looked up once, for all rows
        run = np.repeat(np.arange(len(tables)), [len(t) for t in tables])
        columns = {}
        for column in tables[0].columns:
            if column == "run_id":
                columns[column] = pd.Index(names, dtype=str).take(run).array
            else:
                columns[column] = _joined([t[column] for t in tables])
        return pd.DataFrame(columns)

    def experiments(self) -> pd.DataFrame:
        """The experiments table of a question's runs (baseline and what-if, paired)."""
        return pd.DataFrame([{"run_id": f"{name}-{r}", "scenario": name, "replicate": r}
                             for name in (BASELINE, WHATIF) for r in range(self.replications)])

    def comparison(self, job: Job, *, year: int | None = None,
                   metrics: list[str] | None = None) -> pd.DataFrame:
        """Paired differences what-if minus baseline, every scope, in ``year`` (default: the
        last) for ``metrics`` (default: all)."""
        from sim.experiments.comparison import paired_differences

        out = job.outcomes
        year = int(out["year"].max()) if year is None else int(year)
        out = out[out["year"] == year]
        if metrics is not None:
            out = out[out["metric"].isin(metrics)]
        return paired_differences(self.experiments(), out, baseline=BASELINE,
                                  scenarios=[WHATIF])
