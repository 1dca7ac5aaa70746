"""Checks that see the whole scenario: ranges ordered (min ≤ max), shares that must add up to
at most 1, age bands sorted. Single fields are checked by their own schema (bounds, finite
numbers); these rules relate fields to each other, so each names the field a user would change.

:class:`~sim.scenario.schema.Scenario` runs :func:`scenario_problem` whenever it is validated
(read from a file, or changed by dotted path), and raises :class:`ScenarioProblem`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sim.errors import InputError

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario


class ScenarioProblem(InputError):
    """A rule across fields is broken; ``field`` names the field to change. The source is
    filled in by whoever knows the file (``read_scenario``: the file that set the field)."""

    def __init__(self, field: str, message: str,
                 other: tuple[str, str] | None = None) -> None:
        super().__init__("scenario", field, message)
        self.other = other  # (field, message) naming the other field of a broken pair


def scenario_problem(scenario: Scenario) -> tuple | None:
    """(field, message[, (other field, message)]) of the first broken rule, else None."""
    return next(_problems(scenario), None)


def _ordered(low_field: str, low: float, high_field: str, high: float
             ) -> Iterator[tuple]:
    if low > high:
        name = high_field.rpartition(".")[2]
        low_name = low_field.rpartition(".")[2]
        yield (low_field, f"{low} is above {name} ({high}); the minimum must not exceed it",
               (high_field, f"{high} is below {low_name} ({low}); the maximum must not be "
                            "below it"))


def _sorted(field: str, values: tuple) -> Iterator[tuple[str, str]]:
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        yield field, f"must be strictly increasing (got {list(values)})"
    elif values and values[0] != 0:
        yield field, f"must start at age 0 (got {values[0]}), so that every age has a band"


def _problems(sc: Scenario) -> Iterator[tuple[str, str]]:
    p = "parameters."
    demo = sc.parameters.demography
    yield from _ordered(f"{p}demography.partnership_min_age", demo.partnership_min_age,
                        f"{p}demography.partnership_max_age", demo.partnership_max_age)
    rate = sc.parameters.migration.in_migrant_poverty_rate
    if rate is not None and rate <= 0.0:
        yield (f"{p}migration.in_migrant_poverty_rate",
               f"must lie above 0 (got {rate}): incomes are log-normal with this share below "
               "60 % of the median, which no share of 0 gives")
    housing = sc.parameters.housing
    yield from _ordered(f"{p}housing.social_rent_existing_min_m2",
                        housing.social_rent_existing_min_m2,
                        f"{p}housing.social_rent_existing_max_m2",
                        housing.social_rent_existing_max_m2)
    total = housing.owner_occupied_share + housing.social_housing_share
    if total > 1.0:
        yield (f"{p}housing.social_housing_share",
               f"owner_occupied_share + social_housing_share is {total:g}; together they must "
               "be at most 1 (the rest are private rentals)")
    services = sc.parameters.services
    for name in ("primary_school_ages", "secondary_school_ages"):
        first, last = getattr(services, name)
        if first < 0 or first > last:
            yield (f"{p}services.{name}",
                   f"must be [first age, last age] with 0 ≤ first ≤ last (got [{first}, {last}])")
    if services.primary_school_ages[1] >= services.secondary_school_ages[0]:
        yield (f"{p}services.secondary_school_ages",
               "must start after the last primary-school age "
               f"({services.primary_school_ages[1]})")
    care = sc.parameters.care
    yield from _sorted(f"{p}care.age_bands", care.age_bands)
    yield from _sorted(f"{p}care.inpatient_bands", care.inpatient_bands)
    mvz = sc.levers.mvz
    if mvz is not None and mvz.incentive is not None:
        yield from _ordered("levers.mvz.incentive.from_year", mvz.incentive.from_year,
                            "levers.mvz.incentive.until_year", mvz.incentive.until_year)
