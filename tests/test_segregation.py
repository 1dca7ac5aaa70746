"""Segregation indices: hand-computed cases, equality with PySAL/esda, edge cases."""

from __future__ import annotations

import math

import esda
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from libpysal.weights import lat2W, w_subset
from segregation.local import MultiLocationQuotient
from segregation.multigroup import MultiDissim, MultiInfoTheory
from segregation.singlegroup import Dissim, Entropy, Interaction, Isolation

from sim.model.segregation import (
    counts_by_unit,
    dissimilarity,
    exposure,
    isolation,
    location_quotients,
    morans_i,
    multigroup_dissimilarity,
    theil_h,
)

TOL = 1e-9

# Importing `segregation` runs np.seterr(divide="ignore", invalid="ignore") for the whole
# process. Restore numpy's defaults so our functions (and the rest of the suite) are tested
# under normal floating-point error handling; PySAL itself runs inside `pysal` below.
np.seterr(divide="warn", invalid="warn")


def pysal(index, df, *args, attr="statistic"):
    with np.errstate(divide="ignore", invalid="ignore"):
        return getattr(index(df, *args), attr)


def nan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


# ----------------------------------------------------------------------------- hand-computed

# Three units of a group g and the rest r, plus one empty unit that must change nothing:
#   unit  g  r  t    g/G  r/R  g/t
#   0     4  1  5    0.4  0.1  0.8
#   1     1  4  5    0.1  0.4  0.2
#   2     5  5  10   0.5  0.5  0.5
#   3     0  0  0
# G = R = 10, T = 20, P = 0.5.
# D   = 0.5 * (|0.4-0.1| + |0.1-0.4| + |0.5-0.5|) = 0.3
# xPx = 0.4*0.8 + 0.1*0.2 + 0.5*0.5 = 0.59 ;  xPy = 0.4*0.2 + 0.1*0.8 + 0.5*0.5 = 0.41
# LQ  = share / 0.5: [[1.6, 0.4], [0.4, 1.6], [1, 1], [nan, nan]]
# Sakoda D: I = 2 * 0.5 * 0.5 = 0.5; sum |x_im - t_i P_m| = 3 + 3 + 0 = 6; 6 / (2*20*0.5) = 0.3
# H = 1 - sum t_i E_i / (T E), E = ln 2, E_0 = E_1 = h(0.2) = -(0.8 ln 0.8 + 0.2 ln 0.2),
#   E_2 = ln 2, so H = 1 - (10 h(0.2) + 10 ln 2) / (20 ln 2) = (1 - h(0.2) / ln 2) / 2
#   = (1 - 0.7219280948873623) / 2 = 0.13903595255631885
G = np.array([4, 1, 5, 0])
T = np.array([5, 5, 10, 0])
TABLE = np.column_stack([G, T - G])
H2 = -(0.8 * math.log(0.8) + 0.2 * math.log(0.2))
H_HAND = (1 - H2 / math.log(2)) / 2


def test_hand_dissimilarity():
    assert dissimilarity(G, T) == pytest.approx(0.3, abs=1e-12)
    assert multigroup_dissimilarity(TABLE) == pytest.approx(0.3, abs=1e-12)


def test_hand_isolation_exposure():
    assert isolation(G, T) == pytest.approx(0.59, abs=1e-12)
    assert exposure(G, T) == pytest.approx(0.41, abs=1e-12)
    # the rest's view of the same table is symmetric here
    assert isolation(T - G, T) == pytest.approx(0.59, abs=1e-12)


def test_hand_theil_h():
    assert H_HAND == pytest.approx(0.13903595255631885, abs=1e-15)
    assert theil_h(TABLE) == pytest.approx(H_HAND, abs=1e-12)


def test_hand_location_quotients():
    expected = np.array([[1.6, 0.4], [0.4, 1.6], [1.0, 1.0], [np.nan, np.nan]])
    np.testing.assert_allclose(location_quotients(TABLE), expected, atol=1e-12)


def test_hand_theil_h_extremes():
    assert theil_h([[3, 0], [0, 5]]) == pytest.approx(1.0, abs=1e-12)
    assert theil_h([[1, 2], [2, 4], [3, 6]]) == pytest.approx(0.0, abs=1e-12)
    assert dissimilarity([3, 0], [3, 5]) == pytest.approx(1.0, abs=1e-12)
    assert dissimilarity([1, 2, 3], [3, 6, 9]) == pytest.approx(0.0, abs=1e-12)


# ----------------------------------------------------------------------------- vs PySAL


def random_table(seed: int, n_units: int, n_groups: int, weighted: bool = False) -> np.ndarray:
    """Uneven compositions, some empty units and many zero cells; every group present."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.5, 4.0, size=(n_units, n_groups))
    x = rng.poisson(lam).astype(np.float64)
    if weighted:
        x *= rng.uniform(0.5, 3.0, size=x.shape)
    x[rng.random(n_units) < 0.15] = 0
    t = x.sum(axis=1)
    assert (t == 0).any() and ((x == 0) & (t[:, None] > 0)).any()
    assert (x.sum(axis=0) > 0).all()
    return x


def frame(x: np.ndarray) -> tuple[pd.DataFrame, list[str]]:
    groups = [f"g{m}" for m in range(x.shape[1])]
    df = pd.DataFrame(x, columns=groups)
    df["total"] = x.sum(axis=1)
    return df, groups


TABLES = [
    pytest.param((0, 60, 2, False), id="60x2"),
    pytest.param((1, 200, 3, False), id="200x3"),
    pytest.param((2, 40, 4, False), id="40x4"),
    pytest.param((3, 500, 4, True), id="500x4-weighted"),
    pytest.param((4, 25, 5, False), id="25x5"),
]


@pytest.mark.parametrize("spec", TABLES)
def test_multigroup_matches_pysal(spec):
    x = random_table(*spec)
    df, groups = frame(x)
    assert multigroup_dissimilarity(x) == pytest.approx(pysal(MultiDissim, df, groups), abs=TOL)
    assert theil_h(x) == pytest.approx(pysal(MultiInfoTheory, df, groups), abs=TOL)
    np.testing.assert_allclose(
        location_quotients(x),
        pysal(MultiLocationQuotient, df, groups, attr="statistics"),
        rtol=TOL,
        atol=TOL,
    )


@pytest.mark.parametrize("spec", TABLES)
def test_singlegroup_matches_pysal(spec):
    x = random_table(*spec)
    df, groups = frame(x)
    t = x.sum(axis=1)
    for m, name in enumerate(groups):
        g = x[:, m]
        assert dissimilarity(g, t) == pytest.approx(pysal(Dissim, df, name, "total"), abs=TOL)
        assert isolation(g, t) == pytest.approx(pysal(Isolation, df, name, "total"), abs=TOL)
        assert exposure(g, t) == pytest.approx(pysal(Interaction, df, name, "total"), abs=TOL)
        two = np.column_stack([g, t - g])
        assert theil_h(two) == pytest.approx(pysal(Entropy, df, name, "total"), abs=TOL)


def test_two_group_multigroup_equals_single_group():
    x = random_table(0, 60, 2)
    t = x.sum(axis=1)
    assert multigroup_dissimilarity(x) == pytest.approx(dissimilarity(x[:, 0], t), abs=1e-12)


def test_empty_group_column_is_dropped():
    x = random_table(2, 40, 4)
    with_empty = np.insert(x, 2, 0.0, axis=1)
    df, groups = frame(x)
    assert multigroup_dissimilarity(with_empty) == pytest.approx(
        pysal(MultiDissim, df, groups), abs=TOL
    )
    # PySAL's MultiInfoTheory gives nan with an empty group; we drop the group instead.
    assert theil_h(with_empty) == pytest.approx(pysal(MultiInfoTheory, df, groups), abs=TOL)
    lq = location_quotients(with_empty)
    assert np.isnan(lq[:, 2]).all()
    np.testing.assert_array_equal(np.delete(lq, 2, axis=1), location_quotients(x))


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.int64,
        st.tuples(st.integers(2, 12), st.integers(2, 4)),
        elements=st.integers(0, 30),
    )
)
def test_arbitrary_tables_match_pysal(x):
    t = x.sum(axis=1)
    assume(np.count_nonzero(t) >= 2 and (x.sum(axis=0) > 0).all())
    df, groups = frame(x.astype(np.float64))
    assert multigroup_dissimilarity(x) == pytest.approx(pysal(MultiDissim, df, groups), abs=TOL)
    assert theil_h(x) == pytest.approx(pysal(MultiInfoTheory, df, groups), abs=TOL)
    g = x[:, 0]
    assert dissimilarity(g, t) == pytest.approx(pysal(Dissim, df, "g0", "total"), abs=TOL)
    assert isolation(g, t) == pytest.approx(pysal(Isolation, df, "g0", "total"), abs=TOL)
    assert exposure(g, t) == pytest.approx(pysal(Interaction, df, "g0", "total"), abs=TOL)
    assert 0 <= theil_h(x) <= 1 + TOL and 0 <= multigroup_dissimilarity(x) <= 1 + TOL


def test_invariant_to_unit_order_and_scale():
    x = random_table(1, 200, 3)
    perm = np.random.default_rng(9).permutation(len(x))
    t = x.sum(axis=1)
    for f in (multigroup_dissimilarity, theil_h):
        assert f(x[perm]) == pytest.approx(f(x), abs=1e-12)
        assert f(7.5 * x) == pytest.approx(f(x), abs=1e-12)
    for f in (dissimilarity, isolation, exposure):
        assert f(x[perm, 1], t[perm]) == pytest.approx(f(x[:, 1], t), abs=1e-12)
        assert f(3 * x[:, 1], 3 * t) == pytest.approx(f(x[:, 1], t), abs=1e-12)
    assert isolation(x[:, 0], t) + exposure(x[:, 0], t) == pytest.approx(1.0, abs=1e-12)


# ----------------------------------------------------------------------------- edge cases


def test_zero_population_units_are_ignored():
    x = random_table(2, 40, 4)
    x = x[x.sum(axis=1) > 0]
    padded = np.vstack([np.zeros((5, 4)), x[:10], np.zeros((3, 4)), x[10:]])
    t, tp = x.sum(axis=1), padded.sum(axis=1)
    for f in (multigroup_dissimilarity, theil_h):
        assert f(padded) == pytest.approx(f(x), abs=1e-12)
    for f in (dissimilarity, isolation, exposure):
        assert f(padded[:, 0], tp) == pytest.approx(f(x[:, 0], t), abs=1e-12)
    lq = location_quotients(padded)
    assert np.isnan(lq[tp == 0]).all()
    np.testing.assert_allclose(lq[tp > 0], location_quotients(x), atol=1e-12)


def test_empty_group_is_nan():
    t = np.array([5, 3, 0, 8])
    zero = np.zeros(4)
    assert nan(dissimilarity(zero, t))
    assert nan(isolation(zero, t))
    assert nan(exposure(zero, t))
    assert nan(dissimilarity(t, t))  # the rest is empty
    assert isolation(t, t) == 1.0 and exposure(t, t) == 0.0
    one_group = np.column_stack([t, zero, zero])
    assert nan(multigroup_dissimilarity(one_group))
    assert nan(theil_h(one_group))
    assert np.isnan(location_quotients(one_group)[:, 1:]).all()


def test_single_unit_is_nan():
    assert nan(dissimilarity([2, 0], [5, 0]))
    assert nan(multigroup_dissimilarity([[2, 3], [0, 0]]))
    assert nan(theil_h([[2, 3, 1]]))
    # Isolation/exposure stay defined: the group share in its only unit.
    assert isolation([2], [5]) == pytest.approx(0.4)
    assert exposure([2], [5]) == pytest.approx(0.6)
    np.testing.assert_allclose(location_quotients([[2, 3]]), [[1.0, 1.0]])


def test_no_units_and_all_empty():
    assert nan(dissimilarity([], []))
    assert nan(isolation([], []))
    assert nan(theil_h(np.zeros((0, 3))))
    assert nan(multigroup_dissimilarity(np.zeros((4, 3))))
    assert np.isnan(location_quotients(np.zeros((4, 3)))).all()


def test_no_floating_point_warnings_on_edge_cases():
    x = np.vstack([np.zeros((2, 4)), random_table(2, 40, 4), np.zeros((1, 4))])
    x[:, 3] = 0
    cases = [x, x[:, :1], x[:3], np.zeros((3, 2)), TABLE]
    with np.errstate(divide="raise", invalid="raise", over="raise"):
        for c in cases:
            t = c.sum(axis=1)
            multigroup_dissimilarity(c)
            theil_h(c)
            location_quotients(c)
            for m in range(c.shape[1]):
                dissimilarity(c[:, m], t)
                isolation(c[:, m], t)
                exposure(c[:, m], t)
        y = np.arange(12.0)
        for mask in (None, np.zeros(12, bool), np.arange(12) % 5 == 0, np.arange(12) < 6):
            morans_i(y, 4, 3, mask)


def test_invalid_input_raises():
    with pytest.raises(ValueError):
        dissimilarity([3, 1], [2, 1])  # group > total
    with pytest.raises(ValueError):
        isolation([-1, 1], [2, 1])
    with pytest.raises(ValueError):
        exposure([1, 1], [2, 1, 3])
    with pytest.raises(ValueError):
        theil_h([1, 2, 3])  # not 2-D
    with pytest.raises(ValueError):
        multigroup_dissimilarity([[1, np.nan], [2, 3]])
    with pytest.raises(ValueError):
        location_quotients([[1, -2], [2, 3]])


# ----------------------------------------------------------------------------- counts_by_unit


def test_counts_by_unit():
    unit = np.array([0, 2, 2, 1, 2, 0])
    group = np.array([1, 0, 1, 1, 1, 1])
    expected = np.array([[0, 2], [0, 1], [1, 2], [0, 0]])
    got = counts_by_unit(unit, group, 4, 2)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.int64
    w = np.array([1.0, 2.0, 0.5, 1.0, 1.0, 3.0])
    np.testing.assert_allclose(
        counts_by_unit(unit, group, 4, 2, weights=w), [[0, 4], [0, 1], [2, 1.5], [0, 0]]
    )
    np.testing.assert_array_equal(counts_by_unit([], [], 2, 3), np.zeros((2, 3)))
    with pytest.raises(ValueError):
        counts_by_unit(unit, group, 2, 2)  # unit 2 out of range
    with pytest.raises(ValueError):
        counts_by_unit(unit.astype(float), group, 4, 2)


# ----------------------------------------------------------------------------- Moran's I


def esda_i(y: np.ndarray, width: int, height: int, mask: np.ndarray | None = None) -> float:
    # lat2W numbers cells row-major with ncols columns: id = row * ncols + col, as we do.
    w = lat2W(height, width, rook=False)
    if mask is not None:
        ids = [int(i) for i in np.flatnonzero(mask)]
        w = w_subset(w, ids, silence_warnings=True)
        y = y[mask]
    return esda.Moran(y, w, permutations=0).I


@pytest.mark.parametrize(("width", "height"), [(11, 7), (7, 11), (20, 20), (13, 1), (2, 3)])
def test_morans_i_matches_esda_full_grid(width, height):
    rng = np.random.default_rng(width * 100 + height)
    rows, cols = np.divmod(np.arange(width * height), width)
    y = np.sin(rows / 3.0) + 0.3 * cols + rng.normal(size=width * height)
    expected = esda_i(y, width, height)
    assert morans_i(y, width, height) == pytest.approx(expected, abs=TOL)
    assert morans_i(y.reshape(height, width), width, height) == pytest.approx(expected, abs=TOL)


def test_lattice_numbering_is_row_major():
    w = lat2W(3, 4, rook=False)  # 3 rows, 4 columns
    assert sorted(w.neighbors[0]) == [1, 4, 5]
    assert sorted(w.neighbors[5]) == [0, 1, 2, 4, 6, 8, 9, 10]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_morans_i_matches_esda_masked_with_islands(seed):
    rng = np.random.default_rng(seed)
    width, height = 23, 17
    y = rng.normal(size=(height, width)).cumsum(axis=1).ravel()
    mask = rng.random((height, width)) < 0.45
    mask[0, 0], mask[0, 1], mask[1, 0], mask[1, 1] = True, False, False, False  # an island
    mask = mask.ravel()
    ws = w_subset(
        lat2W(height, width, rook=False),
        [int(i) for i in np.flatnonzero(mask)],
        silence_warnings=True,
    )
    assert 0 in ws.islands
    y_nan_outside = np.where(mask, y, np.nan)
    expected = esda_i(y, width, height, mask)
    assert morans_i(y, width, height, mask) == pytest.approx(expected, abs=TOL)
    assert morans_i(y_nan_outside, width, height, mask) == pytest.approx(expected, abs=TOL)


def test_morans_i_hand_values():
    # 2x2 queen grid is a complete graph: I = -1/(n-1) for any non-constant values.
    assert morans_i([1, 0, 0, 0], 2, 2) == pytest.approx(-1 / 3, abs=1e-12)
    # 3x3 checkerboard, five 1s: z = 4/9 or -5/9; row-standardised lags:
    # corners -2/9, edges 2/45, centre -1/18; sum z*lag = -42/81, sum z^2 = 180/81,
    # S0 = n = 9, so I = -42/180 = -7/30.
    board = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
    assert morans_i(board, 3, 3) == pytest.approx(-7 / 30, abs=1e-12)


def test_morans_i_patterns():
    n = 30
    rows, cols = np.indices((n, n))
    checker = ((rows + cols) % 2).astype(float)
    # Rook neighbours all differ, diagonal ones agree: negative, near 0 under queen weights.
    assert -0.1 < morans_i(checker, n, n) < 0
    stripes = (cols % 2).astype(float)  # 6 of 8 queen neighbours differ: about -1/2
    assert morans_i(stripes, n, n) == pytest.approx(-0.5, abs=0.03)
    gradient = (rows + 0.5 * cols).astype(float)
    assert morans_i(gradient, n, n) > 0.95
    for y in (checker, stripes, gradient):
        assert morans_i(y, n, n) == pytest.approx(esda_i(y.ravel(), n, n), abs=TOL)


def test_morans_i_edge_cases():
    y = np.arange(12.0)
    assert nan(morans_i(y, 4, 3, np.zeros(12, bool)))
    one = np.zeros(12, bool)
    one[5] = True
    assert nan(morans_i(y, 4, 3, one))
    assert nan(morans_i(np.full(12, 2.5), 4, 3))
    islands = np.zeros((3, 4), bool)
    islands[0, 0] = islands[2, 3] = True  # two cells, neither has a masked neighbour
    assert nan(morans_i(y, 4, 3, islands))
    with pytest.raises(ValueError):
        morans_i(np.arange(11.0), 4, 3)
    with pytest.raises(ValueError):
        morans_i(y, 4, 3, np.ones(11, bool))
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError):
        morans_i(bad, 4, 3)


def test_by_area_equals_the_single_area_functions():
    from sim.model.segregation import by_area

    rng = np.random.default_rng(11)
    n = 600
    groups = rng.poisson(rng.gamma(1.0, 2.0, size=(n, 3)))
    groups[rng.random(n) < 0.15] = 0
    background = rng.binomial(groups.sum(axis=1), 0.4)
    old = rng.binomial(groups.sum(axis=1), 0.2)
    table = np.c_[groups, background, old].astype(float)
    area = rng.integers(-1, 7, n)
    area[area == 5] = -1  # area 5: no units at all
    area[np.flatnonzero(area == 6)[1:]] = -1  # area 6: a single unit
    result = by_area(table, area, 7)
    for q in range(7):
        x = table[area == q]
        t = x[:, :3].sum(axis=1)
        expected = {
            "dissimilarity_income": dissimilarity(x[:, 0], t),
            "dissimilarity_origin": dissimilarity(x[:, 3], t),
            "dissimilarity_age65": dissimilarity(x[:, 4], t),
            "multigroup_dissimilarity_income": multigroup_dissimilarity(x[:, :3]),
            "theil_h_income": theil_h(x[:, :3]),
            "isolation_poor": isolation(x[:, 0], t),
            "exposure_poor": exposure(x[:, 0], t),
            "isolation_origin": isolation(x[:, 3], t),
        }
        for name, value in expected.items():
            got = result[name][q]
            if math.isnan(value):
                assert math.isnan(got), (q, name)
            else:
                assert got == pytest.approx(value, abs=1e-12), (q, name)


def test_by_area_whole_equals_all_units_as_one_more_area():
    """``whole=True`` gives exactly what listing every unit again under one more area does."""
    from sim.model.segregation import by_area

    rng = np.random.default_rng(12)
    n = 300
    groups = rng.poisson(2.0, size=(n, 3))
    table = np.c_[groups, rng.binomial(groups.sum(axis=1), 0.4),
                  rng.binomial(groups.sum(axis=1), 0.2)].astype(float)
    area = rng.integers(-1, 4, n)
    whole = by_area(table, area, 4, whole=True)
    stacked = by_area(np.vstack([table, table]), np.r_[area, np.full(n, 4)], 5)
    for name, values in stacked.items():
        np.testing.assert_array_equal(whole[name], values, err_msg=name)
