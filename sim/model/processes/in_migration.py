"""In-migration: households from outside look for a dwelling in the city.

In-migration is demand, not a queue. Persons who would like to move in number
``in_migration_rate`` per resident × ``(vacancy / target_vacancy) **
demand_vacancy_elasticity`` (the recent years' year-end vacancy, smoothed: with few vacant
dwellings fewer find anything to look at). They arrive as whole households drawn from the
synthetic household pool, tilted towards younger households and towards one-person households
so that their mean age is ``in_migrant_mean_age`` (Köln 2023: about 30) and the share of
one-person households ``in_migrant_single_share`` (62 % of moving households, Umzug AG 2013).
Their incomes and origins are drawn keyed to the newcomer's id, their car and ticket as for
residents; their jobs are not known before they arrive (no commuting term). Whether they come
is decided by residential choice (:mod:`sim.model.mobility`) among the vacancies the movers
left, with staying away as the outside option: the rent against the region's and the services
they value act there, so a vacancy stays empty when nobody prefers it.

In a year listed in ``observed_in_migration`` (historical mode) that many persons per resident
arrive and take vacancies (staying away is no option) until the vacancies run out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit
from scipy.special import ndtri

from sim.inputs.synthesis import HouseholdPool
from sim.model.housing import wbs_eligible
from sim.model.mobility import choose, life_stage, space_norm
from sim.model.processes import employment
from sim.model.processes.moving import outside_cost_m2
from sim.model.processes.travel import travel_modes
from sim.model.rng import keyed_uniforms
from sim.state.income import income_group, oecd_scale
from sim.state.population import Members

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.parameters import MigrationParameters

SLOT_NEWCOMER_ID = 3  # of the ids key: (year, position of the draw)
SLOT_MEMBER_ID = 4  # of the ids key: (newcomer household id ^ member position)
SLOT_INCOME, SLOT_ABROAD, SLOT_ORIGIN = 5, 6, 7  # of the in-migration key


def _tilt(oldest: np.ndarray, single: np.ndarray, sizes: np.ndarray, age_sums: np.ndarray,
          base: np.ndarray, mean_age: float, single_share: float | None
          ) -> tuple[float, float]:
    """Lambda and mu such that weights ``base * exp(-lambda * oldest + mu * single)`` give the
    persons' mean age ``mean_age`` (persons' ages summed per household in ``age_sums``) and
    the share ``single_share`` of one-person households (mu = 0 when it is None)."""
    centre = float(oldest.mean()) if oldest.size else 0.0
    # households grouped by (oldest member's age, one person: 0 or 1), in that order: the sums
    # per group suffice (the groups of np.unique(..., axis=0), without its slow sort of rows)
    ages, age_code = np.unique(oldest, return_inverse=True)
    pair, code = np.unique(age_code.ravel() * 2 + (single > 0), return_inverse=True)
    code = code.reshape(oldest.shape)
    values = np.c_[ages[pair // 2], pair % 2]
    k = values.shape[0]
    w_sum = np.bincount(code, weights=base, minlength=k)
    age_sum = np.bincount(code, weights=base * age_sums, minlength=k)
    size_sum = np.bincount(code, weights=base * sizes, minlength=k)
    age_v, single_v = values[:, 0] - centre, values[:, 1]

    def group_weights(lam: float, mu: float) -> np.ndarray:
        z = -lam * age_v + mu * single_v
        return np.exp(z - z.max())

    def lam_for(mu: float) -> float:
        lo, hi = -1.0, 1.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            g = group_weights(mid, mu)
            if (g * age_sum).sum() / (g * size_sum).sum() > mean_age:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    if single_share is None:
        return lam_for(0.0), 0.0
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        g = group_weights(lam_for(mid), mid) * w_sum
        if (g * single_v).sum() / g.sum() < single_share:
            lo = mid
        else:
            hi = mid
    mu = 0.5 * (lo + hi)
    return lam_for(mu), mu


def age_tilt(pool: HouseholdPool, mean_age: float, single_share: float | None = None
             ) -> np.ndarray:
    """Pool weights tilted by exp(-lambda * oldest member's age + mu * [one person]) to reach
    a persons' mean age and (unless ``single_share`` is None) a share of one-person
    households.

    Lambda and mu are found by bisection; the result is normalised to sum to 1.
    """
    ages = pool.members.age.astype(float)
    oldest = np.maximum.reduceat(ages, pool.starts)
    age_sums = np.add.reduceat(ages, pool.starts)
    single = (pool.sizes == 1).astype(float)
    lam, mu = _tilt(oldest, single, pool.sizes.astype(float), age_sums, pool.weights,
                    mean_age, single_share)
    z = -lam * (oldest - oldest.mean()) + mu * single
    w = pool.weights * np.exp(z - z.max())
    return w / w.sum()


class PoolSampler:
    """Draws pool rows with probabilities ``tilted``, as ``rng.choice(..., p=tilted)`` does
    (the same uniforms, the same rows: tested), but in constant time per draw: a guide table
    of the cumulative weights points each uniform near its row."""

    def __init__(self, tilted: np.ndarray, sizes: np.ndarray) -> None:
        self.cdf = np.cumsum(tilted)
        self.cdf /= self.cdf[-1]
        self.mean_size = float((tilted * sizes).sum())
        self.guide = self.cdf.searchsorted(np.arange(self.cdf.size) / self.cdf.size,
                                           side="right").astype(np.int64)

    def rows(self, u: np.ndarray) -> np.ndarray:
        """The row of each uniform ``u`` in [0, 1): ``cdf.searchsorted(u, side="right")``."""
        return _guided_search(self.cdf, self.guide, u)


@njit(cache=True)
def _guided_search(cdf, guide, u):
    out = np.empty(u.size, np.int64)
    m = guide.size
    for i in range(u.size):
        j = guide[min(int(u[i] * m), m - 1)]
        while j > 0 and cdf[j - 1] > u[i]:  # only if u * m was rounded up to the next bin
            j -= 1
        while cdf[j] <= u[i]:
            j += 1
        out[i] = j
    return out


def in_migrant_households(pool: HouseholdPool, tilted: np.ndarray, persons_wanted: float,
                          rng: np.random.Generator, sampler: PoolSampler | None = None
                          ) -> np.ndarray:
    """Pool indices of the in-migrating households (their number is Poisson). ``sampler``
    (a :class:`PoolSampler` of ``tilted``) saves recomputing the cumulative weights; the draws
    are those of ``rng.choice(..., p=tilted)`` either way."""
    if sampler is None:
        mean_size = float((tilted * pool.sizes).sum())
    else:
        mean_size = sampler.mean_size
    n = rng.poisson(persons_wanted / mean_size) if persons_wanted > 0 else 0
    if sampler is None:
        return rng.choice(tilted.size, size=n, p=tilted)
    return sampler.rows(rng.random(n))


class InMigrantProfile:
    """The households that may move in: the synthetic pool, its weights tilted to the
    in-migrants' mean age and share of one-person households, and a fast sampler of those
    weights."""

    def __init__(self, pool: HouseholdPool, mean_age: float,
                 single_share: float | None = None) -> None:
        self.pool = pool
        self.weights = age_tilt(pool, mean_age, single_share)
        self.sampler = PoolSampler(self.weights, pool.sizes)


def step(model: QuartierModel, year: YearState, params: MigrationParameters,
         draws: Draws) -> dict[str, np.ndarray]:
    """Newcomers choose among the vacancies, or stay away; those who come join the city."""
    pop, city = model.population, model.city
    profile = model.in_migrants
    pool = profile.pool
    observed = params.observed_in_migration.get(year.year)
    wanted = demand(params, model.scenario.parameters.housing.target_vacancy,
                    model.market.vacancy, year.persons_start, observed)
    pool_rows = in_migrant_households(pool, profile.weights, wanted, draws.rng,
                                      profile.sampler)
    arrivals = pool.members.take(pool.starts, pool.sizes, pool_rows)
    newcomers = _newcomers(model, arrivals, year.year, draws)
    s = year.situation
    chosen = choose(newcomers, year.vacancies, city, s["cost"], s["relet_cost"],
                    s["cell_share_income"], s["cell_share_origin"],
                    model.scenario.parameters.mobility, draws.key, year.year,
                    s["choice_access"], allow_stay=False, allow_outside=observed is None)
    come = chosen >= 0
    dwellings = chosen[come]
    # the members of the households who come (their positions in the batch), renumbered
    kept, household = _coming_members(arrivals.household, come)
    member_ids = model.new_ids(newcomers["id"][arrivals.household[kept]]
                               ^ kept.astype(np.uint64), SLOT_MEMBER_ID)
    arrivals = Members(arrivals.age[kept], arrivals.sex[kept], household,
                       arrivals.is_child[kept])
    new_rows = pop.append(arrivals, dwellings, newcomers["income"][come],
                          newcomers["origin"][come], moved_in=year.year,
                          pid=member_ids, hid=newcomers["id"][come])
    employment.arrive(model)
    model.market.let(dwellings)
    year.add_households(city.dwelling_quartier[dwellings])
    year.add_persons(arrivals.age.size)
    model.market.observe_vacancy(pop.dwelling[year.household_alive])
    n_q = city.n_quartiers
    return {"in_migrants": year.count(new_rows[arrivals.household]),
            "in_migrants_under_18": year.count(new_rows[arrivals.household[arrivals.age < 18]]),
            "in_migration_demand": np.r_[np.full(n_q, np.nan), float(pool.sizes[pool_rows].sum())]}


def demand(params: MigrationParameters, target_vacancy: float, vacancy: float,
           persons: float, observed: float | None = None) -> float:
    """Persons who would like to move in this year: ``observed`` per resident in historical
    mode, else ``in_migration_rate`` per resident scaled by the vacancy against the target."""
    if observed is not None:
        return observed * persons
    relative = max(vacancy, 0.0) / max(target_vacancy, 1e-9)
    return params.in_migration_rate * persons * relative ** params.demand_vacancy_elasticity


def _newcomers(model: QuartierModel, arrivals: Members, year: int, draws: Draws) -> dict:
    """The choice's table of in-migrant households: incomes and origins (keyed to their ids),
    cars, tickets and segments."""
    mig = model.scenario.parameters.migration
    ip = model.scenario.parameters.income
    hp = model.scenario.parameters.housing
    mp = model.scenario.parameters.mobility
    n = arrivals.n_households
    size, children, young, oldest = _batch_households(arrivals.household, arrivals.age,
                                                      arrivals.is_child, n)
    # Ids from the year and the draw's position: the same newcomers in every scenario.
    ids = model.new_ids((np.uint64(year) << np.uint64(32)) + np.arange(n, dtype=np.uint64),
                        SLOT_NEWCOMER_ID)
    key = draws.key
    inc = model.draw_incomes(size - children, children,
                             poverty_rate=mig.in_migrant_poverty_rate,
                             z=ndtri(keyed_uniforms(key, year, ids, SLOT_INCOME)))
    abroad = keyed_uniforms(key, year, ids, SLOT_ABROAD) < mig.in_migrant_share_from_abroad
    origin = (abroad | (keyed_uniforms(key, year, ids, SLOT_ORIGIN)
                        < ip.migration_background_share)).astype(np.int64)
    median = model.median_income
    net = np.maximum(inc * oecd_scale(size - young, young), 1.0)
    group = income_group(inc, median)
    wbs = wbs_eligible(net, size, children, hp, model.income_index)
    car, ticket, mode = travel_modes(model, group, size, children, ids, wbs, net, year)
    stage = life_stage(oldest, children)
    norm = space_norm(size, mp)
    return {
        "size": size, "children": children, "oldest": oldest,
        "current": np.full(n, -1), "income": inc, "net_income": net, "id": ids,
        "norm": norm, "income_group": group, "origin": origin,
        "home_quartier": np.full(n, -1), "can_own": inc >= hp.owner_min_income * median,
        "can_social": wbs, "outside_cost": norm * outside_cost_m2(model, year),
        "segment": (stage * 3 + mode).astype(np.int8), "car": car, "ticket": ticket,
        "worker_start": np.zeros(n, np.int64), "worker_count": np.zeros(n, np.int64),
    }


@njit(cache=True)
def _batch_households(household, age, is_child, n):
    """Per household of a batch: members, children, members under 14, the oldest's age."""
    size = np.zeros(n, np.int64)
    children = np.zeros(n, np.int64)
    young = np.zeros(n, np.int64)
    oldest = np.zeros(n)
    for i in range(household.size):
        h = household[i]
        size[h] += 1
        children[h] += is_child[i]
        young[h] += age[i] < 14
        oldest[h] = max(oldest[h], np.float64(age[i]))
    return size, children, young, oldest


@njit(cache=True)
def _coming_members(household, come):
    """Positions of the members whose household comes (``come`` per household), and their
    households renumbered over those who come."""
    renumber = np.empty(come.size, np.int32)
    k = 0
    for h in range(come.size):
        renumber[h] = k
        k += come[h]
    n = 0
    for i in range(household.size):
        n += come[household[i]]
    kept = np.empty(n, np.int64)
    new_household = np.empty(n, np.int32)
    j = 0
    for i in range(household.size):
        h = household[i]
        if come[h]:
            kept[j] = i
            new_household[j] = renumber[h]
            j += 1
    return kept, new_household
