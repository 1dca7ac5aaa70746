"""The model's service processes, mixed into :class:`QuartierModel`: care (step 5b, after
leaving home), and at the start of the move season (step 7) access to doctors, schools and
jobs with the commuting costs, which enter dissatisfaction and the choice. See docs/ODD.md
§§ 7.11-7.17."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model import metrics
from sim.model.processes import care, jobs, schools
from sim.model.processes.mobility import ChoiceAccess, life_stage
from sim.model.rng import derived_ids, keyed_uniforms
from sim.model.services import (
    EMPLOYER,
    JOBS_PER_EMPLOYER,
    NURSING_HOME,
    PRIMARY,
    SECONDARY,
    WALK,
    Services,
    _draw_cells,
)
from sim.state import income
from sim.state.city import NURSING
from sim.state.outcomes import ACCESS_METRICS

SLOT_NURSING_ID = 6
SLOT_CARE_ORDER = 7
N_SEGMENTS = 12  # life stage (4) × travel mode (3)


@njit(cache=True)
def _group_rows(group, n):
    """A counting sort: the order that groups rows by ``group`` (0…n-1), keeping their order
    within a group (as a stable argsort), and the rows per group (as ``np.bincount``)."""
    counts = np.zeros(n, np.int64)
    for i in range(group.size):
        counts[group[i]] += 1
    start = np.empty(n, np.int64)
    total = 0
    for g in range(n):
        start[g] = total
        total += counts[g]
    order = np.empty(group.size, np.int64)
    for i in range(group.size):
        order[start[group[i]]] = i
        start[group[i]] += 1
    return order, counts


@njit(cache=True)
def _nearest_free_home(mover_cell, hx, hy, width, free):
    """Home (index) of each mover in order: the nearest with a free place left, or -1."""
    out = np.full(mover_cell.size, -1, np.int64)
    left = free.copy()
    for i in range(mover_cell.size):
        cx = mover_cell[i] % width
        cy = mover_cell[i] // width
        best = -1
        best_d = 1e300
        for j in range(hx.size):
            if left[j] > 0:
                d = (hx[j] - cx) ** 2 + (hy[j] - cy) ** 2
                if d < best_d:
                    best_d = d
                    best = j
        if best >= 0:
            out[i] = best
            left[best] -= 1
    return out


@njit(cache=True)
def _household_access_sums(q, housed, size, old, gp, car, walk_only, commute, net, n_q):
    """Per quartier over housed private households: 65+ × GP access, 65+, without car,
    households, persons walk-only, persons, commuting cost / income, commuting households."""
    out = np.zeros((n_q, 8))
    for h in range(q.size):
        if not housed[h]:
            continue
        k = q[h]
        out[k, 0] += old[h] * gp[h]
        out[k, 1] += old[h]
        if not car[h]:
            out[k, 2] += 1
        out[k, 3] += 1
        if walk_only[h]:
            out[k, 4] += size[h]
        out[k, 5] += size[h]
        if commute[h] > 0:
            out[k, 6] += commute[h] / net[h]
            out[k, 7] += 1
    return out


@njit(cache=True)
def _worker_sums(q, household, age, alive, housed, worker, n_q):
    """Per quartier: employed persons 18-64 and all persons 18-64 (living, housed)."""
    out = np.zeros((n_q, 2))
    for i in range(household.size):
        h = household[i]
        if alive[i] and housed[h] and 18 <= age[i] < 65:
            out[q[h], 1] += 1
            if worker[i]:
                out[q[h], 0] += 1
    return out


class ServicesMixin:
    """Care, doctors, schools, jobs (see docs/ODD.md §§ 7.11-7.17)."""

    # -- set-up ------------------------------------------------------------------------------

    def _setup_services(self) -> None:
        pop, city, sc = self.population, self.city, self.scenario
        sp = sc.parameters.services
        demo = sc.parameters.demography
        n_c = city.n_cells
        lo1, hi1 = sp.primary_school_ages
        lo2, hi2 = sp.secondary_school_ages
        # Facilities are geography: sized by the expected population and placed with the
        # city's layout seed, so every run of a city has the same ones.
        n_households = sc.city.households or self._default_households()
        expected = self._expected_population(n_households)
        per_person = expected / max(pop.n_persons, 1)
        pupils = (per_person * float(((pop.age >= lo1) & (pop.age <= hi1)).sum()),
                  per_person * float(((pop.age >= lo2) & (pop.age <= hi2)).sum()))
        self.services = Services(city, expected, pupils, sc, sc.city.layout_seed)
        sv = self.services
        self._care_tables = care.rate_tables(sc.parameters.care, demo.max_age)
        jp = sc.parameters.jobs
        group = income.income_group(pop.income, self.median_income)
        poor_share = float((group[pop.household] == 0).mean()) if pop.n_persons else 0.0
        self._employment_table = jobs.employment_tables(jp, demo.max_age, poor_share)
        # Employer sites for the jobs held by residents in the city.
        emp = jobs.employed(pop.age, pop.sex, group[pop.household] == 0, pop.pid,
                            self.keys["jobs"], self._employment_table)
        inside_jobs = emp.sum() * jp.share_working_in_city
        n_sites = max(1, int(round(inside_jobs / JOBS_PER_EMPLOYER)))
        self._site_cells = _draw_cells(sv.rngs["employer"], sv.employer_weight, n_sites)
        if self._site_cells.size == 0:
            self._site_cells = np.flatnonzero(city.cell_quartier >= 0)[:1]
        self._site_jobs = np.full(self._site_cells.size, max(inside_jobs, 1.0)
                                  / self._site_cells.size)
        sv.facilities.add(EMPLOYER, self._site_cells, self._site_jobs, 0, "Arbeitsstätte")
        self._jobs = jobs.JobSites(self._site_cells, sv.x, sv.y)
        size = pop.household_size()
        children = np.bincount(pop.household[pop.is_child], minlength=pop.n_households)
        self._car_intercept = jobs.car_intercept(group, size, children, jp)
        # Nursing-home places: one dwelling each, off the housing market.
        homes = np.flatnonzero(sv.facilities.kind == NURSING_HOME)
        places = sv.facilities.capacity[homes].astype(np.int64)
        n = int(places.sum())
        city.add_dwellings(
            dwelling_cell=np.repeat(sv.facilities.cell[homes], places),
            dwelling_floor_space=np.zeros(n), dwelling_tenure=np.full(n, NURSING),
            dwelling_binding_end=np.zeros(n), dwelling_rent_m2=np.zeros(n))
        self._last_unmet_by_cell = np.zeros(n_c)
        self._unmet_care = np.zeros(city.n_quartiers + 1)
        self._admit_initial_residents()
        self._school_state: dict = {}

    def _expected_population(self, n_households: int) -> float:
        if self.city.reported_population:
            return float(self.city.reported_population)
        from sim.inputs.synthesis import size_targets

        sizes = size_targets(1_000_000)
        return n_households * float((sizes * np.arange(1, 7)).sum() / sizes.sum())

    def _admit_initial_residents(self) -> None:
        """At the start, persons who need a nursing home live in one (those for whom no place
        is free stay at home). Dwellings emptied this way were never private dwellings: they
        are removed, so that the start's vacancy rate holds."""
        pop, city = self.population, self.city
        alive_p = np.ones(pop.n_persons, bool)
        alive_h = np.ones(pop.n_households, bool)
        need, inpatient, _, _ = care.needs(pop.age, pop.sex, pop.pid, self.keys["care"],
                                           self._care_tables)
        movers = np.flatnonzero(inpatient & self._may_move_to_home(alive_p, alive_h))
        old_dwelling = pop.dwelling.copy()
        placed, _ = self._to_nursing(movers, self.scenario.start_year - 1, alive_h, None)
        freed = np.setdiff1d(old_dwelling, pop.dwelling[pop.dwelling >= 0])
        freed = freed[city.dwelling_tenure[freed] != NURSING]
        if freed.size:
            keep = np.ones(city.n_dwellings, bool)
            keep[freed] = False
            new_index = np.cumsum(keep) - 1
            pop.dwelling = new_index[pop.dwelling].astype(pop.dwelling.dtype)
            for name in city.DWELLING_COLUMNS:
                setattr(city, name, getattr(city, name)[keep])

    # -- care ------------------------------------------------------------------------------

    def _nursing_households(self) -> np.ndarray:
        pop, city = self.population, self.city
        d = pop.dwelling
        return (d >= 0) & (city.dwelling_tenure[np.maximum(d, 0)] == NURSING)

    def _may_move_to_home(self, person_alive: np.ndarray, household_alive: np.ndarray
                          ) -> np.ndarray:
        """Adults of living, housed households not yet in a home; not the last adult of a
        household with children."""
        pop = self.population
        n = pop.n_households
        alive = person_alive & household_alive[pop.household]
        by_kind = np.bincount(pop.household[alive].astype(np.int64) * 2 + pop.is_child[alive],
                              minlength=2 * n).reshape(n, 2)
        adults = by_kind[:, 0]
        with_children = by_kind[:, 1] > 0
        ok_h = household_alive & (pop.dwelling >= 0) & ~self._nursing_households()
        ok_h &= ~with_children | (adults > 1)
        return alive & ~pop.is_child & ok_h[pop.household]

    def _to_nursing(self, movers: np.ndarray, year: int, household_alive: np.ndarray,
                    person_alive: np.ndarray | None, size: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Move persons (rows, in order) into free places of the nearest home with one.

        A person alone takes the place with the household; else the person founds a new
        one-person household there. Returns (placed mask over ``movers``, new household rows).
        """
        pop, city = self.population, self.city
        placed = np.zeros(movers.size, bool)
        if movers.size == 0:
            return placed, np.zeros(0, np.int64)
        nursing_d = np.flatnonzero(city.dwelling_tenure == NURSING)
        taken = np.zeros(city.n_dwellings, bool)
        live = household_alive & (pop.dwelling >= 0)
        taken[pop.dwelling[live]] = True
        free = nursing_d[~taken[nursing_d]]
        if free.size == 0:
            return placed, np.zeros(0, np.int64)
        # Free places grouped by home (sorted by cell, then dwelling).
        free = free[np.lexsort((free, city.dwelling_cell[free]))]
        home_cells, first, counts = np.unique(city.dwelling_cell[free], return_index=True,
                                              return_counts=True)
        if size is None:  # living members per household
            alive = np.ones(pop.n_persons, bool) if person_alive is None else person_alive
            size = np.bincount(pop.household[alive & household_alive[pop.household]],
                               minlength=pop.n_households)
        mover_cell = city.dwelling_cell[pop.dwelling[pop.household[movers]]].astype(np.int64)
        home = _nearest_free_home(mover_cell, (home_cells % city.width).astype(np.float64),
                                  (home_cells // city.width).astype(np.float64),
                                  float(city.width), counts.astype(np.int64))
        placed = home >= 0
        # The k-th person sent to a home takes its k-th free place.
        rank = np.zeros(movers.size, np.int64)
        for j in np.unique(home[placed]):
            sel = np.flatnonzero(home == j)
            rank[sel] = np.arange(sel.size)
        place = np.where(placed, free[first[np.maximum(home, 0)] + rank], -1)
        h = pop.household[movers]
        whole = np.zeros(movers.size, bool)
        new_parent, new_place = [], []
        for i in np.flatnonzero(placed):  # sequential: a household may send two persons
            if size[h[i]] == 1:
                whole[i] = True
            else:
                size[h[i]] -= 1
                new_parent.append(movers[i])
                new_place.append(place[i])
        pop.dwelling[h[whole]] = place[whole]
        pop.moved_in[h[whole]] = year
        new_rows = np.zeros(0, np.int64)
        if new_parent:
            parents = np.asarray(new_parent, np.int64)
            hh = pop.household[parents]
            new_rows = pop.add_households(
                np.asarray(new_place), pop.income[hh].copy(), pop.migration_background[hh],
                moved_in=year, hid=derived_ids(self.keys["ids"], pop.pid[parents],
                                               SLOT_NURSING_ID))
            pop.household[parents] = new_rows
        return placed, new_rows

    def _care_step(self, year: int, person_alive: np.ndarray, household_alive: np.ndarray
                   ) -> dict:
        """Step 2: who needs care, who gets it at home, who moves into a home or leaves.

        Returns counts per quartier (``out_care`` persons leaving by quartier, ``by_group``)
        and the new household rows and the households whose member moved to a home."""
        pop, city = self.population, self.city
        n_q = city.n_quartiers
        sv = self.services
        n_old = household_alive.size
        h_ok = household_alive & (pop.dwelling >= 0) & ~self._nursing_households()
        hcell = city.dwelling_cell[np.maximum(pop.dwelling, 0)].astype(np.int64)
        prevalence, share_inpatient, amb = self._care_tables
        size, adults, kids, amb_by_cell, cand, cand_inpatient, cand_z = care.care_pass(
            pop.household, pop.age, pop.sex, pop.pid, pop.is_child, person_alive,
            household_alive, h_ok, hcell, np.uint64(self.keys["care"]), prevalence,
            share_inpatient, amb, city.n_cells)
        sv.add_ambulant_lever(year, self._last_unmet_by_cell)
        sv.update_ambulant(year, amb_by_cell)
        cand_h = pop.household[cand]
        cand_cell = hcell[cand_h]
        ambulant = ~cand_inpatient
        served = ambulant & (cand_z < sv.ambulant_access[cand_cell])
        unserved = ambulant & ~served
        self._last_unmet_by_cell = np.bincount(cand_cell[unserved], minlength=city.n_cells)
        hq = city.dwelling_quartier[np.maximum(pop.dwelling, 0)]
        self._unmet_care = metrics.count(hq[cand_h[unserved]], n_q)
        # Who moves to a home: not the last adult of a household with children.
        may = (kids[cand_h] == 0) | (adults[cand_h] > 1)
        movers = cand[(cand_inpatient | unserved) & may]
        order = np.argsort(keyed_uniforms(self.keys["care"], year, pop.pid[movers],
                                          SLOT_CARE_ORDER), kind="stable")
        movers = movers[order]
        mover_h = pop.household[movers].copy()
        mover_q = hq[mover_h]
        placed, new_rows = self._to_nursing(movers, year, household_alive, person_alive,
                                            size.copy())
        leave = movers[~placed]
        leave_h = mover_h[~placed]
        size = size - np.bincount(mover_h[placed], minlength=n_old)
        leaving = np.bincount(leave_h, minlength=n_old)
        whole = size[leave_h] == leaving[leave_h]  # every member left: the household leaves
        household_alive[leave_h[whole]] = False
        person_alive[leave[~whole]] = False
        q_leave = mover_q[~placed]
        group = income.income_group(pop.income[leave_h], self.median_income)
        out = {
            "out_care": metrics.count(q_leave, n_q),
            "by_group": {
                "out_migrants_poor": metrics.count(q_leave, n_q, (group == 0).astype(float)),
                "out_migrants_migration_background": metrics.count(
                    q_leave, n_q, pop.migration_background[leave_h].astype(float)),
                "out_migrants_65plus": metrics.count(q_leave, n_q,
                                                     (pop.age[leave] >= 65).astype(float)),
            },
            "new_rows": new_rows,
            "new_quartier": city.dwelling_quartier[pop.dwelling[new_rows]] if new_rows.size
            else np.zeros(0, np.int64),
            "left_behind": mover_h[placed & (pop.household[movers] != mover_h)],
        }
        return out

    # -- access: doctors, schools, jobs --------------------------------------------------------

    def _ticket_prices(self, year: int) -> tuple[float, float, str]:
        jp = self.scenario.parameters.jobs
        price, social, rule = (jp.ticket_price_eur, jp.sozialticket_price_eur,
                               jp.sozialticket_eligibility)
        lever = self.scenario.levers.public_transport
        if lever is not None and year >= lever.from_year:
            if lever.ticket_price_eur is not None:
                price = lever.ticket_price_eur
            if lever.sozialticket_price_eur is not None:
                social = lever.sozialticket_price_eur
            if lever.sozialticket_eligibility is not None:
                rule = lever.sozialticket_eligibility
            if lever.free_fares:
                price = social = 0.0
        # Prices are at the start year's level and grow with incomes (like rents), so that a
        # price set by a lever keeps its weight over the run.
        index = self.income_index
        return price * index, min(social, price) * index, rule

    def _travel_modes(self, group: np.ndarray, size: np.ndarray, children: np.ndarray,
                      hid: np.ndarray, wbs: np.ndarray, net_income: np.ndarray, year: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per household: car, monthly ticket price, travel mode (see jobs.household_modes)."""
        jp = self.scenario.parameters.jobs
        price, social, rule = self._ticket_prices(year)
        eligible = {"poverty": group == 0, "wbs": wbs,
                    "none": np.zeros(group.size, bool)}[rule]
        return jobs.household_modes(
            group, size, children, hid, np.uint64(self.keys["jobs"]), self._car_intercept,
            np.log([jp.no_car_odds_poor, jp.no_car_odds_high, jp.no_car_odds_one_person,
                    jp.no_car_odds_children]), eligible, net_income, float(price),
            float(social), jp.pt_affordable_share)

    def _access(self, year: int, info: dict, person_alive: np.ndarray,
                household_alive: np.ndarray) -> dict:
        """Steps 3-5 for the living households: travel modes, GP access, schools, commutes.

        Adds to ``info``: ``car``, ``mode``, ``ticket`` (per person), ``gp`` (relative access),
        ``school`` (perceived disadvantage of the pupils' schools), ``commute`` (EUR/month),
        ``health_weight``, ``segment`` and the choice inputs."""
        pop, city, sc = self.population, self.city, self.scenario
        jp, cp = sc.parameters.jobs, sc.parameters.choice
        sp = sc.parameters.services
        sv = self.services
        n = pop.n_households
        sv.apply_transport_lever(year)
        size, children, group = info["size"], info["children"], info["group"]
        housed = info["housed"] & ~info["nursing"]
        cell = info["cell"]
        car, ticket, mode = self._travel_modes(group, size, children, pop.hid, info["wbs"],
                                               info["net_income"], year)
        # 3. Doctors.
        lever = sc.levers.mvz
        if lever is not None and lever.incentive is not None:
            alive = person_alive & household_alive[pop.household]
            pc = cell[pop.household]
            old = alive & (pop.age >= 65) & housed[pop.household]
            sv.add_incentive_doctors(year, city.cell_quartier.astype(np.int64),
                                     np.bincount(pc[old], minlength=city.n_cells).astype(float))
        residents = np.bincount((mode.astype(np.int64) * city.n_cells + cell)[housed],
                                weights=size[housed],
                                minlength=3 * city.n_cells).reshape(3, city.n_cells)
        sv.update_gp(year, residents)
        gp = sv.gp_access[mode, cell]
        stage = info["stage"]
        weights = np.array([cp.health_weight_other, cp.health_weight_family,
                            cp.health_weight_other, cp.health_weight_old])
        # 4. Schools.
        lo1, hi1 = sp.primary_school_ages
        lo2, hi2 = sp.secondary_school_ages
        f = sv.facilities
        poor_h = group == 0
        prim, sec, workers = jobs.person_roles(
            pop.household, pop.age, pop.sex, pop.pid, person_alive, housed, poor_h,
            np.uint64(self.keys["jobs"]), self._employment_table, lo1, hi1, lo2, hi2)
        disadvantage_hh = np.zeros(n)
        state = {}
        for kind, pupils in ((PRIMARY, prim), (SECONDARY, sec)):
            rows = f.open(kind, year)
            pc = cell[pop.household[pupils]]
            key = ("nearest", kind, rows.size)
            if self._school_state.get(key) is None:
                self._school_state[key] = schools.nearest_schools(sv.x, sv.y, f.cell[rows])
            nearest = self._school_state[key]
            order = np.argsort(keyed_uniforms(self.keys["schools"], year, pop.pid[pupils], kind))
            school = schools.assign(order, pc, nearest, f.capacity[rows], sv.x, sv.y,
                                    f.cell[rows])
            n_s = rows.size
            total = np.bincount(school, minlength=n_s).astype(float)
            poor = np.bincount(school, weights=poor_h[pop.household[pupils]].astype(float),
                               minlength=n_s)
            share = np.divide(poor, total, out=np.zeros(n_s), where=total > 0)
            city_share = poor.sum() / max(total.sum(), 1.0)
            quality = self._school_quality(year, f.cell[rows])
            dis = schools.disadvantage(share, city_share, quality)
            np.maximum.at(disadvantage_hh, pop.household[pupils], dis[school])
            state[kind] = {"pupils": total, "poor": poor, "cells": f.cell[rows],
                           "dis": dis, "nearest_dis": dis[nearest[:, 0]]}
        self._schools_now = state
        # 5. Jobs and commuting.
        first = workers[pop.job[workers] == -2]
        pop.job[first] = self._jobs.draw(pop.pid[first], cell[pop.household[first]],
                                         self.keys["jobs"],
                                         jp.share_working_in_city, jp.inside_commute_mean_km)
        job = pop.job[workers].astype(np.int64)
        cparams = self._commute_params()
        home_cell = np.where(housed, cell, -1)
        commute = jobs.household_commute(
            pop.household[workers].astype(np.int64), job, n, home_cell, car,
            ticket.astype(np.float64), sv.x, sv.y, sv.stop_dist_m, sv.nearest_stop,
            float(city.cell_size_m), cparams)
        # Choice inputs: amenity per (cell, stage × mode); workers sorted by household.
        amenity = np.zeros((city.n_cells, N_SEGMENTS))
        fam_dis = state[PRIMARY]["nearest_dis"]
        for st in range(4):
            for m in range(3):
                a = cp.utility_health * weights[st] * np.minimum(sv.gp_access[m], 1.5)
                if st == 1:
                    a = a - cp.utility_school * cp.school_weight * fam_dis
                amenity[:, st * 3 + m] = a
        # The choice weighs commutes to jobs in the city (a job outside costs about the same
        # from anywhere in the city).
        inside = job >= 0
        by_hh, counts = _group_rows(pop.household[workers[inside]], n)
        info.update({
            "alive_p": person_alive, "car": car, "mode": mode,
            "ticket": ticket.astype(np.float32), "gp": gp.astype(np.float32),
            "health_weight": weights.astype(np.float32)[stage],
            "school": (disadvantage_hh * cp.school_weight).astype(np.float32),
            "commute": commute.astype(np.float32), "segment": (stage * 3 + mode).astype(np.int8),
            "worker_start": (np.cumsum(counts) - counts).astype(np.int32),
            "worker_count": counts.astype(np.int32),
            "workers": workers,
            "choice_access": ChoiceAccess(amenity, job[inside][by_hh], sv.x, sv.y, sv.stop_dist_m,
                                          sv.nearest_stop, float(city.cell_size_m), cparams),
        })
        return info

    def _school_quality(self, year: int, school_cells: np.ndarray) -> np.ndarray:
        quality = np.zeros(school_cells.size)
        cq = self.city.cell_quartier[school_cells]
        ids = self.city.quartier_ids()
        for inv in self.scenario.levers.school_investment:
            if year >= inv.from_year:
                quality[cq == ids.index(inv.quartier)] = np.maximum(
                    quality[cq == ids.index(inv.quartier)], inv.quality)
        return quality

    def _commute_params(self) -> np.ndarray:
        sp = self.scenario.parameters.services
        jp = self.scenario.parameters.jobs
        return np.array([
            sp.detour_factor, sp.walk_speed_m_s * 60.0, sp.pt_speed_kmh * 1000.0 / 60.0,
            sp.car_speed_kmh * 1000.0 / 60.0, sp.car_overhead_min, self.services.headway_min,
            jp.car_cost_per_km * self.income_index, jp.workdays_per_month,
            jp.value_of_time_eur_h * self.income_index / 60.0,
            jp.outside_commute_km * 1000.0,
        ])

    def _newcomer_access(self, newcomers: dict, year: int) -> None:
        """Segments and commute inputs of in-migrant households (their jobs are not known
        before they arrive: no commute term)."""
        n = newcomers["current"].size
        children = newcomers["children"]
        car, ticket, mode = self._travel_modes(
            newcomers["income_group"], newcomers["size"], children, newcomers["id"],
            newcomers["can_social"], newcomers["net_income"], year)
        stage = life_stage(newcomers["oldest"], children)
        newcomers.update({"segment": (stage * 3 + mode).astype(np.int8), "car": car,
                          "ticket": ticket, "worker_start": np.zeros(n, np.int64),
                          "worker_count": np.zeros(n, np.int64)})

    # -- outcomes --------------------------------------------------------------------------

    def _service_stocks(self, hq: np.ndarray, size: np.ndarray) -> dict[str, np.ndarray]:
        pop, city = self.population, self.city
        n_q = city.n_quartiers
        sv = self.services
        nursing_h = self._nursing_households()
        hcell = city.dwelling_cell[pop.dwelling].astype(np.int64)
        c = care.care_sums(hq.astype(np.int64), pop.household, pop.age, pop.sex, pop.pid,
                           np.uint64(self.keys["care"]), self._care_tables[0], nursing_h,
                           sv.gp_within_reach[hcell], n_q)
        c = np.vstack([c, c.sum(axis=0)])
        persons, dependent = c[:, 0], c[:, 1]
        out = {
            "care_dependent": dependent,
            "care_dependency_share": metrics._ratio(dependent, persons),
            "share_cared_at_home": metrics._ratio(c[:, 2], dependent),
            "nursing_home_residents": persons - c[:, 3],
            "unmet_care": self._unmet_care,
            "share_gp_within_reach": metrics._ratio(c[:, 4], c[:, 3]),
            "share_65plus_gp_within_reach": metrics._ratio(c[:, 6], c[:, 5]),
            "gp_doctors": np.r_[np.full(n_q, np.nan), sv.facilities.capacity[
                sv.facilities.open(0, self.year)].sum()],
        }
        acc = getattr(self, "_last_access", None)
        if acc is not None:
            out.update(acc)
        else:
            out.update({m: np.full(n_q + 1, np.nan) for m in ACCESS_METRICS})
        return out

    def _access_metrics(self, info: dict, hq: np.ndarray) -> None:
        """Yearly access outcomes from the state at the start of the move season."""
        pop = self.population
        n_q = self.city.n_quartiers
        housed = info["housed"] & ~info["nursing"]
        q = hq[: pop.n_households].astype(np.int64)
        hs = _household_access_sums(q, housed, info["size"], info["old"], info["gp"],
                                    info["car"], info["mode"] == WALK, info["commute"],
                                    info["net_income"], n_q)
        is_worker = np.zeros(pop.n_persons, np.bool_)
        is_worker[info["workers"]] = True
        ps = _worker_sums(q, pop.household, pop.age, info["alive_p"], housed, is_worker, n_q)
        hs = np.vstack([hs, hs.sum(axis=0)])
        ps = np.vstack([ps, ps.sum(axis=0)])
        out = {
            "gp_access_65plus": metrics._ratio(hs[:, 0], hs[:, 1]),
            "no_car_share": metrics._ratio(hs[:, 2], hs[:, 3]),
            "share_walk_only": metrics._ratio(hs[:, 4], hs[:, 5]),
            "commuting_cost_share": metrics._ratio(hs[:, 6], hs[:, 7]),
            "employment_rate": metrics._ratio(ps[:, 0], ps[:, 1]),
        }
        prim = self._schools_now[PRIMARY]
        d = np.full(n_q + 1, np.nan)
        pupils, poor = prim["pupils"], prim["poor"]
        if pupils.sum() > 0 and 0 < poor.sum() < pupils.sum():
            d[-1] = 0.5 * np.abs(poor / poor.sum() - (pupils - poor) / (pupils - poor).sum()).sum()
        out["school_dissimilarity_income"] = d
        sq = self.city.cell_quartier[prim["cells"]]
        out["school_poor_share"] = np.r_[metrics._ratio(
            np.bincount(sq, weights=poor, minlength=n_q).astype(float),
            np.bincount(sq, weights=pupils, minlength=n_q).astype(float)),
            poor.sum() / max(pupils.sum(), 1.0)]
        self._last_access = out

