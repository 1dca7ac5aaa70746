"""Household dynamics (``[parameters.households]``): separation and divorce, partners from
outside the city, and young adults leaving home to move in with a partner. Each field carries
its default and its source (or says ASSUMPTION / DERIVED); docs/ODD.md lists them all and
docs/households.md explains them for users.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from sim.scenario.base import StrictModel

# Relative separation hazard by union duration (years since the couple formed), linear between
# the knots. ASSUMPTION in shape, chosen to reproduce the published durations at divorce (NRW
# 2022, IT.NRW: most divorces after 6 years of marriage, mean duration 15.3 years; Destatis
# 2017: 17.5 % after 25 years or more; 0.3 % after 50 years or more).
DURATION_KNOTS = (0, 2, 4, 6, 8, 12, 25, 35, 50)
DURATION_HAZARD = (0.2, 0.5, 0.85, 1.0, 1.0, 0.8, 0.4, 0.2, 0.03)


class HouseholdParameters(StrictModel):
    """Separation and divorce, partners from outside, leaving home to a partner."""

    divorce_rate: float = Field(
        0.0082, ge=0.0, le=0.2,
        description="Divorces per existing marriage and year (IT.NRW 2022: rund 82 per "
        "10,000 existing marriages). Married couples separate at this rate on average; the "
        "duration profile distributes it over union durations.",
    )
    duration_knots: tuple[int, ...] = Field(
        DURATION_KNOTS,
        description="Union durations (years) of the separation hazard's knots (ASSUMPTION in "
        "shape; reproduces the modal duration at divorce of 6 years and the mean of 15.3, "
        "IT.NRW 2022).",
    )
    duration_hazard: tuple[float, ...] = Field(
        DURATION_HAZARD,
        description="Relative separation hazard at each knot (ASSUMPTION, see duration_knots; "
        "only the shape matters, the level is divorce_rate).",
    )
    married_share: float = Field(
        0.882, ge=0.0, le=1.0,
        description="Share of couples who are married (DERIVED: Mikrozensus 2023 NRW, "
        "families with minors: 71.1 % married couples, 9.5 % unmarried couples, "
        "71.1 / (71.1 + 9.5); applied to all couples: ASSUMPTION).",
    )
    unmarried_separation_ratio: float = Field(
        2.0, ge=0.0, le=20.0,
        description="Separation hazard of unmarried couples relative to married couples "
        "(ASSUMPTION: non-marital unions dissolve more often; no figure in the data).",
    )
    union_age_min: float = Field(
        24.0, ge=14.0, le=60.0,
        description="Start population: the younger partner's age when the couple formed is "
        "uniform on [union_age_min, union_age_max] (ASSUMPTION: cohabitation precedes the "
        "first marriage at 31.9 (women) / 34.1 (men), IT.NRW 2023).",
    )
    union_age_max: float = Field(32.0, ge=14.0, le=80.0, description="See union_age_min.")
    children_with_mother_share: float = Field(
        0.875, ge=0.0, le=1.0,
        description="Share of separations with children in which the children stay with the "
        "mother (DERIVED: Zensus 2011 NRW, 302,000 of 345,000 single parents with minors are "
        "mothers).",
    )
    childless_man_leaves_share: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Share of separations without children in which the man leaves the "
        "dwelling (ASSUMPTION).",
    )
    outside_partner_share: float = Field(
        0.3, ge=0.0, le=1.0,
        description="Share of people living alone or single parents looking for a partner "
        "who find one from outside the city, who moves in (ASSUMPTION: no figure in the data; "
        "moving in with a partner is the main reason of rund 15-16 % of all moves, Innofact "
        "2008, Umzug AG 2013, and many cross the city boundary).",
    )
    outside_partner_moves_out_share: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Share of the couples formed across the city boundary (outside_partner_"
        "share) that live in the outside partner's home: the household looking leaves the "
        "city (cause 'partner'); in the others the partner moves in. ASSUMPTION: no figure in "
        "the data; either home alike. With 0 the flow runs one way only, and the city gains "
        "a person for every such couple.",
    )
    single_parent_partnership_rate: float = Field(
        0.03, ge=0.0, le=1.0,
        description="Yearly probability that a single parent (aged demography."
        "partnership_min_age to partnership_max_age) looks for a partner who moves in "
        "(ASSUMPTION: about the fitted rate of people living alone, demography."
        "partnership_rate; with it the share of single-parent households stays within a "
        "point of its start over 20 years in the baseline).",
    )
    leaving_home_partner_share: float = Field(
        0.3, ge=0.0, le=1.0,
        description="Share of young adults leaving home (demography.leaving_home_rate) who "
        "leave to move in with a partner: they pair with someone living alone, a single "
        "parent or another young adult leaving home (ASSUMPTION: no figure in the data; "
        "private reasons are 40.7 % of young adults' reasons to leave, Münsterland survey).",
    )

    fertility_without_partner_ratio: float = Field(
        0.15, ge=0.0, le=1.0,
        description="Birth rate of women without a partner in the household (living alone, "
        "single mothers, daughters at home) relative to women living with one, at the same "
        "age; the age's rate over all women stays the official one (ASSUMPTION: most births "
        "are to women living with a partner; no figure in the data).",
    )

    @field_validator("duration_knots")
    @classmethod
    def _increasing(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if len(v) < 2 or any(b <= a for a, b in zip(v[:-1], v[1:], strict=True)) or v[0] < 0:
            raise ValueError("must be at least two increasing union durations from 0 up")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> HouseholdParameters:
        if len(self.duration_hazard) != len(self.duration_knots):
            raise ValueError("duration_hazard must have one value per duration_knots entry")
        if any(h < 0 for h in self.duration_hazard) or max(self.duration_hazard) <= 0:
            raise ValueError("duration_hazard must be non-negative and not all zero")
        if self.union_age_max < self.union_age_min:
            raise ValueError("union_age_max must not be below union_age_min")
        return self
