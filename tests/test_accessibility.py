"""Travel times on the grid and two-step floating catchment (2SFCA), checked by hand and
against PySAL ``access`` (a test-only extra)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from sim.model.accessibility import (
    TravelModel,
    cell_centres,
    gaussian_weight,
    share_within,
    two_step_fca,
)

# --- 2SFCA by hand ---------------------------------------------------------------------------
# Three GP practices (supply S, doctors) and five demand cells (P, residents 65+); minutes from
# demand cell i (row) to practice j (column); catchment 10 minutes (inclusive).
SUPPLY = np.array([2.0, 1.0, 3.0])
DEMAND = np.array([100.0, 200.0, 50.0, 150.0, 80.0])
TIMES = np.array(
    [
        [2.0, 8.0, 20.0],
        [6.0, 12.0, 4.0],
        [15.0, 5.0, 10.0],  # 10 = catchment: inside
        [30.0, 9.0, 11.0],
        [40.0, 50.0, 60.0],  # no practice within 10 minutes
    ]
)


def test_two_step_fca_uniform_by_hand():
    # Reach: f0 <- d0, d1; f1 <- d0, d2, d3; f2 <- d1, d2.
    # Demand in reach: f0 100 + 200 = 300; f1 100 + 50 + 150 = 300; f2 200 + 50 = 250.
    # R = [2/300, 1/300, 3/250] = [0.00666.., 0.00333.., 0.012]
    # A: d0 = R0 + R1 = 0.01; d1 = R0 + R2 = 0.018666..; d2 = R1 + R2 = 0.015333..;
    #    d3 = R1 = 0.00333..; d4 = 0 (nothing in reach).
    access, ratio = two_step_fca(SUPPLY, DEMAND, TIMES, 10.0, decay="uniform")
    np.testing.assert_allclose(ratio, [2 / 300, 1 / 300, 0.012], rtol=0, atol=1e-9)
    expected = [0.01, 2 / 300 + 0.012, 1 / 300 + 0.012, 1 / 300, 0.0]
    np.testing.assert_allclose(access, expected, rtol=0, atol=1e-9)
    # Every doctor is used: sum_i P_i A_i = sum_j S_j = 6.
    assert DEMAND @ access == pytest.approx(6.0, abs=1e-9)


def test_two_step_fca_gaussian_by_hand():
    # sigma = catchment / 2 = 5, w(t) = exp(-t^2 / 50):
    # w(2) = e^-0.08 = 0.923116, w(4) = e^-0.32 = 0.726149, w(5) = e^-0.5 = 0.606531,
    # w(6) = e^-0.72 = 0.486752, w(8) = e^-1.28 = 0.278037, w(9) = e^-1.62 = 0.197899,
    # w(10) = e^-2 = 0.135335.
    # Demand in reach: f0 = 100 w(2) + 200 w(6) = 189.662086
    #                  f1 = 100 w(8) + 50 w(5) + 150 w(9) = 87.815068
    #                  f2 = 200 w(4) + 50 w(10) = 151.996572
    # R = [2 / 189.662086, 1 / 87.815068, 3 / 151.996572] = [0.010545070, 0.011387567, 0.019737287]
    # A: d0 = R0 w(2) + R1 w(8) = 0.012900495; d1 = R0 w(6) + R2 w(4) = 0.019465049;
    #    d2 = R1 w(5) + R2 w(10) = 0.009578060; d3 = R1 w(9) = 0.002253585; d4 = 0.
    access, ratio = two_step_fca(SUPPLY, DEMAND, TIMES, 10.0, decay="gaussian")
    np.testing.assert_allclose(
        ratio, [0.010545070150634767, 0.011387567350205234, 0.019737287288014514], atol=1e-9
    )
    np.testing.assert_allclose(
        access,
        [0.012900495114624733, 0.019465048843716172, 0.009578060102887864, 0.002253584764332661, 0],
        rtol=0,
        atol=1e-9,
    )
    assert DEMAND @ access == pytest.approx(6.0, abs=1e-9)


def test_two_step_fca_input_forms_agree():
    dense = two_step_fca(SUPPLY, DEMAND, TIMES, 10.0)
    rows, cols = np.nonzero(TIMES <= 10.0)
    triplets = two_step_fca(SUPPLY, DEMAND, (rows, cols, TIMES[rows, cols]), 10.0)
    sparse = two_step_fca(SUPPLY, DEMAND, sp.csr_matrix(TIMES), 10.0)
    for other in (triplets, sparse):
        np.testing.assert_allclose(other[0], dense[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(other[1], dense[1], rtol=0, atol=1e-12)


def test_facility_without_demand_gets_ratio_zero():
    # Practice 1 is only reachable from a cell with nobody in it: R = 0, its supply unused.
    times = np.array([[1.0, np.inf], [np.inf, 2.0]])
    access, ratio = two_step_fca(
        np.array([1.0, 5.0]), np.array([10.0, 0.0]), times, 10.0, decay="uniform"
    )
    np.testing.assert_array_equal(ratio, [0.1, 0.0])
    np.testing.assert_allclose(access, [0.1, 0.0], atol=1e-12)


def test_two_step_fca_rejects_bad_input():
    with pytest.raises(ValueError):
        two_step_fca(SUPPLY, DEMAND, TIMES, 10.0, decay="linear")
    with pytest.raises(ValueError):
        two_step_fca(SUPPLY, DEMAND, TIMES.T, 10.0)


# --- against PySAL access --------------------------------------------------------------------


def _access_2sfca(supply, demand, costs: pd.DataFrame, max_cost, weight_fn):
    from access import Access

    demand_df = pd.DataFrame({"pop": demand}, index=pd.Index(range(len(demand)), name="geoid"))
    supply_df = pd.DataFrame({"doc": supply}, index=pd.Index(range(len(supply)), name="geoid"))
    model = Access(
        demand_df=demand_df,
        demand_value="pop",
        supply_df=supply_df,
        supply_value="doc",
        cost_df=costs,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    result = model.two_stage_fca(
        name="2sfca", max_cost=max_cost, weight_fn=weight_fn, normalize=False
    )
    return result["2sfca_doc"].reindex(demand_df.index).to_numpy(dtype=float)


@pytest.mark.parametrize("decay", ["uniform", "gaussian"])
def test_two_step_fca_matches_pysal_access(decay):
    weights = pytest.importorskip("access.weights")
    rng = np.random.default_rng(20260405)
    n_demand, n_supply, catchment = 80, 12, 15.0
    demand = rng.integers(0, 400, n_demand).astype(float)  # some cells empty
    supply = rng.integers(1, 6, n_supply).astype(float)
    cost = rng.uniform(0.0, 30.0, (n_demand, n_supply))
    cost[rng.random(cost.shape) < 0.05] = 0.0  # zero costs are ordinary pairs in both
    cost[3, :] = 40.0  # a demand cell with nothing in reach
    cost[5, 0] = catchment  # the bound is inclusive in both
    sigma = catchment / 2
    origin, dest = np.indices(cost.shape)
    costs = pd.DataFrame({"origin": origin.ravel(), "dest": dest.ravel(), "cost": cost.ravel()})
    weight_fn = weights.gaussian(sigma) if decay == "gaussian" else None

    expected = _access_2sfca(supply, demand, costs, catchment, weight_fn)
    ours, ratio = two_step_fca(supply, demand, cost, catchment, decay=decay)

    # access leaves demand cells with nothing in reach out (NaN); ours gives 0.
    assert np.isnan(expected[3]) and ours[3] == 0.0
    expected = np.nan_to_num(expected, nan=0.0)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-9)
    assert ours.max() > 1e-3 and (ratio > 0).all()
    # Same result from the triplets (a sparse matrix would drop the zero-cost pairs).
    triplets = (origin.ravel(), dest.ravel(), cost.ravel())
    np.testing.assert_allclose(
        two_step_fca(supply, demand, triplets, catchment, decay=decay)[0], ours, atol=1e-12
    )


def test_gaussian_weight_is_pysal_gaussian():
    weights = pytest.importorskip("access.weights")
    t = np.linspace(0.0, 40.0, 81)
    np.testing.assert_allclose(gaussian_weight(t, 7.5), weights.gaussian(7.5)(t), rtol=0, atol=0)


def test_pysal_access_gives_inf_where_ours_gives_zero_ratio():
    # Documented difference: a facility whose catchment holds only empty cells.
    pytest.importorskip("access")
    costs = pd.DataFrame({"origin": [0, 1], "dest": [0, 1], "cost": [1.0, 2.0]})
    expected = _access_2sfca(np.array([1.0, 5.0]), np.array([10.0, 0.0]), costs, 10.0, None)
    times = np.array([[1.0, np.inf], [np.inf, 2.0]])
    ours, _ = two_step_fca(
        np.array([1.0, 5.0]), np.array([10.0, 0.0]), times, 10.0, decay="uniform"
    )
    assert expected[0] == pytest.approx(0.1) and np.isinf(expected[1])
    np.testing.assert_allclose(ours, [0.1, 0.0])


# --- travel model ----------------------------------------------------------------------------


def test_cell_centres():
    x, y = cell_centres(3, 2, 100.0)
    np.testing.assert_array_equal(x, [50, 150, 250, 50, 150, 250])
    np.testing.assert_array_equal(y, [50, 50, 50, 150, 150, 150])


def test_walking_times_by_hand():
    model = TravelModel(width=10, height=10, cell_size_m=100.0)
    # cell 0 -> cell 3: 300 m airline x 1.3 = 390 m at 1.33 m/s = 79.8 m/min: 4.887218 min.
    # Same cell: half a side, 50 m x 1.3 / 79.8 = 0.814536 min.
    # cell 0 -> cell 11 (one up, one right): 141.421 m x 1.3 / 79.8 = 2.303858 min.
    t = model.minutes([0], [3, 0, 11], "walk")
    assert t.dtype == np.float32 and t.shape == (1, 3)
    np.testing.assert_allclose(
        t[0], [390 / 79.8, 65 / 79.8, 100 * np.sqrt(2) * 1.3 / 79.8], rtol=1e-6
    )


def test_public_transport_faster_for_long_trips_and_walking_for_short():
    model = TravelModel(width=50, height=50, cell_size_m=100.0, stop_cells=np.array([0, 49]))
    walk = model.minutes([0], [49, 1], "walk")[0]
    pt = model.minutes([0], [49, 1], "pt")[0]
    # 0 -> 49 (4,900 m): walk to the stop in the own cell 0.814536 + wait 5 + ride
    # 4,900 x 1.3 / 446.667 m/min = 14.261194 + walk from the stop 0.814536 = 20.890266 min,
    # walking would take 79.824561 min.
    assert pt[0] == pytest.approx(65 / 79.8 + 5 + 4900 * 1.3 / (26.8e3 / 60) + 65 / 79.8, 1e-6)
    assert walk[0] == pytest.approx(4900 * 1.3 / 79.8, rel=1e-6)
    # 0 -> 1 (next cell): walking 1.629073 min beats 0.81 + 5 + 0 + 1.63 by public transport.
    assert pt[1] == walk[1] == pytest.approx(130 / 79.8, rel=1e-6)


def test_no_stops_public_transport_is_walking():
    rng = np.random.default_rng(1)
    model = TravelModel(width=30, height=20)
    cells = rng.integers(0, 600, 40)
    np.testing.assert_array_equal(
        model.minutes(cells, cells, "pt"), model.minutes(cells, cells, "walk")
    )


def test_car_by_hand_and_never_slower_than_walking():
    model = TravelModel(width=100, height=10)
    t = model.minutes([0], [99, 1], "car")[0]
    # 9,900 m x 1.3 / (25 km/h = 416.667 m/min) + 3 = 33.888 min; next cell: walking 1.629 min.
    assert t[0] == pytest.approx(9900 * 1.3 / (25e3 / 60) + 3, rel=1e-6)
    assert t[1] == pytest.approx(130 / 79.8, rel=1e-6)


@pytest.mark.parametrize("mode", ["walk", "pt", "car"])
def test_within_equals_dense_below_limit(mode):
    rng = np.random.default_rng(7)
    width, height = 60, 45
    model = TravelModel(
        width=width, height=height, stop_cells=rng.choice(width * height, 25, replace=False)
    )
    origins = rng.choice(width * height, 700, replace=False)
    facilities = rng.integers(0, width * height, 30)  # may repeat a cell
    limit = 12.0
    dense = model.minutes(origins, facilities, mode)
    sparse = model.within(origins, facilities, mode, limit)
    assert sparse.shape == dense.shape and sparse.dtype == np.float32
    assert (sparse.data > 0).all()
    reachable = dense <= limit
    assert 0 < reachable.sum() < reachable.size
    np.testing.assert_array_equal(sparse.toarray() > 0, reachable)
    np.testing.assert_array_equal(sparse.toarray()[reachable], dense[reachable])
    # 2SFCA on both forms agrees.
    demand = rng.integers(0, 50, origins.size).astype(float)
    supply = rng.integers(1, 4, facilities.size).astype(float)
    a_dense, r_dense = two_step_fca(supply, demand, dense, limit)
    a_sparse, r_sparse = two_step_fca(supply, demand, sparse, limit)
    np.testing.assert_allclose(a_sparse, a_dense, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r_sparse, r_dense, rtol=0, atol=1e-12)


def test_within_chunks_give_the_same_pairs(monkeypatch):
    import sim.model.accessibility as accessibility

    model = TravelModel(width=40, height=40, stop_cells=np.array([0, 1599, 820]))
    cells, facilities = np.arange(1600), np.array([5, 400, 820, 1200, 1599])
    whole = model.within(cells, facilities, "pt", 20.0)
    monkeypatch.setattr(accessibility, "_PAIRS_PER_CHUNK", 1)
    chunked = model.within(cells, facilities, "pt", 20.0)
    assert (whole != chunked).nnz == 0


@pytest.mark.parametrize("mode", ["walk", "pt", "car"])
def test_nearest_minutes_is_row_minimum(mode):
    rng = np.random.default_rng(3)
    model = TravelModel(width=50, height=40, stop_cells=rng.choice(2000, 12, replace=False))
    origins = np.arange(2000)
    facilities = rng.choice(2000, 9, replace=False)
    np.testing.assert_allclose(
        model.nearest_minutes(origins, facilities, mode),
        model.minutes(origins, facilities, mode).min(axis=1),
        rtol=1e-6,
    )


def test_nearest_distance_and_share_within():
    model = TravelModel(width=30, height=1)
    distance = model.nearest_distance_m(np.arange(30), [0, 29])
    # Cells 0..14 are nearest to cell 0, 15..29 to cell 29; 100 m per cell, 0 m in the cell.
    np.testing.assert_array_equal(distance, 100.0 * np.r_[np.arange(15), np.arange(14, -1, -1)])
    # Within 1,000 m: cells 0..10 and 19..29 = 22 of 30 equally populated cells.
    assert share_within(np.ones(30), distance, 1000.0) == pytest.approx(22 / 30)
    assert np.isinf(model.nearest_distance_m([3], [])).all()
    assert np.isnan(share_within(np.zeros(3), np.zeros(3), 1.0))


def test_invalid_cells_and_modes():
    model = TravelModel(width=5, height=5)
    with pytest.raises(ValueError):
        model.minutes([25], [0], "walk")
    with pytest.raises(ValueError):
        model.minutes([0], [1], "bike")
    with pytest.raises(ValueError):
        TravelModel(width=5, height=5, stop_cells=np.array([-1]))
