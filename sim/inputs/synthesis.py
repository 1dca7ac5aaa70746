"""Synthetic initial population: households that match the NRW figures.

Method (a standard one for synthetic populations):

1. Candidate households are drawn stratum by stratum (1, 2, 3, 4, 5 and 6 persons) from
   simple templates: a single adult; a couple with ``size - 2`` children; a single parent with
   ``size - 1`` children. Adults' ages come from the NRW age structure (18+); children's ages
   are drawn given the mother's age from age-specific fertility, the age structure, and the
   chance of still living at home after 18.
2. Iterative proportional updating (IPU; Ye, Konduri, Pendyala, Sana & Waddell 2009) weights
   the candidates so that, together, they match the NRW 2023 household-size shares and the NRW
   persons by sex and single year of age (85+ together) at the same time.
3. Exactly the target number of households of each size is drawn by weight.
4. Households are placed into quartiers by iterative proportional fitting (IPF) of a
   quartier × household-class table to the quartiers' household counts and the classes'
   totals, seeded with the quartier profiles' affinities; then into dwellings at random.

Figures used and their sources: see ``calibration/targets/README.md``. Assumptions with no
source in the calibration data are marked ASSUMPTION below and listed in docs/ODD.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps
from numba import njit
from threadpoolctl import threadpool_limits

from sim.inputs import tables
from sim.inputs.city import furnish_dwellings
from sim.scenario import Scenario
from sim.sorting import stable_order
from sim.state.city import HOUSEHOLD_CLASSES, City, round_preserving_sum
from sim.state.population import AGE_DTYPE, IDX_DTYPE, SEX_DTYPE, Members, Population

SIZES = np.array([1, 2, 3, 4, 5, 6])
# ASSUMPTION: share of fathers among single parents (not in the calibration data).
SINGLE_FATHER_SHARE = 0.15
# ASSUMPTION: age gap man - woman in couples ~ Normal(3, 4) years (not in the calibration data).
COUPLE_AGE_GAP_MEAN, COUPLE_AGE_GAP_SD = 3.0, 4.0
MAX_CHILD_AGE = 40
# IPU matches persons by sex and single year of age up to 84, and 85+ together: 5-year groups
# left the split at 18 to the templates (too few 15-17-year-olds, too many 18-19).
TOP_AGE = 85
N_AGE_GROUPS = TOP_AGE + 1
POOL_MIN, POOL_MAX = 2_000, 60_000
IPU_ITERATIONS = 60


@dataclass
class HouseholdPool:
    """Weighted candidate households (persons ordered by household, CSR offsets)."""

    members: Members
    starts: np.ndarray
    sizes: np.ndarray
    weights: np.ndarray


def size_targets(n_households: int) -> np.ndarray:
    """Households of 1…6 persons: NRW 2023 shares, 5+ split 5/6 as in Zensus 2011."""
    shares = tables.household_size_shares()
    split = tables.five_plus_size_split()
    full = np.r_[shares[:4], shares[4] * split]
    return round_preserving_sum(full * n_households)


def mean_household_size() -> float:
    """Persons per household of the NRW household-size shares (:func:`size_targets`)."""
    sizes = size_targets(1_000_000)
    return float((sizes * np.arange(1, 7)).sum() / sizes.sum())


def _draw_adults(rng, n, sex, p_age_by_sex, min_age=18):
    """Ages (>= min_age) for given sexes, from the age structure."""
    ages = np.empty(n, dtype=np.int64)
    for s in (0, 1):
        idx = np.flatnonzero(sex == s)
        p = p_age_by_sex[s].copy()
        p[:min_age] = 0.0
        ages[idx] = rng.choice(p.size, size=idx.size, p=p / p.sum())
    return ages


def _candidates(size: int, m: int, rng: np.random.Generator, scenario: Scenario):
    """``m`` candidate households of ``size`` persons; returns Members and a validity mask."""
    demo = scenario.parameters.demography
    max_age = demo.max_age
    p_age = tables.age_structure(max_age)
    p_all = p_age.sum(axis=0)
    boy = demo.sex_ratio_at_birth / (1.0 + demo.sex_ratio_at_birth)
    if size == 1:
        flat = p_age[:, 18:].ravel()
        pick = rng.choice(flat.size, size=m, p=flat / flat.sum())
        sex = (pick // (max_age + 1 - 18)).astype(SEX_DTYPE)
        age = (pick % (max_age + 1 - 18) + 18).astype(AGE_DTYPE)
        hh = np.arange(m, dtype=IDX_DTYPE)
        return Members(age, sex, hh, np.zeros(m, bool)), np.ones(m, bool)

    single_parent = rng.random(m) < tables.single_parent_share_of_multi_person()
    n_adults = np.where(single_parent, 1, 2)
    n_children = size - n_adults
    # The first adult is the woman (mother) unless a single father.
    first_sex = np.where(single_parent & (rng.random(m) < SINGLE_FATHER_SHARE), 0, 1)
    first_age = _draw_adults(rng, m, first_sex, p_age)
    gap = np.rint(rng.normal(COUPLE_AGE_GAP_MEAN, COUPLE_AGE_GAP_SD, m)).astype(np.int64)
    second_age = np.clip(first_age + gap, 18, max_age - 1)

    # Children's ages given the parent's age.
    asfr = tables.fertility_rates(1.0, demo.fertility_age_pattern, max_age)
    c = np.arange(MAX_CHILD_AGE + 1)
    stay = (1.0 - demo.leaving_home_rate) ** np.maximum(c - demo.leaving_home_min_age + 1, 0)
    gap_age = first_age[:, None] - c[None, :]
    w = p_all[None, : MAX_CHILD_AGE + 1] * stay[None, :] * np.where(
        gap_age >= 0, asfr[np.clip(gap_age, 0, max_age)], 0.0
    )
    total = w.sum(axis=1)
    valid = total > 0
    cdf = np.cumsum(w, axis=1) / np.where(valid, total, 1.0)[:, None]
    max_kids = int(n_children.max())
    kid_age = np.empty((m, max_kids), dtype=np.int64)
    for k in range(max_kids):
        _count_below(cdf, rng.random(m), kid_age[:, k])
    kid_age = np.minimum(kid_age, MAX_CHILD_AGE)
    kid_sex = (rng.random((m, max_kids)) >= boy).astype(SEX_DTYPE)

    # Assemble: columns [first adult, second adult, child 1, …]; mask unused slots.
    ages = np.column_stack([first_age, second_age, kid_age])
    sexes = np.column_stack([first_sex, 1 - first_sex, kid_sex]).astype(SEX_DTYPE)
    is_child = np.zeros_like(ages, dtype=bool)
    is_child[:, 2:] = True
    used = np.zeros_like(ages, dtype=bool)
    used[:, 0] = True
    used[:, 1] = n_adults == 2
    slots = np.arange(max_kids)[None, :]
    used[:, 2:] = slots < n_children[:, None]
    # Single parents: their children occupy slots 2…; slot 1 unused.
    hh = np.broadcast_to(np.arange(m)[:, None], ages.shape)
    members = Members(
        ages[used].astype(AGE_DTYPE), sexes[used], hh[used].astype(IDX_DTYPE), is_child[used]
    )
    return members, valid


@njit(cache=True, nogil=True)
def _count_below(cdf, u, out):
    """``out[i]``: entries of row ``cdf[i]`` below ``u[i]`` (``(cdf < u[:, None]).sum(1)``)."""
    for i in range(cdf.shape[0]):
        n = 0
        for j in range(cdf.shape[1]):
            if cdf[i, j] < u[i]:
                n += 1
        out[i] = n


def _order_within_groups(group: np.ndarray, key: np.ndarray, n_groups: int) -> np.ndarray:
    """Indices sorted by ``group``, then ``key`` (in [0, 1)), then index:
    ``np.lexsort((key, group))``, by two stable sorts (the second on small integers, a radix
    sort)."""
    order = stable_order(key)
    small = np.int16 if n_groups <= np.iinfo(np.int16).max else np.int64
    return order[np.argsort(group[order].astype(small), kind="stable")]


def _age_group_targets(n_persons: float, max_age: int) -> np.ndarray:
    """Persons by (sex, single year of age 0 … 84, 85+) from the NRW age structure."""
    p = tables.age_structure(max_age)
    groups = np.minimum(np.arange(max_age + 1), TOP_AGE)
    out = np.zeros((2, N_AGE_GROUPS))
    for s in (0, 1):
        out[s] = np.bincount(groups, weights=p[s], minlength=N_AGE_GROUPS)
    return out.ravel() * n_persons


def _incidence(members: Members, stratum: np.ndarray) -> sps.csc_matrix:
    """Persons per (sex, age group) and a stratum indicator, per candidate household (a
    scipy CSC matrix: dense, 178 columns of up to 360,000 candidates would take 250 MB)."""
    n_hh = stratum.size
    groups = np.minimum(members.age.astype(np.int64), TOP_AGE)
    col = members.sex.astype(np.int64) * N_AGE_GROUPS + groups
    n_person_cols = 2 * N_AGE_GROUPS
    rows = np.r_[members.household.astype(np.int64), np.arange(n_hh)]
    cols = np.r_[col, n_person_cols + stratum]
    return sps.coo_matrix((np.ones(rows.size, np.float32), (rows, cols)),
                          shape=(n_hh, n_person_cols + SIZES.size)).tocsc()  # sums duplicates


def ipu(incidence: np.ndarray | sps.spmatrix, targets: np.ndarray,
        iterations: int = IPU_ITERATIONS,
        weights: np.ndarray | None = None) -> np.ndarray:
    """Iterative proportional updating: household weights matching person/household targets.

    Args:
        incidence: ``[households, constraints]`` count of each constraint's units per household
            (an array or a scipy sparse matrix).
        targets: the total wanted for each constraint.
        iterations: full passes over the constraints.
        weights: starting weights (default 1).
    """
    w = np.ones(incidence.shape[0]) if weights is None else weights.astype(float).copy()
    # each constraint's rows (ascending) and their counts (float64: the dot product below then
    # needs no cast), gathered once (not once per iteration)
    cols = []
    if sps.issparse(incidence):
        m = sps.csc_matrix(incidence, copy=True)  # canonical below: the caller's stays as it is
        m.sum_duplicates()
        m.eliminate_zeros()
        for k in range(m.shape[1]):
            part = slice(m.indptr[k], m.indptr[k + 1])
            cols.append((m.indices[part].astype(np.int64), m.data[part].astype(np.float64)))
    else:
        for k in range(incidence.shape[1]):
            rows = np.flatnonzero(incidence[:, k])
            cols.append((rows, incidence[rows, k].astype(np.float64)))
    buf = np.empty(max((rows.size for rows, _ in cols), default=0))
    # One BLAS thread: a threaded dot product (long vectors) sums in another order, so the
    # weights would depend on the machine's cores; experiments' workers use one thread too.
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(iterations):
            for k, (rows, counts) in enumerate(cols):
                if rows.size == 0 or targets[k] <= 0:
                    continue
                w_rows = np.take(w, rows, out=buf[: rows.size])
                current = counts @ w_rows
                if current > 0:
                    w[rows] = w_rows * (targets[k] / current)
    return w


def build_pool(n_households: int, rng: np.random.Generator, scenario: Scenario
               ) -> tuple[HouseholdPool, np.ndarray]:
    """Weighted candidate households for a city of ``n_households``.

    Returns the pool and each candidate's stratum (index into :data:`SIZES`).
    """
    max_age = scenario.parameters.demography.max_age
    n_s = size_targets(n_households)
    parts, strata, valid_all = [], [], []
    offset = 0
    for i, size in enumerate(SIZES):
        m = int(np.clip(2 * n_s[i], POOL_MIN, POOL_MAX))
        members, valid = _candidates(int(size), m, rng, scenario)
        members.household = members.household + offset
        parts.append(members)
        strata.append(np.full(m, i))
        valid_all.append(valid)
        offset += m
    members = Members(
        np.concatenate([p.age for p in parts]), np.concatenate([p.sex for p in parts]),
        np.concatenate([p.household for p in parts]),
        np.concatenate([p.is_child for p in parts]),
    )
    stratum = np.concatenate(strata)
    valid = np.concatenate(valid_all)
    n_hh = stratum.size
    sizes = np.bincount(members.household, minlength=n_hh)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    # Constraints: persons by sex × age group, and households per stratum.
    person_targets = _age_group_targets(float((n_s * SIZES).sum()), max_age)
    inc = _incidence(members, stratum)
    targets = np.r_[person_targets, n_s.astype(float)]
    w0 = valid.astype(float)
    weights = ipu(inc, targets, weights=w0)
    return HouseholdPool(members, starts, sizes, weights), stratum


def household_class(members: Members, n_hh: int) -> np.ndarray:
    """Index into :data:`HOUSEHOLD_CLASSES` for each household (persons ordered by household)."""
    adults = ~members.is_child
    n_adults = np.bincount(members.household, weights=adults, minlength=n_hh)
    n_children = np.bincount(members.household, weights=members.is_child, minlength=n_hh)
    oldest = np.zeros(n_hh, dtype=np.int64)
    np.maximum.at(oldest, members.household[adults], members.age[adults].astype(np.int64))
    size = n_adults + n_children
    cls = np.full(n_hh, HOUSEHOLD_CLASSES.index("couple"))
    single = size == 1
    cls[single & (oldest < 35)] = HOUSEHOLD_CLASSES.index("single_young")
    cls[single & (oldest >= 35) & (oldest < 65)] = HOUSEHOLD_CLASSES.index("single_middle")
    cls[single & (oldest >= 65)] = HOUSEHOLD_CLASSES.index("single_old")
    cls[(size > 1) & (n_children == 0) & (oldest >= 65)] = HOUSEHOLD_CLASSES.index("couple_old")
    cls[(n_children > 0) & (n_adults >= 2)] = HOUSEHOLD_CLASSES.index("family")
    cls[(n_children > 0) & (n_adults < 2)] = HOUSEHOLD_CLASSES.index("single_parent")
    return cls


def ipf(seed: np.ndarray, row_targets: np.ndarray, col_targets: np.ndarray,
        iterations: int = 200) -> np.ndarray:
    """Iterative proportional fitting of a 2-D table to its margins."""
    m = seed.astype(float).copy()
    for _ in range(iterations):
        rs = m.sum(axis=1)
        m *= np.divide(row_targets, rs, out=np.zeros_like(rs), where=rs > 0)[:, None]
        cs = m.sum(axis=0)
        m *= np.divide(col_targets, cs, out=np.zeros_like(cs), where=cs > 0)[None, :]
    return m


def _weighted_sample_without_replacement(rng, weights, k):
    """k distinct indices, probability proportional to weight (Efraimidis-Spirakis keys)."""
    keys = np.full(weights.size, -np.inf)
    pos = weights > 0
    keys[pos] = np.log(rng.random(int(pos.sum()))) / weights[pos]
    return np.argpartition(-keys, k - 1)[:k] if k > 0 else np.zeros(0, np.int64)


def synthesize(city: City, n_households: int, scenario: Scenario, rng: np.random.Generator
               ) -> tuple[Population, HouseholdPool]:
    """Draw the initial population, place it in quartiers and dwellings (fills the city's
    dwellings). Returns the population and the weighted pool (the in-migrant profile)."""
    pool, stratum = build_pool(n_households, rng, scenario)
    n_s = size_targets(n_households)
    chosen = []
    for i in range(SIZES.size):
        idx = np.flatnonzero(stratum == i)
        w = pool.weights[idx]
        if n_s[i] * 2 <= np.count_nonzero(w):
            pick = _weighted_sample_without_replacement(rng, w, int(n_s[i]))
        else:
            pick = rng.choice(idx.size, size=int(n_s[i]), p=w / w.sum())
        chosen.append(idx[pick])
    chosen = rng.permutation(np.concatenate(chosen))
    members = pool.members.take(pool.starts, pool.sizes, chosen)

    # Quartier by IPF of quartier × class.
    cls = household_class(members, chosen.size)
    class_totals = np.bincount(cls, minlength=len(HOUSEHOLD_CLASSES)).astype(float)
    row_targets = city.household_targets(chosen.size).astype(float)
    seed = np.array([q.affinity_vector() for q in city.quartiers])
    table = ipf(seed, row_targets, class_totals)
    quartier = np.empty(chosen.size, dtype=np.int64)
    for c in range(len(HOUSEHOLD_CLASSES)):
        idx = rng.permutation(np.flatnonzero(cls == c))
        counts = round_preserving_sum(table[:, c])
        quartier[idx] = np.repeat(np.arange(city.n_quartiers), counts)
    occupied = np.bincount(quartier, minlength=city.n_quartiers)

    furnish_dwellings(city, occupied, scenario.city.vacancy_rate, rng)
    dq = city.dwelling_quartier
    # Dwellings sorted by quartier in random order; household k-th of quartier q gets the k-th.
    d_order = _order_within_groups(dq, rng.random(dq.size), city.n_quartiers)
    d_start = np.r_[0, np.cumsum(np.bincount(dq, minlength=city.n_quartiers))[:-1]]
    h_order = np.argsort(quartier, kind="stable")
    rank = np.empty(chosen.size, dtype=np.int64)
    h_start = np.r_[0, np.cumsum(occupied)[:-1]]
    rank[h_order] = np.arange(chosen.size) - np.repeat(h_start, occupied)
    dwelling = d_order[d_start[quartier] + rank]

    pop = Population.empty()
    pop.append(members, dwelling)
    return pop, pool
