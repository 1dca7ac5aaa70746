"""argsort_stable and stable_order give np.argsort(kind="stable") (the priority orders of
Kitas, schools, partner search and care, and the start's matching)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.sorting import argsort_stable, stable_order


def _cases():
    rng = np.random.default_rng(3)
    yield "normal", rng.standard_normal(100_000)
    yield "uniform", rng.random(5_000)
    yield "ties", np.round(rng.standard_normal(20_000), 1)
    yield "all equal", np.ones(1_000)
    yield "signed zeros", np.array([0.0, -0.0, 1.0, -0.0, 0.0, -1.0])
    yield "one NaN", np.array([0.3, np.nan, 0.1, 0.2])
    yield "NaNs", np.array([np.nan, 0.3, np.nan, 0.1, np.nan])
    yield "infinities", np.array([np.inf, -np.inf, 0.5, np.inf, -2.0])
    yield "empty", np.zeros(0)
    yield "one", np.array([7.0])
    yield "float32 ties", rng.integers(0, 50, 3_000).astype(np.float32)
    yield "negated", -rng.random(10_000)


@pytest.mark.parametrize(("name", "key"), list(_cases()), ids=[c[0] for c in _cases()])
def test_argsort_stable_is_the_stable_order(name, key):
    got = argsort_stable(key)
    expected = np.argsort(key, kind="stable")
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_stable_order_is_numpys_stable_sort():
    rng = np.random.default_rng(5)
    for p in (rng.random(5000), np.round(rng.random(3000), 2), np.r_[rng.random(50), 0.0, 0.5],
              np.zeros(7), np.zeros(0), np.array([0.3]), rng.random(100) * 3 - 1):
        assert np.array_equal(stable_order(p), np.argsort(p, kind="stable"))
