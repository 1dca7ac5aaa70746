"""The population's columns with spare rows: additions and removals give the same columns as
new arrays would, and two populations sharing a buffer never write into each other's added
rows; the employment moves' kept risk factors move with their persons and give the same
results as factors computed anew."""

import copy
import pickle
from pathlib import Path

import numpy as np
import pytest

import sim  # noqa: F401  (numba's settings before numpy's first use)
from sim.state import population as P
from sim.state.population import Members, Population


def _members(n_households: int, per: int, start_age: int = 20) -> Members:
    n = n_households * per
    return Members(age=(start_age + np.arange(n) % 50).astype(np.int16),
                   sex=(np.arange(n) % 2).astype(np.int8),
                   household=np.repeat(np.arange(n_households, dtype=np.int32), per),
                   is_child=np.zeros(n, bool))


def _columns(pop: Population) -> dict[str, np.ndarray]:
    return {k: np.array(v, copy=True) for k, v in vars(pop).items() if isinstance(v, np.ndarray)}


def test_extend_equals_concatenate_and_writes_behind():
    col = np.arange(5, dtype=np.int32)
    first = P._extend(col, np.array([7, 8], np.int32))
    assert first.dtype == np.int32 and first.tolist() == [0, 1, 2, 3, 4, 7, 8]
    second = P._extend(first, np.array([9], np.int32))
    assert second.tolist() == [0, 1, 2, 3, 4, 7, 8, 9]
    assert second.base is first.base  # written behind, no new buffer
    assert first.tolist() == [0, 1, 2, 3, 4, 7, 8]  # the earlier view is unchanged


def test_extend_keeps_concatenate_dtype_promotion():
    col = np.arange(3, dtype=np.int16)
    out = P._extend(col, np.array([70000], np.int64))
    expected = np.concatenate([col, np.array([70000], np.int64)])
    assert out.dtype == expected.dtype and np.array_equal(out, expected)


def test_only_contiguous_views_of_the_buffers_dtype_write_behind():
    full = P._extend(np.arange(4, dtype=np.int64), np.arange(4, 8, dtype=np.int64))
    strided = full.base[0:16:2]
    P._USED[id(full.base)] = strided.size  # as if the strided view ended at the rows in use
    out = P._extend(strided, np.array([99], np.int64))
    assert out.base is not full.base
    np.testing.assert_array_equal(out, np.concatenate([strided, [99]]))


def test_views_sharing_a_buffer_do_not_write_into_each_other():
    a = P._extend(np.arange(4, dtype=np.int64), np.array([10], np.int64))
    b = a  # a second population holding the same column (a shallow copy)
    a2 = P._extend(a, np.array([11, 12], np.int64))
    b2 = P._extend(b, np.array([99], np.int64))  # its end is no longer the buffer's end
    assert a2.tolist() == [0, 1, 2, 3, 10, 11, 12]
    assert b2.tolist() == [0, 1, 2, 3, 10, 99]
    assert not np.shares_memory(a2, b2[-1:])


def _history(pop: Population, run=None) -> list[dict[str, np.ndarray]]:
    """Additions of households and persons and removals, the columns after each (``run``:
    how :meth:`Population.keep` gathers the person columns)."""
    rng = np.random.default_rng(5)
    pop.append(_members(40, 2), np.arange(40))
    out = [_columns(pop)]
    for step in range(6):
        m = _members(3 + step, 1 + step % 3, start_age=step)
        n_h = int(m.household.max()) + 1
        pop.append(m, np.arange(n_h), pid=1000 + step * 10 + np.arange(m.age.size),
                   hid=500 + step * 10 + np.arange(n_h))
        born = Members(age=np.zeros(2, np.int16), sex=np.zeros(2, np.int8),
                       household=np.array([0, 1], np.int32), is_child=np.ones(2, bool))
        pop.add_persons(born, np.array([9000 + 2 * step, 9001 + 2 * step]))
        pop.add_households(np.full(2, -1), np.ones(2, np.float32), np.zeros(2, np.int8))
        if step == 3:  # more than the spare rows: the columns move to larger buffers
            big = _members(1500, 1, start_age=30)
            pop.append(big, np.arange(1500), pid=20_000 + np.arange(1500),
                       hid=20_000 + np.arange(1500))
        out.append(_columns(pop))
        pop.keep(rng.random(pop.n_persons) < 0.9, rng.random(pop.n_households) < 0.95, run)
        out.append(_columns(pop))
    return out


@pytest.mark.parametrize("n_threads", [0, 1, 3])
def test_population_additions_and_removals_match_plain_arrays(n_threads, monkeypatch):
    """Also with the person columns gathered in threads (ranges of at least 16 rows): 0
    threads keeps the default single gather."""
    from sim.model import threads

    monkeypatch.setattr(threads, "MIN_CHUNK", 16)
    with threads.limited(max(n_threads, 1)):
        spare = _history(Population.empty(), threads.parallel_for if n_threads else None)
    monkeypatch.setattr(P, "_extend", lambda column, new: np.concatenate([column, new]))
    monkeypatch.setattr(P, "_kept", lambda column, rows, run=None: column.copy() if rows is None
                        else column[rows])
    plain = _history(Population.empty())
    assert len(spare) == len(plain) == 13
    for got, expected in zip(spare, plain, strict=True):
        assert got.keys() == expected.keys()
        for k, v in expected.items():
            assert got[k].dtype == v.dtype, k
            np.testing.assert_array_equal(got[k], v, err_msg=k)


@pytest.mark.parametrize("how", ["deepcopy", "pickle", "copy"])
def test_copies_of_a_population_add_rows_independently(how):
    pop = Population.empty()
    pop.append(_members(10, 2), np.arange(10))
    pop.keep(np.ones(pop.n_persons, bool), np.ones(pop.n_households, bool))
    other = {"deepcopy": copy.deepcopy, "pickle": lambda p: pickle.loads(pickle.dumps(p)),
             "copy": copy.copy}[how](pop)
    pop.append(_members(2, 1, start_age=60), np.arange(2))
    other.append(_members(3, 1, start_age=1), np.arange(3))
    assert pop.age[-2:].tolist() == [60, 61]
    assert other.age[-3:].tolist() == [1, 2, 3]
    assert pop.n_persons == 22 and other.n_persons == 23


def test_kept_risk_factors_move_with_their_persons():
    pop = Population.empty()
    pop.append(_members(5, 2), np.arange(5))
    pop.employment = np.zeros(pop.n_persons, np.int8)
    pop.potential = np.ones(pop.n_persons, np.float32)
    pop.transitory = np.ones(pop.n_persons, np.float32)
    assert pop.risk_factor.size == 0  # none before the first employment step
    pop.start_risk_columns()
    pop.risk_potential[:] = np.arange(10)
    pop.risk_factor[:] = np.arange(10) / 10
    pop.risk_negative[:] = np.arange(10) % 2 == 0
    pop.append(_members(1, 2), np.arange(1))
    assert pop.risk_factor.size == 12 and np.isnan(pop.risk_potential[-2:]).all()
    alive = np.ones(12, bool)
    alive[[1, 4, 10]] = False
    pop.keep(alive, np.ones(pop.n_households, bool))
    kept = np.flatnonzero(alive)
    assert kept.tolist() == [0, 2, 3, 5, 6, 7, 8, 9, 11]
    np.testing.assert_array_equal(pop.risk_potential[:8], kept[:8])
    np.testing.assert_array_equal(pop.risk_factor[:8], kept[:8] / 10)
    np.testing.assert_array_equal(pop.risk_negative[:8], kept[:8] % 2 == 0)
    assert np.isnan(pop.risk_potential[8]) and pop.risk_factor.size == pop.n_persons == 9


def test_kept_risk_factors_give_the_same_results_as_factors_computed_anew():
    from sim.inputs.levers import load_scenario

    root = Path(__file__).resolve().parents[1]
    scenario = load_scenario(root / "scenarios" / "baseline.toml").with_values(
        {"city.households": 1500, "years": 3, "outcomes.cell_snapshots": False})
    kept, anew = (sim.build_model(scenario, seed=7) for _ in range(2))
    hits = []
    for _ in range(3):
        kept.run(1)
        hits.append(int(np.isfinite(kept.population.risk_potential).sum()))
        anew.employment.risk_parameters = None  # every kept factor dropped before the year
        anew.run(1)
    assert min(hits) > 1000  # factors were kept (and reused the next year)
    assert kept.outcomes().equals(anew.outcomes())
    for name in ("employment", "potential", "transitory", "income", "dwelling"):
        np.testing.assert_array_equal(getattr(kept.population, name),
                                      getattr(anew.population, name), err_msg=name)


def test_the_kept_persons_are_ordered_by_household_each_households_members_in_their_order():
    pop = Population.empty()
    pop.append(_members(6, 2), np.arange(6), pid=100 + np.arange(12))
    born = Members(age=np.zeros(3, np.int16), sex=np.zeros(3, np.int8),
                   household=np.array([4, 0, 4], np.int32), is_child=np.ones(3, bool))
    pop.add_persons(born, np.array([900, 901, 902]))
    pid, household = pop.pid.copy(), pop.household.copy()
    alive = np.ones(pop.n_persons, bool)
    alive[[2, 13]] = False  # a member of household 1 and a child born into household 0
    household_alive = np.ones(pop.n_households, bool)
    household_alive[3] = False
    pop.keep(alive, household_alive)
    kept = np.flatnonzero(alive & household_alive[household])
    order = np.argsort(household[kept], kind="stable")
    np.testing.assert_array_equal(pop.pid, pid[kept][order])
    assert pop.pid.tolist() == [100, 101, 103, 104, 105, 108, 109, 900, 902, 110, 111]
    renumbered = np.cumsum(household_alive) - 1
    np.testing.assert_array_equal(pop.household, renumbered[household[kept][order]])
    assert (np.diff(pop.household) >= 0).all()
