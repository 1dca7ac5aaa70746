"""The dwelling stock and the housing market.

Dwellings have a cell, floor space, tenure (owner-occupied, private rental, social housing),
the year a social dwelling's rent binding ends, and the net cold rent per m² of the tenancy.
Each cell has a re-letting rent level (the local market). Once a year (see docs/ODD.md):

1. bindings that end turn social dwellings into private rentals (unless the rent-mixing lever
   extends them); the lever may buy new bindings of vacant private dwellings;
2. new dwellings are built at a rate that follows demand: ``construction_rate`` ×
   exp(``construction_vacancy_elasticity`` × (target − vacancy) / target) × (re-letting rent /
   the region's) ** ``construction_rent_elasticity``, kept between ``construction_rate_floor``
   and ``construction_rate_max`` (the lever sets the social quota); dwellings vacant for
   ``long_vacancy_years`` or more are withdrawn from the market at ``demolition_rate`` a year,
   or at the demolition lever's rate where it is higher (Rückbau);
3. the re-letting level of each cell follows its quartier's vacancy at the end of the last year
   (at first the start's): ``market_rent_growth + vacancy_elasticity × (target_vacancy −
   vacancy)`` a year, capped by the lever's ``rent_cap``;
4. sitting private tenants' rents grow with the local comparable rent (``mietspiegel_growth``),
   by at most the Kappungsgrenze (``rent_increase_cap_3y`` over three years) and never above
   the re-letting level; operating costs grow alike.

Money is nominal: incomes grow by ``income_growth`` (see :mod:`sim.state.income`). A household
moving into a private dwelling pays the cell's re-letting level; social dwellings let at
their bound rent (growing by ``social_rent_growth``) to households with a WBS
(:func:`wbs_eligible`); new and newly bound social dwellings start at ``social_rent_m2``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.scenario import Scenario
from sim.scenario.levers import DemolitionLever, RentMixingLever
from sim.sorting import argsort_stable, stable_order
from sim.state import income as inc
from sim.state.city import (
    NURSING,
    OWNER,
    PRIVATE,
    SOCIAL,
    WITHDRAWN,
    City,
    on_market,
    quartier_index,
    round_preserving_sum,
)
from sim.state.population import Population

# Relative floor space by tenure (owner-occupied homes are larger); no figure by tenure is in
# the calibration data, so these are marked assumptions (calibration/targets/README.md).
FLOOR_BY_TENURE = np.array([1.45, 0.85, 0.85])
RENT_CELL_SIGMA = 0.08     # spread of rent levels between the cells of a quartier
RENT_CONTRACT_SIGMA = 0.10  # spread of sitting tenants' rents around the cell level
MATCH_NOISE = 1.0  # how loosely households match dwellings by size and price at the start


def wbs_eligible(net_income: np.ndarray, size: np.ndarray, children: np.ndarray,
                 params, index: float = 1.0) -> np.ndarray:
    """Whether households may rent social housing (a WBS): yearly net household income at
    most the NRW limit for their size (limits scaled by ``index``, the income growth since
    the start). The legal income definition differs from net income; net income stands in.
    """
    limit = np.where(size <= 1, params.wbs_limit_one_person, params.wbs_limit_two_persons
                     + params.wbs_limit_per_further_person * np.maximum(size - 2, 0))
    limit = limit + params.wbs_limit_per_child * children
    return 12.0 * net_income <= limit * index


def transitory_share(poverty_rate: float, transitory_sd: float, adults: np.ndarray
                     ) -> np.ndarray:
    """Share of the variance of the start households' log incomes that is transitory: that of
    the mean of the transitory parts of their ``adults`` (each with ``transitory_sd``, drawn
    apart each year; members aged 18+ stand in for those with income), ``transitory_sd``² /
    ``adults``, over the squared spread of :func:`sim.state.income.income_sigma` (at most 0.9,
    as in the employment process's split of in-migrants' incomes)."""
    sigma = inc.income_sigma(poverty_rate)
    if sigma <= 0:
        return np.zeros(adults.size)
    return np.minimum(transitory_sd ** 2 / np.maximum(adults, 1) / sigma ** 2, 0.9)


def initialise(city: City, pop: Population, scenario: Scenario, rng: np.random.Generator
               ) -> None:
    """Give households incomes and origins, dwellings their attributes, and match them.

    Called once after synthesis: households keep their quartier, but are re-matched to the
    quartier's dwellings by tenure, size and price.
    """
    hp = scenario.parameters.housing
    ip = scenario.parameters.income
    n_q = city.n_quartiers
    n_h = pop.n_households
    dq = city.dwelling_quartier
    hq = dq[pop.dwelling]

    # Incomes by household type. A household's log income is a lasting part and this year's
    # transitory part (the employment process's ``transitory_sd``); the quartiers' income
    # levels sort the lasting parts, and the transitory part is drawn apart from where the
    # household lives (households chose their dwellings on the incomes of earlier years, as
    # the model's own households do after their first year). The transitory factor goes to
    # the members (``Population.transitory``) for the employment process's start split.
    adults, children = pop.adults_children()
    types = inc.household_type(adults, children)
    earners = np.maximum(np.bincount(pop.household, weights=pop.age >= 18, minlength=n_h), 1)
    share = transitory_share(ip.poverty_rate, scenario.parameters.employment.transitory_sd,
                             earners)
    lasting = rng.standard_normal(n_h)
    level = np.array([q.housing_level("income") for q in city.quartiers])
    score = level[hq] + rng.standard_normal(n_h)
    for t in np.unique(types):
        idx = np.flatnonzero(types == t)
        lasting[idx[argsort_stable(score[idx])]] = np.sort(lasting[idx])
    transitory = rng.standard_normal(n_h)
    income = inc.draw_incomes(types, ip.median_equivalised_income, ip.poverty_rate,
                              ip.type_rates(), z=np.sqrt(1.0 - share) * lasting
                              + np.sqrt(share) * transitory)
    sigma = inc.income_sigma(ip.poverty_rate)
    pop.transitory = np.exp(sigma * np.sqrt(share) * transitory).astype(np.float32)[
        pop.household]
    pop.income = income.astype(np.float32)
    poor = income < 0.6 * ip.median_equivalised_income
    if city.real is None:  # a city built from files brings its households' origins
        odds_q = np.array([q.housing_level("migration_background") for q in city.quartiers])
        logit = np.log(odds_q)[hq] + np.log(ip.migration_background_poverty_odds) * poor
        pop.migration_background = (rng.random(n_h) < _calibrated_probability(
            logit, ip.migration_background_share)).astype(np.int8)

    # Tenure: city totals from the scenario, spread over quartiers by their levels (IPF);
    # within a quartier, cells are mostly of one tenure (whole blocks are social or owned).
    n_d = city.n_dwellings
    d_per_q = np.bincount(dq, minlength=n_q).astype(float)
    totals = round_preserving_sum(np.array([
        hp.owner_occupied_share, hp.social_housing_share,
        max(0.0, 1.0 - hp.owner_occupied_share - hp.social_housing_share)]) * n_d)
    seed = np.array([[q.housing_level("owner"), q.housing_level("social"), 1.0]
                     for q in city.quartiers]) * d_per_q[:, None]
    from sim.inputs.synthesis import ipf
    table = ipf(seed, d_per_q, totals.astype(float))
    tenure = np.empty(n_d, np.int8)
    cell_key = rng.random(city.n_cells)
    order = np.lexsort((rng.random(n_d) * 1e-3 + cell_key[city.dwelling_cell], dq))
    start = 0
    for q in range(n_q):
        n = int(d_per_q[q])
        counts = round_preserving_sum(table[q] * (n / table[q].sum())) if n else np.zeros(3, int)
        block = order[start:start + n]
        tenure[block] = np.repeat(np.array([OWNER, SOCIAL, PRIVATE], np.int8),
                                  counts[[0, 1, 2]])
        start += n
    city.dwelling_tenure = tenure

    # Floor space and rents.
    f_level = np.array([q.housing_level("floor_space") for q in city.quartiers])
    floor = f_level[dq] * FLOOR_BY_TENURE[tenure] * np.exp(
        hp.floor_space_sigma * rng.standard_normal(n_d) - 0.5 * hp.floor_space_sigma**2)
    floor *= hp.mean_floor_space / floor.mean() if n_d else 1.0
    if city.real is None:  # a city built from files brings its dwellings' floor space
        city.dwelling_floor_space = np.clip(floor, 15.0, 400.0).astype(np.float32)
    r_level = np.array([q.housing_level("rent") for q in city.quartiers] + [1.0])
    cell_q = np.where(city.cell_quartier >= 0, city.cell_quartier, n_q)
    cell_rent = r_level[cell_q] * np.exp(RENT_CELL_SIGMA * rng.standard_normal(city.n_cells))
    contract = cell_rent[city.dwelling_cell] * np.exp(
        RENT_CONTRACT_SIGMA * rng.standard_normal(n_d))
    private = tenure == PRIVATE
    scale = hp.rent_m2 / contract[private].mean() if private.any() else hp.rent_m2
    city.cell_rent_m2 = (cell_rent * scale * (1.0 + hp.relet_premium)).astype(np.float32)
    rent = (contract * scale).astype(np.float32)
    social = tenure == SOCIAL
    rent[social] = rng.uniform(hp.social_rent_existing_min_m2, hp.social_rent_existing_max_m2,
                               size=int(social.sum()))
    city.dwelling_rent_m2 = rent
    binding = np.zeros(n_d, np.int16)
    binding[social] = scenario.start_year - 1 + rng.integers(
        1, hp.binding_years_max + 1, size=int(social.sum()))
    city.dwelling_binding_end = binding

    # Match households to dwellings within each quartier.
    pop.dwelling = _match(city, pop, hq, scenario, rng).astype(pop.dwelling.dtype)


def _calibrated_probability(logit: np.ndarray, share: float) -> np.ndarray:
    """Probabilities sigmoid(a + logit) with ``a`` chosen so that their mean is ``share``."""
    if logit.size == 0 or share <= 0.0:
        return np.zeros(logit.size)
    if share >= 1.0:
        return np.ones(logit.size)
    # logit takes few distinct values: the sigmoid is computed for those, then spread out
    # (the same numbers, so the same mean).
    values, code = np.unique(logit, return_inverse=True)
    p = np.empty(logit.size)
    lo, hi = -30.0, 30.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        np.take(1.0 / (1.0 + np.exp(-(mid + values))), code, out=p)
        if p.mean() < share:
            lo = mid
        else:
            hi = mid
    return 1.0 / (1.0 + np.exp(-(0.5 * (lo + hi) + logit)))


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def _match(city: City, pop: Population, hq: np.ndarray, scenario: Scenario,
           rng: np.random.Generator) -> np.ndarray:
    """A dwelling for every household, within its quartier.

    The households most likely to own (income, size, age) get the owner-occupied dwellings,
    the poorest WBS-eligible ones the social dwellings, the rest private rentals; vacancies
    are rentals. Within a tenure, larger and richer households get larger, dearer dwellings.
    """
    hp = scenario.parameters.housing
    size = pop.household_size().astype(float)
    net = pop.income * pop.equivalence_scale()
    oldest = np.zeros(pop.n_households)
    np.maximum.at(oldest, pop.household, pop.age.astype(float))
    own_score = (np.log(pop.income) + 0.3 * np.log(size) + 0.02 * np.minimum(oldest, 65)
                 + 0.5 * rng.standard_normal(pop.n_households))
    adults, children = pop.adults_children()
    eligible = wbs_eligible(net, size, children, hp)
    social_score = -np.log(pop.income) + 2.0 * eligible + 0.5 * rng.standard_normal(
        pop.n_households)
    dq = city.dwelling_quartier
    tenure = city.dwelling_tenure
    d_key = _zscore(np.log(city.dwelling_floor_space)) + _zscore(
        np.log(city.dwelling_rent_m2)) + MATCH_NOISE * rng.standard_normal(city.n_dwellings)
    h_key = _zscore(np.log(size)) + _zscore(np.log(net)) + MATCH_NOISE * rng.standard_normal(
        pop.n_households)
    dwelling = np.empty(pop.n_households, np.int64)
    for q in range(city.n_quartiers):
        hh = np.flatnonzero(hq == q)
        dd = np.flatnonzero(dq == q)
        if hh.size == 0:
            continue
        # Vacant: rentals first (owner-occupied homes are rarely empty).
        n_vacant = dd.size - hh.size
        vac_key = rng.random(dd.size) + (tenure[dd] == OWNER)
        occupied = dd[argsort_stable(vac_key)[n_vacant:]]
        n_t = np.bincount(tenure[occupied], minlength=3)
        remaining = hh
        groups = {}
        take = remaining[argsort_stable(-own_score[remaining])[:n_t[OWNER]]]
        groups[OWNER] = take
        remaining = np.setdiff1d(remaining, take, assume_unique=True)
        take = remaining[argsort_stable(-social_score[remaining])[:n_t[SOCIAL]]]
        groups[SOCIAL] = take
        groups[PRIVATE] = np.setdiff1d(remaining, take, assume_unique=True)
        for t, members in groups.items():
            dws = occupied[tenure[occupied] == t]
            dwelling[members[argsort_stable(h_key[members])]] = dws[argsort_stable(d_key[dws])]
    return dwelling


def withdraw_structural_vacancy(city: City, pop: Population, share: float | None,
                                rng: np.random.Generator) -> int:
    """Take vacant dwellings off the market at the start until the market's vacancy is
    ``share`` (``housing.market_vacancy_at_start``); they become ``WITHDRAWN``. Returns how
    many; none without a share or when the vacancy is already at most it."""
    if share is None:
        return 0
    market = city.dwelling_tenure <= SOCIAL
    occupied = np.zeros(city.n_dwellings, np.bool_)
    occupied[pop.dwelling[pop.dwelling >= 0]] = True
    vacant = np.flatnonzero(market & ~occupied)
    n = int(round((vacant.size - share * market.sum()) / (1.0 - share)))
    if n <= 0:
        return 0
    gone = vacant[stable_order(rng.random(vacant.size))[:n]]
    city.dwelling_tenure[gone] = WITHDRAWN
    return n


class HousingMarket:
    """The yearly updates of the stock and its rents (see the module docstring)."""

    def __init__(self, city: City, scenario: Scenario) -> None:
        self.city = city
        self.params = scenario.parameters.housing
        self.lever: RentMixingLever | None = scenario.levers.rent_mixing
        self.operating_costs_m2 = float(self.params.operating_costs_m2)
        self.social_rent_new_m2 = float(self.params.social_rent_m2)
        self.extended = np.zeros(city.n_dwellings, bool)
        self.bought = np.zeros(city.n_dwellings, bool)  # binding bought by the lever
        self.demolished_by_lever = 0.0
        self.new_this_year = np.zeros(city.n_dwellings, bool)
        quartier_ids = city.quartier_ids()
        target = np.zeros(city.n_quartiers)
        if self.lever is not None:
            t = self.lever.social_share_target
            if isinstance(t, dict):
                for qid, share in t.items():
                    target[quartier_ids.index(qid)] = share
            else:
                target[:] = t
        self.social_target = target
        self.start_year = scenario.start_year
        self.outside_rent_m2 = float(scenario.parameters.mobility.outside_rent_m2)
        self.vacant_years = np.zeros(city.n_dwellings, np.int16)
        self.vacancy: float | None = None  # the market's vacancy as newcomers and builders see it
        self.vacancy_q: np.ndarray | None = None  # each quartier's at the end of the last year
        self.between_tenancies = np.zeros(0, np.int64)  # this year's (processes.moving)
        self.vacancy_smoothing = float(scenario.parameters.migration.vacancy_smoothing)
        self.demolition: DemolitionLever | None = scenario.levers.demolition
        rate = np.zeros(city.n_quartiers)
        if self.demolition is not None:
            r = self.demolition.rate
            if isinstance(r, dict):
                for qid, share in r.items():
                    rate[quartier_index(city, qid)] = share
            else:
                rate[:] = r
        self.demolition_lever_rate = rate

    def lever_active(self, year: int) -> bool:
        return self.lever is not None and year >= self.lever.from_year

    def let(self, dwellings: np.ndarray) -> None:
        """New private tenancies pay the cell's re-letting level (new builds keep theirs)."""
        city = self.city
        private = dwellings[(city.dwelling_tenure[dwellings] == PRIVATE)
                            & ~self.new_this_year[dwellings]]
        city.dwelling_rent_m2[private] = city.cell_rent_m2[city.dwelling_cell[private]]

    def update(self, year: int, occupied: np.ndarray, rng: np.random.Generator) -> dict:
        """Run this year's market steps; ``occupied`` marks dwellings with a household.

        Returns counts for the outcomes (bindings expired/bought, dwellings built).
        """
        city, hp = self.city, self.params
        active = self.lever_active(year)
        stats = dict.fromkeys(("bindings_expired", "bindings_bought", "dwellings_built",
                                "bindings_extended", "social_dwellings_built"), 0.0)
        self._pad_flags()

        # 1. Bindings.
        tenure = city.dwelling_tenure
        ending = (tenure == SOCIAL) & (city.dwelling_binding_end < year)
        if active and self.lever.binding_extension_years > 0:
            extend = ending & ~self.extended
            city.dwelling_binding_end[extend] += self.lever.binding_extension_years
            self.extended |= extend
            ending &= ~extend
            stats["bindings_extended"] = float(extend.sum())
        tenure[ending] = PRIVATE
        stats["bindings_expired"] = float(ending.sum())
        if active and self.social_target.any():
            stats["bindings_bought"] = float(self._buy_bindings(year, occupied, rng))

        # 2. Construction after demand, and demolition of long-vacant dwellings. Rents and new
        # building follow the year-end vacancy (mid-year, this year's leavers' homes are empty).
        vacancy_q = self.vacancy_by_quartier(occupied) if self.vacancy_q is None else self.vacancy_q
        market = on_market(city)
        stats["construction_rate"] = self.construction_rate(year)
        n_new = rng.poisson(stats["construction_rate"] * int(market.sum()))
        stats["dwellings_demolished"] = float(self._demolish(year, occupied, rng))
        stats["dwellings_demolished_lever"] = self.demolished_by_lever
        n_old = city.n_dwellings
        if n_new:
            stats["dwellings_built"] = float(self._build(year, n_new, vacancy_q, rng))
            stats["social_dwellings_built"] = float(
                (city.dwelling_tenure[n_old:] == SOCIAL).sum())
        self.vacant_years = np.r_[self.vacant_years,
                                  np.zeros(city.n_dwellings - n_old, np.int16)]

        occupied = np.r_[occupied, np.zeros(city.n_dwellings - n_old, bool)]

        # 3. Re-letting levels per cell, from the quartier's vacancy.
        growth = hp.market_rent_growth + hp.vacancy_elasticity * (hp.target_vacancy - vacancy_q)
        growth = np.r_[growth, hp.market_rent_growth]  # last: cells outside the quartiers
        if active and self.lever.rent_cap is not None:
            growth = np.minimum(growth, self.lever.rent_cap)
        cell_q = np.where(city.cell_quartier >= 0, city.cell_quartier, city.n_quartiers)
        city.cell_rent_m2 = (city.cell_rent_m2 * (1.0 + growth[cell_q])).astype(np.float32)

        # 4. Sitting private tenants: with the comparable rent, within the Kappungsgrenze; social
        # rents grow; owners' and vacant private ones at the re-letting level (new: their own).
        rent = city.dwelling_rent_m2
        yearly = min(1.0 + hp.mietspiegel_growth, (1.0 + hp.rent_increase_cap_3y) ** (1 / 3))
        self.operating_costs_m2 *= 1.0 + hp.mietspiegel_growth
        self.social_rent_new_m2 *= 1.0 + hp.social_rent_growth
        # Factors in the rents' precision (as numpy multiplies an array by a Python float).
        _new_rents(rent, city.dwelling_tenure, city.dwelling_cell,
                   city.cell_rent_m2.astype(rent.dtype, copy=False), occupied, n_old,
                   rent.dtype.type(yearly), rent.dtype.type(1.0 + hp.social_rent_growth))
        self.new_this_year = np.r_[np.zeros(n_old, bool),
                                   np.ones(city.n_dwellings - n_old, bool)]
        stats.update(self.lever_bound_floor_space())
        return stats

    def _pad_flags(self) -> None:
        """Extend the per-dwelling lever flags to dwellings added by other steps."""
        n = self.city.n_dwellings
        for name in ("extended", "bought"):
            flags = getattr(self, name)
            if flags.size < n:
                setattr(self, name, np.r_[flags, np.zeros(n - flags.size, bool)])

    def lever_bound_floor_space(self) -> dict[str, float]:
        """Floor space (m²) of the social dwellings whose binding the lever bought or extended
        and that are still bound (what the lever pays for this year, see docs/costs.md)."""
        city = self.city
        self._pad_flags()
        bound = city.dwelling_tenure == SOCIAL
        floor = city.dwelling_floor_space
        return {"bound_floor_space_bought": float(floor[bound & self.bought].sum()),
                "bound_floor_space_extended": float(
                    floor[bound & self.extended & ~self.bought].sum())}

    def observe_vacancy(self, occupied_dwellings: np.ndarray) -> None:
        """Update the vacancy the market knows from the dwellings occupied at the end of a year
        (after in-migration): the start state's at first, then exponentially smoothed with
        ``migration.vacancy_smoothing``; next year's demand and construction respond to it.
        Next year's re-letting rents and new dwellings follow each quartier's (``vacancy_q``)."""
        market = on_market(self.city)
        occupied = np.zeros(self.city.n_dwellings, bool)
        occupied[occupied_dwellings[occupied_dwellings >= 0]] = True
        self.vacancy_q = self.vacancy_by_quartier(occupied)
        n = int(market.sum())
        now = float((market & ~occupied).sum() / n) if n else 0.0
        if self.vacancy is None:
            self.vacancy = now
        else:
            alpha = self.vacancy_smoothing
            self.vacancy = (1.0 - alpha) * self.vacancy + alpha * now

    def construction_rate(self, year: int) -> float:
        """New dwellings per market dwelling this year, from the vacancy the market knows
        (:meth:`observe_vacancy`) and the re-letting rents against the region's (module doc)."""
        hp, city = self.params, self.city
        target = max(hp.target_vacancy, 1e-6)
        market = on_market(city)
        if not market.any():
            return 0.0
        relet = float(_market_relet(city.dwelling_tenure, city.dwelling_cell,
                                    city.cell_rent_m2).mean())
        region = self.outside_rent_m2 * (1.0 + hp.market_rent_growth) ** (
            year - self.start_year + 1)
        rate = (hp.construction_rate
                * np.exp(hp.construction_vacancy_elasticity * (target - self.vacancy) / target)
                * (relet / region) ** hp.construction_rent_elasticity)
        return float(np.clip(rate, hp.construction_rate_floor,
                             max(hp.construction_rate_max, hp.construction_rate_floor)))

    def _demolish(self, year: int, occupied: np.ndarray, rng: np.random.Generator) -> int:
        """Withdraw long-vacant market dwellings (tenure ``WITHDRAWN``): each with the yearly
        ``demolition_rate``, or the demolition lever's rate of its quartier where higher.

        Returns the dwellings withdrawn; ``demolished_by_lever`` is set to the part the lever
        accounts for (in a quartier where the lever's rate r_l exceeds the background rate r_b,
        the share 1 - r_b / r_l of its withdrawals)."""
        self.demolished_by_lever = 0.0
        city, hp = self.city, self.params
        n = city.n_dwellings
        if self.vacant_years.size < n:  # dwellings added by other steps (nursing places)
            self.vacant_years = np.r_[self.vacant_years,
                                      np.zeros(n - self.vacant_years.size, np.int16)]
        vacant = on_market(city) & ~occupied[:n]
        self.vacant_years = np.where(vacant, np.minimum(self.vacant_years + 1, 10_000),
                                     0).astype(np.int16)
        long_vacant = np.flatnonzero(self.vacant_years >= hp.long_vacancy_years)
        base = np.full(city.n_quartiers, hp.demolition_rate)
        rate = base
        if self.demolition is not None and year >= self.demolition.from_year:
            rate = np.maximum(rate, self.demolition_lever_rate)
        if long_vacant.size == 0 or not rate.any():
            return 0
        u = rng.random(long_vacant.size)
        gone = long_vacant[u < rate[city.dwelling_quartier[long_vacant]]]
        city.dwelling_tenure[gone] = WITHDRAWN
        self.vacant_years[gone] = 0
        lever_share = np.where(rate > base, 1.0 - base / np.where(rate > 0, rate, 1.0), 0.0)
        self.demolished_by_lever = float(lever_share[city.dwelling_quartier[gone]].sum())
        return int(gone.size)

    def vacancy_by_quartier(self, occupied: np.ndarray) -> np.ndarray:
        dq = self.city.dwelling_quartier
        n_q = self.city.n_quartiers
        market = on_market(self.city)
        total = np.bincount(dq[market], minlength=n_q).astype(float)
        vacant = np.bincount(dq[market & ~occupied], minlength=n_q)
        return np.divide(vacant, total, out=np.zeros(n_q), where=total > 0)

    def _buy_bindings(self, year: int, occupied: np.ndarray, rng: np.random.Generator) -> int:
        """Vacant private dwellings in quartiers below their target become social."""
        city = self.city
        dq = city.dwelling_quartier
        n_q = city.n_quartiers
        total = np.bincount(dq[on_market(city)], minlength=n_q).astype(float)
        social = np.bincount(dq[city.dwelling_tenure == SOCIAL], minlength=n_q)
        # Whole dwellings missing per quartier (a fraction counts as one).
        deficit = np.ceil(np.maximum(0.0, self.social_target * total - social) - 1e-9)
        budget = int(self.lever.max_bindings_bought_per_year * int(on_market(city).sum()))
        if budget <= 0 or deficit.sum() < 1:
            return 0
        quota = np.minimum(deficit, round_preserving_sum(
            deficit / deficit.sum() * min(budget, deficit.sum()))).astype(int)
        candidates = np.flatnonzero((city.dwelling_tenure == PRIVATE) & ~occupied)
        bought = 0
        for q in np.flatnonzero(quota):
            pool = candidates[dq[candidates] == q]
            take = rng.permutation(pool)[:quota[q]]
            city.dwelling_tenure[take] = SOCIAL
            city.dwelling_binding_end[take] = year + self.lever.binding_years_new - 1
            city.dwelling_rent_m2[take] = self.social_rent_new_m2
            self.extended[take] = False
            self.bought[take] = True
            bought += take.size
        return bought

    def _build(self, year: int, n_new: int, vacancy_q: np.ndarray,
               rng: np.random.Generator) -> int:
        """Add ``n_new`` dwellings: where vacancy is lowest, or spread by the lever."""
        city, hp = self.city, self.params
        n_q = city.n_quartiers
        dq = city.dwelling_quartier
        stock = np.bincount(dq, minlength=n_q).astype(float)
        active = self.lever_active(year)
        if active and self.lever.spread_new_building:
            weight = stock
        else:
            weight = stock * np.exp(-20.0 * vacancy_q)
        if weight.sum() <= 0:
            return 0
        per_q = rng.multinomial(n_new, weight / weight.sum())
        cells_out = []
        for q in np.flatnonzero(per_q):
            cells = np.flatnonzero((city.cell_quartier == q) & (city.cell_weight > 0))
            if cells.size == 0:
                cells = np.flatnonzero(city.cell_quartier == q)
            w = city.cell_weight[cells] if city.cell_weight[cells].sum() > 0 else np.ones(
                cells.size)
            cells_out.append(rng.choice(cells, size=per_q[q], p=w / w.sum()))
        cells = np.concatenate(cells_out).astype(np.int32)
        n = cells.size
        quota = self.lever.new_building_social_quota if active else 0.0
        tenure = np.where(rng.random(n) < quota, SOCIAL, PRIVATE).astype(np.int8)
        floor = hp.mean_floor_space * FLOOR_BY_TENURE[tenure] / FLOOR_BY_TENURE.mean() * np.exp(
            hp.floor_space_sigma * rng.standard_normal(n) - 0.5 * hp.floor_space_sigma**2)
        rent = city.cell_rent_m2[cells] * (1.0 + hp.new_build_rent_premium) / (
            1.0 + hp.relet_premium)
        rent = np.where(tenure == SOCIAL, self.social_rent_new_m2, rent)
        binding_years = self.lever.binding_years_new if self.lever is not None else 30
        binding = np.where(tenure == SOCIAL, year + binding_years - 1, 0)
        city.add_dwellings(
            dwelling_cell=cells, dwelling_floor_space=np.clip(floor, 15.0, 400.0),
            dwelling_tenure=tenure, dwelling_binding_end=binding, dwelling_rent_m2=rent,
        )
        self.extended = np.r_[self.extended, np.zeros(n, bool)]
        self.bought = np.r_[self.bought, np.zeros(n, bool)]
        return n

    def social_share(self) -> float:
        t = self.city.dwelling_tenure
        return float((t == SOCIAL).mean()) if t.size else float("nan")


def gross_rent(city: City, dwelling: np.ndarray, operating_costs_m2: float) -> np.ndarray:
    """Gross cold rent per month (net cold rent + cold operating costs) of dwellings."""
    return city.dwelling_floor_space[dwelling] * (
        city.dwelling_rent_m2[dwelling] + operating_costs_m2)


@njit(cache=True)
def _new_rents(rent, tenure, dwelling_cell, cell_rent, occupied, n_old, yearly, social_growth):
    """The year's rents in place: private ones raised to at most the re-letting level (never
    lowered), vacant old private ones and owners' at it, social ones grown."""
    for i in range(rent.size):
        t = tenure[i]
        if t == PRIVATE:
            r = rent[i]
            up = r * yearly
            relet = cell_rent[dwelling_cell[i]]
            if not occupied[i] and i < n_old:
                rent[i] = relet
            else:
                m = up if (up < relet or up != up) else relet  # np.minimum
                rent[i] = r if (r > m or r != r) else m  # np.maximum
        elif t == SOCIAL:
            rent[i] = rent[i] * social_growth
        elif t == OWNER:
            rent[i] = cell_rent[dwelling_cell[i]]


@njit(cache=True)
def _market_relet(tenure, dwelling_cell, cell_rent):
    """The re-letting level of every market dwelling, in dwelling order."""
    n = 0
    for i in range(tenure.size):
        n += tenure[i] < NURSING
    out = np.empty(n, cell_rent.dtype)
    j = 0
    for i in range(tenure.size):
        if tenure[i] < NURSING:
            out[j] = cell_rent[dwelling_cell[i]]
            j += 1
    return out
