"""A real city's start state against its census, per quartier (Stadtteil).

:func:`model_by_quartier` aggregates a freshly built model; :func:`census_by_quartier` the
census grids as the files give them, independently of the model's cell targets: the 1 km
attributes are spread over the 100 m cells by their published dwellings (those with at least
one), and every 100 m cell goes to the quartier holding its centre. The model's foreigners are
its persons with a migration background over ``migration_background_per_foreigner``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.inputs.census import read_census
from sim.inputs.realpopulation import MIGRATION_BACKGROUND_PER_FOREIGNER
from sim.model.segregation import dissimilarity, morans_i
from sim.state.city import NURSING

COLUMNS = ("persons", "households", "under18", "age65", "foreign", "household_size",
           "vacancy", "floor_per_resident")


def _factor(model) -> float:
    return model.scenario.city.migration_background_per_foreigner or \
        MIGRATION_BACKGROUND_PER_FOREIGNER


def model_by_quartier(model, private_only: bool = False) -> pd.DataFrame:
    """Persons, households and the shares of the census per quartier of the model's state.

    Households in nursing homes count in the nursing home's quartier (with ``private_only``
    they are left out of the persons and shares); vacancy and floor space are those of the
    housing market's dwellings (nursing places excluded).
    """
    pop, city = model.population, model.city
    n_q = city.n_quartiers
    hq = city.dwelling_quartier[pop.dwelling]
    size = pop.household_size().astype(float)
    if private_only:  # a quartier index past the last leaves them out of every count
        hq = np.where(city.dwelling_tenure[pop.dwelling] == NURSING, n_q, hq)
    pq = hq[pop.household]
    age = pop.age.astype(int)
    n_q_all = n_q + 1 if private_only else n_q
    persons = np.bincount(pq, minlength=n_q_all).astype(float)[:n_q]
    households = np.bincount(hq, minlength=n_q_all).astype(float)[:n_q]
    background = np.bincount(hq, weights=size * pop.migration_background,
                             minlength=n_q_all)[:n_q]
    market = city.dwelling_tenure != NURSING
    occupied = np.zeros(city.n_dwellings, bool)
    occupied[pop.dwelling] = True
    dq = city.dwelling_quartier
    stock = np.bincount(dq[market], minlength=n_q)
    vacant = np.bincount(dq[market & ~occupied], minlength=n_q)
    at_home = market[pop.dwelling] & (hq < n_q)
    floor = np.bincount(hq[at_home], weights=city.dwelling_floor_space[pop.dwelling[at_home]],
                        minlength=n_q)
    persons_home = np.bincount(hq[at_home], weights=size[at_home], minlength=n_q)
    return pd.DataFrame({
        "quartier": city.quartier_ids(), "name": [q.name for q in city.quartiers],
        "persons": persons, "households": households,
        "under18": np.bincount(pq, weights=age < 18, minlength=n_q_all)[:n_q] / persons,
        "age65": np.bincount(pq, weights=age >= 65, minlength=n_q_all)[:n_q] / persons,
        "foreign": background / _factor(model) / persons,
        "household_size": np.bincount(hq[at_home], weights=size[at_home], minlength=n_q)
        / np.bincount(hq[at_home], minlength=n_q),
        "vacancy": vacant / stock, "floor_per_resident": floor / persons_home,
    })


def census_by_quartier(city, census_files: list) -> pd.DataFrame:
    """The census aggregated to the city's quartiers straight from the grid files."""
    from sim.inputs.realcity import FLOOR_PREFIX, FOREIGN, KM, VACANT, _assign_cells, _grid

    census = pd.concat([read_census(f) for f in census_files], ignore_index=True)
    real = city.real
    grid = _grid(real.outline)
    assert grid["width"] == city.width and grid["origin_x"] == city.origin_x
    quartier = _assign_cells(grid, real.quartiers)
    km = census[census["resolution"] == KM].pivot_table(
        index=["x", "y"], columns="attribute", values="value", aggfunc="first", dropna=False)
    frac = census[census["resolution"] == KM].groupby(["x", "y"])["frac_in_city"].first() \
        if "frac_in_city" in census.columns else None
    hm = census[census["resolution"] == 100]
    col = (hm["x"].to_numpy() - city.origin_x) // 100
    row = (hm["y"].to_numpy() - city.origin_y) // 100
    hm = hm.assign(cell=(row * city.width + col).astype(np.int64))
    dwell = hm[hm["attribute"].str.startswith(FLOOR_PREFIX)].groupby("cell")["value"].sum()
    vacant = hm[hm["attribute"] == VACANT].groupby("cell")["value"].sum()
    cells = pd.DataFrame({"dwellings": dwell})
    cells["vacant_published"] = vacant.reindex(cells.index)
    cells["quartier"] = quartier[cells.index.to_numpy()]
    cells = cells[(cells["quartier"] >= 0) & (cells["dwellings"] > 0)]
    x = city.origin_x + (cells.index.to_numpy() % city.width) * 100 + 50
    y = city.origin_y + (cells.index.to_numpy() // city.width) * 100 + 50
    key = pd.MultiIndex.from_arrays([x // KM * KM + KM // 2, y // KM * KM + KM // 2])
    for name in ("Einwohner", "unter18_A", "ab65_A", "Auslaender_A", "HHGroesse_D",
                 "Leerstandsquote", "Wohnfl_Bew_D"):
        cells[name] = km[name].reindex(key).to_numpy()
    rate = cells["Leerstandsquote"].fillna(km["Leerstandsquote"].mean()) / 100
    cells["vacant"] = cells["vacant_published"].fillna(
        np.minimum(2.0, rate * cells["dwellings"]))
    occupied = (cells["dwellings"] - cells["vacant"]).clip(lower=0)
    km_id = pd.Series(list(zip(key.get_level_values(0), key.get_level_values(1), strict=True)),
                      index=cells.index)
    km_pop = km["Einwohner"] * (frac.reindex(km.index) if frac is not None else 1.0)
    share = occupied / occupied.groupby(km_id).transform("sum")
    cells["persons"] = share * km_pop.reindex(key).to_numpy()
    # Foreigners: the published 100 m counts, the rest of each 1 km cell's by persons.
    published = hm[hm["attribute"] == FOREIGN].groupby("cell")["value"].sum().reindex(
        cells.index)
    known = np.minimum(published, cells["persons"])
    km_foreign = cells["persons"] * cells["Auslaender_A"].fillna(
        km["Auslaender_A"].mean()) / 100
    rest = (km_foreign.groupby(km_id).transform("sum")
            - known.fillna(0).groupby(km_id).transform("sum")).clip(lower=0)
    others = cells["persons"].where(known.isna(), 0.0)
    cells["foreigners"] = known.fillna(
        (rest * others / others.groupby(km_id).transform("sum")).clip(upper=cells["persons"]))
    out = []
    for q, part in cells.groupby("quartier"):
        p = part["persons"]
        fill = {c: part[c].fillna(np.average(km[c].dropna(), weights=None))
                for c in ("unter18_A", "ab65_A", "Auslaender_A", "HHGroesse_D",
                          "Wohnfl_Bew_D")}
        out.append({
            "quartier": city.quartiers[int(q)].id, "persons": p.sum(),
            "households": (p / fill["HHGroesse_D"]).sum(),
            "under18": np.average(fill["unter18_A"], weights=p) / 100,
            "age65": np.average(fill["ab65_A"], weights=p) / 100,
            "foreign": part["foreigners"].sum() / p.sum(),
            "household_size": p.sum() / (p / fill["HHGroesse_D"]).sum(),
            "vacancy": part["vacant"].sum() / part["dwellings"].sum(),
            "floor_per_resident": np.average(fill["Wohnfl_Bew_D"], weights=p),
        })
    return pd.DataFrame(out)


def population_scale(scenario) -> float:
    """The share of the census's households a run of ``scenario`` simulates: 1 for the whole
    city and for cities not built from files; less when ``city.households`` makes a smaller
    copy of a real city (every cell scaled alike, see :mod:`sim.inputs.realcity`)."""
    if scenario.city.kind != "files" or scenario.city.households is None:
        return 1.0
    from sim.inputs.realcity import build_real_city

    return float(build_real_city(scenario).real.scale)


def compare(model, census: pd.DataFrame) -> pd.DataFrame:
    """Per quartier: model, census and the difference of each column of :data:`COLUMNS`."""
    m = model_by_quartier(model).set_index("quartier")
    c = census.set_index("quartier").reindex(m.index)
    out = pd.DataFrame({"name": m["name"]})
    for column in COLUMNS:
        out[f"{column}_model"] = m[column]
        out[f"{column}_census"] = c[column]
        out[f"{column}_diff"] = m[column] - c[column]
    return out.reset_index()


def foreign_dissimilarity_model(model) -> float:
    """D of foreigners vs the rest over quartiers in the model (see the module doc)."""
    m = model_by_quartier(model)
    foreigners = (m["foreign"] * m["persons"]).to_numpy()
    return dissimilarity(foreigners, m["persons"].to_numpy())


def foreign_dissimilarity_census(census: pd.DataFrame) -> float:
    """D of foreigners vs the rest over quartiers from :func:`census_by_quartier`."""
    return dissimilarity((census["foreign"] * census["persons"]).to_numpy(),
                         census["persons"].to_numpy())


def morans_i_cells(model, value: str = "migration_background") -> float:
    """Moran's I over the populated cells of the share of persons with a migration
    background (``value="migration_background"``) or in poverty (``"poor"``)."""
    pop, city = model.population, model.city
    cell = city.dwelling_cell[pop.dwelling].astype(np.int64)
    size = pop.household_size().astype(float)
    if value == "poor":
        flag = pop.income < 0.6 * model.median_income
    else:
        flag = pop.migration_background.astype(bool)
    persons = np.bincount(cell, weights=size, minlength=city.n_cells)
    group = np.bincount(cell, weights=size * flag, minlength=city.n_cells)
    share = np.divide(group, persons, out=np.zeros(city.n_cells), where=persons > 0)
    return morans_i(share, city.width, city.height, mask=persons > 0)
