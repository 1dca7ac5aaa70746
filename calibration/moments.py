"""Calibration and validation targets, and the simulated statistics compared with them.

The targets are the rows of ``calibration/targets/targets.csv``: an observed figure from the
project's official data (each row cites the file and line it comes from and, for derived
figures, the arithmetic), a tolerance, and *when* in a run the model is compared with it:

- ``start``: the initial state (the first recorded year, before anything is simulated);
- ``early``: the mean over the first simulated years (default 5; the figures are from
  2022/2023 and the runs start in 2024);
- ``run``: the run's vital statistics (exposures, deaths, births summed over all simulated
  years);
- a calendar year such as ``2017``: that year's row of a run (stocks at its end, flows during
  it; the start state is labelled the year before the start year). A year the run does not
  reach gives no simulated value.

A table may have one more column, ``role`` (``fitted``, ``input`` or ``held out``), which
then fixes each target's role in the validation (``calibration/targets/essen_targets.csv``);
without it the role follows from ``input`` and the calibration file. A target's ``key`` is its
name, or ``<name>_<year>`` for a calendar year, so one statistic can be compared in several
years.

``input = yes`` marks figures that are also inputs of the model (the check then shows that the
synthesis and the processes reproduce them); the others are independent of the inputs. Rows
without an observed figure list what the data lacks; the validation report shows the simulated
value only.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from calibration.demography import simulated_life_expectancy, simulated_tfr
from sim.errors import InputError

WHEN = ("start", "early", "run")
COLUMNS = ("target", "label_de", "label_en", "group", "observed", "unit", "tolerance", "when",
           "input", "derivation", "cited", "source", "note")
ROLE_COLUMN = "role"
TABLE_ROLES = ("fitted", "input", "held out")
SCALED = frozenset({"population"})
"""Statistics in persons of the whole city: divided by the run's scale (the share of the
census's households a smaller copy of a real city simulates)."""
EARLY_YEARS = 5
"""Simulated years averaged for ``early`` targets (fewer if the run is shorter)."""


@dataclass(frozen=True)
class Target:
    """One observed figure and how the model is compared with it."""

    target: str
    label_de: str
    label_en: str
    group: str
    observed: float | None
    unit: str
    tolerance: float | None
    when: str
    input: bool
    derivation: str
    cited: str
    source: str
    note: str
    role: str | None = None

    @property
    def year(self) -> int | None:
        """The calendar year of a year-specific target, else None."""
        return int(self.when) if self.when.isdigit() else None

    @property
    def key(self) -> str:
        """Unique name in a table: the statistic, with ``_<year>`` for a calendar year."""
        return self.target if self.year is None else f"{self.target}_{self.when}"

    @property
    def missing(self) -> bool:
        """True when the data has no figure for it (shown, never passed or failed)."""
        return self.observed is None

    def label(self, lang: str = "de") -> str:
        return self.label_de if lang == "de" else self.label_en


def targets_file() -> Path:
    """The packaged targets table."""
    return Path(str(resources.files("calibration.targets").joinpath("targets.csv")))


def load_targets(path: str | Path | None = None) -> list[Target]:
    """Read and check a targets table (default: the packaged one).

    Raises:
        InputError: naming the file and the row's field for a malformed table.
    """
    path = Path(path) if path is not None else targets_file()
    source = str(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = tuple(reader.fieldnames or ())
            if header not in (COLUMNS, (*COLUMNS, ROLE_COLUMN)):
                missing = [c for c in COLUMNS if c not in header]
                extra = [c for c in header if c not in COLUMNS]
                what = (f"missing column(s) {', '.join(missing)}" if missing else
                        f"unknown column(s) {', '.join(extra)}" if extra else
                        "columns in another order")
                raise InputError(source, None, f"{what}; expected {', '.join(COLUMNS)}")
            rows = list(reader)
    except FileNotFoundError:
        raise InputError(source, None, "file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(source, None, f"cannot read file ({exc})") from None
    targets, seen = [], set()
    for line, row in enumerate(rows, start=2):
        targets.append(_target(row, f"{source}:{line}"))
        if targets[-1].key in seen:
            raise InputError(f"{source}:{line}", "target", f"duplicate {targets[-1].key!r}")
        seen.add(targets[-1].key)
    return targets


def _target(row: dict[str, str], where: str) -> Target:
    if None in row or any(v is None for v in row.values()):
        raise InputError(where, None, f"expected {len(COLUMNS)} fields")
    name = row["target"].strip()
    if name not in STATISTICS:
        raise InputError(where, "target", f"no simulated statistic named {name!r}; known: "
                         f"{', '.join(sorted(STATISTICS))}")
    observed = _number(row["observed"], where, "observed")
    tolerance = _number(row["tolerance"], where, "tolerance")
    if (observed is None) != (tolerance is None):
        raise InputError(where, "tolerance" if observed is not None else "observed",
                         "give both observed and tolerance, or neither (a missing figure)")
    if tolerance is not None and tolerance <= 0:
        raise InputError(where, "tolerance", f"must be positive (got {tolerance})")
    if row["when"] not in WHEN and not (len(row["when"]) == 4 and row["when"].isdigit()):
        raise InputError(where, "when", f"must be one of {', '.join(WHEN)} or a calendar "
                         f"year (got {row['when']!r})")
    role = row.get(ROLE_COLUMN)
    if role is not None and role not in TABLE_ROLES and not (observed is None and not role):
        raise InputError(where, ROLE_COLUMN, f"must be one of {', '.join(TABLE_ROLES)} (got "
                         f"{role!r})")
    if row["input"] not in ("yes", "no"):
        raise InputError(where, "input", f"must be yes or no (got {row['input']!r})")
    if observed is not None and not row["cited"].strip():
        raise InputError(where, "cited", "an observed figure needs its source (file:line)")
    return Target(target=name, label_de=row["label_de"], label_en=row["label_en"],
                  group=row["group"], observed=observed, unit=row["unit"], tolerance=tolerance,
                  when=row["when"], input=row["input"] == "yes", derivation=row["derivation"],
                  cited=row["cited"], source=row["source"], note=row["note"],
                  role=role or None)


def _number(text: str, where: str, field: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(where, field, f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise InputError(where, field, f"not a finite number: {text!r}")
    return value


# -- simulated statistics ----------------------------------------------------------------------

CityTable = pd.DataFrame
"""Citywide outcomes of one run: index year, one column per metric."""


def _metric(name: str) -> Callable[[CityTable, pd.DataFrame], float]:
    def stat(city: CityTable, vital: pd.DataFrame) -> float:
        return float(city[name].mean())
    return stat


def _per_1000(flow: str) -> Callable[[CityTable, pd.DataFrame], float]:
    def stat(city: CityTable, vital: pd.DataFrame) -> float:
        return float((city[flow] / city["population"]).mean() * 1000.0)
    return stat


def _net_per_1000(city: CityTable, vital: pd.DataFrame) -> float:
    return float(((city["in_migrants"] - city["out_migrants"]) / city["population"]).mean()
                 * 1000.0)


def _age_share(low: int, high: int | None) -> Callable[[CityTable, pd.DataFrame], float]:
    def stat(city: CityTable, vital: pd.DataFrame) -> float:
        bands = [c for c in city.columns if c.startswith("persons_") and "_age_" in c]
        chosen = [c for c in bands if _band_within(c, low, high)]
        return float((city[chosen].sum(axis=1) / city[bands].sum(axis=1)).mean())
    return stat


def _band_within(column: str, low: int, high: int | None) -> bool:
    band = column.rsplit("_age_", 1)[1]  # "00_04" or "85plus"
    start = int(band[:2])
    end = None if band.endswith("plus") else int(band[3:])
    if end is None:
        return high is None and start >= low
    return start >= low and (high is None or end <= high)


def _e0(sex: str) -> Callable[[CityTable, pd.DataFrame], float]:
    def stat(city: CityTable, vital: pd.DataFrame) -> float:
        return simulated_life_expectancy(vital)[sex]
    return stat


def _out_migrants_share(causes: tuple[str, ...]) -> Callable[[CityTable, pd.DataFrame],
                                                              float]:
    """Out-migrants of the given causes (persons, summed over the window) per out-migrant."""
    def stat(city: CityTable, vital: pd.DataFrame) -> float:
        total = float(city["out_migrants"].sum())
        part = sum(float(city[f"out_migrants_cause_{c}"].sum()) for c in causes)
        return part / total if total > 0 else math.nan
    return stat


def _yearly_growth(metric: str) -> Callable[[CityTable, pd.DataFrame], float]:
    """Mean yearly growth of a metric from the window's first year to its last."""
    def stat(city: CityTable, vital: pd.DataFrame) -> float:
        table = city.sort_index()
        values = table[metric].to_numpy(float)
        span = float(table.index[-1] - table.index[0]) if len(table) else 0.0
        if span <= 0 or not values[0] > 0:
            return math.nan
        return float((values[-1] / values[0]) ** (1.0 / span) - 1.0)
    return stat


def _tfr(city: CityTable, vital: pd.DataFrame) -> float:
    return simulated_tfr(vital)


def _mean_age_mother(city: CityTable, vital: pd.DataFrame) -> float:
    """Births-weighted mean age of mothers; + 0.5 since ages are completed years."""
    women = vital[vital["sex"] == "female"]
    births = women["births"].to_numpy(float)
    if births.sum() <= 0:
        return math.nan
    return float((women["age"].to_numpy(float) + 0.5) @ births / births.sum())


STATISTICS: dict[str, Callable[[CityTable, pd.DataFrame], float]] = {
    "e0_male": _e0("male"), "e0_female": _e0("female"),
    "e0_male_nrw": _e0("male"), "e0_female_nrw": _e0("female"),
    "tfr": _tfr, "mean_age_mother": _mean_age_mother,
    "share_age_00_09": _age_share(0, 9), "share_age_10_44": _age_share(10, 44),
    "share_age_45_64": _age_share(45, 64), "share_age_65_74": _age_share(65, 74),
    "share_age_75plus": _age_share(75, None),
    "moves_within_city_per_1000": _per_1000("moves_within_city"),
    "in_migrants_per_1000": _per_1000("in_migrants"),
    "out_migrants_per_1000": _per_1000("out_migrants"),
    "net_migrants_per_1000": _net_per_1000,
    # the survey motive "housing situation (cost, space, ownership)", calibration/motives.py
    "out_migrants_housing_share": _out_migrants_share(("rent", "crowding", "no_dwelling")),
    # asking rents' growth: the re-letting level's, over the years of the window
    "relet_rent_growth": _yearly_growth("relet_rent_m2"),
    **{m: _metric(m) for m in (
        "mean_age", "share_under_18", "share_18_24_with_parents", "share_households_size_1",
        "share_households_size_2", "share_households_size_3", "share_households_size_4",
        "share_households_size_5plus",
        "care_dependency_share", "share_cared_at_home", "share_poor",
        "share_migration_background", "owner_occupied_share", "vacancy_rate", "mean_rent_m2",
        "mean_rent_burden", "share_rent_burden_over_30", "share_rent_burden_over_40",
        "share_gp_within_reach", "dissimilarity_income_quartiers", "out_migrants_cause_rent",
        "unmet_care", "school_dissimilarity_income", "population",
        "dissimilarity_origin_1km", "morans_i_origin_1km", "dissimilarity_origin_quartiers",
        "net_migration_rate_18_29", "net_migration_rate_30_49")},
}
"""Target name -> statistic of one run's citywide outcomes (rows already cut to the target's
window) and vital statistics."""
VITAL = frozenset({"e0_male", "e0_female", "e0_male_nrw", "e0_female_nrw", "tfr",
                   "mean_age_mother"})
"""Statistics of the vital statistics (no value without them)."""


def window(city: CityTable, when: str, early_years: int = EARLY_YEARS) -> CityTable:
    """The rows of a run's citywide table that a target of kind ``when`` compares."""
    years = np.sort(city.index.to_numpy())
    if when.isdigit():
        return city.loc[[y for y in years if y == int(when)]]
    if when == "start":
        return city.loc[years[:1]]
    simulated = years[1:]
    if when == "early":
        simulated = simulated[:early_years]
    return city.loc[simulated] if simulated.size else city.loc[years[:1]]


def run_statistics(outcomes: pd.DataFrame, vital: pd.DataFrame, targets: list[Target], *,
                   early_years: int = EARLY_YEARS, scale: float = 1.0) -> pd.DataFrame:
    """The simulated statistic of every target for every run.

    Args:
        outcomes: Tidy outcomes (``run_id, year, scope, metric, value``) of one or more runs.
        vital: Vital statistics of the same runs (``run_id, sex, age, exposure, deaths,
            births``), e.g. from :func:`sim.experiments.store.load_vital`.
        targets: From :func:`load_targets`.
        early_years: Simulated years averaged for ``early`` targets.
        scale: The runs' share of the census's households (:data:`SCALED` statistics are
            divided by it).

    Returns:
        One row per run (index ``run_id``), one column per target (its ``key``).
    """
    city = outcomes[outcomes["scope"].astype(str) == "city"]
    rows = {}
    for run_id, part in city.groupby("run_id", observed=True, sort=True):
        table = part.pivot(index="year", columns="metric", values="value")
        table.columns = table.columns.astype(str)
        run_vital = vital[vital["run_id"] == run_id] if len(vital) else vital
        rows[run_id] = {t.key: _evaluate(t, table, run_vital, early_years)
                        / (scale if t.target in SCALED else 1.0) for t in targets}
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=[t.key for t in targets])
    frame.index.name = "run_id"
    return frame


def _evaluate(target: Target, table: CityTable, vital: pd.DataFrame, early_years: int) -> float:
    if target.target in VITAL and (vital is None or len(vital) == 0):
        return math.nan
    rows = window(table, target.when, early_years)
    if rows.empty:  # a calendar year the run does not reach
        return math.nan
    return STATISTICS[target.target](rows, vital)
