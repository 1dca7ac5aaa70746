"""Unit costs of the levers (``[parameters.costs]``): the public money a lever costs per unit
of what it does (a new social dwelling, a m² of bought binding, a doctor, a ticket-month, a
place). Sources: ``calibration-data/lever_costs.csv`` (SOURCES.md section 24) and
``childcare.csv`` (section 23); where the data has no figure the field says ASSUMPTION.

Costs do not change what the model does; they are computed from a run's outcomes
(:mod:`sim.experiments.costs`, docs/costs.md). Every unit cost is in the prices of its source
year (:data:`PRICE_YEARS`) and grows by ``price_growth`` a year (money is nominal).
"""

from __future__ import annotations

from pydantic import Field

from sim.scenario.base import StrictModel

PRICE_YEARS = {
    "social_loan_per_new_flat_eur": 2017,
    "binding_purchase_eur_m2_month": 2019,
    "binding_extension_eur_m2_month": 2019,
    "gp_settlement_grant_eur": 2026,
    "mvz_founding_grant_eur": 2024,
    "pt_frequency_cost_per_resident_eur": 2024,
    "stop_cost_eur": 2024,
    "school_investment_eur_per_quartier_year": 2024,
    "ambulant_care_eur_per_client_year": 2024,
    "nursing_home_eur_per_place_year": 2024,
    "tagespflege_eur_per_place_year": 2024,
    "kita_eur_per_place_under3_year": 2024,
    "kita_eur_per_place_3to6_year": 2024,
    "kita_investment_eur_per_place": 2024,
    "demolition_eur_per_dwelling": 2024,
}
"""The year whose prices each unit cost is in (the source's year; 2024 for assumptions)."""


class CostParameters(StrictModel):
    """Public unit costs of the levers (see docs/costs.md for the formulas)."""

    price_growth: float | None = Field(
        None, ge=-0.1, le=0.2,
        description="Yearly nominal growth of every unit cost from its price year. Default "
        "(empty): income.income_growth (3.4 %/year, NRW poverty line 2012-2023); ASSUMPTION "
        "that public unit costs, mostly wages and construction, grow like nominal incomes.",
    )
    social_loan_per_new_flat_eur: float = Field(
        122_170.0, ge=0.0,
        description="Wohnraumförderung loan per new social rental flat, EUR (DERIVED: NRW.BANK "
        "2017, 761,000,000 EUR for 6,229 new rental flats; lever_costs.csv).",
    )
    repayment_waiver_share: float = Field(
        0.15, ge=0.0, le=1.0,
        description="Non-repayable share of the loan (Tilgungsnachlass; NRW conditions 2015: "
        "15 % of the Grunddarlehen; lever_costs.csv).",
    )
    interest_subsidy_share: float = Field(
        0.15, ge=0.0, le=1.0,
        description="Value of the loan's interest advantage (interest-free for 10 years, then "
        "0.5 %) as a share of the loan (ASSUMPTION: not published per unit, SOURCES.md "
        "section 24; docs/costs.md gives the range 0.05-0.30).",
    )
    binding_purchase_eur_m2_month: float = Field(
        2.20, ge=0.0,
        description="Payment for a bought occupancy binding (Ankauf von Belegungsbindungen), "
        "EUR per m² and month while it is bound (Neuss 2019: 2.20; lever_costs.csv).",
    )
    binding_extension_eur_m2_month: float = Field(
        2.20, ge=0.0,
        description="Payment for extending an expiring binding, EUR per m² and month while the "
        "extension lasts (ASSUMPTION: as a bought binding, Neuss 2019).",
    )
    gp_settlement_grant_eur: float = Field(
        60_000.0, ge=0.0,
        description="Grant per GP (full-time seat) who settles or succeeds in a funded area, "
        "once (NRW Hausarztaktionsprogramm: up to 60,000 EUR; Standortförderung 2026-2027: "
        "60,000 EUR per full-time seat; lever_costs.csv). Paid for each MVZ doctor, each "
        "doctor the incentive brings, and each successor in the incentive's quartier.",
    )
    mvz_founding_grant_eur: float = Field(
        120_000.0, ge=0.0,
        description="Grant for founding an MVZ, once per centre (KV Baden-Württemberg: up to "
        "120,000 EUR for MVZ/BAG founding; a non-NRW reference, the NRW amount is not "
        "published; lever_costs.csv).",
    )
    pt_frequency_cost_per_resident_eur: float = Field(
        120.0, ge=0.0,
        description="Operating cost of the city's bus and tram service that scales with "
        "vehicle-km, EUR per resident and year (ASSUMPTION: no figure in the data). A headway "
        "factor h costs (1/h - 1) times this.",
    )
    stop_cost_eur: float = Field(
        30_000.0, ge=0.0,
        description="Building one new barrier-free stop, once (ASSUMPTION: no figure in the "
        "data).",
    )
    school_investment_eur_per_quartier_year: float = Field(
        500_000.0, ge=0.0,
        description="School investment in one quartier at quality 1, EUR per year (scaled by "
        "the lever's quality; ASSUMPTION: about 10 posts of 50,000 EUR, DERIVED from plusKITA's "
        "at least 25,000 EUR a year for a half-time specialist, childcare.csv).",
    )
    ambulant_care_eur_per_client_year: float = Field(
        10_000.0, ge=0.0,
        description="Public cost of one more ambulant-care client, EUR per year (ASSUMPTION: "
        "order of the SGB XI Sachleistung above the Pflegegeld at Pflegegrad 3, not in the "
        "calibration data).",
    )
    nursing_home_eur_per_place_year: float = Field(
        12_000.0, ge=0.0,
        description="Public cost of one more nursing-home place over care at home, EUR per year "
        "(ASSUMPTION: SGB XI inpatient amount above the Pflegegeld at Pflegegrad 3, plus Hilfe "
        "zur Pflege for part of the residents; not in the calibration data).",
    )
    tagespflege_eur_per_place_year: float = Field(
        15_000.0, ge=0.0,
        description="Public cost of one Tagespflege place, EUR per year (ASSUMPTION: order of "
        "the SGB XI Tagespflege budget at Pflegegrad 3; not in the calibration data).",
    )
    kita_eur_per_place_under3_year: float = Field(
        18_000.0, ge=0.0,
        description="Public running cost of one Kita place for a child under 3, EUR per year "
        "(ASSUMPTION: KiBiz Kindpauschalen are not in the calibration data).",
    )
    kita_eur_per_place_3to6_year: float = Field(
        9_000.0, ge=0.0,
        description="Public running cost of one Kita place for a child aged 3-6, EUR per year "
        "(ASSUMPTION, as for under 3).",
    )
    kita_investment_eur_per_place: float = Field(
        30_000.0, ge=0.0,
        description="Public investment per new Kita place, once in the opening year "
        "(ASSUMPTION: the federal programme pays up to 90 % of investments, childcare.csv, "
        "but no amount per place is in the data).",
    )
    demolition_eur_per_dwelling: float = Field(
        15_000.0, ge=0.0,
        description="Public cost of demolishing one long-vacant dwelling (Rückbau incl. "
        "clearance; ASSUMPTION: no figure in the data).",
    )
