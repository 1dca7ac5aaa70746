"""Behavioural parameters of people and the housing market (``[parameters.*]`` tables):
demography, migration, incomes, housing and residential mobility. Each field carries its
default and its source (or says ASSUMPTION); docs/ODD.md lists them all.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.scenario.base import StrictModel
from sim.scenario.care_grade_parameters import CareGradeParameters
from sim.scenario.cost_parameters import CostParameters
from sim.scenario.employment_parameters import EmploymentParameters
from sim.scenario.household_parameters import HouseholdParameters
from sim.scenario.kita_parameters import KitaParameters
from sim.scenario.service_parameters import (
    CareParameters,
    JobsParameters,
    ServicesChoiceParameters,
    ServicesParameters,
)


class DemographyParameters(StrictModel):
    """Mortality, fertility, leaving home and partnership (see docs/ODD.md for the sources)."""

    life_table_period: Literal["2016/18", "2020/22", "2022/24"] = Field(
        "2020/22", description="Destatis period life table (GENESIS 12621-0001) used for q(x)."
    )
    total_fertility_rate: float = Field(
        1.39, ge=0.0, le=6.0, description="Total fertility rate (IT.NRW 2023: 1.39)."
    )
    fertility_age_pattern: Literal["2015-2020", "2010-2015"] = Field(
        "2015-2020", description="UN WPP 2022 age pattern of fertility for Germany."
    )
    sex_ratio_at_birth: float = Field(
        1.05, gt=0.5, lt=2.0, description="Boys per girl at birth."
    )
    leaving_home_rate: float = Field(
        0.125, ge=0.0, le=1.0,
        description="Yearly probability that a child aged 18+ leaves the parental home.",
    )
    leaving_home_min_age: int = Field(18, ge=14, le=40)
    partnership_rate: float = Field(
        0.05, ge=0.0, le=1.0,
        description="Yearly probability that an adult living alone (in the age range below) "
        "looks for a partner to move in with (no figure in the data; fitted by quartier "
        "calibrate to the share of one-person households).",
    )
    partnership_min_age: int = Field(20, ge=14, le=100)
    partnership_max_age: int = Field(64, ge=14, le=120)
    max_age: int = Field(110, ge=100, le=120, description="Nobody survives beyond this age.")


class MigrationParameters(StrictModel):
    """Migration across the city boundary.

    In-migration is demand: persons who would like to move in arrive at ``in_migration_rate``
    per resident and year while the city's vacancy is at ``housing.target_vacancy``; their number
    scales with ``(vacancy / target_vacancy) ** demand_vacancy_elasticity`` (with few vacant
    dwellings fewer find anything to look at). They choose by the movers' logit among the
    vacancies, with staying away as the outside option: rents against the region's and the
    services they value act through that choice. Years listed in ``observed_in_migration``
    replace the demand by observed arrivals (historical mode).

    Out-migration has three parts: young adults' moves for education and jobs elsewhere (a base
    schedule, ``education_job_*``), families' moves to the surrounding region
    (``family_out_migration_rate``) and the outside option of every household that searches
    (see ``mobility``).
    """

    in_migration_rate: float = Field(
        0.11, ge=0.0, le=1.0,
        description="Persons who would like to move into the city, per resident and year, at "
        "the target vacancy; not all find a dwelling they prefer to staying away. Fitted "
        "(scenarios/calibrated.toml) so that in-migrants come to about Köln 2023's 53.6 per "
        "1,000 (58,189 / 1,084,831).",
    )
    demand_vacancy_elasticity: float = Field(
        1.0, ge=0.0, le=10.0,
        description="Elasticity of the in-migration demand to the city's vacancy (as the "
        "market knows it, see vacancy_smoothing) relative to the target vacancy (ASSUMPTION: no "
        "figure in the data; in the sensitivity analysis).",
    )
    vacancy_smoothing: float = Field(
        0.5, gt=0.0, le=1.0,
        description="Weight of the latest year-end vacancy in the vacancy the market knows "
        "(exponential smoothing; 1 = last year's only). ASSUMPTION: with 1 the one-year lag "
        "makes vacancy swing from year to year when the elasticity is 1.",
    )
    observed_in_migration: dict[int, float] = Field(
        default_factory=dict,
        description="Historical mode: in-migrants per resident for the years given (a table "
        "year = rate, e.g. the 2015/16 arrivals). In these years that many persons come and "
        "take vacancies; staying away is not an option. Other years use the demand.",
    )
    in_migrant_mean_age: float = Field(
        30.0, ge=15.0, le=70.0, description="Mean age of in-migrants (Köln 2023: about 30)."
    )
    in_migrant_single_share: float | None = Field(
        0.62, gt=0.0, lt=1.0,
        description="Share of one-person households among the in-migrant households drawn "
        "(before they choose). Umzug AG 2013 (commercial survey, Germany): one-person "
        "households are 62 % of all moving households; applied to in-migrants: ASSUMPTION. "
        "None: only the mean age is matched (the pool's household mix, tilted by age).",
    )
    in_migrant_share_from_abroad: float = Field(
        0.05, ge=0.0, le=1.0,
        description="Share of in-migrants coming from abroad; they have a migration background, "
        "the others with the city's share. No city figure is in the data (NRW's 73 % from "
        "abroad counts only flows across NRW's border); set so that the baseline's share of "
        "residents with a migration background stays about constant (16 years, 3 seeds).",
    )
    in_migrant_poverty_rate: float | None = Field(
        None, ge=0.0, lt=1.0,
        description="At-risk-of-poverty rate of in-migrants (no figure in the data: default the "
        "household type's rate).",
    )
    education_job_rate: float = Field(
        0.105, ge=0.0, le=1.0,
        description="Yearly probability that a young-adult household (all members "
        "education_job_min_age to education_job_max_age, no children) leaves the city for "
        "education or a job elsewhere. DERIVED: peak moves across municipal borders of "
        "20-26-year-olds 169-187 per 1,000 (BiB 2010; mean 0.178) × the share of education and "
        "job motives among young adults leaving (job 41.0 %, study 15.8 %, training about 2 %: "
        "0.588, Münsterland survey); applied to the whole age band (ASSUMPTION).",
    )
    education_share: float = Field(
        0.30, ge=0.0, le=1.0,
        description="Share of those moves made for education (DERIVED: (15.8 + 2) / (41.0 + "
        "15.8 + 2), Münsterland survey); the rest for a job.",
    )
    family_out_migration_rate: float = Field(
        0.0, ge=0.0, le=0.5,
        description="Yearly probability that a household with a child under 18 leaves the "
        "city for the surrounding region (suburbanisation; motive 'suburb'). The data has net "
        "figures only (Köln 2019: family ages -5,057, migration_age_profiles.csv; kreisfreie "
        "Städte: 30-49-year-olds -11.1 per 1,000, more_migration_age.csv), no gross rate: 0 "
        "unless a city fits it (Essen: calibration/calibrate_essen.toml). ASSUMPTION that the "
        "rate is the same for every family.",
    )
    education_job_min_age: int = Field(18, ge=14, le=40)
    education_job_max_age: int = Field(29, ge=14, le=60)


class IncomeParameters(StrictModel):
    """Net equivalised income (EUR per month; nominal, at the start year's level)."""

    median_equivalised_income: float = Field(
        2055.0, gt=0, description="NRW 2023 (IT.NRW, Mikrozensus; threshold 1,233 / 0.6)."
    )
    poverty_rate: float = Field(
        0.183, gt=0.0, lt=0.5, description="At-risk-of-poverty rate (NRW 2023: 18.3 %)."
    )
    poverty_rate_living_alone: float = Field(0.290, gt=0.0, lt=1.0, description="NRW 2023.")
    poverty_rate_two_persons: float = Field(0.094, gt=0.0, lt=1.0, description="NRW 2023.")
    poverty_rate_single_parent: float = Field(0.457, gt=0.0, lt=1.0, description="NRW 2023.")
    poverty_rate_two_adults_1_2_children: float = Field(
        0.091, gt=0.0, lt=1.0, description="NRW 2023 (figure for one child)."
    )
    poverty_rate_two_adults_3plus_children: float = Field(
        0.353, gt=0.0, lt=1.0, description="NRW 2023."
    )
    income_growth: float = Field(
        0.034, ge=-0.1, le=0.2,
        description="Yearly nominal growth of incomes (NRW poverty line 855 EUR in 2012, "
        "1,233 EUR in 2023: 3.4 %/year). WBS limits and the median grow alike.",
    )
    migration_background_share: float = Field(
        0.41, ge=0.0, le=1.0,
        description="Share of residents with a migration background (Ruhr cities Hagen 41.9 %, "
        "Hamm 40.3 %, 2018); applied to households.",
    )
    migration_background_poverty_odds: float = Field(
        2.0, gt=0.0,
        description="Odds ratio of a migration background among households at risk of poverty "
        "vs the rest, at the start (no figure in the data: an assumption).",
    )

    def type_rates(self) -> dict[str, float]:
        return {
            "living_alone": self.poverty_rate_living_alone,
            "two_persons": self.poverty_rate_two_persons,
            "single_parent": self.poverty_rate_single_parent,
            "two_adults_1_2_children": self.poverty_rate_two_adults_1_2_children,
            "two_adults_3plus_children": self.poverty_rate_two_adults_3plus_children,
        }


class HousingParameters(StrictModel):
    """The dwelling stock and the rules of the rental market."""

    owner_occupied_share: float = Field(
        0.323, ge=0.0, le=1.0,
        description="Share of dwellings occupied by their owners (Ruhrgebiet, Zensus 2011).",
    )
    social_housing_share: float = Field(
        0.049, ge=0.0, le=1.0,
        description="Share of dwellings that are rent-bound social rentals (NRW 2022: 434,000 "
        "of about 8.9 million dwellings).",
    )
    binding_years_max: int = Field(
        56, ge=1, le=120,
        description="Remaining binding years of social dwellings at the start are uniform on "
        "1..binding_years_max: 1/56 = 1.77 % expire a year (NRW 2019: 8,100 of 456,800).",
    )
    mean_floor_space: float = Field(
        78.6, gt=20.0, le=200.0,
        description="Mean floor space per dwelling, m² (Essen, Zensus 2022: 78.6).",
    )
    floor_space_sigma: float = Field(
        0.35, gt=0.0, le=1.5, description="Log-normal spread of dwelling floor space."
    )
    rent_m2: float = Field(
        6.45, gt=0.0,
        description="Mean net cold rent per m² of private tenancies at the start (Dortmund, "
        "Zensus 2022: 6.45).",
    )
    relet_premium: float = Field(
        0.18, ge=0.0, le=2.0,
        description="Re-letting rents above existing tenancies (NRW 2022 gross cold rent: 9.20 "
        "EUR/m² for moves since 2019 vs 7.80 before).",
    )
    operating_costs_m2: float = Field(
        1.48, ge=0.0,
        description="Cold operating costs per m² (NRW 2022 gross cold rent 8.30 minus Zensus "
        "net cold rent 6.82); they grow like sitting tenants' rents.",
    )
    social_rent_m2: float = Field(
        6.50, gt=0.0,
        description="Net cold rent per m² of new or newly bound social dwellings (NRW "
        "Bewilligungsmiete for new builds, other municipalities: 6.50).",
    )
    social_rent_existing_min_m2: float = Field(
        3.77, gt=0.0,
        description="Existing social dwellings' rents are uniform between this and the max "
        "(NRW Mietobergrenzen of the older subsidised stock 2023: 3.77 to 5.67 EUR/m²).",
    )
    social_rent_existing_max_m2: float = Field(5.67, gt=0.0, description="See the min.")
    social_rent_growth: float = Field(
        0.0135, ge=-0.1, le=0.3,
        description="Yearly growth of bound rents (NRW Mietobergrenzen +4.10 % for 2019-2022).",
    )
    market_rent_growth: float = Field(
        0.0405, ge=-0.2, le=0.3,
        description="Yearly nominal growth of re-letting rents at the target vacancy (Dortmund "
        "asking rents 5.30 EUR/m² in 2012, 7.00 in 2019).",
    )
    mietspiegel_growth: float = Field(
        0.021, ge=-0.2, le=0.3,
        description="Yearly growth of the local comparable rent (Dortmund Mietspiegel 2023: "
        "+2.1 %/year); sitting tenants' rents follow it.",
    )
    vacancy_elasticity: float = Field(
        1.0, ge=0.0, le=20.0,
        description="Extra yearly rent growth per point of vacancy below the target vacancy.",
    )
    market_vacancy_at_start: float | None = Field(
        None, ge=0.0, lt=0.5,
        description="Vacant dwellings above this share of the market stock at the start are off "
        "the market for good (structural vacancy: unfit to let, awaiting renovation or "
        "demolition; tenure WITHDRAWN). None: every vacant dwelling of the start is on the "
        "market. For a census start whose vacancy counts all empty dwellings (Zensus 2011).",
    )
    vacancy_reserve: float = Field(
        0.0, ge=0.0, lt=0.2,
        description="Fluktuationsreserve: share of each quartier's market dwellings that "
        "stand empty between two tenancies. Each year that many of its vacant dwellings (a "
        "keyed random choice, never last year's) are let to nobody, so the year-end vacancy, "
        "like the observed one, counts them. 0: every vacant dwelling can be let at once (the "
        "year-end vacancy is the excess alone). ASSUMPTION where set; in the sensitivity "
        "analysis.",
    )
    target_vacancy: float = Field(
        0.033, ge=0.0, lt=0.5,
        description="Vacancy at which re-letting rents grow at the base rate, in-migration "
        "demand is at in_migration_rate and construction at construction_rate: Zensus 2022 "
        "NRW's 3.3 % of all dwellings, the start's vacancy (ASSUMPTION: the start market is in "
        "balance).",
    )
    rent_increase_cap_3y: float = Field(
        0.20, ge=0.0, le=1.0,
        description="Kappungsgrenze: sitting tenants' rent may rise at most this much in three "
        "years (§ 558 BGB: 20 %, 15 % in tight markets).",
    )
    wbs_limit_one_person: float = Field(
        19350.0, gt=0.0, description="WBS income limit, EUR/year, one person (NRW 2021)."
    )
    wbs_limit_two_persons: float = Field(
        23310.0, gt=0.0, description="WBS income limit, EUR/year, two persons (NRW 2021)."
    )
    wbs_limit_per_further_person: float = Field(
        5360.0, ge=0.0, description="WBS limit per further person, EUR/year (NRW 2021)."
    )
    wbs_limit_per_child: float = Field(
        700.0, ge=0.0, description="WBS limit addition per child, EUR/year (NRW 2021)."
    )
    construction_rate: float = Field(
        0.004, ge=0.0, le=0.1,
        description="New dwellings per existing dwelling and year when the city's vacancy is at "
        "target_vacancy and its re-letting rents at the region's (ASSUMPTION: no figure in the "
        "data).",
    )
    construction_rate_floor: float = Field(
        0.001, ge=0.0, le=0.1,
        description="New dwellings per dwelling and year however weak the demand (ASSUMPTION).",
    )
    construction_rate_max: float = Field(
        0.02, ge=0.0, le=0.2,
        description="Most new dwellings per dwelling and year however strong the demand "
        "(ASSUMPTION).",
    )
    construction_vacancy_elasticity: float = Field(
        1.0, ge=0.0, le=20.0,
        description="Construction grows by exp(this × (target_vacancy − vacancy) / "
        "target_vacancy) (ASSUMPTION; in the sensitivity analysis).",
    )
    construction_rent_elasticity: float = Field(
        1.0, ge=0.0, le=20.0,
        description="… and by (re-letting rent / the region's) ** this (ASSUMPTION).",
    )
    long_vacancy_years: int = Field(
        3, ge=1, le=50,
        description="A dwelling vacant this many years in a row counts as long vacant "
        "(ASSUMPTION).",
    )
    demolition_rate: float = Field(
        0.05, ge=0.0, le=1.0,
        description="Share of long-vacant dwellings withdrawn from the market each year "
        "without any lever (Rückbau; ASSUMPTION: no figure in the data).",
    )
    new_build_rent_premium: float = Field(
        0.31, ge=0.0, le=3.0,
        description="New dwellings' rent above the stock level (NRW Zensus 2022: 8.91 EUR/m² "
        "built 2010 or later vs 6.82 all).",
    )
    owner_min_income: float = Field(
        1.0, ge=0.0, le=5.0,
        description="Buying a dwelling needs at least this multiple of the median income.",
    )


class MobilityParameters(StrictModel):
    """Who moves, and where to (discrete choice with the outside option of leaving).

    The base move rates by life stage and the utilities are behavioural parameters without a
    direct official figure. ``quartier calibrate`` fits the young's move rate and the utility of
    leaving the city (with in-migration, leaving home and partnership) to Köln's yearly
    within-city moves (59.3 per 1,000 residents, 2019), in- and out-migration (53.6 and 49.5 per
    1,000, 2023) and NRW's household sizes; the fitted values are in
    ``scenarios/calibrated.toml``, which the baseline extends. The defaults here are the
    hand-set starting values.
    """

    move_rate_young: float = Field(
        0.26, ge=0.0, le=1.0, description="Base yearly move probability, oldest member < 30."
    )
    move_rate_family: float = Field(
        0.088, ge=0.0, le=1.0, description="Base rate of households with children."
    )
    move_rate_middle: float = Field(
        0.079, ge=0.0, le=1.0, description="Base rate, oldest member 30-64, no children."
    )
    move_rate_old: float = Field(
        0.031, ge=0.0, le=1.0, description="Base rate, oldest member 65+."
    )
    dissatisfaction_effect: float = Field(
        1.5, ge=0.0, le=20.0,
        description="Move probability = base × exp(effect × dissatisfaction), capped at 1.",
    )
    life_event_move_probability: float = Field(
        0.25, ge=0.0, le=1.0,
        description="Extra move probability after a birth or the death of a partner.",
    )
    rent_burden_threshold: float = Field(
        0.30, gt=0.0, le=1.0, description="Rent burden (gross cold rent / income) felt as a strain."
    )
    space_norm_first_person: float = Field(
        50.0, gt=0.0, description="Adequate floor space (m²) for one person (NRW WBS norm)."
    )
    space_norm_per_further_person: float = Field(
        15.0, ge=0.0,
        description="Adequate extra floor space per further person (m², NRW WBS norm).",
    )
    crowding_threshold: float = Field(
        0.75, gt=0.0, le=2.0,
        description="Households feel crowded below this share of the floor-space norm (no "
        "figure in the data: an assumption).",
    )
    homophily_threshold: float = Field(
        0.3, ge=0.0, le=1.0,
        description="Share of own-group neighbours (income group, origin) below which a "
        "household is dissatisfied with its neighbourhood (Schelling).",
    )
    choice_set_size: int = Field(
        10, ge=1, le=200, description="Vacant dwellings a searching household considers."
    )
    utility_rent_burden: float = Field(
        8.0, ge=0.0, description="Utility loss per unit of rent burden."
    )
    utility_space: float = Field(
        1.5, ge=0.0, description="Utility of floor space relative to the norm (log ratio)."
    )
    utility_similar_neighbours: float = Field(
        1.5, ge=0.0, description="Utility per share of own-group neighbours."
    )
    utility_quartier_attachment: float = Field(
        0.5, ge=0.0, description="Utility of staying in the own quartier."
    )
    utility_stay: float = Field(
        1.0, description="Utility of staying in the present dwelling (moving costs)."
    )
    utility_outside: float = Field(
        3.3, description="Utility of leaving the city (the outside option), besides its rent."
    )
    outside_rent_m2: float = Field(
        8.05, gt=0.0,
        description="Re-letting rent per m² outside the city, growing like the city's base "
        "market rent (NRW net cold rent 6.82, Zensus 2022, plus the re-letting premium).",
    )




class Parameters(StrictModel):
    """Behavioural parameters (uncertainties)."""

    demography: DemographyParameters = DemographyParameters()
    migration: MigrationParameters = MigrationParameters()
    income: IncomeParameters = IncomeParameters()
    housing: HousingParameters = HousingParameters()
    mobility: MobilityParameters = MobilityParameters()
    services: ServicesParameters = ServicesParameters()
    care: CareParameters = CareParameters()
    care_grades: CareGradeParameters = CareGradeParameters()
    jobs: JobsParameters = JobsParameters()
    employment: EmploymentParameters = EmploymentParameters()
    choice: ServicesChoiceParameters = ServicesChoiceParameters()
    households: HouseholdParameters = HouseholdParameters()
    costs: CostParameters = CostParameters()  # unit costs of the levers (not behaviour)
    kitas: KitaParameters = KitaParameters()

