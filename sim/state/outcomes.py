"""The outcome catalogue: every metric recorded each year (name, stock or flow, meaning) and the
causes of leaving the city. The model computes them (:mod:`sim.model.metrics`); reports,
dashboards and comparisons read their names and descriptions from here.
"""

from __future__ import annotations

CAUSES = ("rent", "crowding", "neighbourhood", "health", "school", "commuting", "care",
          "education", "job", "partner", "suburb", "no_dwelling", "other")

SEGREGATION_INDICES = (
    ("dissimilarity_income", "Dissimilarity D, persons at risk of poverty vs the rest"),
    ("dissimilarity_origin", "Dissimilarity D, persons with vs without migration background"),
    ("dissimilarity_age65", "Dissimilarity D, persons 65+ vs the rest"),
    ("multigroup_dissimilarity_income", "Multigroup D over the three income groups"),
    ("theil_h_income", "Theil's information index H over the three income groups"),
    ("isolation_poor", "Isolation of persons at risk of poverty (xPx)"),
    ("exposure_poor", "Exposure of persons at risk of poverty to the rest (xPy)"),
    ("isolation_origin", "Isolation of persons with migration background (xPx)"),
)
SEGREGATION_METRICS = tuple(f"{name}_{unit}" for name, _ in SEGREGATION_INDICES
                            for unit in ("cells", "quartiers"))
# Persons by sex and five-year age band (population pyramids).
AGE_BANDS = (*(f"{a:02d}_{a + 4:02d}" for a in range(0, 85, 5)), "85plus")
PYRAMID_METRICS = tuple(f"persons_{sex}_age_{band}" for sex in ("male", "female")
                        for band in AGE_BANDS)

# Access outcomes of the year (start of the move season; missing in the start year).
ACCESS_METRICS = ("gp_access_65plus", "gp_coverage", "inhabitants_per_gp",
                  "share_gp_coverage_below_75", "share_gp_coverage_above_110", "no_car_share",
                  "share_walk_only", "commuting_cost_share", "employment_rate",
                  "school_dissimilarity_income", "school_poor_share", "ticket_holders",
                  "sozialticket_holders",
                  # Kitas and education (sim/model/processes/kitas.py)
                  "kita_coverage_under3", "kita_coverage_3to6", "kita_unmet_demand",
                  "kita_places_under3", "kita_places_3to6", "kita_coverage_poor",
                  "kita_coverage_not_poor", "poor_pupils_disadvantaged_school_share")

STOCK_METRICS = (
    "population",
    "households",
    "mean_age",
    "old_age_ratio",
    "share_under_18",
    "share_65plus",
    "share_18_24_with_parents",
    "mean_household_size",
    "share_households_size_1",
    "share_households_size_2",
    "share_households_size_3",
    "share_households_size_4",
    "share_households_size_5plus",
    "share_single_parent_households",
    "dwellings",
    "vacancy_rate",
    # housing and incomes
    "share_poor",
    "share_high_income",
    "share_migration_background",
    "mean_equivalised_income",
    "owner_occupied_share",
    "social_housing_share",
    "mean_rent_m2",
    "relet_rent_m2",
    "mean_rent_burden",
    "share_rent_burden_over_30",
    "share_rent_burden_over_40",
    "share_crowded",
    # segregation over cells (per quartier: over the quartier's cells) and over quartiers
    *SEGREGATION_METRICS,
    "morans_i_income",
    "dissimilarity_origin_1km",
    "morans_i_origin_1km",
    "location_quotient_poor",
    "location_quotient_migration_background",
    "location_quotient_65plus",
    *PYRAMID_METRICS,
    # care, doctors, schools, jobs
    "care_dependent",
    "care_dependency_share",
    "share_cared_at_home",
    *(f"care_pflegegrad_{g}" for g in range(1, 6)),
    *(f"share_care_pflegegrad_{g}" for g in range(1, 6)),
    "care_by_relatives",
    "care_ambulant",
    "care_nursing_home",
    "share_care_by_relatives",
    "share_care_ambulant",
    "share_care_nursing_home",
    "care_tagespflege",
    "nursing_home_residents",
    "nursing_home_places",
    "nursing_home_occupancy",
    "unmet_care",
    "unmet_care_ambulant",
    "unmet_care_inpatient",
    "share_gp_within_reach",
    "share_65plus_gp_within_reach",
    "residents_65plus_gp_within_reach",
    "gp_doctors",
    "gp_mean_age",
    "share_gps_60plus",
    *ACCESS_METRICS,
)
FLOW_METRICS = (
    "births",
    "deaths",
    "in_migrants",
    "in_migrants_under_18",
    "out_migrants",
    "out_migration_rate",
    "net_migrants_18_29",
    "net_migrants_30_49",
    "net_migration_rate_18_29",
    "net_migration_rate_30_49",
    *(f"out_migrants_cause_{c}" for c in CAUSES),
    "out_migrants_poor",
    "out_migrants_migration_background",
    "out_migrants_65plus",
    "out_migrants_families",
    "moves_within_city",
    "leaving_home",
    "partnerships",
    "partners_from_outside",
    "separations",
    "divorces",
    "bindings_expired",
    "bindings_bought",
    "dwellings_built",
    "dwellings_demolished",
    "construction_rate",
    "in_migration_demand",
    "gp_retirements",
    "gp_refills",
    # what the levers pay for (costs, docs/costs.md)
    "social_dwellings_built",
    "bindings_extended",
    "bound_floor_space_bought",
    "bound_floor_space_extended",
    "dwellings_demolished_lever",
    "gp_incentive_doctors",
    "gp_incentive_refills",
    "poverty_entries",
    "poverty_exits",
    "poverty_entry_rate",
    "poverty_exit_rate",
    "job_losses",
    "job_entries",
)
METRICS = STOCK_METRICS + FLOW_METRICS


def aggregation(metric: str) -> str:
    """How a run's yearly values of ``metric`` become one number: ``"sum"`` over the simulated
    years (counts of flows), ``"mean"`` over them (rates of flows, also rates by age such as
    ``net_migration_rate_18_29``) or ``"final"`` (stocks)."""
    if metric in FLOW_METRICS:
        return "mean" if metric.endswith("_rate") or "_rate_" in metric else "sum"
    return "final"

_COUNTERFACTUAL = (" (counterfactual cause of the search, not of the choice to leave; shared "
                   "equally where several reasons were each decisive; part of out_migrants)")
DESCRIPTIONS = {
    "population": "Residents (persons)",
    "households": "Households",
    "mean_age": "Mean age of residents (years)",
    "old_age_ratio": "Persons 65+ per person aged 20-64 (Altenquotient)",
    "share_under_18": "Share of residents under 18",
    "share_65plus": "Share of residents aged 65+",
    "share_18_24_with_parents": "Share of 18-24-year-olds living in their parents' household",
    "mean_household_size": "Persons per household",
    "share_households_size_1": "Share of one-person households",
    "share_households_size_2": "Share of two-person households",
    "share_households_size_3": "Share of three-person households",
    "share_households_size_4": "Share of four-person households",
    "share_households_size_5plus": "Share of households of five or more",
    "dwellings": "Dwellings",
    "vacancy_rate": "Share of dwellings vacant",
    "births": "Live births in the year",
    "deaths": "Deaths in the year",
    "in_migrants": "Persons moving into the city in the year",
    "in_migrants_under_18": "In-migrants under 18 (children moving into the city with their "
                            "household)",
    "net_migrants_18_29": "Net migration of persons aged 18-29 across the city boundary "
                          "(in-migrants - out-migrants; ages at the end of the year)",
    "net_migrants_30_49": "Net migration of persons aged 30-49 across the city boundary "
                          "(in-migrants - out-migrants; ages at the end of the year)",
    "net_migration_rate_18_29": "Net migration of persons aged 18-29 per 1,000 residents of "
                                "that age",
    "net_migration_rate_30_49": "Net migration of persons aged 30-49 per 1,000 residents of "
                                "that age",
    "out_migrants": "Persons leaving the city in the year (incl. young adults finding no "
                    "dwelling, and minors left without an adult)",
    "leaving_home": "Young adults leaving the parental home for a dwelling in the city",
    "partnerships": "Couples formed in the city: a person living alone or leaving home moves "
                    "in with a partner living alone, a single parent or leaving home",
    "partners_from_outside": "Partners from outside the city moving in with a person living "
                             "alone or a single parent (part of in_migrants)",
    "separations": "Couples separating (married or not); one partner founds a household of "
                   "their own",
    "divorces": "Separations of married couples (counted in the year of the separation)",
    "share_single_parent_households": "Share of households with one adult and children (of "
                                      "any age) living with them (Alleinerziehende)",
    "poverty_entries": "Households falling below the poverty line (60 % of the median) in the "
                       "year",
    "poverty_exits": "Households rising above the poverty line in the year",
    "poverty_entry_rate": "Poverty entries per household not at risk of poverty the year "
                          "before",
    "poverty_exit_rate": "Poverty exits per household at risk of poverty the year before",
    "job_losses": "Persons losing their job to unemployment in the year",
    "job_entries": "Persons taking up a job in the year (from unemployment or outside the "
                   "labour force)",
    "share_poor": "Share of residents at risk of poverty (< 60 % of the median income)",
    "share_high_income": "Share of residents with 200 % of the median income or more",
    "share_migration_background": "Share of residents with a migration background",
    "mean_equivalised_income": "Mean net equivalised income of residents (EUR/month)",
    "owner_occupied_share": "Share of dwellings that are owner-occupied",
    "social_housing_share": "Share of dwellings that are rent-bound social housing",
    "mean_rent_m2": "Mean net cold rent per m² of occupied rental dwellings (EUR)",
    "relet_rent_m2": "Mean re-letting rent per m² of private rental dwellings (EUR, net cold): "
                     "what a household moving in pays (the local market level)",
    "mean_rent_burden": "Mean rent burden of tenant households (gross cold rent / income)",
    "share_rent_burden_over_30": "Share of tenant households paying 30 % of income or more",
    "share_rent_burden_over_40": "Share of tenant households paying more than 40 % of income",
    "share_crowded": "Share of households feeling crowded (floor space below "
                     "crowding_threshold × the norm)",
    "morans_i_income": "Moran's I of mean equivalised income over populated cells (queen)",
    "dissimilarity_origin_1km": "Dissimilarity D, persons with vs without migration "
                                "background, over 1 km squares (census 1 km grid; city only)",
    "morans_i_origin_1km": "Moran's I of the share with migration background over populated "
                           "1 km squares (queen; city only)",
    "location_quotient_poor": "Share at risk of poverty here / share in the city",
    "location_quotient_migration_background": "Share with migration background here / city",
    "location_quotient_65plus": "Share aged 65+ here / share in the city",
    "out_migration_rate": "Out-migrants per resident at the start of the year",
    "out_migrants_cause_rent": "Out-migrants (persons) who would not have searched this year "
                               "with the city's typical rent burden" + _COUNTERFACTUAL,
    "out_migrants_cause_crowding": "Out-migrants who would not have searched this year with "
                                   "the city's typical crowding" + _COUNTERFACTUAL,
    "out_migrants_cause_neighbourhood": "Out-migrants who would not have searched this year "
                                        "with the city's typical neighbourhood mix"
                                        + _COUNTERFACTUAL,
    "out_migrants_cause_no_dwelling": "Out-migrants who found no dwelling (new households)",
    "out_migrants_cause_partner": "Out-migrants who moved to a partner outside the city "
                                  "(a person living alone or a single parent, with the "
                                  "children)",
    "out_migrants_cause_suburb": "Out-migrants of families (a child under 18) moving to the "
                                 "surrounding region (base rate family_out_migration_rate)",
    "out_migrants_cause_other": "Out-migrants whom no single reason made search this year (base "
                                "rate by life stage, life events, several reasons only "
                                "together; orphans); part of out_migrants",
    "out_migrants_poor": "Out-migrants from households at risk of poverty",
    "out_migrants_migration_background": "Out-migrants with a migration background",
    "out_migrants_65plus": "Out-migrants aged 65+",
    "out_migrants_families": "Out-migrants in households with children",
    "moves_within_city": "Persons moving from one dwelling to another within the city",
    "bindings_expired": "Social dwellings whose rent binding ended (city only)",
    "bindings_bought": "Private dwellings given a social binding by the lever (city only)",
    "dwellings_built": "New dwellings (city only)",
    "social_dwellings_built": "New dwellings built as social housing (the rent-mixing lever's "
                              "quota; city only)",
    "bindings_extended": "Expiring social bindings extended by the rent-mixing lever (city "
                         "only)",
    "bound_floor_space_bought": "Floor space (m²) of social dwellings under a binding the "
                                "lever bought, still bound at the end of the market step (city "
                                "only)",
    "bound_floor_space_extended": "Floor space (m²) of social dwellings whose binding the lever "
                                  "extended, still bound (city only)",
    "dwellings_demolished_lever": "Withdrawn dwellings the demolition lever accounts for (its "
                                  "rate's excess over the background rate; city only)",
    "gp_incentive_doctors": "Doctors the incentive lever adds in the year, by the quartier it "
                            "targets",
    "gp_incentive_refills": "Retiring GPs' seats refilled in the incentive's target quartier "
                            "during its years (successors it subsidises)",
    "ticket_holders": "Persons with a monthly public-transport ticket: adults of households "
                      "travelling by public transport (no car, tickets affordable)",
    "sozialticket_holders": "Ticket holders on the Sozialticket (part of ticket_holders)",
    "residents_65plus_gp_within_reach": "Residents 65+ within reach of a GP practice "
                                        "(persons)",
    "dwellings_demolished": "Long-vacant dwellings withdrawn from the market (Rückbau)",
    "construction_rate": "New dwellings per market dwelling this year, after demand (city only)",
    "in_migration_demand": "Persons who would like to move into the city this year (demand; "
                           "those who come are in_migrants)",
    "out_migrants_cause_health": "Out-migrants who would not have searched this year with "
                                 "the city's typical access to doctors" + _COUNTERFACTUAL,
    "out_migrants_cause_school": "Out-migrants who would not have searched this year with "
                                 "the city's typical school disadvantage and Kita "
                                 "shortfall (education)" + _COUNTERFACTUAL,
    "out_migrants_cause_commuting": "Out-migrants who would not have searched this year "
                                    "with the city's typical commuting cost" + _COUNTERFACTUAL,
    "out_migrants_cause_education": "Young adults leaving for education elsewhere (base "
                                    "schedule, 18-29)",
    "out_migrants_cause_job": "Young adults leaving for a job elsewhere (base schedule, 18-29)",
    "out_migrants_cause_care": "Persons leaving the city for care (no ambulant service within "
                               "reach and no free nursing-home place, or no place for "
                               "inpatient care)",
    "care_dependent": "Persons in need of long-term care (Pflegebedürftige)",
    "care_dependency_share": "Share of residents in need of long-term care",
    "share_cared_at_home": "Share of the care-dependent cared for at home",
    "nursing_home_residents": "Residents of nursing homes",
    **{f"care_pflegegrad_{g}": f"Persons in Pflegegrad {g}" for g in range(1, 6)},
    **{f"share_care_pflegegrad_{g}": f"Share of the care-dependent in Pflegegrad {g}"
       for g in range(1, 6)},
    "care_by_relatives": "Care-dependent persons at home without an ambulant service (cared "
                         "for by relatives, or PG1 without services)",
    "care_ambulant": "Care-dependent persons at home served by an ambulant care service",
    "care_nursing_home": "Care-dependent persons in a nursing home",
    "share_care_by_relatives": "Share of the care-dependent cared for at home by relatives only",
    "share_care_ambulant": "Share of the care-dependent served at home by an ambulant service",
    "share_care_nursing_home": "Share of the care-dependent in a nursing home",
    "care_tagespflege": "Persons needing a nursing home kept at home this year by Tagespflege "
                        "places of the tagespflege lever",
    "nursing_home_places": "Nursing-home places (incl. homes of the nursing_homes lever once "
                           "open), by the quartier of the home",
    "nursing_home_occupancy": "Nursing-home residents per place, by the quartier of the home",
    "unmet_care": "Persons with unmet care this year: unmet_care_ambulant + "
                  "unmet_care_inpatient",
    "unmet_care_ambulant": "Persons needing an ambulant care service with none within reach "
                           "this year",
    "unmet_care_inpatient": "Persons needing a nursing home who found no free place in the city "
                            "this year (they leave the city, cause care), by the quartier they "
                            "left",
    "share_gp_within_reach": "Share of residents within reach of a GP practice (gp_reach_m "
                             "airline, 1,000 m)",
    "share_65plus_gp_within_reach": "Share of residents 65+ within reach of a GP practice",
    "gp_doctors": "General practitioners incl. MVZ doctors, by the quartier of their practice "
                  "(part-time seats count their share)",
    "gp_mean_age": "Mean age of the GPs, by the quartier of their practice",
    "share_gps_60plus": "Share of the GPs aged 60+, by the quartier of their practice",
    "gp_retirements": "GPs retiring in the year, by the quartier of their practice",
    "gp_refills": "Retiring GPs' seats taken by a successor in the year, by the quartier of "
                  "the practice",
    "gp_access_65plus": "GP access (Versorgungsgrad) of residents 65+: 2SFCA doctors within "
                        "reach per inhabitant × the Bedarfsplanung's 1,671 inhabitants per GP "
                        "(1 = 100 %)",
    "gp_coverage": "GP access (Versorgungsgrad) of all residents not in nursing homes: 2SFCA "
                   "doctors within reach per inhabitant × 1,671 (1 = 100 %)",
    "inhabitants_per_gp": "Residents per GP within reach (2SFCA; the Bedarfsplanung's ratio is "
                          "1,671)",
    "share_gp_coverage_below_75": "Share of residents whose GP access is below 75 % "
                                  "(the Bedarfsplanung's undersupply threshold)",
    "share_gp_coverage_above_110": "Share of residents whose GP access is above 110 % "
                                   "(the Bedarfsplanung's oversupply threshold)",
    "no_car_share": "Share of households without a car",
    "share_walk_only": "Share of residents without car who cannot afford public transport",
    "commuting_cost_share": "Mean generalised commuting cost / income of households with "
                            "workers",
    "employment_rate": "Employed persons per resident aged 18-64",
    "school_dissimilarity_income": "Dissimilarity D of pupils at risk of poverty vs the rest "
                                   "over Grundschulen (city only)",
    "school_poor_share": "Share of Grundschule pupils from households at risk of poverty (by "
                         "the school's quartier)",
    "kita_coverage_under3": "Share of children under 3 with a Kita place (incl. Tagespflege; "
                            "by the child's quartier)",
    "kita_coverage_3to6": "Share of children aged 3 to under 6 with a Kita place (by the "
                          "child's quartier)",
    "kita_unmet_demand": "Children under 6 whose parents want a Kita place and have none",
    "kita_places_under3": "Kita places for children under 3 (by the Kita's quartier)",
    "kita_places_3to6": "Kita places for children aged 3 to under 6 (by the Kita's quartier)",
    "kita_coverage_poor": "Share of children under 6 from households at risk of poverty with "
                          "a Kita place",
    "kita_coverage_not_poor": "Share of children under 6 from other households with a Kita "
                              "place",
    "poor_pupils_disadvantaged_school_share": "Share of pupils from households at risk of "
        "poverty attending a disadvantaged school (high Sozialindex where the school file "
        "gives it, else a high share of poor pupils; by the pupil's quartier)",
}
for _name, _text in SEGREGATION_INDICES:
    DESCRIPTIONS[f"{_name}_cells"] = f"{_text}; over cells (per quartier: its own cells)"
    DESCRIPTIONS[f"{_name}_quartiers"] = f"{_text}; over quartiers (city only)"
for _name in PYRAMID_METRICS:
    _sex, _band = _name[len("persons_"):].split("_age_")
    _ages = "-".join(str(int(a)) for a in _band.removesuffix("plus").split("_"))
    DESCRIPTIONS[_name] = f"Residents, {_sex}, aged {_ages}{'+' if 'plus' in _band else ''}"
