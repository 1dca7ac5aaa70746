"""Households and persons as numpy columns (struct of arrays).

Persons and households are rows in parallel arrays; a person's ``household`` is the row of its
household. There is no Python object per agent: processes work on whole columns at once. A
:class:`HouseholdView` gives one household's attributes for inspection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AGE_DTYPE = np.int16
SEX_DTYPE = np.int8
IDX_DTYPE = np.int32


@dataclass
class Population:
    """The people of the city.

    Person columns (one row per person):
        age: completed years.
        sex: 0 male, 1 female.
        household: row of the person's household.
        is_child: lives in the parental home as a child of the household's adults.

    Household columns (one row per household):
        dwelling: index of the dwelling the household occupies.
    """

    age: np.ndarray
    sex: np.ndarray
    household: np.ndarray
    is_child: np.ndarray
    dwelling: np.ndarray

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
                                      self.dwelling))

    def append(self, members: Members, dwellings: np.ndarray) -> np.ndarray:
        """Add whole households; returns the new households' rows."""
        first = self.n_households
        self.age = np.concatenate([self.age, members.age])
        self.sex = np.concatenate([self.sex, members.sex])
        self.household = np.concatenate(
            [self.household, (members.household + first).astype(IDX_DTYPE)]
        )
        self.is_child = np.concatenate([self.is_child, members.is_child])
        self.dwelling = np.concatenate([self.dwelling, dwellings.astype(IDX_DTYPE)])
        return np.arange(first, self.n_households)

    def keep(self, person_alive: np.ndarray, household_alive: np.ndarray) -> None:
        """Drop dead/departed persons and dissolved/departed households; renumber."""
        person_alive = person_alive & household_alive[self.household]
        new_index = np.cumsum(household_alive, dtype=np.int64) - 1
        self.age = self.age[person_alive]
        self.sex = self.sex[person_alive]
        self.is_child = self.is_child[person_alive]
        self.household = new_index[self.household[person_alive]].astype(IDX_DTYPE)
        self.dwelling = self.dwelling[household_alive]

    def add_persons(self, members: Members) -> None:
        """Add persons to existing households (``members.household`` are household rows)."""
        self.age = np.concatenate([self.age, members.age])
        self.sex = np.concatenate([self.sex, members.sex])
        self.household = np.concatenate([self.household, members.household])
        self.is_child = np.concatenate([self.is_child, members.is_child])


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
        sz = sizes[chosen]
        total = int(sz.sum())
        new_hh = np.repeat(np.arange(chosen.size, dtype=IDX_DTYPE), sz)
        offset = np.arange(total) - np.repeat(np.cumsum(sz) - sz, sz)
        rows = np.repeat(starts[chosen], sz) + offset
        return Members(self.age[rows], self.sex[rows], new_hh, self.is_child[rows])


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
