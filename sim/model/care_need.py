"""Long-term care need (Pflegebedürftigkeit): who needs care, in which Pflegegrad, and what kind.

Every person has five fixed random numbers (keyed to the person, so the same in every scenario
of a seed): frailty ``v``, severity ``w``, dependence on services ``x``, service priority ``z``
and a rank offset ``j``. Each year (:func:`assign_grades`), among the living persons of one
sex and single age, those with the lowest ``v`` are in care need, as many as the prevalence
p(age, sex) says; the needy of that age are ranked by ``v`` and split into Pflegegrad 5 (lowest
``v``) down to 1 by the grade shares. A person's grade thus starts low (onset happens at the
top of the needy ranks as prevalence rises with age) and rises as the more frail of the cohort
die before them (progression); higher grades die more often (:mod:`sim.model.processes.mortality`).

The setting follows the grade and age: a person needs a nursing home while ``w`` is below the
inpatient share of the grade at that age and sex, otherwise an ambulant service while ``x`` is
below the ambulant share of the grade at that age, else is cared for by relatives. Both shares
are logistic in age and grade: the grade's odds ratios (NRW 2021), shifted at each age so that
the share over all grades is the age's share (:func:`rate_tables`).

Where care is given, and who leaves for lack of it, is the yearly care step
(:mod:`sim.model.processes.care`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.model import threads
from sim.model.rng import keyed_base, uniform_from
from sim.scenario.care_grade_parameters import CareGradeParameters
from sim.scenario.service_parameters import CareParameters

SLOT_FRAILTY, SLOT_SEVERITY, SLOT_SERVICE, SLOT_PRIORITY, SLOT_RANK = range(5)
GRADES = 5


@dataclass
class CareTables:
    """Rates of the care model.

    Attributes:
        prevalence: share in care need, ``[sex, age]`` (2023 level).
        inpatient: share needing a nursing home, ``[sex, age, grade]`` (grade 0 unused).
        ambulant: share needing an ambulant service among those at home, ``[sex, age, grade]``.
        grade_cut: cumulative grade shares from Pflegegrad 5 down (5 numbers, the last 1).
    """

    prevalence: np.ndarray
    inpatient: np.ndarray
    ambulant: np.ndarray
    grade_cut: np.ndarray


def _steps(bands: tuple[int, ...], values: tuple[float, ...], n_age: int) -> np.ndarray:
    out = np.zeros(n_age)
    for k, lower in enumerate(bands):
        out[min(lower, n_age):] = values[k]
    return out


def _logit(p):
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _by_grade(target: np.ndarray, weights: np.ndarray, by_grade: tuple[float, ...]
              ) -> np.ndarray:
    """Shares per grade ``expit(c + logit(by_grade))``, with c per entry of ``target`` chosen
    (bisection) so that the ``weights``-weighted mean over the grades equals ``target``."""
    offset = _logit(np.asarray(by_grade))
    w = weights / weights.sum(axis=-1, keepdims=True)
    lo = np.full(target.shape, -30.0)
    hi = np.full(target.shape, 30.0)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        mean = (w / (1.0 + np.exp(-(mid[..., None] + offset)))).sum(axis=-1)
        low = mean < target
        lo = np.where(low, mid, lo)
        hi = np.where(low, hi, mid)
    share = 1.0 / (1.0 + np.exp(-(0.5 * (lo + hi))[..., None] - offset))
    out = np.zeros(target.shape + (GRADES + 1,))
    out[..., 1:] = np.where(target[..., None] > 0, share, 0.0)
    return out


def rate_tables(cp: CareParameters, cg: CareGradeParameters, max_age: int) -> CareTables:
    """Prevalence of care need by (sex, age) at the 2023 level, and the inpatient and ambulant
    shares by (sex, age, grade)."""
    n_age = max_age + 1
    inp = _steps(cp.inpatient_bands, cp.inpatient_share, n_age)
    amb = _steps(cp.inpatient_bands, cp.ambulant_share_of_home, n_age)
    amb = np.minimum(amb * cg.ambulant_growth_2021_2023 / cp.home_growth_2021_2023, 0.99)
    prev_2021 = np.stack([_steps(cp.age_bands, cp.prevalence_male, n_age),
                          _steps(cp.age_bands, cp.prevalence_female, n_age)])
    home = prev_2021 * (1.0 - inp) * cp.home_growth_2021_2023
    inpatient = prev_2021 * inp * cp.inpatient_growth_2021_2023
    prevalence = np.minimum(home + inpatient, 0.98)
    share_inpatient = np.divide(inpatient, home + inpatient, out=np.zeros_like(home),
                                where=home + inpatient > 0)
    mix = np.asarray(cg.grade_shares)
    inp_g = _by_grade(share_inpatient, np.broadcast_to(mix, share_inpatient.shape + (GRADES,)),
                      cg.inpatient_share_by_grade)
    at_home = mix * (1.0 - inp_g[..., 1:])
    amb_g = _by_grade(np.broadcast_to(amb, share_inpatient.shape).copy(), at_home,
                      cg.ambulant_share_by_grade)
    cut = np.cumsum(mix[::-1])
    cut[-1] = 1.0
    return CareTables(prevalence, inp_g, amb_g, cut)


@njit(cache=True, nogil=True)
def _cells(k, lo, hi, age, sex, alive, household, household_alive, n_age, cell, n_in):
    """Each person's (sex, age) cell (-1: not alive), counted per cell in row ``k``."""
    for i in range(lo, hi):
        if alive[i] and household_alive[household[i]]:
            c = sex[i] * n_age + min(age[i], n_age - 1)
            cell[i] = c
            n_in[k, c] += 1
        else:
            cell[i] = -1


@njit(cache=True, nogil=True)
def _below(k, lo, hi, cell, need, bound, pid, key, cand, cand_v, n_low):
    """The persons of cells still in need whose frailty is below the cell's bound, with their
    frailty, in row order from ``lo``; counted per cell in row ``k`` of ``n_low``."""
    j = lo
    for i in range(lo, hi):
        c = cell[i]
        if c < 0 or need[c] == 0:
            continue
        v = uniform_from(keyed_base(key, 0, pid[i]), SLOT_FRAILTY)
        if v < bound[c]:
            cand[j] = i
            cand_v[j] = v
            n_low[k, c] += 1
            j += 1


@njit(cache=True, nogil=True)
def _by_cell(k, lo, hi, cell, cand, cand_v, fill, members, mv):
    """Chunk ``k``'s candidates (``lo..hi-1``) to their cells' places from ``fill[k]``."""
    for j in range(lo, hi):
        c = cell[cand[j]]
        members[fill[k, c]] = cand[j]
        mv[fill[k, c]] = cand_v[j]
        fill[k, c] += 1


@njit(cache=True, nogil=True)
def _rank(k, lo, hi, need, start, members, mv, pid, key, cut, bound, grade, short):
    """Cells ``lo..hi-1``: the ``need[c]`` candidates of lowest frailty get their grades by
    rank; a cell with fewer candidates is marked ``short`` and its bound opened to all."""
    for c in range(lo, hi):
        m = need[c]
        if m == 0:
            continue
        first = start[c]
        n_c = start[c + 1] - first
        if n_c < m:
            short[c] = True
            bound[c] = 2.0  # next attempt: every person of the cell
            continue
        order = np.argsort(mv[first:first + n_c])
        for r in range(m):
            i = members[first + order[r]]
            s = (r + uniform_from(keyed_base(key, 0, pid[i]), SLOT_RANK)) / m
            g = 5
            for j in range(cut.size):
                if s < cut[j]:
                    break
                g -= 1
            grade[i] = max(g, 1)
        need[c] = 0  # done


def _grades(age, sex, pid, alive, household, household_alive, key, prevalence, cut,
            spread=4.0):
    """Pflegegrad per person: per (sex, age) cell, the m lowest frailty numbers ``v``.

    ``v`` is uniform, so the m lowest of a cell lie below a bound a few standard deviations
    above p (``spread`` of them); only persons below it are kept and sorted (a cell with too
    few below its bound takes all its persons). Persons in chunks of rows, cells in ranges of
    about equal candidates, in threads: each cell's candidates keep their row order, so the
    grades are those of one thread."""
    n_age = prevalence.shape[1]
    n_cells = 2 * n_age
    n = age.size
    ranges = threads.chunks(n)
    cell = np.empty(n, np.int64)
    n_in = np.zeros((len(ranges), n_cells), np.int64)
    threads.per_chunk(_cells, ranges, age, sex, alive, household, household_alive, n_age, cell,
                      n_in)
    need, bound = _needs(prevalence, n_in.sum(axis=0), spread)
    grade = np.zeros(n, np.int8)
    cand = np.empty(n, np.int64)
    cand_v = np.empty(n)
    for _attempt in range(2):
        # attempt 0: persons below their cell's bound; attempt 1: cells short of that
        n_low = np.zeros((len(ranges), n_cells), np.int64)
        threads.per_chunk(_below, ranges, cell, need, bound, pid, key, cand, cand_v, n_low)
        per_cell = n_low.sum(axis=0)
        start = np.zeros(n_cells + 1, np.int64)
        np.cumsum(per_cell, out=start[1:])
        fill = start[:-1] + np.cumsum(n_low, axis=0) - n_low  # chunk k's first place per cell
        members = np.empty(start[-1], np.int64)
        mv = np.empty(start[-1])
        found = [(lo, lo + int(n_low[k].sum())) for k, (lo, _) in enumerate(ranges)]
        threads.per_chunk(_by_cell, found, cell, cand, cand_v, fill, members, mv)
        short = np.zeros(n_cells, np.bool_)
        threads.per_chunk(_rank, threads.balanced(start), need, start, members, mv, pid, key, cut,
                          bound, grade, short)
        if not short.any():
            break
    return grade


@njit(cache=True)
def _needs(prevalence, n_in, spread):
    """Persons in care need per cell (round(p × n)) and the frailty bound of its candidates."""
    n_age = prevalence.shape[1]
    need = np.zeros(n_in.size, np.int64)
    bound = np.zeros(n_in.size)
    for c in range(n_in.size):
        p = prevalence[c // n_age, c % n_age]
        need[c] = int(np.floor(p * n_in[c] + 0.5))
        if need[c] > 0:
            bound[c] = p + spread * np.sqrt(p * (1.0 - p) / n_in[c]) + 2.0 / n_in[c]
    return need, bound


def assign_grades(age: np.ndarray, sex: np.ndarray, pid: np.ndarray, alive: np.ndarray,
                  key: np.uint64, tables: CareTables, household: np.ndarray | None = None,
                  household_alive: np.ndarray | None = None) -> np.ndarray:
    """Pflegegrad (0 = no care need, 1-5) of every person; 0 for persons not ``alive`` (or
    whose ``household`` is not ``household_alive``, if given).

    Among the living persons of one sex and single age, the round(p × n) with the lowest
    frailty ``v`` are in care need; the needy are split into grades 5 … 1 by their rank k
    (0 = lowest ``v``) among the m needy: Pflegegrad 5 while (k + j) / m is below the share of
    PG5, and so on, with j a fifth fixed number per person (unbiased grade shares however
    small the age group)."""
    if household is None:
        household, household_alive = np.zeros(age.size, np.int32), np.ones(1, np.bool_)
    return _grades(age, sex, pid, alive, household, household_alive, np.uint64(key),
                   tables.prevalence, tables.grade_cut, 4.0)


@njit(cache=True)
def _settings(age, sex, pid, grade, key, inpatient, ambulant, inp, amb, z):
    top = inpatient.shape[1] - 1
    for i in range(age.size):
        g = grade[i]
        if g == 0:
            continue
        a = min(age[i], top)
        s = sex[i]
        base = keyed_base(key, 0, pid[i])
        inp[i] = uniform_from(base, SLOT_SEVERITY) < inpatient[s, a, g]
        if not inp[i]:
            amb[i] = uniform_from(base, SLOT_SERVICE) < ambulant[s, a, g]
        z[i] = uniform_from(base, SLOT_PRIORITY)


def settings(age: np.ndarray, sex: np.ndarray, pid: np.ndarray, grade: np.ndarray,
             key: np.uint64, tables: CareTables
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per person with a grade: needs a nursing home, needs an ambulant service, and the
    service priority number ``z`` (1 for persons without care need)."""
    n = age.size
    inp, amb = np.zeros(n, np.bool_), np.zeros(n, np.bool_)
    z = np.ones(n)
    _settings(age, sex, pid, grade, np.uint64(key), tables.inpatient, tables.ambulant,
              inp, amb, z)
    return inp, amb, z


@njit(cache=True)
def care_sums(hq, household, age, sex, pid, grade, key, inpatient, ambulant, nursing_h,
              reach_h, amb_access_h, n_q):
    """Per quartier (of the dwelling): persons, in care need, in need and at home, not in a
    nursing home, of those within reach of a GP, 65+ not in a home, of those within reach;
    persons in Pflegegrad 1-5; the care-dependent cared for by relatives only, with an
    ambulant service, in a nursing home (one pass)."""
    out = np.zeros((n_q, 15))
    top = ambulant.shape[1] - 1
    for i in range(household.size):
        h = household[i]
        q = hq[h]
        home = not nursing_h[h]
        g = grade[i]
        out[q, 0] += 1
        if g > 0:
            out[q, 1] += 1
            out[q, 6 + g] += 1
            if home:
                out[q, 2] += 1
                base = keyed_base(key, 0, pid[i])
                a = min(age[i], top)
                if (uniform_from(base, SLOT_SEVERITY) >= inpatient[sex[i], a, g]
                        and uniform_from(base, SLOT_SERVICE) < ambulant[sex[i], a, g]
                        and uniform_from(base, SLOT_PRIORITY) < amb_access_h[h]):
                    out[q, 13] += 1
                else:
                    out[q, 12] += 1
            else:
                out[q, 14] += 1
        if home:
            out[q, 3] += 1
            if reach_h[h]:
                out[q, 4] += 1
            if age[i] >= 65:
                out[q, 5] += 1
                if reach_h[h]:
                    out[q, 6] += 1
    return out


SETTING_NAMES = ("none", "relatives", "ambulant", "nursing_home")


def person_settings(model) -> tuple[np.ndarray, np.ndarray]:
    """Per person of the model's current state: Pflegegrad and setting (index into
    :data:`SETTING_NAMES`), by the rules of the ``care_*`` metrics."""
    from sim.state.city import in_nursing_home

    pop, city, sv = model.population, model.city, model.services
    tables = model.care.tables
    grade = pop.pflegegrad
    inp, amb, z = settings(pop.age, pop.sex, pop.pid, grade, model.keys["care"], tables)
    nursing = in_nursing_home(pop.dwelling, city)[pop.household]
    cell = city.dwelling_cell[np.maximum(pop.dwelling, 0)[pop.household]].astype(np.int64)
    served = amb & ~inp & (z < sv.ambulant_access[cell])
    setting = np.where(grade == 0, 0, np.where(nursing, 3, np.where(served, 2, 1)))
    return grade, setting.astype(np.int8)
