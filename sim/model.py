"""The model: one entry point, :func:`build_model`, used by the CLI, sweeps, dashboards and tests.

A year is one step. The processes run in this fixed order (docs/ODD.md explains each):

1. mortality  2. fertility  3. ageing (and newborns join their mothers' households)
4. household change (dissolution, adult succession)  5. leaving the parental home
6. out-migration  7. in-migration  8. outcomes

Each process draws from its own named random stream (``sim.rng``), so that runs of different
scenarios with the same seed share random numbers where they share events.
"""

from __future__ import annotations

import hashlib
import multiprocessing

import numpy as np
import pandas as pd

from sim import metrics, tables
from sim.city import DEFAULT_HOUSEHOLDS, City, build_city
from sim.population import AGE_DTYPE, HouseholdView, Members, Population
from sim.processes import ageing, fertility, household_change, leaving_home, migration, mortality
from sim.rng import make_streams
from sim.scenario import Scenario
from sim.synthesis import HouseholdPool, size_targets, synthesize

# Importing mesa switches multiprocessing to "spawn" for the whole program (mesa.batchrunner);
# keep the start method the user had.
_start_method = multiprocessing.get_start_method(allow_none=True)
import mesa  # noqa: E402

if multiprocessing.get_start_method(allow_none=True) != _start_method:
    multiprocessing.set_start_method(_start_method, force=True)


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
        year: The last completed year (the start state is 31.12. of ``start_year - 1``).
    """

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.streams = make_streams(seed)
        super().__init__(rng=self.streams["mesa"])
        self.scenario = scenario
        self.seed = int(seed)
        self.scenario_hash = scenario.content_hash()
        self.run_id = hashlib.sha256(f"{self.scenario_hash}:{self.seed}".encode()).hexdigest()[:16]
        demo = scenario.parameters.demography
        self.city: City = build_city(scenario)
        n_households = scenario.city.households or self._default_households()
        self.population: Population
        self.pool: HouseholdPool
        self.population, self.pool = synthesize(
            self.city, n_households, scenario, self.streams["population"]
        )
        self._household_quartier = self.city.dwelling_quartier[self.population.dwelling]
        self._q = tables.death_probabilities(demo.life_table_period, demo.max_age)
        self._asfr = tables.fertility_rates(
            demo.total_fertility_rate, demo.fertility_age_pattern, demo.max_age
        )
        self._in_weights = migration.age_tilt(
            self.pool, scenario.parameters.migration.in_migrant_mean_age
        )
        self._out_lambda = migration.out_migration_lambda(
            self.population.age, self.population.household, self.population.n_households,
            scenario.parameters.migration.out_migrant_mean_age,
        )
        n_age = demo.max_age + 1
        self._exposure = np.zeros((2, n_age))
        self._deaths_by_age = np.zeros((2, n_age))
        self._births_by_age = np.zeros(n_age)
        self.year = scenario.start_year - 1
        self._records: list[tuple[int, dict[str, np.ndarray]]] = []
        self._record(self._flows_nan())

    def _default_households(self) -> int:
        if self.city.reported_population:
            sizes = size_targets(1_000_000)
            mean_size = float((sizes * np.arange(1, 7)).sum() / sizes.sum())
            return max(1, int(round(self.city.reported_population / mean_size)))
        return DEFAULT_HOUSEHOLDS

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
        """Simulate one year."""
        pop, city, s = self.population, self.city, self.streams
        demo = self.scenario.parameters.demography
        mig = self.scenario.parameters.migration
        n_q = city.n_quartiers
        hq = self._household_quartier
        n_persons_start = pop.n_persons
        pq = hq[pop.household]

        # 1. Mortality (ages at the start of the year).
        dead = mortality.deaths(pop.age, pop.sex, self._q, s["mortality"])
        n_age = demo.max_age + 1
        by_sex_age = pop.sex.astype(np.int64) * n_age + pop.age
        self._exposure += np.bincount(by_sex_age, minlength=2 * n_age).reshape(2, n_age)
        self._deaths_by_age += np.bincount(by_sex_age[dead], minlength=2 * n_age).reshape(
            2, n_age)
        person_alive = ~dead
        deaths = metrics.count(pq[dead], n_q)

        # 2. Fertility (mothers' ages at the start of the year).
        mothers = fertility.births(pop.age, pop.sex, person_alive, self._asfr, s["fertility"])
        self._births_by_age += np.bincount(pop.age[mothers], minlength=demo.max_age + 1)
        births = metrics.count(pq[mothers], n_q)

        # 3. Ageing; newborns join their mothers' households.
        ageing.age_one_year(pop.age, person_alive, demo.max_age)
        newborns = Members(
            age=np.zeros(mothers.size, AGE_DTYPE),
            sex=fertility.newborn_sexes(mothers.size, demo.sex_ratio_at_birth, s["fertility"]),
            household=pop.household[mothers],
            is_child=np.ones(mothers.size, bool),
        )
        pop.add_persons(newborns)
        person_alive = np.concatenate([person_alive, np.ones(mothers.size, bool)])
        pq = hq[pop.household]

        # 4. Dissolution and adult succession.
        household_alive = np.ones(pop.n_households, bool)
        _, orphans = household_change.update(
            pop.household, pop.is_child, pop.age, person_alive, household_alive
        )
        out_migrants = metrics.count(pq[orphans], n_q)

        # 5. Leaving the parental home.
        rng = s["leaving_home"]
        leavers = leaving_home.leavers(pop.age, pop.is_child, person_alive,
                                       demo.leaving_home_rate, demo.leaving_home_min_age, rng)
        found, dwellings = leaving_home.assign_dwellings(leavers.size, self._vacant(
            household_alive), rng)
        movers = leavers[found]
        no_dwelling = np.setdiff1d(leavers, movers, assume_unique=True)
        person_alive[no_dwelling] = False
        out_migrants += metrics.count(pq[no_dwelling], n_q)
        leaving = metrics.count(pq[movers], n_q)
        first_new = pop.n_households
        pop.dwelling = np.concatenate([pop.dwelling, dwellings.astype(pop.dwelling.dtype)])
        pop.household[movers] = np.arange(first_new, first_new + movers.size)
        pop.is_child[movers] = False
        household_alive = np.concatenate([household_alive, np.ones(movers.size, bool)])
        hq = np.concatenate([hq, city.dwelling_quartier[dwellings]])

        # 6. Out-migration.
        leaving_hh = migration.out_migrating_households(
            pop.age, pop.household, person_alive, household_alive, mig.out_migration_rate,
            self._out_lambda, s["out_migration"],
        )
        left = np.zeros(pop.n_households, bool)
        left[leaving_hh] = True
        household_alive[leaving_hh] = False
        out_persons = person_alive & left[pop.household]
        person_alive &= ~out_persons
        out_migrants += metrics.count(hq[pop.household[out_persons]], n_q)

        # 7. In-migration into vacant dwellings.
        rng = s["in_migration"]
        chosen = migration.in_migrant_households(
            self.pool, self._in_weights, mig.in_migration_rate * n_persons_start, rng
        )
        vacant = self._vacant(household_alive)
        chosen = chosen[: vacant.size]
        target = rng.choice(vacant, size=chosen.size, replace=False)
        arrivals = self.pool.members.take(self.pool.starts, self.pool.sizes, chosen)
        new_rows = pop.append(arrivals, target)
        hq = np.concatenate([hq, city.dwelling_quartier[target]])
        person_alive = np.concatenate([person_alive, np.ones(arrivals.age.size, bool)])
        household_alive = np.concatenate([household_alive, np.ones(new_rows.size, bool)])
        in_migrants = metrics.count(hq[new_rows[arrivals.household]], n_q)

        # 8. Compact and record.
        pop.keep(person_alive, household_alive)
        self._household_quartier = hq[household_alive]
        self.year += 1
        self._record({
            "births": births, "deaths": deaths, "in_migrants": in_migrants,
            "out_migrants": out_migrants, "leaving_home": leaving,
        })

    def _vacant(self, household_alive: np.ndarray) -> np.ndarray:
        occupied = np.zeros(self.city.n_dwellings, bool)
        occupied[self.population.dwelling[household_alive]] = True
        return np.flatnonzero(~occupied)

    # -- results -----------------------------------------------------------------------------

    def _flows_nan(self) -> dict[str, np.ndarray]:
        nan = np.full(self.city.n_quartiers + 1, np.nan)
        return {m: nan for m in metrics.FLOW_METRICS}

    def _record(self, flows: dict[str, np.ndarray]) -> None:
        values = metrics.stocks(self.population, self._household_quartier,
                                self.city.dwelling_quartier, self.city.n_quartiers)
        values.update(flows)
        self._records.append((self.year, values))

    def outcomes(self) -> pd.DataFrame:
        """Tidy results: ``run_id, year, scope, metric, value``.

        ``scope`` is ``"city"`` or a quartier id. The first year (``start_year - 1``) is the
        initial state: stocks only, flows are missing (NaN).
        """
        scopes = self.city.quartier_ids() + ["city"]
        if not self.scenario.outcomes.per_quartier:
            scopes_idx = [len(scopes) - 1]
        else:
            scopes_idx = list(range(len(scopes)))
        names = list(metrics.METRICS)
        years = np.array([y for y, _ in self._records])
        values = np.stack([
            np.stack([rec[m][scopes_idx] for m in names]) for _, rec in self._records
        ])  # [year, metric, scope]
        n_y, n_m, n_s = values.shape
        return pd.DataFrame({
            "run_id": self.run_id,
            "year": np.repeat(years, n_m * n_s).astype(np.int32),
            "scope": pd.Categorical(np.tile([scopes[i] for i in scopes_idx], n_y * n_m)),
            "metric": pd.Categorical(np.tile(np.repeat(names, n_s), n_y)),
            "value": values.ravel(),
        })

    def vital_statistics(self) -> pd.DataFrame:
        """Exposures, deaths and births by sex and single age, summed over the simulated years.

        ``exposure`` counts persons at the start of each year (the life table's convention);
        ``births`` are by the mother's age, so only the female rows carry them.
        """
        n_age = self._exposure.shape[1]
        rows = []
        for s, sex in enumerate(tables.SEXES):
            rows.append(pd.DataFrame({
                "sex": sex, "age": np.arange(n_age), "exposure": self._exposure[s],
                "deaths": self._deaths_by_age[s],
                "births": self._births_by_age if sex == "female" else 0.0,
            }))
        return pd.concat(rows, ignore_index=True)

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
            sexes=tuple(tables.SEXES[int(x)] for x in pop.sex[members]),
            children=tuple(bool(c) for c in pop.is_child[members]),
        )


def build_model(scenario: Scenario, *, seed: int) -> QuartierModel:
    """Build a model from a validated scenario and a seed (the one entry point).

    Args:
        scenario: From :func:`sim.load_scenario`.
        seed: Any non-negative integer. Same scenario and seed give identical results.
    """
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    return QuartierModel(scenario, seed)
