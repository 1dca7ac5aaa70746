"""Parameters of services and access (``[parameters.services|care|jobs|choice]``): facilities
and travel times, long-term care, employment and commuting, and how access enters choices."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import Field, model_validator

from sim.scenario.base import StrictModel


class ServicesParameters(StrictModel):
    """Facilities (doctors, care, schools, employers, stops) and travel times.

    Supply is set per inhabitant from NRW figures and placed on the grid at the start (cells
    drawn in proportion to residents and the quartier's service levels). Travel times come
    from a simple distance model (``sim.model.accessibility.TravelModel``): airline distance × a
    detour factor at walking, public-transport or car speed.
    """

    gps_per_100k: float = Field(
        59.6, ge=0.0, le=1000.0,
        description="General practitioners (Hausärzte) per 100,000 inhabitants (KV "
        "Westfalen-Lippe 2019: 59.6).",
    )
    gp_inhabitants_per_gp: float = Field(
        1671.0, gt=0.0, le=100_000.0,
        description="The Bedarfsplanung's general ratio (allgemeine Verhältniszahl) of "
        "inhabitants per Hausarzt: a GP access (Versorgungsgrad) of 1 means one GP per this many "
        "inhabitants within reach (G-BA; KV Nordrhein 'Als angemessen gilt ein Verhältnis von "
        "1.671 Einwohnern je Hausarzt'; 1,581 after the Leistungsbedarfsfaktor update).",
    )
    gp_start_age_edges: tuple[int, ...] = Field(
        (35, 50, 60, 65, 70, 75),
        description="Edges of the age bands of the GPs at the start (completed years; a band "
        "runs from one edge to the year before the next).",
    )
    gp_start_age_shares: tuple[float, ...] = Field(
        (0.2868, 0.3052, 0.223, 0.145, 0.04),
        description="Shares of the GPs at the start per age band, uniform within a band "
        "(reproduce Germany's mean age 55.1 (2025), 40.8 % aged 60+ and 18.5 % over 65 (2024); "
        "the split within under 60 and within 65+ is an assumption).",
    )
    gp_active_share_ages: tuple[int, ...] = Field(
        (65, 68, 70),
        description="Ages from which the KV planning assumption counts a smaller share of GPs "
        "as still active (KV Nordrhein & Westfalen-Lippe 2019).",
    )
    gp_active_shares: tuple[float, ...] = Field(
        (0.5, 0.2, 0.0),
        description="Share of GPs still active from each of gp_active_share_ages (KV NRW 2019: "
        "50 % at 65-68, 20 % at 68-70, none from 70); yearly hazards follow (docs/ODD.md 7.13).",
    )
    gp_refill_probability: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Probability that a retiring GP's seat gets a successor, before the "
        "quartier's doctors level (Nordrhein: about 100 Allgemeinmedizin specialist exams a "
        "year against more than 200 GP retirements).",
    )
    gp_new_doctor_ages: tuple[int, int] = Field(
        (35, 49),
        description="Ages of new GPs (successors, MVZ and incentive doctors), uniform (an "
        "assumption).",
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

    @model_validator(mode="after")
    def _gp_ages(self) -> ServicesParameters:
        edges, shares = self.gp_start_age_edges, self.gp_start_age_shares
        if len(edges) != len(shares) + 1 or any(b <= a for a, b in pairwise(edges)):
            raise ValueError("gp_start_age_edges must rise and have one more entry than "
                             "gp_start_age_shares")
        if any(s < 0 for s in shares) or abs(sum(shares) - 1.0) > 1e-6:
            raise ValueError("gp_start_age_shares must be non-negative and sum to 1")
        ages, active = self.gp_active_share_ages, self.gp_active_shares
        if len(ages) != len(active) or any(b <= a for a, b in pairwise(ages)):
            raise ValueError("gp_active_share_ages must rise and match gp_active_shares")
        if any(not 0.0 <= s <= 1.0 for s in active) or any(
                b > a for a, b in pairwise(active)):
            raise ValueError("gp_active_shares must lie in [0, 1] and not rise")
        if not (0 < edges[0] and edges[-1] <= 121 and all(0 < a <= 120 for a in ages)):
            raise ValueError("GP ages must lie between 1 and 120")
        lo, hi = self.gp_new_doctor_ages
        if not 0 < lo <= hi <= 120:
            raise ValueError("gp_new_doctor_ages must be (youngest, oldest) within 1-120")
        return self


class CareParameters(StrictModel):
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


class JobsParameters(StrictModel):
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


class ServicesChoiceParameters(StrictModel):
    """How access to doctors, schools and jobs enters satisfaction and choices."""

    health_weight_old: float = Field(1.0, ge=0.0, description="Weight of GP access, 65+.")
    health_weight_family: float = Field(0.6, ge=0.0, description="Weight for families.")
    health_weight_other: float = Field(0.2, ge=0.0, description="Weight for other households.")
    school_weight: float = Field(
        1.0, ge=0.0, description="Weight of the school's composition for families."
    )
    health_access_threshold: float = Field(
        0.75, gt=0.0, le=2.0,
        description="GP access (Versorgungsgrad, 1 = services.gp_inhabitants_per_gp "
        "inhabitants per GP within reach) below which households are dissatisfied (the "
        "Bedarfsplanung's undersupply threshold, 75 %).",
    )
    health_access_cap: float = Field(
        1.1, gt=0.0, le=5.0,
        description="GP access above which more doctors add no utility (the Bedarfsplanung's "
        "oversupply threshold, 110 %).",
    )
    commute_burden_threshold: float = Field(
        0.25, gt=0.0, le=1.0,
        description="Generalised commuting cost / income felt as a strain (an assumption).",
    )
    utility_health: float = Field(
        1.0, ge=0.0,
        description="Utility per unit of GP access (Versorgungsgrad, capped at "
        "health_access_cap)."
    )
    utility_school: float = Field(
        1.5, ge=0.0, description="Utility loss per unit of the school's relative disadvantage."
    )


