"""The start population of a real city: households that follow the census of their cells.

Method (docs/ODD.md, "Real-city start state"):

1. The candidate households of :func:`sim.inputs.synthesis.build_pool` (NRW household sizes
   and age structure by IPU) are reweighted for each 1 km census cell by exponential tilting
   (minimum-information calibration, as in survey calibration / raking): the weights closest to
   the NRW weights whose households have the cell's mean household size and, per household, its
   persons under 18, persons 65+ and sum of ages (mean age × household size).
2. Each piece of a 1 km cell inside one quartier gets its households (the census persons over
   the household size, rounded so that every quartier's total is kept) by systematic sampling
   from the cell's weights, along the candidates ordered by persons 65+, under 18, household
   size and sum of ages (implicit stratification: small pieces get close to the expected
   mix); they are spread over the piece's 100 m cells by the cells' households.
3. Dwellings per 100 m cell: its households over one minus its vacancy; floor spaces drawn from
   the cell's 100 m floor-space classes, scaled so that the floor space per resident is that
   of the census.
4. Migration background: each household of a cell has it with probability
   ``migration_background_per_foreigner`` × the cell's foreign share.

All draws use the model's ``population`` stream.
"""

from __future__ import annotations

import numpy as np

from sim.inputs.realcity import FLOOR_CLASS_MID, RealCityData
from sim.inputs.synthesis import HouseholdPool, build_pool
from sim.scenario import Scenario
from sim.state.city import City, round_preserving_sum
from sim.state.population import Population

# Persons with a migration background per foreign national: Essen, 31.12.2019, 202,896 persons
# with a migration background and 99,518 foreign nationals (Stadt Essen, Amt für Statistik;
# calibration/targets: segregation_nrw_cities.csv).
MIGRATION_BACKGROUND_PER_FOREIGNER = 202_896 / 99_518
TILT_ITERATIONS = 30
POOL_HOUSEHOLDS = 15_000  # the candidate pool is sized for this many households at most
TILT_CHUNK = 64  # 1 km cells tilted at once (bounds the memory of the Newton steps)
# Floor space within a class is uniform over its 10 m²; the open classes span 20-30 and
# 180-210 m² (ASSUMPTION).
FLOOR_CLASS_WIDTH = 10.0
FLOOR_SIGMA_WITHOUT_CLASSES = 0.35  # lognormal spread where no classes are given (ASSUMPTION)


def synthesize_real(city: City, n_households: int, scenario: Scenario,
                    rng: np.random.Generator) -> tuple[Population, HouseholdPool]:
    """Households, persons and dwellings of a city built from files (see the module doc).

    ``n_households`` sizes the candidate pool only; the households follow the census.
    Returns the population and the NRW-weighted pool (the in-migrant profile, as for the other
    cities).
    """
    data: RealCityData = city.real  # type: ignore[assignment]
    cells = data.cells
    pool, _ = build_pool(min(max(n_households, 1), POOL_HOUSEHOLDS), rng, scenario)
    features = _features(pool)
    km = cells["km_cell"].to_numpy()
    km_ids, km_row = np.unique(km, return_inverse=True)
    first = np.unique(km_row, return_index=True)[1]
    size = cells["household_size"].to_numpy()[first]
    targets = np.column_stack([
        size, size * cells["under18"].to_numpy()[first],
        size * cells["age65"].to_numpy()[first], size * cells["mean_age"].to_numpy()[first]])
    weights = np.vstack([tilt(pool.weights, features, targets[i:i + TILT_CHUNK])
                         for i in range(0, len(targets), TILT_CHUNK)])
    # Candidates ordered by persons 65+, under 18, size and sum of ages: systematic sampling
    # along this order draws every kind of household close to its expected count, even in
    # small pieces (implicit stratification).
    strata = np.lexsort((features[:, 3], features[:, 0], features[:, 1], features[:, 2]))

    # Households per cell, whole numbers that keep every quartier's total.
    quartier = cells["quartier"].to_numpy()
    per_cell = np.zeros(len(cells), np.int64)
    for q in np.unique(quartier):
        rows = np.flatnonzero(quartier == q)
        per_cell[rows] = round_preserving_sum(cells["households"].to_numpy()[rows])
    # Draw each (1 km cell, quartier) piece's households from the 1 km cell's weights.
    piece = km_row * (int(quartier.max()) + 1) + quartier
    order = np.argsort(piece, kind="stable")
    chosen = np.empty(int(per_cell.sum()), np.int64)
    home_cell = np.empty(chosen.size, np.int64)
    start = 0
    bounds = np.flatnonzero(np.diff(piece[order])) + 1
    for rows in np.split(order, bounds):
        n = int(per_cell[rows].sum())
        if n == 0:
            continue
        picked = strata[systematic_sample(weights[km_row[rows[0]]][strata], n, rng)]
        chosen[start:start + n] = rng.permutation(picked)
        home_cell[start:start + n] = np.repeat(rows, per_cell[rows])
        start += n
    members = pool.members.take(pool.starts, pool.sizes, chosen)

    # Dwellings: each quartier's households plus vacant dwellings at the census vacancy of
    # the quartier (vacant over all dwellings of its cells), spread over the cells like the
    # census' vacant dwellings (by the cells' vacancy rates where the grid gives no count).
    vacancy = cells["vacancy"].to_numpy()
    census_vacant = cells["census_vacant"].to_numpy()
    census_dwellings = cells["census_dwellings"].to_numpy()
    dwellings_cell = per_cell.copy()
    for q in np.unique(quartier):
        rows = np.flatnonzero(quartier == q)
        stock, empty = census_dwellings[rows].sum(), census_vacant[rows].sum()
        if stock > empty > 0:
            spread = census_vacant[rows]
            total = per_cell[rows].sum() * empty / (stock - empty)
        else:
            spread = per_cell[rows] * vacancy[rows] / (1.0 - vacancy[rows])
            total = spread.sum()
        if total > 0 and spread.sum() > 0:
            dwellings_cell[rows] += round_preserving_sum(spread / spread.sum() * total)
    grid_cell = cells["cell"].to_numpy()
    city.dwelling_cell = np.repeat(grid_cell, dwellings_cell).astype(np.int32)
    residents = np.bincount(home_cell, weights=pool.sizes[chosen], minlength=len(cells))
    city.dwelling_floor_space = _floor_space(data, per_cell, residents, dwellings_cell, rng)
    # The first dwellings of each cell hold its households (housing.initialise re-matches
    # them within the quartier by size, income and tenure).
    first_dwelling = np.r_[0, np.cumsum(dwellings_cell)[:-1]]
    by_cell = np.argsort(home_cell, kind="stable")
    rank = np.empty(chosen.size, np.int64)
    rank[by_cell] = np.arange(chosen.size) - np.r_[0, np.cumsum(per_cell)[:-1]][
        home_cell[by_cell]]
    dwelling = first_dwelling[home_cell] + rank

    factor = scenario.city.migration_background_per_foreigner or \
        MIGRATION_BACKGROUND_PER_FOREIGNER
    p = background_probability(factor * cells["foreign"].to_numpy(), residents, quartier)
    background = (rng.random(chosen.size) < p[home_cell]).astype(np.int8)
    pop = Population.empty()
    pop.append(members, dwelling, migration_background=background)
    return pop, pool


def background_probability(expected: np.ndarray, residents: np.ndarray,
                           quartier: np.ndarray) -> np.ndarray:
    """Per cell, the probability of a migration background: ``expected`` (factor × foreign
    share) capped at 1, with what the cap cuts off spread over the quartier's other cells
    (one scale per quartier, found by bisection), so each quartier keeps its total."""
    out = np.minimum(expected, 1.0)
    for q in np.unique(quartier):
        rows = np.flatnonzero(quartier == q)
        w = residents[rows]
        goal = min((expected[rows] * w).sum(), w.sum())
        if (out[rows] * w).sum() >= goal - 1e-9 or w.sum() <= 0:
            continue
        lo, hi = 1.0, 1e3
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if (np.minimum(expected[rows] * mid, 1.0) * w).sum() < goal:
                lo = mid
            else:
                hi = mid
        out[rows] = np.minimum(expected[rows] * hi, 1.0)
    return out


def _features(pool: HouseholdPool) -> np.ndarray:
    """Per candidate household: persons, persons under 18, persons 65+, sum of ages."""
    hh = pool.members.household
    n = pool.sizes.size
    age = pool.members.age.astype(float)
    return np.column_stack([
        pool.sizes.astype(float),
        np.bincount(hh, weights=age < 18, minlength=n),
        np.bincount(hh, weights=age >= 65, minlength=n),
        np.bincount(hh, weights=age, minlength=n)])


def tilt(base: np.ndarray, features: np.ndarray, targets: np.ndarray,
         iterations: int = TILT_ITERATIONS) -> np.ndarray:
    """Weights ``base × exp(features @ λ)`` per row of ``targets`` whose weighted means of
    ``features`` equal the row (damped Newton; unreachable targets end at the nearest mean
    reachable). Returns ``[len(targets), len(base)]`` normalised weights."""
    valid = base > 0
    x = features[valid]
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    centre = x.mean(axis=0)
    z = (x - centre) / scale
    goal = (targets - centre) / scale
    log_base = np.log(base[valid] / base[valid].sum())
    lam = np.zeros((targets.shape[0], x.shape[1]))
    # Products of feature pairs, so that every covariance is one matrix product.
    pairs = [(i, j) for i in range(z.shape[1]) for j in range(i, z.shape[1])]
    products = np.column_stack([z[:, i] * z[:, j] for i, j in pairs])
    for _ in range(iterations):
        logits = log_base[None, :] + lam @ z.T
        logits -= logits.max(axis=1, keepdims=True)
        w = np.exp(logits)
        w /= w.sum(axis=1, keepdims=True)
        mean = w @ z
        gap = goal - mean
        if np.abs(gap).max() < 1e-4:
            break
        second = w @ products
        cov = np.empty((targets.shape[0], z.shape[1], z.shape[1]))
        for k, (i, j) in enumerate(pairs):
            cov[:, i, j] = cov[:, j, i] = second[:, k] - mean[:, i] * mean[:, j]
        cov += 1e-6 * np.eye(x.shape[1])[None]
        step = np.linalg.solve(cov, gap[:, :, None])[:, :, 0]
        lam += np.clip(step, -2.0, 2.0)
    out = np.zeros((targets.shape[0], base.size))
    out[:, valid] = w
    return out


def systematic_sample(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` indices with probability ∝ ``weights`` by systematic sampling (one random start,
    equal steps over the cumulative weights): the counts of every kind of household are those
    expected, up to rounding."""
    cumulative = np.cumsum(weights)
    points = (rng.random() + np.arange(n)) * (cumulative[-1] / n)
    return np.minimum(np.searchsorted(cumulative, points, side="right"), weights.size - 1)


def _floor_space(data: RealCityData, households: np.ndarray, residents: np.ndarray,
                 dwellings: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Floor space (m²) of every dwelling, cell by cell (see the module doc)."""
    cells = data.cells
    n = int(dwellings.sum())
    cell_of = np.repeat(np.arange(len(cells)), dwellings)
    classes = data.floor_classes
    has = ~np.isnan(classes).any(axis=1)
    floor = np.empty(n)
    # Class per dwelling from the cell's class shares (inverse CDF), uniform within the class.
    cdf = np.cumsum(np.nan_to_num(classes), axis=1)
    u = rng.random(n)
    k = np.minimum((cdf[cell_of] < u[:, None]).sum(axis=1), FLOOR_CLASS_MID.size - 1)
    width = np.where(k == FLOOR_CLASS_MID.size - 1, 3 * FLOOR_CLASS_WIDTH, FLOOR_CLASS_WIDTH)
    low = np.where(k == FLOOR_CLASS_MID.size - 1, 180.0, FLOOR_CLASS_MID[k] - 5.0)
    floor[:] = low + width * rng.random(n)
    per_dwelling = np.nan_to_num(cells["floor_per_dwelling"].to_numpy(), nan=75.0)
    lognormal = per_dwelling[cell_of] * np.exp(
        FLOOR_SIGMA_WITHOUT_CLASSES * rng.standard_normal(n) - 0.5 * FLOOR_SIGMA_WITHOUT_CLASSES
        ** 2)
    floor = np.where(has[cell_of], floor, lognormal)
    # Scale per cell: occupied floor space per resident as in the census.
    per_resident = cells["floor_per_resident"].to_numpy()
    wanted = np.where(np.isnan(per_resident) | (households == 0), np.nan,
                      per_resident * residents / np.maximum(households, 1))
    mean = np.bincount(cell_of, weights=floor, minlength=len(cells)) / np.maximum(dwellings, 1)
    scale = np.where(np.isnan(wanted) | (mean <= 0), 1.0, wanted / np.maximum(mean, 1e-9))
    return np.clip(floor * scale[cell_of], 15.0, 400.0).astype(np.float32)
