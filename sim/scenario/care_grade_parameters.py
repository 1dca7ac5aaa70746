"""Parameters of the Pflegegrade (``[parameters.care_grades]``): grade mix, setting by grade,
mortality by grade and the Tagespflege mechanism. The prevalence of care need by age and sex and
the setting by age stay in ``[parameters.care]`` (:class:`~sim.scenario.service_parameters.
CareParameters`); docs/ODD.md 7.12 and docs/care.md describe the model."""

from __future__ import annotations

from pydantic import Field, model_validator

from sim.scenario.base import StrictModel

# NRW 2021 (IT.NRW Pflegestatistik, care_pflegegrad.csv): recipients by grade and kind of care.
# PG1 without facility services (134,334) and PG1 in day/night care only (234) are at home.
_SHARES_2021 = (0.1293, 0.4182, 0.2832, 0.1207, 0.0487)


class CareGradeParameters(StrictModel):
    """Pflegegrad 1-5: how the care-dependent of an age and sex split into grades, which setting
    each grade uses, and how much more likely a higher grade is to die within the year."""

    grade_shares: tuple[float, float, float, float, float] = Field(
        _SHARES_2021,
        description="Shares of the care-dependent in Pflegegrad 1-5, the same at every age "
        "(DERIVED, NRW 2021: Pflegegeld-only + ambulant + full inpatient + PG1 without services "
        "by grade / 1,186,492 graded recipients, care_pflegegrad.csv; PG1 153,381, PG2 496,176, "
        "PG3 336,057, PG4 143,154, PG5 57,724). That the mix does not vary with age is an "
        "ASSUMPTION (no NRW table of grade by age).",
    )
    inpatient_share_by_grade: tuple[float, float, float, float, float] = Field(
        (0.0019, 0.0486, 0.1725, 0.3645, 0.4688),
        description="Share in full inpatient care per grade, NRW 2021 (DERIVED: 296 / 153,381, "
        "24,111 / 496,176, 57,963 / 336,057, 52,173 / 143,154, 27,062 / 57,724, "
        "care_pflegegrad.csv). Enters as odds ratios between grades; the level at each age "
        "follows care.inpatient_share.",
    )
    ambulant_share_by_grade: tuple[float, float, float, float, float] = Field(
        (0.121, 0.2195, 0.2633, 0.3164, 0.3567),
        description="Share using an ambulant service among those at home, per grade, NRW 2021 "
        "(DERIVED: ambulant clients by grade / (all of the grade - inpatient), "
        "care_pflegegrad.csv). Odds ratios between grades; the level at each age follows "
        "care.ambulant_share_of_home × ambulant_growth_2021_2023 / care.home_growth_2021_2023.",
    )
    ambulant_growth_2021_2023: float = Field(
        1.0213, gt=0.0, le=3.0,
        description="Clients of ambulant services, NRW 2023 / 2021 (DERIVED: 240,078 / 235,065, "
        "more_health_care.csv): with the care-at-home growth of 1.193 the share of those at home "
        "using a service falls from 22.9 % (2021) to 19.7 % (2023).",
    )
    mortality_risk_per_grade: float = Field(
        1.4, ge=1.0, le=5.0,
        description="Relative risk of death per grade step against persons of the same age and "
        "sex without care need (PG g: this to the power g). ASSUMPTION: no published NRW or "
        "German mortality by Pflegegrad ('Genaue Auswertungen zur Lebenserwartung bei einem "
        "bestimmten Pflegegrad gibt es nicht'); deaths are redistributed within age and sex, "
        "so mortality stays on the life table. In calibration/sensitivity.toml.",
    )
    tagespflege_users_per_place: float = Field(
        1.89, gt=0.0, le=10.0,
        description="Persons using one Tagespflege place in a year (DERIVED: NRW 2023, 40,100 "
        "recipients of partial inpatient care / 21,235 places in homes without permanent care, "
        "long_term_care.csv, care_pflegegrad.csv).",
    )
    tagespflege_home_share: float = Field(
        0.3, ge=0.0, le=1.0,
        description="Share of Tagespflege users who, without it, would need a nursing home "
        "this year (ASSUMPTION: no figure in the data; in calibration/sensitivity.toml).",
    )
    tagespflege_max_grade: int = Field(
        4, ge=1, le=5,
        description="Highest Pflegegrad that Tagespflege keeps at home (ASSUMPTION: day care "
        "needs transport and some mobility; PG5 is excluded).",
    )

    @model_validator(mode="after")
    def _shares(self) -> CareGradeParameters:
        if any(s < 0 for s in self.grade_shares) or abs(sum(self.grade_shares) - 1.0) > 1e-3:
            raise ValueError("grade_shares must be non-negative and sum to 1")
        for name in ("inpatient_share_by_grade", "ambulant_share_by_grade"):
            if any(not 0.0 < v < 1.0 for v in getattr(self, name)):
                raise ValueError(f"{name} must lie strictly between 0 and 1")
        return self
