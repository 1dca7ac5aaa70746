"""Migration across the city boundary (placeholder until residential choice replaces it).

Out-migration: households leave the city so that persons leave at ``out_migration_rate`` per
resident and year (Köln 2023: 53,690 out-migrants / 1,084,831 residents). A household's chance
is proportional to exp(-lambda * its oldest member's age), with lambda fixed at the start so that
out-migrants' mean age is ``out_migrant_mean_age``. No age figure for out-migrants is in the
calibration data: the default takes that of in-migrants (Köln 2023: about 30).

In-migration: in-migrant persons arrive at ``in_migration_rate`` per resident (Köln 2023:
58,189 / 1,084,831), as whole households drawn from the synthetic household pool, tilted
towards younger households so that in-migrants' mean age is ``in_migrant_mean_age`` (Köln
2023: about 30). They move into random vacant dwellings; with none left, no more arrive.
"""

from __future__ import annotations

import numpy as np

from sim.synthesis import HouseholdPool


def _tilt_lambda(oldest: np.ndarray, sizes: np.ndarray, age_sums: np.ndarray,
                 base: np.ndarray, mean_age: float) -> float:
    """Lambda such that weights ``base * exp(-lambda * oldest)`` give the persons' mean age
    ``mean_age`` (persons' ages summed per household in ``age_sums``)."""
    centre = float(oldest.mean()) if oldest.size else 0.0

    def persons_mean(lam: float) -> float:
        z = -lam * (oldest - centre)
        w = base * np.exp(z - z.max())
        return float((w * age_sums).sum() / (w * sizes).sum())

    lo, hi = -1.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if persons_mean(mid) > mean_age:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def household_oldest_age(age: np.ndarray, household: np.ndarray, n_households: int
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Age of the oldest member and size per household (empty households: 0, 0).

    The oldest member's age stands for the household's life stage (a family with small
    children is not "young" the way a student is).
    """
    sizes = np.bincount(household, minlength=n_households)
    oldest = np.zeros(n_households)
    np.maximum.at(oldest, household, age.astype(np.float64))
    return oldest, sizes


def out_migration_lambda(age: np.ndarray, household: np.ndarray, n_households: int,
                         mean_age: float) -> float:
    """The age tilt of out-migration, fixed on the initial population."""
    oldest, sizes = household_oldest_age(age, household, n_households)
    age_sums = np.bincount(household, weights=age, minlength=n_households)
    return _tilt_lambda(oldest, sizes.astype(float), age_sums, np.ones(n_households), mean_age)


def out_migrating_households(age: np.ndarray, household: np.ndarray, person_alive: np.ndarray,
                             household_alive: np.ndarray, rate: float, lam: float,
                             rng: np.random.Generator) -> np.ndarray:
    """Indices of the households that leave the city this year.

    Expected persons leaving = ``rate`` × living residents; chances tilted by ``lam``.
    """
    n = household_alive.size
    hh_age, sizes = household_oldest_age(age[person_alive], household[person_alive], n)
    z = np.where(household_alive & (sizes > 0), -lam * hh_age, -np.inf)
    w = np.exp(z - z.max()) if np.isfinite(z).any() else np.zeros(n)
    persons = float(sizes.sum())
    scale = rate * persons / float((w * sizes).sum()) if persons > 0 else 0.0
    p = np.minimum(1.0, w * scale)
    candidates = np.flatnonzero(p > 0)
    return candidates[rng.random(candidates.size) < p[candidates]]


def age_tilt(pool: HouseholdPool, mean_age: float) -> np.ndarray:
    """Pool weights tilted by exp(-lambda * oldest member's age) to reach a persons' mean age.

    Lambda is found by bisection; the result is normalised to sum to 1.
    """
    ages = pool.members.age.astype(float)
    oldest = np.maximum.reduceat(ages, pool.starts)
    age_sums = np.add.reduceat(ages, pool.starts)
    lam = _tilt_lambda(oldest, pool.sizes.astype(float), age_sums, pool.weights, mean_age)
    z = -lam * (oldest - oldest.mean())
    w = pool.weights * np.exp(z - z.max())
    return w / w.sum()


def in_migrant_households(pool: HouseholdPool, tilted: np.ndarray, persons_wanted: float,
                          rng: np.random.Generator) -> np.ndarray:
    """Pool indices of the in-migrating households (their number is Poisson)."""
    mean_size = float((tilted * pool.sizes).sum())
    n = rng.poisson(persons_wanted / mean_size) if persons_wanted > 0 else 0
    return rng.choice(tilted.size, size=n, p=tilted)
