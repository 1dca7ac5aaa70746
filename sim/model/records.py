"""What a run records: the yearly stocks and flows (the tidy ``outcomes`` table), optional cell
snapshots for maps, and the vital statistics (exposures, deaths and births by sex and age)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.model import metrics, snapshots
from sim.model.mobility import space_norm
from sim.state.city import NURSING
from sim.state.outcomes import FLOW_METRICS, METRICS
from sim.state.population import SEXES

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel


class VitalStatistics:
    """Exposures, deaths and births by sex and single age, summed over the simulated years."""

    def __init__(self, max_age: int) -> None:
        n_age = max_age + 1
        self.exposure = np.zeros((2, n_age))
        self.deaths = np.zeros((2, n_age))
        self.births = np.zeros(n_age)

    def count_exposure_and_deaths(self, sex: np.ndarray, age: np.ndarray,
                                  dead: np.ndarray) -> None:
        """Persons at the start of the year (the life table's exposure) and the year's deaths."""
        n_age = self.births.size
        by_sex_age = sex.astype(np.int32) * n_age + age
        self.exposure += np.bincount(by_sex_age, minlength=2 * n_age).reshape(2, n_age)
        self.deaths += np.bincount(by_sex_age[dead], minlength=2 * n_age).reshape(2, n_age)

    def count_births(self, mother_age: np.ndarray) -> None:
        self.births += np.bincount(mother_age, minlength=self.births.size)

    def table(self) -> pd.DataFrame:
        """``sex, age, exposure, deaths, births``; births are by the mother's age, so only the
        female rows carry them."""
        rows = []
        for s, sex in enumerate(SEXES):
            rows.append(pd.DataFrame({
                "sex": sex, "age": np.arange(self.births.size), "exposure": self.exposure[s],
                "deaths": self.deaths[s],
                "births": self.births if sex == "female" else 0.0,
            }))
        return pd.concat(rows, ignore_index=True)


class Records:
    """The yearly records of one run."""

    def __init__(self, cell_snapshots: bool) -> None:
        self.years: list[tuple[int, dict[str, np.ndarray]]] = []
        self.snapshots = snapshots.CellSnapshots() if cell_snapshots else None

    @staticmethod
    def no_flows(n_quartiers: int) -> dict[str, np.ndarray]:
        """The flows of the start state: missing (NaN)."""
        nan = np.full(n_quartiers + 1, np.nan)
        return {m: nan for m in FLOW_METRICS}

    def record(self, model: QuartierModel, flows: dict[str, np.ndarray],
               access: dict[str, np.ndarray]) -> None:
        """Record the stocks at the end of ``model.year`` with the year's flows and the access
        outcomes measured at the start of its move season."""
        sums = _end_sums(model)
        values = _stocks(model, sums)
        values.update(access)
        values.update(flows)
        for _, _, name in metrics.MIGRATION_AGE_GROUPS:  # per 1,000 residents of the group
            values[f"net_migration_rate_{name}"] = 1000.0 * metrics.ratio(
                flows[f"net_migrants_{name}"], values.pop(f"residents_{name}"))
        self.years.append((model.year, values))
        if self.snapshots is not None:
            self.snapshots.add(model.year, model.city,
                               snapshots.cell_snapshot(model.population, model.city, sums))

    def outcomes(self, run_id: str, scopes: list[str], per_quartier: bool) -> pd.DataFrame:
        """Tidy results: ``run_id, year, scope, metric, value`` (``scopes``: the quartier ids
        and ``"city"``, last)."""
        scopes_idx = list(range(len(scopes))) if per_quartier else [len(scopes) - 1]
        names = list(METRICS)
        years = np.array([y for y, _ in self.years])
        values = np.stack([
            np.stack([rec[m][scopes_idx] for m in names]) for _, rec in self.years
        ])  # [year, metric, scope]
        n_y, n_m, n_s = values.shape
        return pd.DataFrame({
            "run_id": run_id,
            "year": np.repeat(years, n_m * n_s).astype(np.int32),
            "scope": pd.Categorical(np.tile([scopes[i] for i in scopes_idx], n_y * n_m)),
            "metric": pd.Categorical(np.tile(np.repeat(names, n_s), n_y)),
            "value": values.ravel(),
        })

    def cell_snapshots(self, run_id: str) -> pd.DataFrame | None:
        if self.snapshots is None:
            return None
        table = self.snapshots.table().copy(deep=False)
        table.insert(0, "run_id", run_id)
        return table

    def cell_snapshot_file(self, run_id: str) -> snapshots.CellSnapshotFile | None:
        return None if self.snapshots is None else self.snapshots.parquet(run_id)


def _end_sums(model: QuartierModel) -> metrics.EndSums:
    """The sums over persons and households at the end of the year."""
    pop, city = model.population, model.city
    mp = model.scenario.parameters.mobility
    sv, tables = model.services, model.care.tables
    amb_access = getattr(sv, "ambulant_access", None)
    return metrics.end_sums(
        pop, city, model.median_income, model.market.operating_costs_m2,
        lambda size: mp.crowding_threshold * space_norm(size, mp), model.keys["care"],
        tables.inpatient, tables.ambulant, sv.gp_within_reach,
        np.ones(city.n_cells) if amb_access is None else amb_access)


def _stocks(model: QuartierModel, sums: metrics.EndSums) -> dict[str, np.ndarray]:
    """The stocks at the end of the year: population, housing, segregation, care and GPs."""
    city = model.city
    values = metrics.stocks(sums, city.n_quartiers)
    values.update(metrics.housing_stocks(sums, city))
    values.update(_service_stocks(model, sums))
    return values


def _service_stocks(model: QuartierModel, sums: metrics.EndSums) -> dict[str, np.ndarray]:
    """Care dependency, nursing-home residents, unmet care, reach of GPs and the doctors."""
    c = np.vstack([sums.care, sums.care.sum(axis=0)])
    persons, dependent = c[:, 0], c[:, 1]
    places = metrics.with_city(sums.by_tenure[:, NURSING].astype(float))
    residents = persons - c[:, 3]
    unmet_inpatient = model.care.unmet_inpatient
    grades = {f"care_pflegegrad_{g}": c[:, 6 + g] for g in range(1, 6)}
    return {
        "care_dependent": dependent,
        "care_dependency_share": metrics.ratio(dependent, persons),
        "share_cared_at_home": metrics.ratio(c[:, 2], dependent),
        **grades,
        **{f"share_{k}": metrics.ratio(v, dependent) for k, v in grades.items()},
        "care_by_relatives": c[:, 12],
        "care_ambulant": c[:, 13],
        "care_nursing_home": c[:, 14],
        "share_care_by_relatives": metrics.ratio(c[:, 12], dependent),
        "share_care_ambulant": metrics.ratio(c[:, 13], dependent),
        "share_care_nursing_home": metrics.ratio(c[:, 14], dependent),
        "care_tagespflege": model.care.tagespflege,
        "nursing_home_residents": residents,
        "nursing_home_places": places,
        "nursing_home_occupancy": metrics.ratio(residents, places),
        "unmet_care": model.care.unmet + unmet_inpatient,
        "unmet_care_ambulant": model.care.unmet,
        "unmet_care_inpatient": unmet_inpatient,
        "share_gp_within_reach": metrics.ratio(c[:, 4], c[:, 3]),
        "share_65plus_gp_within_reach": metrics.ratio(c[:, 6], c[:, 5]),
        "residents_65plus_gp_within_reach": c[:, 6].astype(float),
        **_gp_stocks(model),
    }


def _gp_stocks(model: QuartierModel) -> dict[str, np.ndarray]:
    """GPs working at the end of the year by the quartier of their practice: doctors (seat
    weights), their mean age and the share aged 60+."""
    sv, city = model.services, model.city
    doctors, f = sv.doctors, sv.facilities
    working = doctors.active & (f.opening_year[doctors.facility] <= model.year)
    q = city.cell_quartier[f.cell[doctors.facility[working]]].astype(np.int64)
    w = doctors.weight[working]
    age = doctors.age[working].astype(float)
    n_q = city.n_quartiers
    n = metrics.count(q, n_q, w)
    return {"gp_doctors": n,
            "gp_mean_age": metrics.ratio(metrics.count(q, n_q, w * age), n),
            "share_gps_60plus": metrics.ratio(metrics.count(q, n_q, w * (age >= 60)), n)}

