"""General practitioners as people: every doctor's seat of a GP practice or MVZ has a doctor
with an age, who ages, retires and may be followed by a new doctor (docs/ODD.md 7.13).

A GP facility's capacity (doctors) is the sum of the weights of its active seats: a seat is one
full doctor, or the fraction of a part-time doctor when a capacity is not a whole number.

- **Start ages** (doctors present at the start): drawn once with the city's layout generator
  from a histogram by age band, uniform within a band (``services.gp_start_age_edges``,
  ``gp_start_age_shares``); the same doctors in every scenario and seed of a city.
- **Retirement**: the KV Nordrhein / Westfalen-Lippe planning assumption gives the share of
  doctors still counted as active by age (100 % under 65, 50 % at 65-67, 20 % at 68-69, 0 % from
  70). Read as a survival curve S(a) of completed ages, the yearly hazard of a doctor who has
  just turned a is h(a) = 1 − S(a) / S(a − 1) (0.5 at 65, 0.6 at 68, 1 at 70, else 0), so a
  cohort of doctors keeps exactly the KV's shares at every age.
- **Refill**: a retiring doctor's seat gets a new doctor with probability
  min(1, ``gp_refill_probability`` × the quartier's ``doctors`` service level), raised by the
  incentive lever in its quartier and years; else the seat stays empty for good. A new doctor's
  age is uniform over ``gp_new_doctor_ages``.

Every draw is keyed to the doctor's id (stream ``doctors``): two scenarios run with the same
seed give the same doctor the same retirement, refill and successor (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.model.rng import derived_ids, keyed_uniforms, stream_key

# Slots of the keyed draws of one doctor and year (see sim.model.rng).
SLOT_RETIRE, SLOT_REFILL, SLOT_AGE = 0, 1, 2
# Ids: successors and lever doctors get ids derived from a parent id and a slot with this key
# (a constant, so that ids are the same in every run; the draws use the run's key).
ID_KEY = np.uint64(stream_key("doctor ids"))
MVZ_TAG, INCENTIVE_TAG = np.uint64(1 << 40), np.uint64(1 << 41)
MAX_AGE = 120
NO_AGE = -1  # a doctor whose practice has not opened yet


def seat_weights(capacity: float) -> np.ndarray:
    """The seats of a facility of ``capacity`` doctors: whole doctors and, for a fractional
    capacity, one part-time seat with the rest."""
    whole = int(np.floor(capacity + 1e-9))
    rest = capacity - whole
    return np.r_[np.ones(whole), [rest] if rest > 1e-9 else []]


@dataclass
class Doctors:
    """The GPs' seats, one row per seat (rows are never removed: an empty seat is inactive).

    Attributes:
        id: The current doctor's id (for keyed draws).
        facility: Row of the seat's facility in :class:`sim.model.services.Facilities`.
        weight: 1, or the part of a doctor of a part-time seat.
        age: Completed years at the end of the last simulated year; ``NO_AGE`` until the
            facility opens.
        active: The seat has a doctor.
    """

    id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    facility: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    weight: np.ndarray = field(default_factory=lambda: np.zeros(0))
    age: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    active: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def add(self, ids: np.ndarray, facility: np.ndarray, weight: np.ndarray,
            age: np.ndarray) -> None:
        """Append active seats."""
        self.id = np.r_[self.id, np.asarray(ids, np.uint64)]
        self.facility = np.r_[self.facility, np.asarray(facility, np.int64)]
        self.weight = np.r_[self.weight, np.asarray(weight, float)]
        self.age = np.r_[self.age, np.asarray(age, np.int64)]
        self.active = np.r_[self.active, np.ones(len(weight), bool)]

    def capacity(self, n_facilities: int) -> np.ndarray:
        """Doctors per facility row (active seats' weights)."""
        return np.bincount(self.facility, weights=self.weight * self.active,
                           minlength=n_facilities)


def lever_ids(tag: np.uint64, group: int, n: int, slot: int) -> np.ndarray:
    """Ids of ``n`` doctors a lever brings (``group``: the MVZ centre; ``slot``: the year)."""
    parents = tag + np.uint64(group) * np.uint64(1000) + np.arange(n, dtype=np.uint64)
    return derived_ids(ID_KEY, parents, slot)


def draw_start_ages(rng: np.random.Generator, n: int, edges: tuple[int, ...],
                    shares: tuple[float, ...]) -> np.ndarray:
    """``n`` completed ages: a band with probability ``shares``, uniform within the band's
    whole years ``edges[b] … edges[b + 1] − 1``."""
    p = np.asarray(shares, float)
    band = rng.choice(p.size, size=n, p=p / p.sum())
    lo, hi = np.asarray(edges)[band], np.asarray(edges)[band + 1]
    return lo + np.floor(rng.random(n) * (hi - lo)).astype(np.int64)


def start_age_moments(edges: tuple[int, ...], shares: tuple[float, ...]) -> dict[str, float]:
    """Mean age and the shares aged 60+ and 65+ of the start distribution (exact)."""
    p = np.asarray(shares, float) / np.sum(shares)
    out = {"mean": 0.0, "60plus": 0.0, "65plus": 0.0}
    for b in range(p.size):
        ages = np.arange(edges[b], edges[b + 1])
        out["mean"] += p[b] * ages.mean()
        out["60plus"] += p[b] * (ages >= 60).mean()
        out["65plus"] += p[b] * (ages >= 65).mean()
    return out


def survival(ages: tuple[int, ...], shares: tuple[float, ...]) -> np.ndarray:
    """S(a), a = 0 … MAX_AGE: the share still active at completed age a (1 before the first
    of ``ages``, ``shares[i]`` from ``ages[i]`` on)."""
    s = np.ones(MAX_AGE + 1)
    for a, share in zip(ages, shares, strict=True):
        s[a:] = share
    return s


def retirement_hazards(ages: tuple[int, ...], shares: tuple[float, ...]) -> np.ndarray:
    """h(a) = 1 − S(a) / S(a − 1): the probability that a doctor active at a − 1 retires on
    turning a (1 where S(a − 1) = 0: nobody is active there)."""
    s = survival(ages, shares)
    prev = np.r_[1.0, s[:-1]]
    return np.where(prev > 0, 1.0 - s / np.where(prev > 0, prev, 1.0), 1.0)


def new_ages(u: np.ndarray, ages: tuple[int, int]) -> np.ndarray:
    """New doctors' completed ages from uniforms: uniform over ``ages[0] … ages[1]``."""
    lo, hi = ages
    return lo + np.minimum(np.floor(u * (hi - lo + 1)), hi - lo).astype(np.int64)


def age_and_retire(doctors: Doctors, year: int, key: np.uint64, hazard: np.ndarray,
                   refill_probability: np.ndarray, new_doctor_ages: tuple[int, int]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """One year of the doctors already in practice (active, with an age): each turns a year
    older, retires with the hazard of the new age, and a retiring doctor's seat gets a new
    doctor with ``refill_probability`` (per seat). The successor's id derives from the
    retiring doctor's id and the year, its age from ``new_doctor_ages``.

    Returns the seats whose doctor retired and those refilled (boolean masks).
    """
    working = doctors.active & (doctors.age >= 0)
    rows = np.flatnonzero(working)
    ids = doctors.id[rows]
    doctors.age[rows] += 1
    u_retire = keyed_uniforms(key, year, ids, SLOT_RETIRE)
    retire = u_retire < hazard[np.minimum(doctors.age[rows], MAX_AGE)]
    retired = np.zeros(doctors.id.size, bool)
    retired[rows[retire]] = True
    leaving = rows[retire]
    u_refill = keyed_uniforms(key, year, doctors.id[leaving], SLOT_REFILL)
    refill = u_refill < refill_probability[leaving]
    refilled = np.zeros(doctors.id.size, bool)
    refilled[leaving[refill]] = True
    successors = leaving[refill]
    old_ids = doctors.id[successors]
    doctors.age[successors] = new_ages(keyed_uniforms(key, year, old_ids, SLOT_AGE),
                                       new_doctor_ages)
    doctors.id[successors] = derived_ids(ID_KEY, old_ids, year)
    doctors.active[leaving[~refill]] = False
    return retired, refilled


def start_practice(doctors: Doctors, opening: np.ndarray, year: int, key: np.uint64,
                   new_doctor_ages: tuple[int, int]) -> None:
    """Ages of the doctors of practices opening in ``year`` (``opening``: per seat), drawn
    from ``new_doctor_ages`` with their own keyed numbers."""
    rows = np.flatnonzero(opening & (doctors.age == NO_AGE))
    doctors.age[rows] = new_ages(keyed_uniforms(key, year, doctors.id[rows], SLOT_AGE),
                                 new_doctor_ages)
