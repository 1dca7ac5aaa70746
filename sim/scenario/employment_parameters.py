"""Employment status and the income it brings (``[parameters.employment]``).

Each field carries its default and its source, DERIVED (formula from sourced figures) or
ASSUMPTION; docs/ODD.md (section "Employment and income dynamics") lists them all. The start
shares of the employed by age and sex are those of ``[parameters.jobs]`` (NRW Mikrozensus).
Money amounts are at the start year's level and grow with incomes (``income.income_growth``).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from sim.scenario.base import StrictModel


class EmploymentParameters(StrictModel):
    """Employed / unemployed / not in the labour force, yearly transitions, and household
    income from earnings, unemployment benefit, pensions and SGB II transfers."""

    unemployment_rate: float = Field(
        0.072, ge=0.0, lt=0.5,
        description="Unemployed per person in the labour force (employed + unemployed), ages "
        "18-64, at the start and in the long run (BA registered unemployment, NRW 2023 annual: "
        "7.2 %; Gelsenkirchen 14.6 %, more_labour_commuting.csv).",
    )
    unemployment_exit_rate: float = Field(
        0.574, ge=0.0, le=1.0,
        description="Yearly probability that an unemployed person leaves unemployment. DERIVED: "
        "with a constant exit rate the share still unemployed after a year is 1 - rate; NRW "
        "Aug 2022: 42.6 % of the registered unemployed had been so for a year or more "
        "(poverty_employment_dynamics.csv), so 1 - 0.426.",
    )
    exit_to_employment_share: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Share of exits from unemployment that are into a job (the rest leave the "
        "labour force). ASSUMPTION: no NRW outflow split in the data.",
    )
    entry_from_employment_share: float = Field(
        0.7, ge=0.0, le=1.0,
        description="Share of entries into unemployment that come from a job (the rest from "
        "outside the labour force). ASSUMPTION: no NRW inflow split in the data.",
    )
    inactivity_rate: float = Field(
        0.03, ge=0.0, le=1.0,
        description="Yearly probability that an employed person leaves the labour force "
        "(parental leave, education, illness). ASSUMPTION. Entries into a job from outside the "
        "labour force follow (DERIVED) so that the shares by age and sex stay at their start "
        "values.",
    )
    unemployment_benefit_share: float = Field(
        0.6, ge=0.0, le=1.0,
        description="Arbeitslosengeld I in the first year of unemployment, as a share of the "
        "person's net earnings (§ 149 SGB III: 60 %, 67 % with children; legal figure, not "
        "in the calibration data). From the second year: SGB II only.",
    )
    inactive_income_share: float = Field(
        0.65, ge=0.0, le=1.0,
        description="Own income of a person 18-64 outside the labour force (Elterngeld, "
        "BAföG, student jobs, disability pension) as a share of its earnings potential. "
        "ASSUMPTION, set with transitory_sd and potential_household_correlation so that both "
        "SOEP persistence figures hold (docs/incomes.md). For comparison, Elterngeld "
        "replaces 65-67 % of the net earnings before (§ 2 BEEG; legal figure, not in the "
        "calibration data). At 0.3 most households of working age without a worker lived on "
        "the flat SGB II level, where income does not move, and stayed poor.",
    )
    pension_share: float | None = Field(
        None, ge=0.0, le=1.5,
        description="Pension (and other old-age income) of a person 65+ not in work, as a share "
        "of its earnings potential. Default DERIVED at the start: the start pensioners' median "
        "own income over the start employed's median earnings, so that new cohorts of "
        "pensioners have the incomes of today's. (The statutory Sicherungsniveau of 48 %, "
        "§ 154 SGB VI, measures gross pensions against gross wages and leaves out other old-age "
        "income and a partner's pension, so it is not used.)",
    )
    earnings_growth_with_age: float = Field(
        0.02, ge=0.0, le=0.1,
        description="Yearly growth of a person's income with age from 18 to 45 (experience), "
        "flat after: income × exp(growth × (min(age, 45) - 45)). ASSUMPTION (no age-earnings "
        "profile in the data); without it parents' incomes would stay flat while their "
        "children grow older and weigh more in the equivalence scale.",
    )
    transitory_sd: float = Field(
        0.36, ge=0.0, le=1.0,
        description="Standard deviation of the transitory part of a person's log income "
        "(hours, bonuses, overtime, short spells). ASSUMPTION, set with "
        "transitory_autocorrelation, inactive_income_share and "
        "potential_household_correlation so that poverty persistence lies in the SOEP range "
        "(poverty_employment_dynamics.csv; docs/incomes.md).",
    )
    transitory_autocorrelation: float = Field(
        0.0, ge=0.0, lt=1.0,
        description="Year-to-year autocorrelation of the transitory part (AR(1)). ASSUMPTION, "
        "see transitory_sd.",
    )
    regelbedarf_single: float = Field(
        563.0, gt=0.0,
        description="SGB II Regelbedarf, EUR/month, adult living alone or single parent "
        "(Regelbedarfsstufe 1, 2024; legal figure, not in the calibration data).",
    )
    regelbedarf_partner: float = Field(
        506.0, gt=0.0,
        description="Each of two or more adults (Regelbedarfsstufe 2, 2024; legal figure).",
    )
    regelbedarf_adult_child: float = Field(
        451.0, gt=0.0,
        description="Adult child 18-24 in the parents' household (Regelbedarfsstufe 3, 2024).",
    )
    regelbedarf_14_17: float = Field(471.0, gt=0.0, description="Regelbedarfsstufe 4, 2024.")
    regelbedarf_6_13: float = Field(390.0, gt=0.0, description="Regelbedarfsstufe 5, 2024.")
    regelbedarf_0_5: float = Field(357.0, gt=0.0, description="Regelbedarfsstufe 6, 2024.")
    housing_cost_first: float = Field(
        420.0, ge=0.0,
        description="Kosten der Unterkunft und Heizung of one person, EUR/month. ASSUMPTION "
        "(no KdU figure in the data); set so that the SGB II level stays below the poverty "
        "line for all household types.",
    )
    housing_cost_further: float = Field(
        40.0, ge=0.0,
        description="Further housing costs per further member, EUR/month. ASSUMPTION.",
    )
    risk_gradient: float = Field(
        0.5, ge=0.0, le=3.0,
        description="Log relative risk of losing a job, and log relative chance (negative) of "
        "finding one, per standard deviation of the earnings potential's normal score z: "
        "rates × exp(-/+ gradient × z), normalised so that the mean rates of those at risk "
        "are the ones above. ASSUMPTION (the data has no rates by "
        "earnings); set so that unemployment stays concentrated among the low-paid as at the "
        "start (employment odds 0.35 in households at risk of poverty) and the share at risk "
        "of poverty stays near its start.",
    )
    potential_household_correlation: float = Field(
        0.75, ge=0.0, lt=1.0,
        description="Correlation of a new adult's (or an adult without earnings at the start) "
        "earnings potential, on the normal scale, with its household's income rank. "
        "ASSUMPTION; it sets how persistent poverty is (set with transitory_sd against the "
        "SOEP persistence of the bottom quintile, 54-60 % after 4 years).",
    )

    @model_validator(mode="after")
    def _benefit_levels(self) -> EmploymentParameters:
        if self.regelbedarf_partner > self.regelbedarf_single:
            raise ValueError("regelbedarf_partner must not exceed regelbedarf_single")
        return self
