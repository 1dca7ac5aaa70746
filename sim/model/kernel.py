"""The model: a city's households over the years, built by :func:`build_model`.

A year is one step: the processes of :data:`sim.model.schedule.SCHEDULE` run in order on the
year's state (:class:`sim.model.year.YearState`); then who died or left is removed and the year
is recorded (:class:`sim.model.records.Records`). docs/ODD.md explains each process.

Each process draws from its own named random stream (``sim.model.rng``), so that runs of
different scenarios with the same seed share random numbers where they share events.
"""

from __future__ import annotations

import multiprocessing
from functools import partial

import numpy as np
import pandas as pd

from sim.inputs import tables
from sim.inputs.city import DEFAULT_HOUSEHOLDS, build_city
from sim.inputs.levers import check_levers
from sim.inputs.synthesis import mean_household_size, synthesize
from sim.model import housing, mobility, startcache, threads
from sim.model.care_need import rate_tables
from sim.model.processes import care, employment, in_migration, jobs
from sim.model.records import Records, VitalStatistics
from sim.model.rng import KEYED_STREAMS, derived_ids, make_streams, stream_keys
from sim.model.schedule import SCHEDULE, Draws, run_processes
from sim.model.services import Services
from sim.model.threads import one_blas_thread, parallel_for
from sim.model.year import YearState
from sim.scenario import Scenario, run_id
from sim.state import income
from sim.state.city import City
from sim.state.population import SEXES, HouseholdView, Population

# Importing mesa switches multiprocessing to "spawn" for the whole program (mesa.batchrunner);
# keep the start method the user had.
_start_method = multiprocessing.get_start_method(allow_none=True)
import mesa  # noqa: E402

if multiprocessing.get_start_method(allow_none=True) != _start_method:
    multiprocessing.set_start_method(_start_method, force=True)

START = tuple(p for p in SCHEDULE if p.at_start)


class QuartierModel(mesa.Model):
    """A city's households over the years.

    Build it with :func:`build_model`. ``step()`` simulates one year, ``run(years)`` several;
    ``outcomes()`` returns the tidy results table.

    Attributes:
        scenario: The validated scenario.
        seed: The run's seed.
        run_id: Identifies (scenario content, seed).
        city: Geography and dwellings.
        population: Households and persons (numpy columns).
        services: Facilities and access to them.
        market: The housing market.
        year: The last completed year (the start state is 31.12. of ``start_year - 1``).
    """

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.streams = make_streams(seed)
        self.keys = stream_keys(seed, KEYED_STREAMS)
        super().__init__(rng=self.streams["mesa"])
        self.scenario = scenario
        self.seed = int(seed)
        self.scenario_hash = scenario.content_hash()
        self.run_id = run_id(self.scenario_hash, self.seed)
        params = scenario.parameters
        self.city: City
        self.population: Population
        self.in_migrants: in_migration.InMigrantProfile
        self.city, self.population, self.in_migrants = startcache.start_population(
            scenario, self.seed, self.streams["population"], self._start_population)
        n_households = scenario.city.households or self._default_households()
        self.income_index = 1.0  # incomes and WBS limits relative to the start
        self.year = scenario.start_year - 1
        self.services = self._facilities(n_households)
        self.care = care.CareState(rate_tables(params.care, params.care_grades,
                                               params.demography.max_age),
                                   np.zeros(self.city.n_cells),
                                   np.zeros(self.city.n_quartiers + 1),
                                   np.zeros(self.city.n_quartiers + 1),
                                   np.zeros(self.city.n_quartiers + 1))
        self.employment = employment.setup(self)
        self.jobs = jobs.setup(self)
        care.add_nursing_places(self)
        care.admit_initial_residents(self)
        self.schools_cache: dict = {}
        housing.withdraw_structural_vacancy(self.city, self.population,
                                            params.housing.market_vacancy_at_start,
                                            self.streams["population"])
        self.market = housing.HousingMarket(self.city, scenario)
        self.market.observe_vacancy(self.population.dwelling)
        mobility.warm_up(self.city, params.mobility)
        demo = params.demography
        self.death_probabilities = tables.death_probabilities(demo.life_table_period,
                                                              demo.max_age)
        self.fertility_rates = tables.fertility_rates(
            demo.total_fertility_rate, demo.fertility_age_pattern, demo.max_age)
        self.vital = VitalStatistics(demo.max_age)
        self.records = Records(scenario.outcomes.cell_snapshots)
        # The start state: jobs of the employed, school places, access to doctors.
        start = self.begin_year(self.year)
        run_processes(self, start, START)
        self.records.record(self, Records.no_flows(self.city.n_quartiers), start.access)

    def _start_population(self) -> tuple[City, Population, in_migration.InMigrantProfile]:
        """The city and its synthetic households, matched to their dwellings, and the
        in-migrants' profile (no lever reads them; see :mod:`sim.model.startcache`)."""
        scenario = self.scenario
        rng = self.streams["population"]
        self.city = build_city(scenario)
        n_households = scenario.city.households or self._default_households()
        if self.city.real is not None:  # a city built from files: households follow its census
            from sim.inputs.realpopulation import synthesize_real as synthesize_city
        else:
            synthesize_city = synthesize
        population, pool = synthesize_city(self.city, n_households, scenario, rng)
        housing.initialise(self.city, population, scenario, rng)
        migration = scenario.parameters.migration
        profile = in_migration.InMigrantProfile(pool, migration.in_migrant_mean_age,
                                                migration.in_migrant_single_share)
        return self.city, population, profile

    def _default_households(self) -> int:
        if self.city.reported_population:
            return max(1, int(round(self.city.reported_population / mean_household_size())))
        return DEFAULT_HOUSEHOLDS

    def _facilities(self, n_households: int) -> Services:
        """Facilities are geography: sized by the expected population and placed with the
        city's layout seed, so every run of a city has the same ones."""
        pop, sc = self.population, self.scenario
        sp = sc.parameters.services
        expected = (float(self.city.reported_population) if self.city.reported_population
                    else n_households * mean_household_size())
        per_person = expected / max(pop.n_persons, 1)
        (lo1, hi1), (lo2, hi2) = sp.primary_school_ages, sp.secondary_school_ages
        pupils = (per_person * float(((pop.age >= lo1) & (pop.age <= hi1)).sum()),
                  per_person * float(((pop.age >= lo2) & (pop.age <= hi2)).sum()))
        return Services(self.city, expected, pupils, sc, sc.city.layout_seed)

    # -- running -----------------------------------------------------------------------------

    def run(self, years: int | None = None, progress=None) -> QuartierModel:
        """Simulate ``years`` years (default: the scenario's). ``progress(year)`` is called
        after each year. Returns the model."""
        for _ in range(self.scenario.years if years is None else years):
            self.step()
            if progress is not None:
                progress(self.year)
        return self

    def step(self) -> None:
        """Simulate one year: the schedule's processes, then the removal of who died or left
        and the year's record."""
        with one_blas_thread():
            self._step()

    def _step(self) -> None:
        year = self.begin_year(self.year + 1)
        run_processes(self, year, SCHEDULE)
        flows = year.finish()
        flows.update(year.net_migrants_by_age(self.population.age, self.population.household))
        # The year's working arrays go first: at a million households they set the peak memory.
        year.situation, year.vacancies = {}, None
        # the person columns' gathers in threads, in ranges of at least 200,000 persons (in
        # smaller ones a handoff per column costs more than it saves)
        self.population.keep(year.person_alive, year.household_alive,
                             partial(parallel_for, min_chunk=10 * threads.MIN_CHUNK))
        self.year = year.year
        self.records.record(self, flows, year.access)

    def begin_year(self, year: int) -> YearState:
        """The state at the start of ``year``, for the schedule's processes."""
        pop, city = self.population, self.city
        return YearState.begin(year, city.dwelling_quartier[pop.dwelling], pop.household,
                               city.n_quartiers)

    # -- what the processes share ----------------------------------------------------------------

    def draws(self, name: str) -> Draws:
        """The random numbers of stream ``name``: its key and its sequential generator."""
        return Draws(self.keys.get(name), self.streams.get(name))

    def new_ids(self, parents: np.ndarray, slot: int) -> np.ndarray:
        """Ids of agents born, founded or arriving, derived from their parents' (or a draw's)
        ids, so the same in every scenario where the same event happens."""
        return derived_ids(self.keys["ids"], parents, slot)

    @property
    def median_income(self) -> float:
        """Median net equivalised income of the current year (EUR/month)."""
        return self.scenario.parameters.income.median_equivalised_income * self.income_index

    def draw_incomes(self, adults: np.ndarray, children: np.ndarray,
                     rng: np.random.Generator | None = None,
                     poverty_rate: float | None = None, z: np.ndarray | None = None
                     ) -> np.ndarray:
        """Net equivalised incomes of new households by type (adults, children), at this
        year's median (see :func:`sim.state.income.draw_incomes`)."""
        ip = self.scenario.parameters.income
        rates = ip.type_rates()
        if poverty_rate is not None:
            rates = {name: poverty_rate for name in income.TYPE_NAMES}
        return income.draw_incomes(income.household_type(adults, children),
                                   self.median_income, ip.poverty_rate, rates, rng, z=z)

    # -- results -----------------------------------------------------------------------------

    def outcomes(self) -> pd.DataFrame:
        """Tidy results: ``run_id, year, scope, metric, value``.

        ``scope`` is ``"city"`` or a quartier id. The first year (``start_year - 1``) is the
        initial state: stocks only, flows are missing (NaN).
        """
        return self.records.outcomes(self.run_id, self.city.quartier_ids() + ["city"],
                                     self.scenario.outcomes.per_quartier)

    def cell_snapshots(self) -> pd.DataFrame | None:
        """Per-cell table for maps, one row per populated or built cell and year (only with
        ``outcomes.cell_snapshots = true``; else None). Columns: run_id, year, cell, col, row,
        quartier, dwellings, vacant, social, households, persons, poor, middle, high,
        migration_background, age_65plus, mean_income, mean_rent_m2."""
        return self.records.cell_snapshots(self.run_id)

    def cell_snapshot_file(self):
        """The cell snapshots as an object whose ``to_parquet(path, index=False)`` writes the
        file of ``cell_snapshots()`` one year at a time without making the whole table (None
        without ``outcomes.cell_snapshots``). The result writers use it."""
        return self.records.cell_snapshot_file(self.run_id)

    def vital_statistics(self) -> pd.DataFrame:
        """Exposures, deaths and births by sex and single age, summed over the simulated years.

        ``exposure`` counts persons at the start of each year (the life table's convention);
        ``births`` are by the mother's age, so only the female rows carry them.
        """
        return self.vital.table()

    def household(self, index: int) -> HouseholdView:
        """One household's attributes, for inspection."""
        pop = self.population
        members = np.flatnonzero(pop.household == index)
        dwelling = int(pop.dwelling[index])
        cell = int(self.city.dwelling_cell[dwelling])
        return HouseholdView(
            index=index, dwelling=dwelling, cell=cell,
            quartier=self.city.quartiers[int(self.city.cell_quartier[cell])].id,
            ages=tuple(int(a) for a in pop.age[members]),
            sexes=tuple(SEXES[int(x)] for x in pop.sex[members]),
            children=tuple(bool(c) for c in pop.is_child[members]),
        )


def build_model(scenario: Scenario, *, seed: int):
    """Build a model from a validated scenario and a seed (the one entry point).

    Returns a :class:`QuartierModel`, or a :class:`sim.model.schelling.SchellingModel` for a
    scenario with ``model = "schelling"``. Both have ``run``, ``step``, ``outcomes``,
    ``run_id``, ``seed``, ``scenario`` and ``year``.

    Args:
        scenario: From :func:`sim.load_scenario`.
        seed: Any non-negative integer. Same scenario and seed give identical results.
    """
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    check_levers(scenario)  # lever locations and memory, before anything is built
    if scenario.model == "schelling":
        from sim.model.schelling import SchellingModel

        scenario_hash = scenario.content_hash()
        model = SchellingModel(
            scenario.schelling, seed=seed, rng=make_streams(seed, ("schelling",))["schelling"],
            run_id=run_id(scenario_hash, seed), start_year=scenario.start_year,
        )
        model.scenario, model.scenario_hash = scenario, scenario_hash
        return model
    with one_blas_thread():
        return QuartierModel(scenario, seed)

