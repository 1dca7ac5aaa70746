"""The GPs of the year and access to them: doctors age, retire and may get successors
(:mod:`sim.model.gp_supply`); the doctor incentive lever adds GPs to its quartier and raises
the chance that its retiring doctors find successors; MVZ doctors start when their centre opens.

Multi-modal 2SFCA (:meth:`sim.model.services.Services.update_gp`): demand is the residents by
cell and travel mode, supply the doctors working this year. A household's GP access is its
cell's access by its travel mode, as the Bedarfsplanung's Versorgungsgrad (1 = one GP per
``gp_inhabitants_per_gp`` inhabitants within reach); it weighs on dissatisfaction by life stage
(65+ most, then families).

In the start state's pass (year ``start_year - 1``) nobody ages or retires: the doctors are
those of the start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.model import gp_supply
from sim.model.metrics import count
from sim.model.threads import chunks, parallel_for, per_chunk

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.service_parameters import ServicesChoiceParameters


def health_weights(params: ServicesChoiceParameters) -> np.ndarray:
    """The weight of GP access by life stage (young, family, middle, old)."""
    return np.array([params.health_weight_other, params.health_weight_family,
                     params.health_weight_other, params.health_weight_old])


def step(model: QuartierModel, year: YearState, params: ServicesChoiceParameters,
         draws: Draws) -> dict[str, np.ndarray] | None:
    """The doctors of the year (ageing, retirement and successors, except in the start
    state; the incentive's doctors; MVZ opening), then GP access, and every household's access
    and the weight of access by its life stage. Returns the retirements and refilled seats by
    the quartier of the practice."""
    pop, city, sv = model.population, model.city, model.services
    sp = model.scenario.parameters.services
    s = year.situation
    cell, size, mode = s["cell"], s["size"], s["mode"]
    housed = s["housed"] & ~s["nursing"]
    quartier_of_cell = city.cell_quartier.astype(np.int64)
    target = None
    lever = model.scenario.levers.mvz
    if lever is not None and lever.incentive is not None:
        alive = year.person_alive & year.household_alive[pop.household]
        pc = cell[pop.household]
        old = alive & (pop.age >= 65) & housed[pop.household]
        residents_65 = np.bincount(pc[old], minlength=city.n_cells).astype(float)
        target = sv.incentive_quartier(year.year, quartier_of_cell, residents_65)
    doctors, f = sv.doctors, sv.facilities
    flows = None
    if year.year >= model.scenario.start_year:
        retired, refilled = gp_supply.age_and_retire(
            doctors, year.year, draws.key,
            gp_supply.retirement_hazards(sp.gp_active_share_ages, sp.gp_active_shares),
            sv.refill_probabilities(target), sp.gp_new_doctor_ages)
        seat_q = quartier_of_cell[f.cell[doctors.facility]]
        n_q = city.n_quartiers
        flows = {"gp_retirements": count(seat_q[retired], n_q, doctors.weight[retired]),
                 "gp_refills": count(seat_q[refilled], n_q, doctors.weight[refilled])}
        # What the incentive pays for (docs/costs.md): its new doctors and the successors
        # in its quartier.
        funded = refilled & (seat_q == target) if target is not None else refilled & False
        flows["gp_incentive_refills"] = count(seat_q[funded], n_q, doctors.weight[funded])
        added = np.zeros(n_q + 1)
        if target is not None and lever.incentive.doctors_per_year > 0:
            added[[target, n_q]] = lever.incentive.doctors_per_year
        flows["gp_incentive_doctors"] = added
    if target is not None:
        sv.add_incentive_doctors(year.year, target, quartier_of_cell, residents_65)
    opening = f.opening_year[doctors.facility] <= year.year
    gp_supply.start_practice(doctors, opening, year.year, draws.key, sp.gp_new_doctor_ages)
    sv.set_gp_capacity()
    sv.update_gp(year.year, residents_by_mode(cell, size, mode, housed, city.n_cells))
    n = cell.size
    s["gp"] = np.empty(n, np.float32)
    s["health_weight"] = np.empty(n, np.float32)
    parallel_for(_household_access, n, cell, mode, s["stage"], sv.gp_access,
                 health_weights(params).astype(np.float32), s["gp"], s["health_weight"])
    return flows


def residents_by_mode(cell: np.ndarray, size: np.ndarray, mode: np.ndarray,
                      housed: np.ndarray, n_cells: int) -> np.ndarray:
    """Residents of the ``housed`` households by (travel mode, cell), shape (3, n_cells);
    whole persons, counted per chunk of households in integers."""
    ranges = chunks(cell.size)
    counts = np.zeros((len(ranges), 3, n_cells), np.int64)
    per_chunk(_residents, ranges, cell, size, mode, housed, counts)
    return counts.sum(axis=0).astype(np.float64)


@njit(cache=True, nogil=True)
def _residents(k, lo, hi, cell, size, mode, housed, counts):
    for h in range(lo, hi):
        if housed[h]:
            counts[k, mode[h], cell[h]] += size[h]


@njit(cache=True, nogil=True)
def _household_access(lo, hi, cell, mode, stage, gp_access, weights, gp, weight):
    for h in range(lo, hi):
        gp[h] = np.float32(gp_access[mode[h], cell[h]])
        weight[h] = weights[stage[h]]
