"""The model: one entry point, :func:`build_model`, used by the CLI, sweeps, dashboards and tests.

A year is one step. The processes run in this fixed order (docs/ODD.md explains each):

1. mortality  2. fertility  3. ageing (and newborns join their mothers' households)
4. household change (dissolution, adult succession)  5. leaving the parental home (the new
households search a dwelling)  5b. care: care at home, a nursing-home place or leaving the
city  6. incomes grow; housing market (bindings, construction, rents)  7. access to doctors
(2SFCA), schools and jobs (commuting costs) from the current population; residential mobility
with the outside option of leaving the city (out-migration)  8. in-migration into vacant
dwellings  9. outcomes

Each process draws from its own named random stream (``sim.model.rng``), so that runs of different
scenarios with the same seed share random numbers where they share events.
"""

from __future__ import annotations

import hashlib
import multiprocessing

import numpy as np
import pandas as pd
from scipy.special import ndtri

from sim.inputs import tables
from sim.inputs.city import DEFAULT_HOUSEHOLDS, build_city
from sim.inputs.levers import check_levers
from sim.inputs.synthesis import HouseholdPool, size_targets, synthesize
from sim.model import housing, metrics
from sim.model.processes import (
    ageing,
    fertility,
    household_change,
    leaving_home,
    migration,
    mobility,
    mortality,
    partnership,
)
from sim.model.rng import KEYED_STREAMS, derived_ids, keyed_uniforms, make_streams, stream_keys
from sim.model.services_mixin import ServicesMixin
from sim.scenario import Scenario
from sim.state import income
from sim.state.city import NURSING, PRIVATE, SOCIAL, City, on_market, rented
from sim.state.outcomes import CAUSES, FLOW_METRICS, METRICS
from sim.state.population import (
    AGE_DTYPE,
    SEXES,
    HouseholdView,
    Members,
    Population,
    household_summary,
)

# Importing mesa switches multiprocessing to "spawn" for the whole program (mesa.batchrunner);
# keep the start method the user had.
_start_method = multiprocessing.get_start_method(allow_none=True)
import mesa  # noqa: E402

if multiprocessing.get_start_method(allow_none=True) != _start_method:
    multiprocessing.set_start_method(_start_method, force=True)


class QuartierModel(ServicesMixin, mesa.Model):
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
        self.keys = stream_keys(seed, KEYED_STREAMS)
        super().__init__(rng=self.streams["mesa"])
        self.scenario = scenario
        self.seed = int(seed)
        self.scenario_hash = scenario.content_hash()
        self.run_id = run_id(self.scenario_hash, self.seed)
        demo = scenario.parameters.demography
        self.city: City = build_city(scenario)
        n_households = scenario.city.households or self._default_households()
        self.population: Population
        self.pool: HouseholdPool
        self.population, self.pool = synthesize(
            self.city, n_households, scenario, self.streams["population"]
        )
        self.income_index = 1.0  # incomes and WBS limits relative to the start
        housing.initialise(self.city, self.population, scenario, self.streams["population"])
        self.year = scenario.start_year - 1
        self._setup_services()
        self.market = housing.HousingMarket(self.city, scenario)
        mobility.warm_up(self.city, scenario.parameters.mobility)
        self._q = tables.death_probabilities(demo.life_table_period, demo.max_age)
        self._asfr = tables.fertility_rates(
            demo.total_fertility_rate, demo.fertility_age_pattern, demo.max_age
        )
        self._in_weights = migration.age_tilt(
            self.pool, scenario.parameters.migration.in_migrant_mean_age
        )
        self._in_sampler = migration.PoolSampler(self._in_weights, self.pool.sizes)
        n_age = demo.max_age + 1
        self._exposure = np.zeros((2, n_age))
        self._deaths_by_age = np.zeros((2, n_age))
        self._births_by_age = np.zeros(n_age)
        self.year = scenario.start_year - 1
        self._records: list[tuple[int, dict[str, np.ndarray]]] = []
        self._snapshots: list[pd.DataFrame] = []
        # The start state: jobs of the employed, school places, access to doctors.
        pop = self.population
        info = self._household_info(np.ones(pop.n_persons, bool),
                                    np.ones(pop.n_households, bool), self.year)
        self._access_metrics(info, self.city.dwelling_quartier[pop.dwelling])
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
        n_q = city.n_quartiers
        year = self.year + 1
        hq = city.dwelling_quartier[pop.dwelling]
        n_persons_start = pop.n_persons
        pq = hq[pop.household]
        residents_start = metrics.count(pq, n_q)

        # 1. Mortality (ages at the start of the year).
        k = self.keys
        dead = mortality.deaths(pop.age, pop.sex, self._q,
                                keyed_uniforms(k["mortality"], year, pop.pid, 0))
        n_age = demo.max_age + 1
        by_sex_age = pop.sex.astype(np.int32) * n_age + pop.age
        self._exposure += np.bincount(by_sex_age, minlength=2 * n_age).reshape(2, n_age)
        self._deaths_by_age += np.bincount(by_sex_age[dead], minlength=2 * n_age).reshape(
            2, n_age)
        del by_sex_age
        person_alive = ~dead
        deaths = metrics.count(pq[dead], n_q)
        event = np.zeros(pop.n_households, bool)
        event[pop.household[dead & ~pop.is_child]] = True  # a partner or parent died

        # 2. Fertility (mothers' ages at the start of the year).
        mothers = fertility.births(pop.age, pop.sex, person_alive, self._asfr,
                                   keyed_uniforms(k["fertility"], year, pop.pid, 0))
        self._births_by_age += np.bincount(pop.age[mothers], minlength=demo.max_age + 1)
        births = metrics.count(pq[mothers], n_q)
        del pq
        event[pop.household[mothers]] = True

        # 3. Ageing; newborns join their mothers' households.
        ageing.age_one_year(pop.age, person_alive, demo.max_age)
        newborn_ids = derived_ids(k["ids"], pop.pid[mothers], 8 * year + 1)
        newborns = Members(
            age=np.zeros(mothers.size, AGE_DTYPE),
            sex=fertility.newborn_sexes(keyed_uniforms(k["fertility"], year, newborn_ids, 1),
                                        demo.sex_ratio_at_birth),
            household=pop.household[mothers],
            is_child=np.ones(mothers.size, bool),
        )
        pop.add_persons(newborns, newborn_ids)
        person_alive = np.concatenate([person_alive, np.ones(mothers.size, bool)])

        # 4. Dissolution and adult succession.
        household_alive = np.ones(pop.n_households, bool)
        _, orphans = household_change.update(
            pop.household, pop.is_child, pop.age, person_alive, household_alive
        )
        out_by_cause = np.zeros((len(CAUSES), n_q + 1))
        orphan_hh = pop.household[orphans]
        oq = hq[orphan_hh]
        out_by_cause[CAUSES.index("other")] += metrics.count(oq, n_q)
        orphans_by_group = {
            "out_migrants_poor": metrics.count(oq, n_q, (income.income_group(
                pop.income[orphan_hh], self.median_income) == 0).astype(float)),
            "out_migrants_migration_background": metrics.count(
                oq, n_q, pop.migration_background[orphan_hh].astype(float)),
            "out_migrants_families": metrics.count(oq, n_q),
        }

        # 5. Leaving the parental home: new one-person households that search a dwelling.
        leavers = leaving_home.leavers(pop.age, pop.is_child, person_alive,
                                       demo.leaving_home_rate, demo.leaving_home_min_age,
                                       keyed_uniforms(k["leaving_home"], year, pop.pid, 0))
        parent = pop.household[leavers]
        founded = derived_ids(k["ids"], pop.pid[leavers], 2)
        new_rows = pop.add_households(
            np.full(leavers.size, -1), self._draw_incomes(
                np.ones(leavers.size), np.zeros(leavers.size),
                z=ndtri(keyed_uniforms(k["leaving_home"], year, founded, 5))),
            pop.migration_background[parent], hid=founded)
        pop.household[leavers] = new_rows
        pop.is_child[leavers] = False
        household_alive = np.concatenate([household_alive, np.ones(leavers.size, bool)])
        hq = np.concatenate([hq, hq[parent]])
        event = np.concatenate([event, np.zeros(leavers.size, bool)])

        # 5b. Care: care at home, nursing homes, or leaving the city (cause "care").
        cs = self._care_step(year, person_alive, household_alive)
        out_by_cause[CAUSES.index("care")] += cs["out_care"]
        for key, value in cs["by_group"].items():
            orphans_by_group[key] = orphans_by_group.get(key, 0.0) + value
        n_new = cs["new_rows"].size
        household_alive = np.concatenate([household_alive, np.ones(n_new, bool)])
        hq = np.concatenate([hq, cs["new_quartier"]])
        event = np.concatenate([event, np.zeros(n_new, bool)])
        event[cs["left_behind"]] = True

        # 5c. Partnership: two people living alone move together (one dwelling is given up).
        couples = self._partnerships(year, person_alive, household_alive, event)
        moved_in_couple = metrics.count(hq[couples[2]], n_q)
        partnerships = metrics.count(hq[couples[0]], n_q)

        # 6. Incomes grow; the housing market: bindings, construction, rents.
        self.income_index *= 1.0 + self.scenario.parameters.income.income_growth
        pop.income *= np.float32(1.0 + self.scenario.parameters.income.income_growth)
        housed = household_alive & (pop.dwelling >= 0)
        occupied = np.zeros(city.n_dwellings, bool)
        occupied[pop.dwelling[housed]] = True
        market = self.market.update(year, occupied, s["housing"])

        # 7. Residential mobility with the outside option (out-migration).
        info = self._household_info(person_alive, household_alive, year)
        self._access_metrics(info, hq)
        mp = self.scenario.parameters.mobility
        movers = mobility.movers(info["parts"], info["stage"], event, housed & ~info["nursing"],
                                 pop.hid, np.uint64(k["mobility"]), year, mp)
        searching = np.flatnonzero(movers | (household_alive & (pop.dwelling < 0)))
        searchers = self._searchers(info, searching, hq)
        search_cause = mobility.main_cause(info["parts"][searching])
        # What the rest of the year needs; the other per-household arrays are freed here.
        info = {key: info[key] for key in (
            "cost", "relet_cost", "cell_share_income", "cell_share_origin", "choice_access",
            "size", "group", "origin", "old", "children")}
        vacancies = mobility.Vacancies(city.n_dwellings, np.r_[
            pop.dwelling[housed], np.flatnonzero(city.dwelling_tenure == NURSING)])
        access = info["choice_access"]
        chosen = mobility.choose(
            searchers, vacancies, city, info["cost"], info["relet_cost"],
            info["cell_share_income"], info["cell_share_origin"], mp, k["mobility"], year,
            access)
        del searchers
        current = pop.dwelling[searching]
        moved = searching[(chosen >= 0) & (chosen != current)]
        left = searching[chosen < 0]
        moved_from_home = moved[current[(chosen >= 0) & (chosen != current)] >= 0]
        self._move_in(moved, chosen[(chosen >= 0) & (chosen != current)])
        cause = search_cause[chosen < 0]
        cause[pop.dwelling[left] < 0] = CAUSES.index("no_dwelling")
        household_alive[left] = False
        size = info["size"]
        for c in range(len(CAUSES)):
            sel = left[cause == c]
            out_by_cause[c] += metrics.count(hq[sel], n_q, size[sel].astype(float))
        moves_within = metrics.count(hq[moved_from_home], n_q,
                                     size[moved_from_home].astype(float)) + moved_in_couple
        leaving = metrics.count(hq[moved[current[(chosen >= 0) & (chosen != current)] < 0]],
                                n_q)
        who_left = self._who(left, info, hq)
        for key, value in orphans_by_group.items():
            who_left[key] = who_left[key] + value

        # 8. In-migration: newcomers search among the vacancies, or stay away.
        rng = s["in_migration"]
        mig = self.scenario.parameters.migration
        pool_rows = migration.in_migrant_households(
            self.pool, self._in_weights, mig.in_migration_rate * n_persons_start, rng,
            self._in_sampler)
        arrivals = self.pool.members.take(self.pool.starts, self.pool.sizes, pool_rows)
        newcomer_info = self._newcomers(arrivals, year)
        self._newcomer_access(newcomer_info, year)
        chosen_in = mobility.choose(
            newcomer_info, vacancies, city, info["cost"], info["relet_cost"],
            info["cell_share_income"], info["cell_share_origin"], mp, k["in_migration"], year,
            access, allow_stay=False)
        come = chosen_in >= 0
        keep_members = come[arrivals.household]
        member_ids = derived_ids(k["ids"], newcomer_info["id"][arrivals.household]
                                 ^ np.arange(arrivals.age.size, dtype=np.uint64), 4)
        renumber = np.cumsum(come) - 1
        arrivals = Members(arrivals.age[keep_members], arrivals.sex[keep_members],
                           renumber[arrivals.household[keep_members]].astype(
                               arrivals.household.dtype), arrivals.is_child[keep_members])
        new_rows = pop.append(arrivals, chosen_in[come], newcomer_info["income"][come],
                              newcomer_info["origin"][come], moved_in=year,
                              pid=member_ids[keep_members], hid=newcomer_info["id"][come])
        self._set_new_rents(chosen_in[come])
        hq = np.concatenate([hq, city.dwelling_quartier[chosen_in[come]]])
        person_alive = np.concatenate([person_alive, np.ones(arrivals.age.size, bool)])
        household_alive = np.concatenate([household_alive, np.ones(new_rows.size, bool)])
        in_migrants = metrics.count(hq[new_rows[arrivals.household]], n_q)

        # 9. Compact and record (the year's working arrays are freed first: at a million
        # households they are what sets the peak memory).
        del info, access, vacancies, newcomer_info, arrivals, size
        pop.keep(person_alive, household_alive)
        self.year = year
        out_migrants = out_by_cause.sum(axis=0)
        flows = {
            "births": births, "deaths": deaths, "in_migrants": in_migrants,
            "out_migrants": out_migrants, "leaving_home": leaving,
            "partnerships": partnerships,
            "moves_within_city": moves_within,
            "out_migration_rate": out_migrants / np.maximum(residents_start, 1.0),
        }
        for c, name in enumerate(CAUSES):
            flows[f"out_migrants_cause_{name}"] = out_by_cause[c]
        flows.update(who_left)
        for key, value in market.items():
            flows[key] = np.r_[np.full(n_q, np.nan), value]
        self._record(flows)

    # -- helpers of the yearly step ------------------------------------------------------------

    def _partnerships(self, year: int, person_alive: np.ndarray, household_alive: np.ndarray,
                      event: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step 5c: pair people living alone; the joiner's household dissolves, the host's
        income becomes the couple's (equivalence weight 1.5) and its move is a life event."""
        pop, city = self.population, self.city
        demo = self.scenario.parameters.demography
        if demo.partnership_rate <= 0.0:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty
        alive_members = np.bincount(pop.household[person_alive], minlength=pop.n_households)
        housed = household_alive & (pop.dwelling >= 0)
        private = np.zeros(pop.n_households, bool)
        private[housed] = city.dwelling_tenure[pop.dwelling[housed]] != NURSING
        alone = private & (alive_members == 1)
        candidate = (person_alive & ~pop.is_child & alone[pop.household]
                     & (pop.age >= demo.partnership_min_age)
                     & (pop.age <= demo.partnership_max_age))
        floor = np.zeros(pop.n_households, np.float32)
        floor[housed] = city.dwelling_floor_space[pop.dwelling[housed]]
        key = self.keys["partnership"]
        u_look = np.ones(pop.n_persons)  # numbers keyed to the person: drawn for candidates only
        u_order = np.ones(pop.n_persons)
        who = np.flatnonzero(candidate)
        u_look[who] = keyed_uniforms(key, year, pop.pid[who], 0)
        u_order[who] = keyed_uniforms(key, year, pop.pid[who], 1)
        host, joiner, given_up = partnership.couples(
            pop.age, pop.sex, pop.household, candidate, demo.partnership_rate, u_look, u_order,
            floor)
        if host.size:
            single = pop.income[host].astype(np.float64) + pop.income[given_up]
            pop.income[host] = (single / 1.5).astype(pop.income.dtype)
            pop.migration_background[host] = np.maximum(pop.migration_background[host],
                                                        pop.migration_background[given_up])
            pop.household[joiner] = host.astype(pop.household.dtype)
            household_alive[given_up] = False
            event[host] = True
        return host, joiner, given_up

    @property
    def median_income(self) -> float:
        """Median net equivalised income of the current year (EUR/month)."""
        return self.scenario.parameters.income.median_equivalised_income * self.income_index

    def _draw_incomes(self, adults: np.ndarray, children: np.ndarray,
                      rng: np.random.Generator | None = None,
                      poverty_rate: float | None = None, z: np.ndarray | None = None
                      ) -> np.ndarray:
        ip = self.scenario.parameters.income
        rates = ip.type_rates()
        if poverty_rate is not None:
            rates = {name: poverty_rate for name in income.TYPE_NAMES}
        return income.draw_incomes(income.household_type(adults, children),
                                   self.median_income, ip.poverty_rate, rates, rng, z=z)

    def _choice_costs(self) -> tuple[np.ndarray, np.ndarray]:
        """Monthly gross cold rent of every dwelling as let now, and if let anew."""
        city = self.city
        op = self.market.operating_costs_m2
        floor = city.dwelling_floor_space.astype(np.float64)
        cost = floor * (city.dwelling_rent_m2 + op)
        relet_m2 = np.where(city.dwelling_tenure == SOCIAL, city.dwelling_rent_m2,
                            city.cell_rent_m2[city.dwelling_cell])
        return cost, floor * (relet_m2 + op)

    def _household_info(self, person_alive: np.ndarray, household_alive: np.ndarray,
                        year: int) -> dict:
        """Everything mobility needs about the living households."""
        pop, city = self.population, self.city
        mp = self.scenario.parameters.mobility
        median = self.median_income
        n = pop.n_households
        alive_p = person_alive & household_alive[pop.household]
        size, children, young, old, oldest = household_summary(
            pop.household, pop.age, pop.is_child, alive_p, n)
        net = np.maximum(pop.income * income.oecd_scale(size - young, young), 1.0)
        del young
        housed = household_alive & (pop.dwelling >= 0)
        d = np.where(housed, pop.dwelling, 0)
        cost, relet = self._choice_costs()
        tenant = housed & rented(city.dwelling_tenure[d])
        burden = np.where(tenant, cost[d] / net, 0.0)
        group = income.income_group(pop.income, median)
        origin = pop.migration_background
        cell = city.dwelling_cell[d].astype(np.int64)
        norm = mobility.space_norm(size, mp)
        nursing = housed & (city.dwelling_tenure[d] == NURSING)
        info = {
            "size": size, "children": children, "old": old, "net_income": net,
            "wbs": housing.wbs_eligible(net, size, children, self.scenario.parameters.housing,
                                        self.income_index),
            "stage": mobility.life_stage(oldest, children), "housed": housed,
            "nursing": nursing, "cell": cell,
            "burden": burden, "tenant": tenant, "group": group, "origin": origin,
            "norm": norm, "cost": cost, "relet_cost": relet,
        }
        del oldest, alive_p
        self._access(year, info, person_alive, household_alive)
        total, nb_income, nb_origin, share_i, share_o = mobility.neighbourhood(
            cell, group, origin, housed, city.width, city.height)
        with np.errstate(invalid="ignore", divide="ignore"):
            city_i = nb_income.sum(axis=0) / max(total.sum(), 1.0)
            city_o = nb_origin.sum(axis=0) / max(total.sum(), 1.0)
            info["cell_share_income"] = np.where(total[:, None] > 0, nb_income / total[:, None],
                                                 city_i[None, :])
            info["cell_share_origin"] = np.where(total[:, None] > 0, nb_origin / total[:, None],
                                                 city_o[None, :])
        cp = self.scenario.parameters.choice
        info["parts"] = mobility.all_parts(
            burden, city.dwelling_floor_space[d], norm.astype(np.float64), share_i, share_o,
            info["gp"], info["school"], info["commute"], net, children, info["health_weight"],
            housed & ~nursing, mp.rent_burden_threshold, mp.crowding_threshold,
            mp.homophily_threshold, cp.health_access_threshold, cp.commute_burden_threshold)
        return info

    def _searchers(self, info: dict, rows: np.ndarray, hq: np.ndarray) -> dict:
        pop = self.population
        hp = self.scenario.parameters.housing
        inc = pop.income[rows]
        return {
            "current": pop.dwelling[rows], "net_income": info["net_income"][rows],
            "norm": info["norm"][rows], "income_group": info["group"][rows],
            "origin": info["origin"][rows], "home_quartier": hq[rows],
            "can_own": inc >= hp.owner_min_income * self.median_income,
            "can_social": info["wbs"][rows], "id": pop.hid[rows],
            "outside_cost": info["norm"][rows] * self._outside_cost_m2(),
            "segment": info["segment"][rows], "worker_start": info["worker_start"][rows],
            "worker_count": info["worker_count"][rows], "car": info["car"][rows],
            "ticket": info["ticket"][rows],
        }

    def _outside_cost_m2(self) -> float:
        hp = self.scenario.parameters.housing
        mp = self.scenario.parameters.mobility
        years = (self.year + 1) - self.scenario.start_year + 1  # the year being simulated
        return mp.outside_rent_m2 * (1.0 + hp.market_rent_growth) ** years + (
            self.market.operating_costs_m2)

    def _newcomers(self, arrivals: Members, year: int) -> dict:
        """Searcher table of in-migrant households (profile: see MigrationParameters)."""
        mig = self.scenario.parameters.migration
        ip = self.scenario.parameters.income
        hp = self.scenario.parameters.housing
        mp = self.scenario.parameters.mobility
        n = arrivals.n_households
        hh = arrivals.household
        size = np.bincount(hh, minlength=n)
        children = np.bincount(hh[arrivals.is_child], minlength=n)
        young = np.bincount(hh[arrivals.age < 14], minlength=n)
        # Ids from the year and the draw's position: the same newcomers in every scenario.
        ids = derived_ids(self.keys["ids"], (np.uint64(year) << np.uint64(32))
                          + np.arange(n, dtype=np.uint64), 3)
        key = self.keys["in_migration"]
        inc = self._draw_incomes(size - children, children,
                                 poverty_rate=mig.in_migrant_poverty_rate,
                                 z=ndtri(keyed_uniforms(key, year, ids, 5)))
        abroad = keyed_uniforms(key, year, ids, 6) < mig.in_migrant_share_from_abroad
        origin = (abroad | (keyed_uniforms(key, year, ids, 7)
                            < ip.migration_background_share)).astype(np.int64)
        median = self.median_income
        net = np.maximum(inc * income.oecd_scale(size - young, young), 1.0)
        oldest = np.zeros(n)
        np.maximum.at(oldest, hh, arrivals.age.astype(float))
        return {
            "size": size, "children": children, "oldest": oldest,
            "current": np.full(n, -1), "income": inc, "net_income": net, "id": ids,
            "norm": mobility.space_norm(size, mp),
            "income_group": income.income_group(inc, median), "origin": origin,
            "home_quartier": np.full(n, -1),
            "can_own": inc >= hp.owner_min_income * median,
            "can_social": housing.wbs_eligible(net, size, children, hp, self.income_index),
            "outside_cost": mobility.space_norm(size, mp) * self._outside_cost_m2(),
        }

    def _move_in(self, rows: np.ndarray, dwellings: np.ndarray) -> None:
        self.population.dwelling[rows] = dwellings
        self.population.moved_in[rows] = self.year + 1
        self._set_new_rents(dwellings)

    def _set_new_rents(self, dwellings: np.ndarray) -> None:
        """New private tenancies pay the cell's re-letting level (new builds keep theirs)."""
        city = self.city
        private = dwellings[(city.dwelling_tenure[dwellings] == PRIVATE)
                            & ~self.market.new_this_year[dwellings]]
        city.dwelling_rent_m2[private] = city.cell_rent_m2[city.dwelling_cell[private]]

    def _who(self, left: np.ndarray, info: dict, hq: np.ndarray) -> dict[str, np.ndarray]:
        """Out-migrants (persons) by group: who leaves."""
        n_q = self.city.n_quartiers
        size = info["size"][left].astype(float)
        return {
            "out_migrants_poor": metrics.count(hq[left], n_q, size * (info["group"][left] == 0)),
            "out_migrants_migration_background": metrics.count(
                hq[left], n_q, size * info["origin"][left]),
            "out_migrants_65plus": metrics.count(hq[left], n_q, info["old"][left].astype(float)),
            "out_migrants_families": metrics.count(
                hq[left], n_q, size * (info["children"][left] > 0)),
        }
    # -- results -----------------------------------------------------------------------------

    def _flows_nan(self) -> dict[str, np.ndarray]:
        nan = np.full(self.city.n_quartiers + 1, np.nan)
        return {m: nan for m in FLOW_METRICS}

    def _record(self, flows: dict[str, np.ndarray]) -> None:
        pop, city = self.population, self.city
        hq = city.dwelling_quartier[pop.dwelling]
        size = pop.household_size()
        private = city.dwelling_tenure[pop.dwelling] != NURSING
        values = metrics.stocks(pop, hq, city.dwelling_quartier, city.n_quartiers, size,
                                private=private, market=on_market(city))
        mp = self.scenario.parameters.mobility
        values.update(metrics.housing_stocks(
            pop, city, hq, self.median_income, self.market.operating_costs_m2,
            mp.crowding_threshold * mobility.space_norm(size, mp), size))
        values.update(self._service_stocks(hq, size))
        values.update(flows)
        self._records.append((self.year, values))
        if self.scenario.outcomes.cell_snapshots:
            self._snapshots.append(metrics.cell_snapshot(pop, city, self.median_income,
                                                         self.year))

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
        names = list(METRICS)
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

    def cell_snapshots(self) -> pd.DataFrame | None:
        """Per-cell table for maps, one row per populated or built cell and year (only with
        ``outcomes.cell_snapshots = true``; else None). Columns: run_id, year, cell, col, row,
        quartier, dwellings, vacant, social, households, persons, poor, middle, high,
        migration_background, age_65plus, mean_income, mean_rent_m2."""
        if not self.scenario.outcomes.cell_snapshots:
            return None
        table = pd.concat(self._snapshots, ignore_index=True)
        table.insert(0, "run_id", self.run_id)
        return table

    def vital_statistics(self) -> pd.DataFrame:
        """Exposures, deaths and births by sex and single age, summed over the simulated years.

        ``exposure`` counts persons at the start of each year (the life table's convention);
        ``births`` are by the mother's age, so only the female rows carry them.
        """
        n_age = self._exposure.shape[1]
        rows = []
        for s, sex in enumerate(SEXES):
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
    if scenario.model == "schelling":
        from sim.model.schelling import SchellingModel

        scenario_hash = scenario.content_hash()
        model = SchellingModel(
            scenario.schelling, seed=seed, rng=make_streams(seed, ("schelling",))["schelling"],
            run_id=run_id(scenario_hash, seed), start_year=scenario.start_year,
        )
        model.scenario, model.scenario_hash = scenario, scenario_hash
        return model
    check_levers(scenario)
    return QuartierModel(scenario, seed)


def run_id(scenario_hash: str, seed: int) -> str:
    """Identifies a run: the scenario's content and the seed."""
    return hashlib.sha256(f"{scenario_hash}:{int(seed)}".encode()).hexdigest()[:16]
