"""Employment, car ownership and commuting.

**Employment**: the employed are those whose employment status is "employed"
(:mod:`sim.model.processes.employment`; at the start a fixed keyed number below the employment
rate of the person's age and sex, NRW Mikrozensus, with lower odds for members of households at
risk of poverty, rates adjusted so that the average still matches). **Job location**,
drawn when a person is first employed and kept for life: in the city with probability
``share_working_in_city``, at the employer site nearest to a point at a random distance
(exponential, mean ``inside_commute_mean_km``) and direction from home, so sites are chosen in
proportion to their density and near home more often; else outside, ``outside_commute_km``
away.

**Cars**: a household has no car while a fixed keyed number is below a logistic probability
whose odds depend on income group, size and children (MiD 2017, EVS 2008), with an intercept
that gives the city share (EVS 2018, NRW cities over 100,000: 32.5 %).

**Commuting cost** of a worker, per month: the cheapest of walking (time only), public
transport (the household's ticket plus time) and car (if any: distance cost plus time), with
time valued at ``value_of_time_eur_h``, over ``workdays_per_month`` return trips.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit
from scipy.optimize import brentq

from sim.model.accessibility import commute_cost
from sim.model.rng import keyed_uniform, keyed_uniforms
from sim.model.services import EMPLOYER, JOBS_PER_EMPLOYER, draw_cells
from sim.model.threads import chunks, parallel_for
from sim.scenario.service_parameters import JobsParameters
from sim.state.income import income_group

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState

SLOT_EMPLOYED, SLOT_INSIDE, SLOT_SITE, SLOT_CAR = range(4)


@dataclass
class JobsState:
    """What employment and commuting keep for the run.

    Attributes:
        employment_table: Employment probability by (poor, sex, age).
        sites: The employer sites, which place new workers' jobs.
        car_intercept: Intercept of the no-car logit fitted to the start population.
    """

    employment_table: np.ndarray
    sites: JobSites
    car_intercept: float


def setup(model: QuartierModel) -> JobsState:
    """The employment table, employer sites for the jobs held by residents in the city (added
    to the facilities) and the car logit's intercept, from the start population."""
    pop, city, sv = model.population, model.city, model.services
    jp = model.scenario.parameters.jobs
    group = income_group(pop.income, model.median_income)
    poor_share = float((group[pop.household] == 0).mean()) if pop.n_persons else 0.0
    table = employment_tables(jp, model.scenario.parameters.demography.max_age, poor_share)
    emp = pop.employment == 0  # employment.EMPLOYED
    inside_jobs = emp.sum() * jp.share_working_in_city
    n_sites = max(1, int(round(inside_jobs / JOBS_PER_EMPLOYER)))
    site_cells = draw_cells(sv.rngs["employer"], sv.employer_weight, n_sites)
    if site_cells.size == 0:
        site_cells = np.flatnonzero(city.cell_quartier >= 0)[:1]
    site_jobs = np.full(site_cells.size, max(inside_jobs, 1.0) / site_cells.size)
    sv.facilities.add(EMPLOYER, site_cells, site_jobs, 0, "Arbeitsstätte")
    size = pop.household_size()
    children = np.bincount(pop.household[pop.is_child], minlength=pop.n_households)
    return JobsState(table, JobSites(site_cells, sv.x, sv.y),
                     car_intercept(group, size, children, jp))


def step(model: QuartierModel, year: YearState, params: JobsParameters, draws: Draws) -> None:
    """New workers get a job (kept for life); every household's commuting cost is the sum of
    its workers' generalised costs from its cell."""
    pop, city, sv = model.population, model.city, model.services
    s = year.situation
    workers, cell = s["workers"], s["cell"]
    first = workers[pop.job[workers] == -2]
    pop.job[first] = model.jobs.sites.draw(pop.pid[first], cell[pop.household[first]],
                                           draws.key, params.share_working_in_city,
                                           params.inside_commute_mean_km)
    job = pop.job[workers].astype(np.int64)
    home_cell = np.where(s["housed"] & ~s["nursing"], cell, -1)
    ticket = s.pop("ticket_price")
    commute = household_commute(
        pop.household[workers].astype(np.int64), job, pop.n_households, home_cell, s["car"],
        ticket.astype(np.float64), sv.x, sv.y, sv.stop_dist_m, sv.nearest_stop,
        float(city.cell_size_m), commute_params(model))
    s["commute"] = commute.astype(np.float32)
    s["ticket"] = ticket.astype(np.float32)


def commute_params(model: QuartierModel) -> np.ndarray:
    """The parameters of :func:`commute_cost` this year (money grown with incomes)."""
    sp = model.scenario.parameters.services
    jp = model.scenario.parameters.jobs
    return np.array([
        sp.detour_factor, sp.walk_speed_m_s * 60.0, sp.pt_speed_kmh * 1000.0 / 60.0,
        sp.car_speed_kmh * 1000.0 / 60.0, sp.car_overhead_min, model.services.headway_min,
        jp.car_cost_per_km * model.income_index, jp.workdays_per_month,
        jp.value_of_time_eur_h * model.income_index / 60.0,
        jp.outside_commute_km * 1000.0,
    ])


def _adjusted(rate: float, poor_share: float, odds: float) -> tuple[float, float]:
    """Rates for non-poor and poor with the given odds ratio whose mean is ``rate``."""
    if rate <= 0.0 or rate >= 1.0 or poor_share <= 0.0:
        return rate, rate

    def mean(p_non: float) -> float:
        o = odds * p_non / (1.0 - p_non)
        return (1.0 - poor_share) * p_non + poor_share * o / (1.0 + o) - rate

    p_non = brentq(mean, 1e-9, 1.0 - 1e-9)
    o = odds * p_non / (1.0 - p_non)
    return p_non, o / (1.0 + o)


def employment_tables(jp: JobsParameters, max_age: int, poor_share: float) -> np.ndarray:
    """Employment probability by (poor, sex, age), shape (2, 2, max_age + 1)."""
    n_age = max_age + 1
    out = np.zeros((2, 2, n_age))
    for sex, (young, older) in enumerate(((jp.employment_rate_male,
                                            jp.employment_rate_55_64_male),
                                           (jp.employment_rate_female,
                                            jp.employment_rate_55_64_female))):
        for lo, hi, rate in ((18, 55, young), (55, 65, older), (65, 70, jp.employment_rate_65_69),
                             (70, 75, jp.employment_rate_70_74)):
            non, poor = _adjusted(rate, poor_share, jp.poverty_employment_odds)
            out[0, sex, lo:min(hi, n_age)] = non
            out[1, sex, lo:min(hi, n_age)] = poor
    return out


def employed(age: np.ndarray, sex: np.ndarray, poor: np.ndarray, pid: np.ndarray,
             key: np.uint64, table: np.ndarray) -> np.ndarray:
    a = np.minimum(age.astype(np.int64), table.shape[2] - 1)
    return keyed_uniforms(key, 0, pid, SLOT_EMPLOYED) < table[poor.astype(np.int64),
                                                              sex.astype(np.int64), a]


class JobSites:
    """Employer sites, and the job cells of new workers."""

    def __init__(self, site_cells: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        from scipy.spatial import cKDTree

        self.site_cells = site_cells.astype(np.int64)
        self.x, self.y = x, y
        self._tree = cKDTree(np.c_[x[self.site_cells], y[self.site_cells]])
        # the distinct site cells in square buckets of about one site each
        cells = np.unique(self.site_cells)
        self._cells, self._sx, self._sy = cells, x[cells].astype(np.float64), y[cells].astype(
            np.float64)
        if cells.size:
            area = (self._sx.max() - self._sx.min()) * (self._sy.max() - self._sy.min())
            self._bucket = max(float(np.sqrt(max(area, 1.0) / cells.size)), 1.0)
            self._grid = _site_grid(self._sx, self._sy, self._bucket)

    def nearest(self, qx: np.ndarray, qy: np.ndarray) -> np.ndarray:
        """The cell of the site nearest to each point (as the k-d tree finds it: where sites
        of two cells are nearly equally near, the tree decides)."""
        out = np.empty(qx.size, np.int64)
        x0, y0, nbx, nby, start, order = self._grid
        parallel_for(_nearest_site, qx.size, qx, qy, self._sx, self._sy, self._cells, x0, y0,
                     self._bucket, nbx, nby, start, order, out)
        tie = np.flatnonzero(out < 0)
        if tie.size:
            _, idx = self._tree.query(np.c_[qx[tie], qy[tie]])
            out[tie] = self.site_cells[np.asarray(idx, np.int64)]
        return out

    def draw(self, pid: np.ndarray, home_cell: np.ndarray, key: np.uint64,
             share_inside: float, mean_km: float) -> np.ndarray:
        """Job cells (-1 = outside the city) of persons employed for the first time."""
        cells = np.full(pid.size, -1, np.int32)
        inside = keyed_uniforms(key, 0, pid, SLOT_INSIDE) < share_inside
        if self.site_cells.size and inside.any():
            r = -np.log1p(-keyed_uniforms(key, 0, pid[inside], SLOT_SITE)) * mean_km * 1000
            a = 2 * np.pi * keyed_uniforms(key, 0, pid[inside], SLOT_SITE + 10)
            h = home_cell[inside]
            cells[inside] = self.nearest(self.x[h] + r * np.cos(a), self.y[h] + r * np.sin(a))
        return cells


def household_modes(group, size, children, hid, key, intercept, odds, eligible, net, price,
                    social, afford_share):
    """Per household: car (keyed, logit of no car), monthly ticket price, travel mode for
    errands (0 walk, 1 public transport if the tickets are affordable, 2 car)."""
    n = group.size
    car = np.empty(n, np.bool_)
    ticket = np.empty(n)
    mode = np.empty(n, np.int8)
    parallel_for(_household_modes, n, group, size, children, hid, np.uint64(key),
                 _no_car_table(float(intercept), np.asarray(odds, np.float64)), eligible, net,
                 float(price), float(social), float(afford_share), car, ticket, mode)
    return car, ticket, mode


@njit(cache=True)
def _site_grid(sx, sy, bucket):
    """Buckets of the site points (sorted by bucket): origin, shape, starts, order."""
    x0, y0 = sx.min(), sy.min()
    nbx = int((sx.max() - x0) / bucket) + 1
    nby = int((sy.max() - y0) / bucket) + 1
    b = np.empty(sx.size, np.int64)
    for i in range(sx.size):
        b[i] = int((sy[i] - y0) / bucket) * nbx + int((sx[i] - x0) / bucket)
    start = np.zeros(nbx * nby + 1, np.int64)
    for i in range(sx.size):
        start[b[i] + 1] += 1
    for k in range(nbx * nby):
        start[k + 1] += start[k]
    pos = start[:-1].copy()
    order = np.empty(sx.size, np.int64)
    for i in range(sx.size):
        order[pos[b[i]]] = i
        pos[b[i]] += 1
    return x0, y0, nbx, nby, start, order


@njit(cache=True, nogil=True)
def _nearest_site(lo, hi, qx, qy, sx, sy, scell, x0, y0, bucket, nbx, nby, start, order, out):
    """Per point the cell of its nearest site, searched ring by ring of buckets around the
    point's; -1 where sites of two cells are equally near within 1e-9 (relative)."""
    for i in range(lo, hi):
        fx = (qx[i] - x0) / bucket
        fy = (qy[i] - y0) / bucket
        bx = int(np.floor(fx)) if fx > -1e9 else -1000000000
        by = int(np.floor(fy)) if fy > -1e9 else -1000000000
        kx = -bx if bx < 0 else (bx - nbx + 1 if bx >= nbx else 0)
        ky = -by if by < 0 else (by - nby + 1 if by >= nby else 0)
        k = max(kx, ky)
        best = np.inf
        second = np.inf
        bcell = -1
        while True:
            if k >= 1:
                lb = (k - 1.001) * bucket
                if bcell >= 0 and lb * lb > best * (1.0 + 1e-9) + 1e-9:
                    break
            ylo, yhi = max(by - k, 0), min(by + k, nby - 1)
            for yy in range(ylo, yhi + 1):
                edge = yy == by - k or yy == by + k
                xlo, xhi = max(bx - k, 0), min(bx + k, nbx - 1)
                step = 1 if edge else 2 * k  # inner rows: the ring's two ends
                xx = bx - k if not edge else xlo
                if not edge and xx < xlo:
                    xx += step
                while xx <= xhi:
                    if xx >= xlo:
                        cb = yy * nbx + xx
                        for t in range(start[cb], start[cb + 1]):
                            s = order[t]
                            dx = qx[i] - sx[s]
                            dy = qy[i] - sy[s]
                            d = dx * dx + dy * dy
                            c = scell[s]
                            if d < best:
                                if c != bcell:
                                    second = best
                                bcell = c
                                best = d
                            elif c != bcell and d < second:
                                second = d
                    xx += step
            k += 1
        if second <= best * (1.0 + 1e-9) + 1e-9:
            out[i] = -1
        else:
            out[i] = bcell


@njit(cache=True)
def _no_car_table(intercept, odds):
    """P(no car) by income group, one person, children."""
    lp, lh, l1, lc = odds[0], odds[1], odds[2], odds[3]
    p_table = np.empty((3, 2, 2))
    for g in range(3):
        for one in range(2):
            for kids in range(2):
                z = intercept
                if g == 0:
                    z += lp
                elif g == 2:
                    z += lh
                if one:
                    z += l1
                if kids:
                    z += lc
                p_table[g, one, kids] = 1.0 / (1.0 + np.exp(-z))
    return p_table


@njit(cache=True, nogil=True)
def _household_modes(lo, hi, group, size, children, hid, key, p_table, eligible, net, price,
                     social, afford_share, car, ticket, mode):
    for h in range(lo, hi):
        p_no = p_table[group[h], 1 if size[h] == 1 else 0, 1 if children[h] > 0 else 0]
        has_car = keyed_uniform(key, 0, hid[h], SLOT_CAR) >= p_no
        car[h] = has_car
        t = social if eligible[h] else price
        ticket[h] = t
        if has_car:
            mode[h] = 2
        else:
            adults = max(size[h] - children[h], 1)
            mode[h] = 1 if t * adults <= afford_share * net[h] else 0


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def no_car_probability(group: np.ndarray, size: np.ndarray, children: np.ndarray,
                       jp: JobsParameters, intercept: float) -> np.ndarray:
    z = (intercept + np.log(jp.no_car_odds_poor) * (group == 0)
         + np.log(jp.no_car_odds_high) * (group == 2)
         + np.log(jp.no_car_odds_one_person) * (size == 1)
         + np.log(jp.no_car_odds_children) * (children > 0))
    return 1.0 / (1.0 + np.exp(-z))


def car_intercept(group: np.ndarray, size: np.ndarray, children: np.ndarray,
                  jp: JobsParameters) -> float:
    """Intercept of the no-car logit that gives ``no_car_share`` on these households."""
    if group.size == 0 or not 0.0 < jp.no_car_share < 1.0:
        return _logit(min(max(jp.no_car_share, 1e-6), 1 - 1e-6))
    return brentq(lambda b: no_car_probability(group, size, children, jp, b).mean()
                  - jp.no_car_share, -30.0, 30.0)


def household_commute(worker_household, worker_job, n_households, home_cell, car, ticket, x, y,
                      stop_dist, nearest_stop, width_m, params):
    """Sum of the workers' generalised commuting costs per household (EUR per month): each
    worker's cost in threads, summed per household in the workers' order."""
    if len(chunks(worker_household.size)) == 1:  # one thread: costs summed as they come
        return _commute_sums(worker_household, worker_job, n_households, home_cell, car,
                             ticket, x, y, stop_dist, nearest_stop, float(width_m), params)
    cost = np.empty(worker_household.size)
    parallel_for(_worker_costs, worker_household.size, worker_household, worker_job, home_cell,
                 car, ticket, x, y, stop_dist, nearest_stop, float(width_m), params, cost)
    return _sum_by_household(worker_household, home_cell, cost, n_households)


@njit(cache=True, nogil=True)
def _worker_costs(lo, hi, worker_household, worker_job, home_cell, car, ticket, x, y, stop_dist,
                  nearest_stop, width_m, params, cost):
    for i in range(lo, hi):
        h = worker_household[i]
        if home_cell[h] >= 0:
            cost[i] = commute_cost(home_cell[h], worker_job[i], car[h], ticket[h], x, y,
                                   stop_dist, nearest_stop, width_m, params)


@njit(cache=True)
def _commute_sums(worker_household, worker_job, n_households, home_cell, car, ticket, x, y,
                  stop_dist, nearest_stop, width_m, params):
    """:func:`_worker_costs` and :func:`_sum_by_household` in one pass."""
    out = np.zeros(n_households)
    for i in range(worker_household.size):
        h = worker_household[i]
        if home_cell[h] >= 0:
            out[h] += commute_cost(home_cell[h], worker_job[i], car[h], ticket[h], x, y,
                                   stop_dist, nearest_stop, width_m, params)
    return out


@njit(cache=True)
def _sum_by_household(worker_household, home_cell, cost, n_households):
    out = np.zeros(n_households)
    for i in range(worker_household.size):
        h = worker_household[i]
        if home_cell[h] >= 0:
            out[h] += cost[i]
    return out
