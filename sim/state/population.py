"""Households and persons as numpy columns (struct of arrays).

Persons and households are rows in parallel arrays; a person's ``household`` is the row of its
household. There is no Python object per agent: processes work on whole columns at once. A
:class:`HouseholdView` gives one household's attributes for inspection.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from sim.state.income import oecd_scale

AGE_DTYPE = np.int16
SEX_DTYPE = np.int8
IDX_DTYPE = np.int32
INCOME_DTYPE = np.float32
ID_DTYPE = np.uint64
MALE, FEMALE = 0, 1
SEXES = ("male", "female")


@dataclass
class Population:
    """The people of the city.

    Person columns (one row per person):
        age: completed years.
        sex: 0 male, 1 female.
        household: row of the person's household.
        is_child: lives in the parental home as a child of the household's adults.
        pid: the person's id (uint64; stable for life, the same in every scenario of a seed).
        job: cell of the person's job (-1 outside the city, -2 never employed yet); see
            :mod:`sim.model.processes.jobs`.
        pflegegrad: Pflegegrad 1-5, 0 without care need (set by the care step, see
            :mod:`sim.model.care_need`; 0 for persons added since).
        employment: employment status (:mod:`sim.model.processes.employment`; -1 not yet set).
        potential: net earnings potential, EUR/month at the start year's level (NaN: not yet
            drawn).
        transitory: the person's transitory income factor this year (exp of its transitory
            log income).
        risk_potential, risk_factor, risk_negative: the person's risk factor of the
            employment moves with the potential and sign it was computed from, kept to be
            reused (:func:`sim.model.processes.employment._moves`; NaN potential: none kept;
            empty before the first year's employment step).

    Each column is a view of the first rows of a larger buffer: added persons and households
    are written behind them (see :func:`_extend`) instead of copying every column each time.

    Household columns (one row per household):
        dwelling: index of the dwelling the household occupies (-1 while searching).
        income: net equivalised income, EUR per month (see :mod:`sim.state.income`).
        migration_background: 1 if the household has a migration background.
        moved_in: Year the household moved into its dwelling (-1: before the start).
        hid: the household's id (uint64; stable, the same in every scenario of a seed).
        union_start: Year the household's couple formed (-1: not known, or no couple; see
            :mod:`sim.model.processes.separation`).
        poverty_years: consecutive years the household has been at risk of poverty (0: not
            poor; -1: not yet known).
    """

    age: np.ndarray
    sex: np.ndarray
    household: np.ndarray
    is_child: np.ndarray
    dwelling: np.ndarray
    income: np.ndarray = field(default_factory=lambda: np.zeros(0, INCOME_DTYPE))
    migration_background: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    moved_in: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    pid: np.ndarray = field(default_factory=lambda: np.zeros(0, ID_DTYPE))
    hid: np.ndarray = field(default_factory=lambda: np.zeros(0, ID_DTYPE))
    job: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    union_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    pflegegrad: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    employment: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    potential: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    poverty_years: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    transitory: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    risk_potential: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    risk_factor: np.ndarray = field(default_factory=lambda: np.zeros(0))
    risk_negative: np.ndarray = field(default_factory=lambda: np.zeros(0, np.bool_))

    HOUSEHOLD_COLUMNS = ("dwelling", "income", "migration_background", "moved_in", "hid",
                         "union_start", "poverty_years")
    EXTRA_PERSON_COLUMNS = ("employment", "potential", "transitory")
    RISK_COLUMNS = ("risk_potential", "risk_factor", "risk_negative")

    @classmethod
    def empty(cls) -> Population:
        return cls(
            age=np.zeros(0, AGE_DTYPE), sex=np.zeros(0, SEX_DTYPE),
            household=np.zeros(0, IDX_DTYPE), is_child=np.zeros(0, bool),
            dwelling=np.zeros(0, IDX_DTYPE),
        )

    @property
    def n_persons(self) -> int:
        return int(self.age.size)

    @property
    def n_households(self) -> int:
        return int(self.dwelling.size)

    def household_size(self) -> np.ndarray:
        return np.bincount(self.household, minlength=self.n_households)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.age, self.sex, self.household, self.is_child,
                                      self.dwelling, self.income, self.migration_background))

    def add_households(self, dwelling: np.ndarray, income: np.ndarray,
                       migration_background: np.ndarray, moved_in: int = -1,
                       hid: np.ndarray | None = None,
                       union_start: np.ndarray | None = None) -> np.ndarray:
        """Add household rows (members are added separately); returns the new rows. Without
        ``hid`` the ids are the rows (the initial population); without ``union_start`` the
        couple's start is not known (-1)."""
        first = self.n_households
        self.union_start = _extend(
            self.union_start, np.full(dwelling.size, -1, np.int16) if union_start is None
            else union_start.astype(np.int16))
        self.hid = _extend(self.hid, (np.arange(first, first + dwelling.size)
                                      if hid is None else hid).astype(ID_DTYPE))
        self.moved_in = _extend(self.moved_in, np.full(dwelling.size, moved_in, np.int16))
        self.dwelling = _extend(self.dwelling, dwelling.astype(IDX_DTYPE))
        self.income = _extend(self.income, income.astype(INCOME_DTYPE))
        self.migration_background = _extend(self.migration_background,
                                            migration_background.astype(np.int8))
        self.poverty_years = _extend(self.poverty_years, np.full(dwelling.size, -1, np.int16))
        return np.arange(first, self.n_households)

    def append(self, members: Members, dwellings: np.ndarray, income: np.ndarray | None = None,
               migration_background: np.ndarray | None = None, moved_in: int = -1,
               pid: np.ndarray | None = None, hid: np.ndarray | None = None) -> np.ndarray:
        """Add whole households with their members; returns the new households' rows.
        Without ids, persons and households get their rows as ids (the initial population)."""
        first = self.n_households
        n = dwellings.size
        first_person = self.n_persons
        self._add_person_rows(members, (members.household + first).astype(IDX_DTYPE),
                              np.arange(first_person, first_person + members.age.size)
                              if pid is None else pid)
        return self.add_households(
            dwellings,
            np.zeros(n, INCOME_DTYPE) if income is None else income,
            np.zeros(n, np.int8) if migration_background is None else migration_background,
            moved_in, hid,
        )

    def _extend_person_extras(self, n: int) -> None:
        self.employment = _extend(self.employment, np.full(n, -1, np.int8))
        self.potential = _extend(self.potential, np.full(n, np.nan, np.float32))
        self.transitory = _extend(self.transitory, np.ones(n, np.float32))
        if self.risk_factor.size:
            self.risk_potential = _extend(self.risk_potential, np.full(n, np.nan, np.float32))
            self.risk_factor = _extend(self.risk_factor, np.zeros(n))
            self.risk_negative = _extend(self.risk_negative, np.zeros(n, np.bool_))

    def start_risk_columns(self) -> None:
        """The kept risk factors' columns, one row per person, none kept yet."""
        n = self.n_persons
        self.risk_potential = _kept(np.full(n, np.nan, np.float32), None)
        self.risk_factor = _kept(np.zeros(n), None)
        self.risk_negative = _kept(np.zeros(n, np.bool_), None)

    def keep(self, person_alive: np.ndarray, household_alive: np.ndarray,
             run: Callable | None = None) -> None:
        """Drop dead/departed persons and dissolved/departed households; renumber. ``run``
        gathers each person column: ``run(kernel, n, *args)`` calls ``kernel(lo, hi, *args)``
        over ranges covering ``0..n-1`` (in threads: :func:`sim.model.threads.parallel_for`);
        by default over all rows at once. Each row is copied alone, so the result is the
        same either way."""
        persons, households, household = _kept_rows(person_alive, household_alive,
                                                    self.household)
        names = ("age", "pid", "sex", "is_child", "job", "pflegegrad")
        if self.employment.size:
            names += self.EXTRA_PERSON_COLUMNS
        if self.risk_factor.size:
            names += self.RISK_COLUMNS
        for name in names:
            setattr(self, name, _kept(getattr(self, name), persons, run))
        self.household = _kept(household, None)
        for name in self.HOUSEHOLD_COLUMNS:
            setattr(self, name, _kept(getattr(self, name), households))

    def adults_children(self) -> tuple[np.ndarray, np.ndarray]:
        """Per household: members who are adults (not children) and children."""
        n = self.n_households
        children = np.bincount(self.household[self.is_child], minlength=n)
        return self.household_size() - children, children

    def equivalence_scale(self) -> np.ndarray:
        """New OECD scale per household (members 14+ count as adults)."""
        young = np.bincount(self.household[self.age < 14], minlength=self.n_households)
        return oecd_scale(self.household_size() - young, young)

    def add_persons(self, members: Members, pid: np.ndarray) -> None:
        """Add persons to existing households (``members.household`` are household rows)."""
        self._add_person_rows(members, members.household, pid)

    def _add_person_rows(self, members: Members, household: np.ndarray,
                         pid: np.ndarray) -> None:
        """Person rows for ``members`` in ``household`` (rows) with ids ``pid``: no job yet,
        no Pflegegrad, no employment status or potential."""
        n = members.age.size
        self.pid = _extend(self.pid, pid.astype(ID_DTYPE))
        self.age = _extend(self.age, members.age)
        self.sex = _extend(self.sex, members.sex)
        self.household = _extend(self.household, household)
        self.is_child = _extend(self.is_child, members.is_child)
        self.job = _extend(self.job, np.full(n, -2, np.int32))
        self.pflegegrad = _extend(self.pflegegrad, np.zeros(n, np.int8))
        self._extend_person_extras(n)


@dataclass
class Members:
    """Persons of a batch of households; ``household`` numbers the batch's households 0…n-1."""

    age: np.ndarray
    sex: np.ndarray
    household: np.ndarray
    is_child: np.ndarray

    @property
    def n_households(self) -> int:
        return int(self.household.max()) + 1 if self.household.size else 0

    def take(self, starts: np.ndarray, sizes: np.ndarray, chosen: np.ndarray) -> Members:
        """Copy the households ``chosen`` (by batch number, repeats allowed) into a new batch.

        Requires persons ordered by household, with ``starts``/``sizes`` their offsets.
        """
        age, sex, new_hh, is_child = _take_households(self.age, self.sex, self.is_child,
                                                      starts, sizes, chosen)
        return Members(age, sex, new_hh, is_child)


@dataclass(frozen=True)
class HouseholdView:
    """One household, for inspection (not used by the processes)."""

    index: int
    dwelling: int
    cell: int
    quartier: str
    ages: tuple[int, ...]
    sexes: tuple[str, ...]
    children: tuple[bool, ...]

    @property
    def size(self) -> int:
        return len(self.ages)


@njit(cache=True)
def _kept_rows(person_alive, household_alive, household):
    """The rows kept: of the persons (alive, in a household kept), ordered by household (the
    members of a household next to each other, in their order), and of the households, in
    their order; and the kept persons' households renumbered over the households kept."""
    n_h = household_alive.size
    new_index = np.empty(n_h, household.dtype)
    k = 0
    for h in range(n_h):
        new_index[h] = k
        k += household_alive[h]
    households = np.empty(k, np.int32)
    for h in range(n_h):
        if household_alive[h]:
            households[new_index[h]] = h
    # a stable counting sort by household: the persons added to a household during the year
    # (births, partners, in-migrants) join its other members
    start = np.zeros(k + 1, np.int64)
    for i in range(household.size):
        h = household[i]
        if person_alive[i] and household_alive[h]:
            start[new_index[h] + 1] += 1
    for h in range(k):
        start[h + 1] += start[h]
    n = start[k]
    persons = np.empty(n, np.int32)
    renumbered = np.empty(n, household.dtype)
    for i in range(household.size):
        h = household[i]
        if person_alive[i] and household_alive[h]:
            r = new_index[h]
            persons[start[r]] = i
            renumbered[start[r]] = r
            start[r] += 1
    return persons, households, renumbered


@njit(cache=True)
def _take_households(age, sex, is_child, starts, sizes, chosen):
    """The members of households ``chosen`` (repeats allowed), in that order, and their new
    household numbers (the position in ``chosen``)."""
    total = 0
    for k in range(chosen.size):
        total += sizes[chosen[k]]
    out_age = np.empty(total, age.dtype)
    out_sex = np.empty(total, sex.dtype)
    out_child = np.empty(total, is_child.dtype)
    new_hh = np.empty(total, np.int32)
    j = 0
    for k in range(chosen.size):
        c = chosen[k]
        s = starts[c]
        for r in range(s, s + sizes[c]):
            out_age[j] = age[r]
            out_sex[j] = sex[r]
            out_child[j] = is_child[r]
            new_hh[j] = k
            j += 1
    return out_age, out_sex, new_hh, out_child


# Columns with spare rows: persons and households are added several times a year, and each
# addition would otherwise copy every column to a new place in memory. A column is a view of
# the first rows of a larger buffer; an addition writes behind them. ``_USED`` holds, per
# buffer (by id), the rows in use: only the view that ends there may write behind it, so two
# populations sharing a buffer (a shallow copy) never write into each other's added rows.
# Their first rows stay shared, as a shallow copy's arrays always were: a population to be
# run on its own must be deep-copied (or pickled, as the start-state cache does).
_USED: dict[int, int] = {}
_BUFFERS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _buffer(dtype: np.dtype, rows: int) -> np.ndarray:
    """A buffer for ``rows`` rows in use and an eighth more (at least 1,024) to spare."""
    buf = np.empty(rows + rows // 8 + 1024, dtype)
    key = id(buf)
    _BUFFERS[key] = buf
    _USED[key] = rows
    weakref.finalize(buf, _USED.pop, key, None).atexit = False
    return buf


def _extend(column: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``np.concatenate([column, new])``, written behind ``column`` where its buffer has room."""
    new = np.asarray(new)
    if column.ndim != 1 or new.ndim != 1 or np.result_type(column, new) != column.dtype:
        return np.concatenate([column, new])
    n, m = column.size, new.size
    base = column.base
    key = id(base)
    if (base is None or _BUFFERS.get(key) is not base or _USED.get(key) != n
            or base.size < n + m or not column.flags.c_contiguous
            or column.dtype != base.dtype or column.ctypes.data != base.ctypes.data):
        base = _buffer(column.dtype, n + m)
        base[:n] = column
        key = id(base)
    base[n:n + m] = new
    _USED[key] = n + m
    return base[:n + m]


def _kept(column: np.ndarray, rows: np.ndarray | None,
          run: Callable | None = None) -> np.ndarray:
    """``column[rows]`` (``column`` itself without rows) in a new buffer with spare rows;
    ``run`` as in :meth:`Population.keep`."""
    n = column.size if rows is None else rows.size
    buf = _buffer(column.dtype, n)
    if rows is None:
        buf[:n] = column
    elif run is None:
        _take(0, n, column, rows, buf)
    else:
        run(_take, n, column, rows, buf)
    return buf[:n]


@njit(cache=True, nogil=True)
def _take(lo, hi, column, rows, out):
    """``out[lo:hi] = column[rows[lo:hi]]``."""
    for k in range(lo, hi):
        out[k] = column[rows[k]]


@njit(cache=True)
def household_summary(household, age, is_child, alive, n):
    """Per household, over living members: size, children, members under 14, members 65+,
    age of the oldest (one pass over the persons)."""
    size = np.zeros(n, np.int32)
    children = np.zeros(n, np.int32)
    young = np.zeros(n, np.int32)
    old = np.zeros(n, np.int32)
    oldest = np.zeros(n, np.int16)
    for i in range(household.size):
        if not alive[i]:
            continue
        h = household[i]
        a = age[i]
        size[h] += 1
        if is_child[i]:
            children[h] += 1
        if a < 14:
            young[h] += 1
        elif a >= 65:
            old[h] += 1
        if a > oldest[h]:
            oldest[h] = a
    return size, children, young, old, oldest


@njit(cache=True)
def household_adults(household, is_child, age, alive, n):
    """Per household, over living members: adults, the first and second adult (person rows,
    -1 if none), members and members under 14."""
    adults = np.zeros(n, np.int32)
    first = np.full(n, -1, np.int64)
    second = np.full(n, -1, np.int64)
    size = np.zeros(n, np.int32)
    young = np.zeros(n, np.int32)
    for i in range(household.size):
        if not alive[i]:
            continue
        h = household[i]
        size[h] += 1
        if age[i] < 14:
            young[h] += 1
        if not is_child[i]:
            if adults[h] == 0:
                first[h] = i
            elif adults[h] == 1:
                second[h] = i
            adults[h] += 1
    return adults, first, second, size, young
