"""Access to doctors (GPs and MVZ) from the current population; the doctor incentive lever adds
a GP where residents 65+ are worst served.

Multi-modal 2SFCA (:meth:`sim.model.services.Services.update_gp`): demand is the residents by
cell and travel mode, supply the doctors open this year. A household's GP access is its cell's
access by its travel mode, relative to the city's doctors per resident; it weighs on
dissatisfaction by life stage (65+ most, then families).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.year import YearState
    from sim.scenario.service_parameters import ServicesChoiceParameters


def health_weights(params: ServicesChoiceParameters) -> np.ndarray:
    """The weight of GP access by life stage (young, family, middle, old)."""
    return np.array([params.health_weight_other, params.health_weight_family,
                     params.health_weight_other, params.health_weight_old])


def step(model: QuartierModel, year: YearState, params: ServicesChoiceParameters,
         draws: None) -> None:
    """Add incentive doctors (if the lever acts), update GP access and give every household
    its access and the weight of access by its life stage."""
    pop, city, sv = model.population, model.city, model.services
    s = year.situation
    cell, size, mode = s["cell"], s["size"], s["mode"]
    housed = s["housed"] & ~s["nursing"]
    lever = model.scenario.levers.mvz
    if lever is not None and lever.incentive is not None:
        alive = year.person_alive & year.household_alive[pop.household]
        pc = cell[pop.household]
        old = alive & (pop.age >= 65) & housed[pop.household]
        sv.add_incentive_doctors(year.year, city.cell_quartier.astype(np.int64),
                                 np.bincount(pc[old], minlength=city.n_cells).astype(float))
    residents = np.bincount((mode.astype(np.int64) * city.n_cells + cell)[housed],
                            weights=size[housed],
                            minlength=3 * city.n_cells).reshape(3, city.n_cells)
    sv.update_gp(year.year, residents)
    s["gp"] = sv.gp_access[mode, cell].astype(np.float32)
    s["health_weight"] = health_weights(params).astype(np.float32)[s["stage"]]
