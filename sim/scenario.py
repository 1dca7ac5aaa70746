"""Scenario files: schema, loading with ``extends``, and the content hash.

A scenario is a TOML file organised as in EMA Workbench: ``city`` holds the constants of the
place, ``parameters`` the behavioural parameters (the uncertainties a calibration or sweep
varies), ``levers`` the policy, ``outcomes`` what is recorded. A file may ``extends`` another
(path relative to itself) and then overrides only what changes; tables merge key by key.

Example::

    extends = "baseline.toml"
    name = "fertility_high"

    [parameters.demography]
    total_fertility_rate = 1.6
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import InputError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CityConfig(_Strict):
    """The place: a built-in synthetic city or a Zensus 2022 100 m grid file."""

    kind: Literal["ruhrstadt", "zensus"] = Field(
        "ruhrstadt", description="'ruhrstadt' (built-in synthetic city) or 'zensus' (grid CSV)."
    )
    households: int | None = Field(
        None, gt=0, le=20_000_000,
        description="Households at the start (default: 30,000 for 'ruhrstadt'; for 'zensus' "
        "the grid's inhabitants divided by the mean household size).",
    )
    zensus_file: str | None = Field(
        None, description="Zensus 2022 100 m grid CSV (kind='zensus'), relative to this file."
    )
    quartier_block_m: int = Field(
        1000, ge=100, le=10_000,
        description="kind='zensus': quartiers are square blocks of this side length (m).",
    )
    vacancy_rate: float = Field(
        0.033, ge=0.0, lt=0.5,
        description="Share of dwellings vacant at the start (Zensus 2022 NRW: 3.3 %).",
    )
    layout_seed: int = Field(
        2024, ge=0, description="Fixes the geography of the synthetic city (not the people)."
    )

    @model_validator(mode="after")
    def _zensus_needs_file(self) -> CityConfig:
        if self.kind == "zensus" and not self.zensus_file:
            raise ValueError("kind = 'zensus' needs city.zensus_file")
        return self


class DemographyParameters(_Strict):
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


class MigrationParameters(_Strict):
    """Migration across the city boundary.

    In-migration: newcomers arrive at ``in_migration_rate`` per resident and year as whole
    households (their profile below) and take a vacant dwelling if one in their choice set
    beats staying away. Out-migration is not a rate: it is the outside option of every
    household that searches (see ``mobility``).
    """

    in_migration_rate: float = Field(
        0.11, ge=0.0, le=1.0,
        description="Persons looking for a dwelling in the city from outside, per resident and "
        "year; not all find one they prefer to staying away. Fitted (scenarios/calibrated.toml) "
        "so that in-migrants come to about Köln 2023's 53.6 per 1,000 (58,189 / 1,084,831).",
    )
    in_migrant_mean_age: float = Field(
        30.0, ge=15.0, le=70.0, description="Mean age of in-migrants (Köln 2023: about 30)."
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


class IncomeParameters(_Strict):
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


class HousingParameters(_Strict):
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
    target_vacancy: float = Field(
        0.03, ge=0.0, lt=0.5, description="Vacancy at which re-letting rents grow at the base rate."
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
        description="New dwellings per existing dwelling and year (no figure in the data: an "
        "assumption).",
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


class MobilityParameters(_Strict):
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
        0.30, ge=0.0, le=1.0, description="Rent burden (gross cold rent / income) felt as a strain."
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


class ServicesParameters(_Strict):
    """Facilities (doctors, care, schools, employers, stops) and travel times.

    Supply is set per inhabitant from NRW figures and placed on the grid at the start (cells
    drawn in proportion to residents and the quartier's service levels). Travel times come
    from a simple distance model (``sim.accessibility.TravelModel``): airline distance × a
    detour factor at walking, public-transport or car speed.
    """

    gps_per_100k: float = Field(
        59.6, ge=0.0, le=1000.0,
        description="General practitioners (Hausärzte) per 100,000 inhabitants (KV "
        "Westfalen-Lippe 2019: 59.6).",
    )
    single_handed_share: float = Field(
        0.675, ge=0.0, le=1.0,
        description="Share of GP practices with one doctor, the others have two (Germany 2023: "
        "67.5 % Einzelpraxen).",
    )
    gp_catchment_min: float = Field(
        15.0, gt=0.0, le=120.0,
        description="Catchment of GP practices in the 2SFCA on foot and by public transport, "
        "minutes (no figure in the data: an assumption; Gaussian decay within it).",
    )
    gp_catchment_car_min: float = Field(
        10.0, gt=0.0, le=120.0,
        description="Catchment by car, minutes (Germany 2023: 99 % of residents within 10 "
        "minutes of a GP by car).",
    )
    gp_reach_m: float = Field(
        1000.0, gt=0.0,
        description="A resident is 'within reach' of a GP within this airline distance (NRW: "
        "80 % of inhabitants within 1,000 m of a GP).",
    )
    ambulant_clients_per_1000: float = Field(
        13.2, ge=0.0,
        description="Clients of ambulant care services per 1,000 inhabitants (NRW 2023: 13.2).",
    )
    ambulant_clients_per_service: float = Field(
        74.9, gt=0.0, description="Clients per ambulant care service (NRW 2023: 74.9)."
    )
    ambulant_capacity_reserve: float = Field(
        0.10, ge=0.0, le=5.0,
        description="Spare capacity of ambulant services above their clients (no figure in the "
        "data: an assumption).",
    )
    ambulant_catchment_min: float = Field(
        15.0, gt=0.0, le=120.0,
        description="Catchment of ambulant services (by car), minutes (an assumption).",
    )
    nursing_places_per_1000: float = Field(
        9.8, ge=0.0,
        description="Nursing-home places (full-time permanent care) per 1,000 inhabitants (NRW "
        "2023: 177,765 places / 18.1 million).",
    )
    nursing_places_per_home: float = Field(
        79.2, gt=0.0, description="Places per nursing home (NRW 2023: 79.2)."
    )
    pupils_per_primary_school: float = Field(
        257.7, gt=0.0, description="Pupils per Grundschule (NRW 2024/25: 257.7)."
    )
    pupils_per_secondary_school: float = Field(
        580.0, gt=0.0,
        description="Pupils per secondary school (NRW 2024/25, all general schools but "
        "Grundschulen: 1,290,315 pupils / 2,225 schools).",
    )
    school_capacity_reserve: float = Field(
        0.10, ge=0.0, le=5.0,
        description="School places above the pupils at the start (no figure in the data: an "
        "assumption).",
    )
    primary_school_ages: tuple[int, int] = Field(
        (6, 9), description="Ages attending a Grundschule (NRW: four years)."
    )
    secondary_school_ages: tuple[int, int] = Field(
        (10, 18), description="Ages attending a secondary school."
    )
    stop_spacing_m: float = Field(
        400.0, gt=0.0,
        description="Public-transport stops lie on a square lattice of this spacing over "
        "built-up cells (no network data for the synthetic city; 300-400 m catchments are "
        "the planning rule, PTV Visum / ÖV-Güteklassen).",
    )
    walk_speed_m_s: float = Field(
        1.33, gt=0.0, description="Walking speed (OpenTripPlanner's default, 1.33 m/s)."
    )
    pt_speed_kmh: float = Field(
        26.8, gt=0.0, description="Mean public-transport speed (Dortmund: 26.8 km/h)."
    )
    car_speed_kmh: float = Field(
        25.0, gt=0.0, description="Urban door-to-door car speed (an assumption)."
    )
    car_overhead_min: float = Field(
        3.0, ge=0.0, le=60.0,
        description="Parking and walking to and from the car, minutes (an assumption).",
    )
    headway_min: float = Field(
        10.0, gt=0.0, le=120.0,
        description="Public-transport headway, minutes (waiting = half; an assumption).",
    )
    detour_factor: float = Field(
        1.3, ge=1.0, le=3.0,
        description="Street distance per airline distance (no figure in the data: an "
        "assumption).",
    )


class CareParameters(_Strict):
    """Long-term care need (Pflegebedürftigkeit) and where care is given.

    Prevalence by age band and sex: NRW 2021 counts by age (IT.NRW) over NRW population for
    ages under 75; Germany's 2021 Pflegequoten by sex (GBE-Bund) times the NRW/Germany ratio
    at 75+; scaled to NRW's 2023 totals. Rates are steps by band (no interpolation within a
    band). The derivation is in calibration/targets/README.md.
    """

    age_bands: tuple[int, ...] = Field(
        (0, 65, 75, 85, 90), description="Lower ages of the prevalence bands."
    )
    prevalence_male: tuple[float, ...] = Field(
        (0.0188, 0.0847, 0.220, 0.485, 0.782),
        description="Share of men in care need per band (2021 level).",
    )
    prevalence_female: tuple[float, ...] = Field(
        (0.0188, 0.0847, 0.304, 0.681, 0.900),
        description="Share of women in care need per band (2021 level; 90+ capped at 0.90).",
    )
    inpatient_bands: tuple[int, ...] = Field(
        (0, 65, 75, 80, 85, 90, 95), description="Lower ages of the inpatient-share bands."
    )
    inpatient_share: tuple[float, ...] = Field(
        (0.0459, 0.1090, 0.1213, 0.1405, 0.1821, 0.2547, 0.3704),
        description="Share of the care-dependent in full inpatient care (NRW 2021).",
    )
    ambulant_share_of_home: tuple[float, ...] = Field(
        (0.1080, 0.1938, 0.2297, 0.2646, 0.3054, 0.3434, 0.3936),
        description="Share of those cared for at home who need an ambulant service (NRW 2021; "
        "the others are cared for by relatives).",
    )
    home_growth_2021_2023: float = Field(
        1.193, gt=0.0, le=3.0,
        description="Care at home, NRW 2023 / 2021 (1.2208 / 1.0229 million).",
    )
    inpatient_growth_2021_2023: float = Field(
        1.013, gt=0.0, le=3.0, description="Inpatient care, NRW 2023 / 2021 (169.2 / 167.1 k)."
    )

    @model_validator(mode="after")
    def _bands(self) -> CareParameters:
        if not (len(self.age_bands) == len(self.prevalence_male) == len(self.prevalence_female)):
            raise ValueError("age_bands, prevalence_male and prevalence_female differ in length")
        if not (len(self.inpatient_bands) == len(self.inpatient_share)
                == len(self.ambulant_share_of_home)):
            raise ValueError("inpatient_bands and the shares differ in length")
        for name in ("prevalence_male", "prevalence_female", "inpatient_share",
                     "ambulant_share_of_home"):
            if any(not 0.0 <= v <= 1.0 for v in getattr(self, name)):
                raise ValueError(f"{name} must lie between 0 and 1")
        return self


class JobsParameters(_Strict):
    """Employment, car ownership and commuting. Money amounts (tickets, driving, time) are at
    the start year's level and grow with incomes (``income.income_growth``), like rents."""

    employment_rate_male: float = Field(
        0.786, ge=0.0, le=1.0, description="Employment rate of men 18-54 (NRW 2021, 15-64: 78.6 %)."
    )
    employment_rate_female: float = Field(
        0.699, ge=0.0, le=1.0, description="Employment rate of women 18-54 (NRW 2021: 69.9 %)."
    )
    employment_rate_55_64_male: float = Field(
        0.766, ge=0.0, le=1.0, description="Men 55-64 (NRW 2022: 76.6 %)."
    )
    employment_rate_55_64_female: float = Field(
        0.663, ge=0.0, le=1.0, description="Women 55-64 (NRW 2022: 66.3 %)."
    )
    employment_rate_65_69: float = Field(0.213, ge=0.0, le=1.0, description="NRW 2022: 21.3 %.")
    employment_rate_70_74: float = Field(0.106, ge=0.0, le=1.0, description="NRW 2022: 10.6 %.")
    poverty_employment_odds: float = Field(
        0.35, gt=0.0, le=10.0,
        description="Odds ratio of employment for members of households at risk of poverty (no "
        "figure in the data: an assumption).",
    )
    share_working_in_city: float = Field(
        0.48, ge=0.0, le=1.0,
        description="Share of the employed working in their own municipality (NRW 2019: 4.47 of "
        "9.3 million).",
    )
    inside_commute_mean_km: float = Field(
        3.0, gt=0.0,
        description="Mean airline distance from home to a job in the city, when the job is "
        "found (no figure in the data: an assumption).",
    )
    outside_commute_km: float = Field(
        19.8, ge=0.0,
        description="Airline distance to jobs outside the city (NRW 2019 mean commute: 19.8 km).",
    )
    no_car_share: float = Field(
        0.325, ge=0.0, le=1.0,
        description="Households without a car (NRW cities over 100,000, EVS 2018: 32.5 %).",
    )
    no_car_odds_poor: float = Field(
        4.0, gt=0.0,
        description="Odds ratio of having no car, low economic status vs all (MiD 2017: 53 % vs "
        "22 %).",
    )
    no_car_odds_high: float = Field(
        0.31, gt=0.0, description="High economic status vs all (MiD 2017: 8 % vs 22 %)."
    )
    no_car_odds_one_person: float = Field(
        2.5, gt=0.0, description="One-person households vs all (EVS 2008: 43 % vs 23 %)."
    )
    no_car_odds_children: float = Field(
        0.35, gt=0.0, description="Households with children vs all (MiD 2017: 9 % vs 22 %)."
    )
    car_cost_per_km: float = Field(
        0.30, ge=0.0,
        description="Money cost of driving, EUR per km (an assumption; the tax allowance for "
        "commuting is 0.30 EUR per km).",
    )
    workdays_per_month: float = Field(20.0, gt=0.0, le=31.0, description="Commuting days.")
    value_of_time_eur_h: float = Field(
        8.0, ge=0.0,
        description="Value of commuting time, EUR per hour (no figure in the data: an "
        "assumption).",
    )
    ticket_price_eur: float = Field(
        49.0, ge=0.0,
        description="Monthly public-transport ticket (Deutschlandticket 2023-2024: 49 EUR; 58 "
        "from 2025, see scenarios/ticket_58.toml).",
    )
    sozialticket_price_eur: float = Field(
        39.0, ge=0.0,
        description="Sozialticket (VRR Deutschlandticket Sozial from 12/2023: 39 EUR; 48 from "
        "2025).",
    )
    sozialticket_eligibility: Literal["poverty", "wbs", "none"] = Field(
        "poverty",
        description="Who may buy the Sozialticket: households at risk of poverty (the VRR rule "
        "follows benefit receipt, which the model does not hold), WBS holders, or nobody.",
    )
    pt_affordable_share: float = Field(
        0.05, gt=0.0, le=1.0,
        description="Households without a car use public transport for errands only if the "
        "tickets cost at most this share of the household's net income (an assumption).",
    )


class ServicesChoiceParameters(_Strict):
    """How access to doctors, schools and jobs enters satisfaction and choices."""

    health_weight_old: float = Field(1.0, ge=0.0, description="Weight of GP access, 65+.")
    health_weight_family: float = Field(0.6, ge=0.0, description="Weight for families.")
    health_weight_other: float = Field(0.2, ge=0.0, description="Weight for other households.")
    school_weight: float = Field(
        1.0, ge=0.0, description="Weight of the school's composition for families."
    )
    health_access_threshold: float = Field(
        0.5, gt=0.0, le=2.0,
        description="GP access (relative to the city's average) below which households are "
        "dissatisfied (an assumption).",
    )
    commute_burden_threshold: float = Field(
        0.25, gt=0.0, le=1.0,
        description="Generalised commuting cost / income felt as a strain (an assumption).",
    )
    utility_health: float = Field(
        1.0, ge=0.0, description="Utility per unit of relative GP access (capped at 1.5)."
    )
    utility_school: float = Field(
        1.5, ge=0.0, description="Utility loss per unit of the school's relative disadvantage."
    )


class Parameters(_Strict):
    """Behavioural parameters (uncertainties)."""

    demography: DemographyParameters = DemographyParameters()
    migration: MigrationParameters = MigrationParameters()
    income: IncomeParameters = IncomeParameters()
    housing: HousingParameters = HousingParameters()
    mobility: MobilityParameters = MobilityParameters()
    services: ServicesParameters = ServicesParameters()
    care: CareParameters = CareParameters()
    jobs: JobsParameters = JobsParameters()
    choice: ServicesChoiceParameters = ServicesChoiceParameters()


class RentMixingLever(_Strict):
    """Rent mixing and social housing (levers.rent_mixing)."""

    from_year: int = Field(2025, ge=1900, le=2200, description="First year the lever acts.")
    social_share_target: float | dict[str, float] = Field(
        0.0,
        description="Share of social dwellings to reach, citywide (a number) or per quartier "
        "(a table quartier id = share). Reached by buying occupancy bindings of private "
        "dwellings when they are re-let.",
    )
    max_bindings_bought_per_year: float = Field(
        0.005, ge=0.0, le=1.0,
        description="At most this share of the stock gets a new binding per year.",
    )
    new_building_social_quota: float = Field(
        0.0, ge=0.0, le=1.0, description="Share of new dwellings built as social housing."
    )
    spread_new_building: bool = Field(
        False, description="Build new dwellings in every quartier in proportion to its stock "
        "(else where demand is highest).",
    )
    binding_extension_years: int = Field(
        0, ge=0, le=50, description="Expiring bindings are extended by this many years."
    )
    binding_years_new: int = Field(
        30, ge=1, le=80, description="Binding period of new or bought social dwellings."
    )
    rent_cap: float | None = Field(
        None, ge=-0.1, le=0.3,
        description="Cap on the yearly growth of re-letting rents (Mietpreisbremse-like).",
    )

    @model_validator(mode="after")
    def _shares(self) -> RentMixingLever:
        target = self.social_share_target
        values = target.values() if isinstance(target, dict) else [target]
        for v in values:
            if not 0.0 <= v <= 1.0:
                raise ValueError("social_share_target must lie between 0 and 1")
        return self


class MvzCentre(_Strict):
    """One medical care centre (MVZ) or practice opened by the lever."""

    cell: tuple[int, int] | None = Field(
        None, description="[column, row] of the grid cell (0-based, from the south-west)."
    )
    coordinates: tuple[float, float] | None = Field(
        None, description="[x, y] in the city's coordinates (m; EPSG:3035 for Zensus cities)."
    )
    doctors: float = Field(
        6.0, gt=0.0, le=200.0, description="Doctors (Germany 2022: 6.2 per MVZ)."
    )
    opening_year: int = Field(2025, ge=1900, le=2200)
    name: str = ""

    @model_validator(mode="after")
    def _where(self) -> MvzCentre:
        if (self.cell is None) == (self.coordinates is None):
            raise ValueError("give either cell = [column, row] or coordinates = [x, y]")
        return self


class DoctorIncentive(_Strict):
    """Incentives that bring doctors to the weakest-served quartier each year."""

    from_year: int = Field(2025, ge=1900, le=2200)
    until_year: int = Field(2200, ge=1900, le=2200)
    doctors_per_year: float = Field(
        1.0, gt=0.0, le=100.0,
        description="Doctors added per year to the quartier with the lowest GP access of its "
        "65+ residents (in its most populous cell).",
    )


class MvzLever(_Strict):
    """Medical care centres (levers.mvz)."""

    centres: list[MvzCentre] = Field(default_factory=list)
    incentive: DoctorIncentive | None = None


class PublicTransportLever(_Strict):
    """Public-transport pricing and supply (levers.public_transport)."""

    from_year: int = Field(2025, ge=1900, le=2200)
    ticket_price_eur: float | None = Field(
        None, ge=0.0, le=1000.0, description="Monthly ticket for everyone (e.g. 49, 58)."
    )
    sozialticket_price_eur: float | None = Field(None, ge=0.0, le=1000.0)
    sozialticket_eligibility: Literal["poverty", "wbs", "none"] | None = None
    free_fares: bool = Field(False, description="Fare-free public transport for everyone.")
    extra_stops: list[tuple[int, int]] = Field(
        default_factory=list, description="Cells [column, row] that get a new stop."
    )
    headway_factor: float = Field(
        1.0, gt=0.0, le=10.0, description="Headways times this (0.5 = twice as frequent)."
    )


class SchoolInvestment(_Strict):
    """Investment in the schools of a quartier (schools as learning places)."""

    quartier: str = Field(..., description="Quartier id; its schools get the investment.")
    quality: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Offsets this much of the schools' relative disadvantage as families "
        "perceive it (share of pupils at risk of poverty above the city's).",
    )
    from_year: int = Field(2025, ge=1900, le=2200)


class AmbulantCareLever(_Strict):
    """More ambulant care capacity (levers.ambulant_care)."""

    from_year: int = Field(2025, ge=1900, le=2200)
    extra_clients: float = Field(100.0, gt=0.0, description="Extra clients served.")
    quartier: str | None = Field(None, description="Quartier of the new service (default: "
                                 "the one with the most unmet care).")


class Levers(_Strict):
    """Policy levers (each with the year it takes effect)."""

    rent_mixing: RentMixingLever | None = None
    mvz: MvzLever | None = None
    public_transport: PublicTransportLever | None = None
    school_investment: list[SchoolInvestment] = Field(default_factory=list)
    ambulant_care: AmbulantCareLever | None = None


class SchellingSettings(_Strict):
    """Parameters of Schelling mode (the ``[schelling]`` table of a scenario file).

    Defaults are those of Mesa's example (``density=0.8``, ``minority_pc=0.5``,
    ``homophily=0.4``, ``radius=1``, bounded grid), on a 100 x 100 grid instead of Mesa's 20 x 20.
    """

    width: int = Field(100, ge=3, description="Grid width in cells.")
    height: int = Field(100, ge=3, description="Grid height in cells.")
    density: float = Field(
        0.8, gt=0, lt=1,
        description="Probability that a cell holds a household at the start (Mesa: density).",
    )
    minority_share: float = Field(
        0.5, gt=0, lt=1,
        description="Probability that a household belongs to group 1, else group 0 "
        "(Mesa: minority_pc; default 0.5 as in Mesa, i.e. two groups of equal expected size).",
    )
    tolerance: float = Field(
        0.4, ge=0, le=1,
        description="Smallest share of own-group households among the occupied neighbouring "
        "cells with which a household is happy (Mesa: homophily, a fraction). A household with "
        "no occupied neighbour counts as having share 0: unhappy unless tolerance is 0.",
    )
    radius: int = Field(
        1, ge=1,
        description="Neighbourhood radius: the Moore neighbourhood of all cells within this "
        "Chebyshev distance, the cell itself excluded (8 cells for radius 1).",
    )
    torus: bool = Field(
        False,
        description="Whether the grid wraps around at its edges. Mesa's example uses a bounded "
        "grid (OrthogonalMooreGrid's default torus=False), so edge cells have fewer neighbours.",
    )
    happiness_check: Literal["start_of_step", "on_turn"] = Field(
        "start_of_step",
        description="When a household judges its neighbourhood. 'start_of_step' (as Mesa's "
        "example): happiness is evaluated for all households at the end of the previous step "
        "and those unhappy then move in random order. 'on_turn': each household judges the "
        "current grid when its turn in the random order comes.",
    )

    @model_validator(mode="after")
    def _neighbourhood_fits(self) -> SchellingSettings:
        if self.width * self.height > 2**31 - 1:
            raise ValueError("the grid may have at most 2**31 - 1 cells")
        side = 2 * self.radius + 1
        if self.torus and (side > self.width or side > self.height):
            raise ValueError(
                f"on a torus the neighbourhood ({side} x {side} cells for radius {self.radius}) "
                f"must fit in the grid ({self.width} x {self.height}), or cells would count twice"
            )
        return self


class OutcomesConfig(_Strict):
    """What is recorded each year."""

    per_quartier: bool = Field(True, description="Record every metric per quartier too.")
    cell_snapshots: bool = Field(
        False, description="Also record a per-cell table every year (for maps)."
    )


class Scenario(_Strict):
    """A validated scenario: everything a run needs besides the seed."""

    name: str = Field(..., min_length=1, max_length=200)
    description: str = ""
    model: Literal["quartier", "schelling"] = Field(
        "quartier",
        description="'quartier' (the full model) or 'schelling' (Schelling's classic model "
        "only, set in the [schelling] table; for checks against the classic results).",
    )
    start_year: int = Field(2024, ge=1900, le=2200)
    years: int = Field(20, ge=1, le=300, description="Years to simulate.")
    city: CityConfig = CityConfig()
    parameters: Parameters = Parameters()
    levers: Levers = Levers()
    outcomes: OutcomesConfig = OutcomesConfig()
    schelling: SchellingSettings = SchellingSettings()
    source_file: str | None = Field(None, exclude=True, description="Where it was loaded from.")

    def with_values(self, values: dict[str, Any]) -> Scenario:
        """A validated copy with fields set by dotted path.

        Example: ``sc.with_values({"parameters.demography.total_fertility_rate": 1.6})``.

        Raises:
            InputError: for a path that names no field, or an invalid value.
        """
        data = self.model_dump()
        for dotted, value in values.items():
            node: Any = data
            *parents, leaf = dotted.split(".")
            for part in parents:
                if not isinstance(node, dict) or part not in node or not isinstance(
                        node[part], dict):
                    raise InputError("parameters", dotted, "no such scenario field")
                node = node[part]
            if leaf not in node:
                raise InputError("parameters", dotted, "no such scenario field")
            node[leaf] = value
        data["source_file"] = self.source_file
        try:
            return Scenario.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise InputError("parameters", field, err["msg"]) from None

    @property
    def base_dir(self) -> Path:
        return Path(self.source_file).parent if self.source_file else Path.cwd()

    def resolve_path(self, relative: str) -> Path:
        """A path given in the scenario, resolved against the scenario file's folder."""
        path = Path(relative)
        return path if path.is_absolute() else (self.base_dir / path)

    def content_hash(self) -> str:
        """SHA-256 of everything that affects results (the description excluded).

        A referenced Zensus file enters with the hash of its content, so the hash does not
        depend on where the files lie.
        """
        data = self.model_dump(exclude={"description"})
        if self.city.zensus_file:
            path = self.resolve_path(self.city.zensus_file)
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"
            data["city"]["zensus_file"] = f"sha256:{digest}"
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(_display(path), None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(_display(path), None, f"cannot read file ({exc.__class__.__name__})"
                         ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(_display(path), None, f"not valid TOML: {exc}") from None


def _merge(base: dict, override: dict, origin: dict, file: str, prefix: str = "") -> dict:
    """Deep-merge ``override`` into a copy of ``base``; record which file set each key."""
    merged = dict(base)
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, origin, file, dotted + ".")
        else:
            merged[key] = value
            origin[dotted] = file
    return merged


def _load_raw(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """The merged raw table of a file and its ``extends`` ancestors, with key origins."""
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise InputError(_display(chain[-1]), "extends", f"cycle: {cycle}")
    raw = _read_toml(path)
    parent = raw.pop("extends", None)
    if parent is None:
        base, origin = {}, {}
    else:
        if not isinstance(parent, str) or not parent:
            raise InputError(_display(path), "extends", "must be a file name (a string)")
        parent_path = (path.parent / parent) if not Path(parent).is_absolute() else Path(parent)
        if not parent_path.exists():
            raise InputError(_display(path), "extends", f"file not found: {parent}")
        base, origin = _load_raw(parent_path, (*chain, path))
        base.pop("name", None)  # a name is never inherited
    merged = _merge(base, raw, origin, str(path))
    return merged, origin


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file, following ``extends``.

    Args:
        path: The TOML file.

    Returns:
        The validated :class:`Scenario`.

    Raises:
        InputError: naming the file and the field for any invalid input.
    """
    path = Path(path)
    raw, origin = _load_raw(path, ())
    raw.setdefault("name", path.stem)
    raw["source_file"] = str(path.resolve())
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        field = ".".join(loc) if loc else None
        file = _origin_of(field, origin) or str(path)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif "input" in err and err["type"] not in ("missing",) and not isinstance(
            err["input"], dict
        ):
            msg = f"{msg} (got {err['input']!r})"
        raise InputError(_display(file), field, msg) from None
    if scenario.city.kind == "zensus":
        zpath = scenario.resolve_path(scenario.city.zensus_file or "")
        if not zpath.is_file():
            file = _origin_of("city.zensus_file", origin) or str(path)
            raise InputError(_display(file), "city.zensus_file", f"file not found: {zpath}")
    problem = lever_location_problem(scenario)
    if problem is not None:
        field, msg = problem
        file = _origin_of(field, origin) or str(path)
        raise InputError(_display(file), field, msg)
    return scenario


def lever_location_problem(scenario: Scenario) -> tuple[str, str] | None:
    """(field, message) for the first lever placed outside the city or in an unknown
    quartier, else None. Builds the city's geometry (cheap; no population)."""
    lev = scenario.levers
    if scenario.model != "quartier" or (
            lev.mvz is None and lev.public_transport is None and not lev.school_investment
            and lev.ambulant_care is None):
        return None
    from sim.city import build_city
    from sim.services import cell_of, quartier_index

    city = build_city(scenario)
    checks: list[tuple[str, Any]] = []
    if lev.mvz is not None:
        for i, c in enumerate(lev.mvz.centres):
            field = "cell" if c.cell is not None else "coordinates"
            checks.append((f"levers.mvz.centres.{i}.{field}",
                           lambda c=c: cell_of(city, cell=c.cell, coordinates=c.coordinates)))
    if lev.public_transport is not None:
        for i, cell in enumerate(lev.public_transport.extra_stops):
            checks.append((f"levers.public_transport.extra_stops.{i}",
                           lambda cell=cell: cell_of(city, cell=cell)))
    for i, inv in enumerate(lev.school_investment):
        checks.append((f"levers.school_investment.{i}.quartier",
                       lambda inv=inv: quartier_index(city, inv.quartier)))
    if lev.ambulant_care is not None and lev.ambulant_care.quartier is not None:
        checks.append(("levers.ambulant_care.quartier",
                       lambda: quartier_index(city, lev.ambulant_care.quartier)))
    for field, check in checks:
        try:
            check()
        except ValueError as exc:
            return field, str(exc)
    return None


def _origin_of(field: str | None, origin: dict[str, str]) -> str | None:
    while field:
        if field in origin:
            return origin[field]
        field = field.rpartition(".")[0]
    return None


def _display(file: str | Path) -> str:
    try:
        return str(Path(file).resolve().relative_to(Path.cwd()))
    except ValueError:
        return file
