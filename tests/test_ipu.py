"""Iterative proportional updating (population synthesis): the cached-column loop gives exactly
the weights of the straightforward loop it replaced, from a dense or a sparse incidence, and
matches its targets."""

from __future__ import annotations

import numpy as np
import scipy.sparse

from sim.inputs.synthesis import ipu


def _reference_ipu(incidence, targets, iterations, weights=None):
    w = np.ones(incidence.shape[0]) if weights is None else weights.astype(float).copy()
    cols = [np.flatnonzero(incidence[:, k]) for k in range(incidence.shape[1])]
    for _ in range(iterations):
        for k, rows in enumerate(cols):
            if rows.size == 0 or targets[k] <= 0:
                continue
            current = incidence[rows, k] @ w[rows]
            if current > 0:
                w[rows] *= targets[k] / current
    return w


def test_ipu_matches_the_reference_loop_bit_for_bit():
    rng = np.random.default_rng(11)
    incidence = rng.poisson(0.4, size=(5000, 12)).astype(np.float32)
    incidence[:, 5] = 0  # an empty constraint is skipped
    targets = incidence.sum(axis=0) * rng.uniform(0.5, 1.5, size=12)
    targets[3] = 0  # so is a zero target
    start = rng.uniform(0.5, 2.0, size=5000)
    for weights in (None, start):
        got = ipu(incidence, targets, iterations=20, weights=weights)
        want = _reference_ipu(incidence, targets, 20, weights)
        np.testing.assert_array_equal(got, want)
        sparse = ipu(scipy.sparse.csc_matrix(incidence), targets, iterations=20, weights=weights)
        np.testing.assert_array_equal(sparse, want)  # the synthesis passes a sparse matrix
    fitted = incidence.T.astype(float) @ got
    assert abs(fitted[11] - targets[11]) < 1e-6 * targets[11]  # the last constraint is exact


def test_pool_matches_every_single_age_around_the_step_to_adulthood():
    """The weighted candidate pool has the NRW persons at each single age (not only per
    5-year group): the templates put children under 18 and most adults at 18+, so 5-year
    groups left 15-17 at ~0.6 and 18-19 at ~1.5 of their targets."""
    from sim.inputs import tables
    from sim.inputs.synthesis import build_pool
    from sim.scenario.loading import read_scenario

    scenario = read_scenario("scenarios/baseline.toml")
    pool, _ = build_pool(15_000, np.random.default_rng(1), scenario)
    weight = pool.weights[pool.members.household]
    age = pool.members.age.astype(np.int64)
    got = np.bincount(age, weights=weight)
    share = tables.age_structure(scenario.parameters.demography.max_age).sum(axis=0)
    want = share[: got.size] * got.sum()
    np.testing.assert_allclose(got[10:30], want[10:30], rtol=0.02)
    assert abs(got[:18].sum() / got.sum() - share[:18].sum()) < 0.002
