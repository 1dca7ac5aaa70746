"""The in-migrant profile: who looks for a dwelling in the city from outside.

Persons looking to move in arrive at ``in_migration_rate`` per resident, as whole households
drawn from the synthetic household pool, tilted towards younger households so that their mean
age is ``in_migrant_mean_age`` (Köln 2023: about 30). Whether they come is decided by
residential choice (:mod:`sim.model.processes.mobility`): they take a vacant dwelling only if one
beats staying away. Out-migration is that module's outside option.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.inputs.synthesis import HouseholdPool


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
