"""The households' situation at the start of the move season.

For every living household: its size and members (children, under-14s, 65+, the oldest), its
net income (equivalised income × the new OECD scale), whether it is housed (and in a nursing
home), its cell, tenure and rent burden (gross cold rent / net income, tenants only), its WBS
eligibility, income group, origin, life stage and the adequate floor space for its size; every
dwelling's monthly cost as let now and if let anew. And every person's role this year: pupil of
a primary or secondary school, or employed (by the employment status,
:mod:`sim.model.processes.employment`).

Everything the move season knows is computed once here and in the access steps that follow, and
not updated while searchers choose (docs/ODD.md, section 3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.housing import wbs_eligible
from sim.model.mobility import life_stage, space_norm
from sim.model.processes.jobs import person_roles
from sim.state.city import NURSING, SOCIAL, rented
from sim.state.income import income_group, oecd_scale
from sim.state.population import household_summary

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.parameters import MobilityParameters


def step(model: QuartierModel, year: YearState, params: MobilityParameters,
         draws: Draws) -> None:
    """Fill ``year.situation`` for the living households (and the persons' roles)."""
    pop, city = model.population, model.city
    person_alive, household_alive = year.person_alive, year.household_alive
    n = pop.n_households
    alive_p = person_alive & household_alive[pop.household]
    size, children, young, old, oldest = household_summary(
        pop.household, pop.age, pop.is_child, alive_p, n)
    net = np.maximum(pop.income * oecd_scale(size - young, young), 1.0)
    del young
    housed = household_alive & (pop.dwelling >= 0)
    d = np.where(housed, pop.dwelling, 0)
    cost, relet = dwelling_costs(model)
    tenant = housed & rented(city.dwelling_tenure[d])
    group = income_group(pop.income, model.median_income)
    nursing = housed & (city.dwelling_tenure[d] == NURSING)
    sp = model.scenario.parameters.services
    (lo1, hi1), (lo2, hi2) = sp.primary_school_ages, sp.secondary_school_ages
    primary, secondary, workers = person_roles(
        pop.household, pop.age, pop.employment, person_alive, housed & ~nursing, lo1, hi1,
        lo2, hi2)
    year.situation = {
        "size": size, "children": children, "old": old, "net_income": net,
        "wbs": wbs_eligible(net, size, children, model.scenario.parameters.housing,
                            model.income_index),
        "stage": life_stage(oldest, children), "housed": housed, "nursing": nursing,
        "dwelling": d, "cell": city.dwelling_cell[d].astype(np.int64),
        "burden": np.where(tenant, cost[d] / net, 0.0), "group": group,
        "origin": pop.migration_background, "norm": space_norm(size, params), "cost": cost,
        "relet_cost": relet, "alive_p": person_alive, "pupils": (primary, secondary),
        "workers": workers,
    }


def dwelling_costs(model: QuartierModel) -> tuple[np.ndarray, np.ndarray]:
    """Monthly gross cold rent of every dwelling as let now, and if let anew (private
    dwellings at the cell's re-letting level, social ones at their bound rent)."""
    city = model.city
    op = model.market.operating_costs_m2
    floor = city.dwelling_floor_space.astype(np.float64)
    cost = floor * (city.dwelling_rent_m2 + op)
    relet_m2 = np.where(city.dwelling_tenure == SOCIAL, city.dwelling_rent_m2,
                        city.cell_rent_m2[city.dwelling_cell])
    return cost, floor * (relet_m2 + op)
