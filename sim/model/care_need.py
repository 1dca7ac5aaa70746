"""Long-term care need (Pflegebedürftigkeit): who needs care, and what kind.

Every person has three fixed random numbers (keyed to the person, so the same in every
scenario of a seed): frailty ``v``, severity ``w`` and dependence on services ``x``. A person
needs care while ``v < p(age, sex)``, the prevalence of care need at that age (so the share in
need matches the Pflegestatistik at every age, and a person once in need stays in need as
prevalence rises with age); needs a nursing home while also ``w < i(age)`` (the share of the
care-dependent in full inpatient care); otherwise needs an ambulant service while ``x < a(age)``
(the share of those cared for at home who use one), else is cared for by relatives.

Where care is given, and who leaves for lack of it, is the yearly care step
(:mod:`sim.model.processes.care`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model.rng import keyed_uniform
from sim.scenario.service_parameters import CareParameters

SLOT_FRAILTY, SLOT_SEVERITY, SLOT_SERVICE, SLOT_PRIORITY = range(4)


def _steps(bands: tuple[int, ...], values: tuple[float, ...], n_age: int) -> np.ndarray:
    out = np.zeros(n_age)
    for k, lower in enumerate(bands):
        out[min(lower, n_age):] = values[k]
    return out


def rate_tables(cp: CareParameters, max_age: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prevalence of care need by (sex, age) at the 2023 level, the inpatient share and the
    ambulant share of home care by age."""
    n_age = max_age + 1
    inp = _steps(cp.inpatient_bands, cp.inpatient_share, n_age)
    amb = _steps(cp.inpatient_bands, cp.ambulant_share_of_home, n_age)
    prev_2021 = np.stack([_steps(cp.age_bands, cp.prevalence_male, n_age),
                          _steps(cp.age_bands, cp.prevalence_female, n_age)])
    home = prev_2021 * (1.0 - inp) * cp.home_growth_2021_2023
    inpatient = prev_2021 * inp * cp.inpatient_growth_2021_2023
    prevalence = np.minimum(home + inpatient, 0.98)
    share_inpatient = np.divide(inpatient, home + inpatient, out=np.zeros_like(home),
                                where=home + inpatient > 0)
    return prevalence, share_inpatient, amb


@njit(cache=True)
def _needs(age, sex, pid, key, prevalence, share_inpatient, amb, need, inpatient, ambulant, z):
    top = prevalence.shape[1] - 1
    for i in range(age.size):
        a = min(age[i], top)
        s = sex[i]
        need[i] = keyed_uniform(key, 0, pid[i], SLOT_FRAILTY) < prevalence[s, a]
        if need[i]:
            inpatient[i] = keyed_uniform(key, 0, pid[i], SLOT_SEVERITY) < share_inpatient[s, a]
            if not inpatient[i]:
                ambulant[i] = keyed_uniform(key, 0, pid[i], SLOT_SERVICE) < amb[a]
            z[i] = keyed_uniform(key, 0, pid[i], SLOT_PRIORITY)


def needs(age: np.ndarray, sex: np.ndarray, pid: np.ndarray, key: np.uint64,
          tables: tuple[np.ndarray, np.ndarray, np.ndarray]
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per person: in care need, needs a nursing home, needs an ambulant service, and the
    service priority number ``z``."""
    prevalence, share_inpatient, amb = tables
    n = age.size
    need, inpatient, ambulant = (np.zeros(n, np.bool_) for _ in range(3))
    z = np.ones(n)
    _needs(age, sex, pid, np.uint64(key), prevalence, share_inpatient, amb, need, inpatient,
           ambulant, z)
    return need, inpatient, ambulant, z
@njit(cache=True)
def care_sums(hq, household, age, sex, pid, key, prevalence, nursing_h, reach_h, n_q):
    """Per quartier: persons, in care need, in need and at home, not in a nursing home, of
    those within reach of a GP, 65+ not in a home, of those within reach (one pass)."""
    out = np.zeros((n_q, 7))
    top = prevalence.shape[1] - 1
    for i in range(household.size):
        h = household[i]
        q = hq[h]
        home = not nursing_h[h]
        need = keyed_uniform(key, 0, pid[i], SLOT_FRAILTY) < prevalence[sex[i], min(age[i], top)]
        out[q, 0] += 1
        if need:
            out[q, 1] += 1
            if home:
                out[q, 2] += 1
        if home:
            out[q, 3] += 1
            if reach_h[h]:
                out[q, 4] += 1
            if age[i] >= 65:
                out[q, 5] += 1
                if reach_h[h]:
                    out[q, 6] += 1
    return out


