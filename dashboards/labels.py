"""German and English labels for the report and the dashboard.

German is the default: planners and welfare associations speak of Quartiere, Wegzüge and
Mietbelastung. Metrics without a label here fall back to their English description
(:data:`sim.state.outcomes.DESCRIPTIONS`) or their name, so metrics added to the model later show up
without code changes.
"""

from __future__ import annotations

LANGUAGES = ("de", "en")

METRIC_LABELS: dict[str, tuple[str, str]] = {
    "population": ("Einwohner", "Residents"),
    "households": ("Haushalte", "Households"),
    "mean_age": ("Durchschnittsalter", "Mean age"),
    "old_age_ratio": ("Altenquotient (65+ / 20-64)", "Old-age ratio (65+ / 20-64)"),
    "share_under_18": ("Anteil unter 18", "Share under 18"),
    "share_65plus": ("Anteil 65+", "Share 65+"),
    "share_18_24_with_parents": ("18-24-Jährige im Elternhaus", "18-24-year-olds at home"),
    "mean_household_size": ("Personen je Haushalt", "Persons per household"),
    "share_households_size_1": ("Anteil Einpersonenhaushalte", "Share of one-person households"),
    "dwellings": ("Wohnungen", "Dwellings"),
    "vacancy_rate": ("Leerstandsquote", "Vacancy rate"),
    "share_poor": ("Armutsgefährdungsquote", "Share at risk of poverty"),
    "share_high_income": ("Anteil hohe Einkommen (≥ 200 %)", "Share high income (≥ 200 %)"),
    "share_migration_background": ("Anteil mit Migrationshintergrund",
                                   "Share with migration background"),
    "mean_equivalised_income": ("Äquivalenzeinkommen (EUR/Monat)",
                                "Equivalised income (EUR/month)"),
    "owner_occupied_share": ("Eigentümerquote", "Owner-occupied share"),
    "social_housing_share": ("Anteil Sozialwohnungen", "Social housing share"),
    "mean_rent_m2": ("Nettokaltmiete je m² (EUR)", "Net cold rent per m² (EUR)"),
    "relet_rent_m2": ("Wiedervermietungsmiete je m² (EUR)", "Re-letting rent per m² (EUR)"),
    "mean_rent_burden": ("Mietbelastung (Mittel)", "Mean rent burden"),
    "share_rent_burden_over_30": ("Mietbelastung ≥ 30 %", "Rent burden ≥ 30 %"),
    "share_rent_burden_over_40": ("Mietbelastung > 40 %", "Rent burden > 40 %"),
    "share_crowded": ("Anteil beengt wohnend", "Share living crowded"),
    "births": ("Geburten", "Births"),
    "deaths": ("Sterbefälle", "Deaths"),
    "in_migrants": ("Zuzüge", "In-migrants"),
    "in_migrants_under_18": ("Zuzüge unter 18 Jahren", "In-migrants under 18"),
    "net_migrants_18_29": ("Wanderungssaldo 18-29 Jahre", "Net migration aged 18-29"),
    "net_migrants_30_49": ("Wanderungssaldo 30-49 Jahre", "Net migration aged 30-49"),
    "net_migration_rate_18_29": ("Wanderungssaldo 18-29 Jahre je 1.000 der Altersgruppe",
                                 "Net migration aged 18-29 per 1,000 of the age group"),
    "net_migration_rate_30_49": ("Wanderungssaldo 30-49 Jahre je 1.000 der Altersgruppe",
                                 "Net migration aged 30-49 per 1,000 of the age group"),
    "out_migrants": ("Wegzüge (Fortzüge aus der Stadt)", "Out-migrants (leaving the city)"),
    "out_migration_rate": ("Wegzugsrate", "Out-migration rate"),
    "out_migrants_poor": ("Wegzüge armutsgefährdeter Personen", "Out-migrants at risk of poverty"),
    "out_migrants_migration_background": ("Wegzüge mit Migrationshintergrund",
                                          "Out-migrants with migration background"),
    "out_migrants_65plus": ("Wegzüge 65+", "Out-migrants 65+"),
    "out_migrants_families": ("Wegzüge von Familien", "Out-migrants in families"),
    "moves_within_city": ("Umzüge innerhalb der Stadt", "Moves within the city"),
    "leaving_home": ("Auszüge aus dem Elternhaus", "Leaving the parental home"),
    "bindings_expired": ("Auslaufende Mietpreisbindungen", "Expired rent bindings"),
    "bindings_bought": ("Angekaufte Belegungsbindungen", "Bindings bought"),
    "dwellings_built": ("Neubauwohnungen", "New dwellings"),
    "morans_i_income": ("Moran's I (Einkommen)", "Moran's I (income)"),
    "dissimilarity_origin_1km": ("Dissimilarität D (Migrationshintergrund, 1 km)",
                                 "Dissimilarity D (migration background, 1 km)"),
    "morans_i_origin_1km": ("Moran's I (Migrationshintergrund, 1 km)",
                            "Moran's I (migration background, 1 km)"),
    "location_quotient_poor": ("Lagequotient Armut", "Location quotient, poverty"),
    "location_quotient_migration_background": ("Lagequotient Migrationshintergrund",
                                               "Location quotient, migration background"),
    "location_quotient_65plus": ("Lagequotient 65+", "Location quotient, 65+"),
    # care, doctors, schools, jobs (the services model)
    "care_dependent": ("Pflegebedürftige", "Persons in need of care"),
    "care_dependency_share": ("Pflegequote (Anteil Pflegebedürftiger)",
                              "Share in need of long-term care"),
    "share_cared_at_home": ("Anteil zu Hause Gepflegter", "Share cared for at home"),
    "nursing_home_residents": ("Bewohner von Pflegeheimen", "Nursing-home residents"),
    "unmet_care": ("Ungedeckter Pflegebedarf (ambulant und stationär)",
                   "Unmet care need (ambulant and inpatient)"),
    "unmet_care_ambulant": ("Ungedeckter Bedarf an ambulanter Pflege (kein Dienst in Reichweite)",
                            "Unmet ambulant care (no service within reach)"),
    "unmet_care_inpatient": ("Ungedeckter Bedarf an Heimplätzen (kein freier Platz)",
                             "Unmet inpatient care (no free nursing-home place)"),
    **{f"care_pflegegrad_{g}": (f"Pflegegrad {g} (Personen)", f"Pflegegrad {g} (persons)")
       for g in range(1, 6)},
    **{f"share_care_pflegegrad_{g}": (f"Anteil Pflegegrad {g} an den Pflegebedürftigen",
                                      f"Share in Pflegegrad {g} of the care-dependent")
       for g in range(1, 6)},
    "care_by_relatives": ("Pflege allein durch Angehörige", "Cared for by relatives only"),
    "care_ambulant": ("Pflege mit ambulantem Dienst", "Cared for with an ambulant service"),
    "care_nursing_home": ("Pflegebedürftige im Pflegeheim", "Care-dependent in nursing homes"),
    "share_care_by_relatives": ("Anteil Pflege allein durch Angehörige",
                                "Share cared for by relatives only"),
    "share_care_ambulant": ("Anteil mit ambulantem Dienst", "Share with an ambulant service"),
    "share_care_nursing_home": ("Anteil im Pflegeheim", "Share in nursing homes"),
    "care_tagespflege": ("Durch Tagespflege zu Hause Gehaltene",
                         "Kept at home by Tagespflege"),
    "nursing_home_places": ("Pflegeheimplätze", "Nursing-home places"),
    "nursing_home_occupancy": ("Auslastung der Pflegeheime", "Nursing-home occupancy"),
    "share_gp_within_reach": ("Anteil mit Hausarzt in 1 km Luftlinie",
                              "Share with a GP within 1 km"),
    "share_65plus_gp_within_reach": ("Anteil 65+ mit Hausarzt in 1 km Luftlinie",
                                     "Share 65+ with a GP within 1 km"),
    "gp_doctors": ("Hausärzte inkl. MVZ", "GPs incl. MVZ"),
    "gp_mean_age": ("Durchschnittsalter der Hausärzte", "Mean age of GPs"),
    "share_gps_60plus": ("Anteil Hausärzte 60+", "Share of GPs aged 60+"),
    "gp_retirements": ("Hausärzte im Ruhestand (je Jahr)", "GPs retiring (per year)"),
    "gp_refills": ("Nachbesetzte Hausarztsitze (je Jahr)", "GP seats refilled (per year)"),
    "gp_access_65plus": ("Hausärztlicher Versorgungsgrad 65+ (2SFCA, 1 = 1 Arzt je 1.671 "
                         "Einw.)", "GP coverage 65+ (2SFCA, 1 = one GP per 1,671)"),
    "gp_coverage": ("Hausärztlicher Versorgungsgrad (2SFCA, 1 = 1 Arzt je 1.671 Einw.)",
                    "GP coverage (2SFCA, 1 = one GP per 1,671 inhabitants)"),
    "inhabitants_per_gp": ("Einwohner je erreichbarem Hausarzt",
                           "Inhabitants per GP within reach"),
    "share_gp_coverage_below_75": ("Anteil unterversorgt (Versorgungsgrad < 75 %)",
                                   "Share undersupplied (coverage < 75 %)"),
    "share_gp_coverage_above_110": ("Anteil überversorgt (Versorgungsgrad > 110 %)",
                                    "Share oversupplied (coverage > 110 %)"),
    "no_car_share": ("Anteil Haushalte ohne Auto", "Share of households without a car"),
    "share_walk_only": ("Anteil nur zu Fuß (ohne Auto, ÖPNV unbezahlbar)",
                        "Share walking only (no car, cannot afford public transport)"),
    "commuting_cost_share": ("Pendelkosten je Einkommen", "Commuting cost / income"),
    "employment_rate": ("Erwerbstätigenquote (18-64)", "Employment rate (18-64)"),
    "school_dissimilarity_income": ("Schulsegregation D (arme / übrige Grundschüler)",
                                    "School segregation D (poor / other primary pupils)"),
    "school_poor_share": ("Anteil armutsgefährdeter Grundschüler",
                          "Share of primary pupils at risk of poverty"),
    "kita_coverage_under3": ("Betreuungsquote unter 3 (Kita)", "Kita coverage under 3"),
    "kita_coverage_3to6": ("Betreuungsquote 3 bis unter 6 (Kita)", "Kita coverage 3 to 6"),
    "kita_unmet_demand": ("Fehlende Kita-Plätze (gewünscht, nicht versorgt)",
                          "Unmet Kita demand (children)"),
    "kita_places_under3": ("Kita-Plätze unter 3", "Kita places under 3"),
    "kita_places_3to6": ("Kita-Plätze 3 bis unter 6", "Kita places 3 to 6"),
    "kita_coverage_poor": ("Kita-Quote armutsgefährdeter Kinder (unter 6)",
                           "Kita coverage of poor children (under 6)"),
    "kita_coverage_not_poor": ("Kita-Quote übriger Kinder (unter 6)",
                               "Kita coverage of other children (under 6)"),
    "poor_pupils_disadvantaged_school_share": (
        "Anteil armer Schüler an benachteiligten Schulen",
        "Share of poor pupils in disadvantaged schools"),
}

CAUSE_LABELS: dict[str, tuple[str, str]] = {
    "rent": ("Miete", "Rent"),
    "crowding": ("Enge der Wohnung", "Crowding"),
    "neighbourhood": ("Nachbarschaft", "Neighbourhood"),
    "no_dwelling": ("Keine Wohnung gefunden", "No dwelling found"),
    "other": ("Kein einzelner Grund entscheidend (Lebensphase, Ereignisse)",
              "No single decisive reason (life stage, events)"),
    "care": ("Pflege", "Care"),
    "health": ("Ärztliche Versorgung", "Doctors"),
    "school": ("Schule und Kita", "School and Kita"),
    "commuting": ("Pendelkosten", "Commuting"),
    "education": ("Ausbildung/Studium anderswo", "Education elsewhere"),
    "job": ("Arbeitsplatz anderswo", "Job elsewhere"),
    "partner": ("Zum Partner / zur Partnerin außerhalb", "To a partner elsewhere"),
    "suburb": ("Familie ins Umland", "Family to the surrounding region"),
}

INDEX_LABELS: dict[str, tuple[str, str]] = {
    "dissimilarity_income": ("Dissimilarität D (arm / übrige)", "Dissimilarity D (poor / rest)"),
    "dissimilarity_origin": ("Dissimilarität D (Migrationshintergrund)",
                             "Dissimilarity D (migration background)"),
    "dissimilarity_age65": ("Dissimilarität D (65+)", "Dissimilarity D (65+)"),
    "multigroup_dissimilarity_income": ("Multigruppen-D (Einkommen)",
                                        "Multigroup D (income)"),
    "theil_h_income": ("Theils H (Einkommen)", "Theil's H (income)"),
    "isolation_poor": ("Isolation Armer", "Isolation of the poor"),
    "exposure_poor": ("Kontakt Armer zu übrigen", "Exposure of the poor to the rest"),
    "isolation_origin": ("Isolation (Migrationshintergrund)",
                         "Isolation (migration background)"),
}

CELL_VARIABLES: dict[str, tuple[str, str]] = {
    "share_poor": ("Anteil armutsgefährdet", "Share at risk of poverty"),
    "share_high": ("Anteil hohe Einkommen", "Share high income"),
    "share_migration_background": ("Anteil mit Migrationshintergrund",
                                   "Share with migration background"),
    "share_65plus": ("Anteil 65+", "Share 65+"),
    "mean_income": ("Äquivalenzeinkommen (EUR/Monat)", "Equivalised income (EUR/month)"),
    "mean_rent_m2": ("Nettokaltmiete je m² (EUR)", "Net cold rent per m² (EUR)"),
    "vacancy_rate": ("Leerstandsquote", "Vacancy rate"),
    "social_share": ("Anteil Sozialwohnungen", "Social housing share"),
    "persons": ("Einwohner", "Residents"),
}

FACILITY_KINDS: dict[str, tuple[str, str]] = {
    # kind of sim.model.services' facility table -> (German, English) marker label
    "gp": ("Hausarztpraxis / MVZ (Ärzte)", "GP practice / MVZ (doctors)"),
    "ambulant_care": ("Ambulanter Pflegedienst (Klienten)", "Ambulant care service (clients)"),
    "nursing_home": ("Pflegeheim (Plätze)", "Nursing home (places)"),
    "primary_school": ("Grundschule (Plätze)", "Primary school (places)"),
    "secondary_school": ("Weiterführende Schule (Plätze)", "Secondary school (places)"),
    "employer": ("Arbeitsstätte (Stellen)", "Employer (jobs)"),
    "kita": ("Kita", "Day-care centre (Kita)"),
    "kita_under3": ("Kita (Plätze unter 3)", "Kita (places under 3)"),
    "kita_3to6": ("Kita (Plätze 3 bis unter 6)", "Kita (places 3 to 6)"),
    "stop": ("Haltestelle", "Stop"),
}

TEXT: dict[str, tuple[str, str]] = {
    "city": ("Gesamtstadt", "Whole city"),
    "quartier": ("Quartier", "Quartier"),
    "year": ("Jahr", "Year"),
    "scenario": ("Szenario", "Scenario"),
    "metric": ("Kennzahl", "Metric"),
    "baseline": ("Basis", "Baseline"),
    "value": ("Wert", "Value"),
    "difference": ("Differenz", "Difference"),
    "ci": ("95 %-KI", "95 % CI"),
    "significant": ("signifikant", "significant"),
    "not_significant": ("nicht signifikant (95 %-KI schließt 0 ein)",
                        "not significant (95 % CI includes 0)"),
    "not_significant_legend": ("grau: nicht signifikant (95 %-KI schließt 0 ein)",
                               "grey: not significant (95 % CI includes 0)"),
    "by_quartier": ("je Quartier", "by quartier"),
    "smoothed": ("geglättete Zellansicht", "smoothed cell view"),
    "age_years": ("Alter (Jahre)", "Age (years)"),
    "index_axis": ("Index (0 = keine, 1 = vollständige Segregation)",
                   "Index (0 = none, 1 = complete segregation)"),
    "male": ("Männer", "Men"),
    "female": ("Frauen", "Women"),
    "persons": ("Personen", "Persons"),
    "cause": ("Wegzugsgrund", "Cause of leaving"),
    "relative_difference": ("Differenz zur Basis in % des Basiswerts",
                            "Difference in % of the baseline"),
    "band": ("95 %-Band", "95 % band"),
    "title_report": ("QuartierSim – Bericht", "QuartierSim – report"),
    "summary": ("Zusammenfassung", "Summary"),
    "scenarios_section": ("Die Szenarien und was sie ändern", "The scenarios and what they change"),
    "key_outcomes": ("Kernergebnisse je Szenario (Gesamtstadt, letztes Jahr; signifikant oder "
                     "nicht)", "Key outcomes per scenario (whole city, last year; significant "
                     "or not)"),
    "money_nominal": ("Geldbeträge (Mieten, Einkommen, Ticketpreise) sind nominal, nicht "
                      "inflationsbereinigt; die Modellannahmen zum jährlichen Wachstum",
                      "Money (rents, incomes, ticket prices) is nominal, not adjusted for "
                      "inflation; the model's yearly growth rates"),
    "cell_view": ("Optional: geglättete Zellansicht", "Optional: smoothed cell view"),
    "cell_view_note": (
        "Einzelne 100-m-Zellen haben wenige Einwohner; ihre Differenzen sind überwiegend "
        "Zufall. Diese Karten mitteln jede Zelle mit ihren Nachbarn (3×3 Zellen) und zeigen "
        "keine Signifikanz: Für Aussagen gelten die Quartierskarten oben.",
        "Single 100 m cells have few residents; their differences are mostly chance. These "
        "maps pool each cell with its neighbours (3×3 cells) and show no significance: the "
        "quartier maps above are the ones to draw conclusions from."),
    "who_leaves": ("Wer zieht weg – und warum?", "Who leaves, and why?"),
    "segregation": ("Segregation", "Segregation"),
    "care": ("Versorgung: Ärzte und Pflege", "Access to care and doctors"),
    "housing": ("Wohnkosten", "Housing costs"),
    "comparison": ("Szenariovergleich", "Scenario comparison"),
    "map": ("Karte", "Map"),
    "difference_map": ("Differenzkarte: Szenario minus Basis",
                       "Difference map: scenario minus baseline"),
    "out_by_cause": ("Wegzüge nach Grund", "Out-migrants by cause"),
    "total_and_causes": ("Wegzüge insgesamt und nach Grund", "Out-migrants in total and by cause"),
    "total_out": ("Wegzüge insgesamt", "Out-migrants in total"),
    "of_which": ("davon Grund", "of which cause"),
    "sum_of_causes": ("Summe der Gründe", "Sum of the causes"),
    "part_of_total": ("Teil der Wegzüge insgesamt", "part of all out-migrants"),
    "causes_note": (
        "Die Gründe sind Teile der Wegzüge insgesamt, keine eigenen Summen. Grund eines "
        "Wegzugs ist der Teil der Unzufriedenheit, ohne den der Haushalt in diesem Jahr nicht "
        "gesucht hätte (auf dem typischen Wert der Stadt, mit derselben Zufallszahl); waren es "
        "mehrere, zählt er zu gleichen Teilen, sonst als „kein einzelner Grund“. Die "
        "Differenzen der Gründe ergeben zusammen die Differenz insgesamt: Ein Hebel, der einen "
        "Grund senkt, senkt die Wegzüge nur um die Differenz insgesamt.",
        "Causes are parts of all out-migrants, not totals. The cause of a departure is the part "
        "of the household's dissatisfaction without which it would not have searched this year "
        "(at the city's typical value, with the same random number); where several were, it "
        "counts in equal shares, else as 'no single decisive reason'. The causes' differences "
        "add up to the total's difference: a lever that lowers one cause lowers out-migration "
        "only by the total's difference."),
    "pyramid": ("Bevölkerungspyramide", "Population pyramid"),
    "indices": ("Segregationsindizes", "Segregation indices"),
    "over_quartiers": ("über Quartiere", "over quartiers"),
    "over_cells": ("über Zellen", "over cells"),
    "no_care_metrics": (
        "Kennzahlen zur ärztlichen Versorgung und Pflege (Erreichbarkeit von MVZ/Hausärzten, "
        "ungedeckter Pflegebedarf) enthalten diese Ergebnisse nicht (ein Modellstand ohne "
        "Dienste-Modell). Mit einem Modellstand, der sie berechnet, erscheinen sie hier.",
        "These results hold no metrics of access to doctors and care (reach of MVZ/GPs, unmet "
        "care need): they come from a model version without the services model. Results of a "
        "version that records them show here by themselves."),
    "care_causes": ("Wegzüge wegen Pflege, ärztlicher Versorgung, Schule und Arbeit",
                    "Out-migrants for care, doctors, school and jobs"),
    "no_facilities": (
        "Einrichtungen (Hausärzte, MVZ, Pflege, Schulen) sind nicht als Marker eingezeichnet: "
        "Läufe eines älteren Modellstands speichern ihre Lage nicht.",
        "Facilities (GPs, MVZ, care, schools) are not drawn as markers: runs of an older "
        "model version do not store where they are."),
    "no_cells": (
        "Keine Zelldaten: Karten brauchen [outcomes] cell_snapshots = true im Szenario.",
        "No cell data: maps need [outcomes] cell_snapshots = true in the scenario."),
    "no_pyramid": (
        "Keine Altersgruppen nach Geschlecht in diesen Ergebnissen (älterer Modellstand).",
        "No age bands by sex in these results (an older model version)."),
    "no_comparison": (
        "Kein Szenariovergleich: der Ordner enthält keinen Basislauf mit Politikszenarien.",
        "No scenario comparison: the folder holds no baseline with policy scenarios."),
}


def lang_index(lang: str) -> int:
    """0 for German, 1 for English; ValueError for anything else."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)} (got {lang!r})")
    return LANGUAGES.index(lang)


def text(key: str, lang: str = "de") -> str:
    """A fixed text of the report or app."""
    return TEXT[key][lang_index(lang)]


def metric_label(metric: str, lang: str = "de") -> str:
    """A metric's display name; age bands, causes and indices are labelled by pattern."""
    i = lang_index(lang)
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric][i]
    if metric.startswith("out_migrants_cause_"):
        cause = metric.removeprefix("out_migrants_cause_")
        return (f"{('Wegzüge, davon Grund', 'Out-migrants, of which cause')[i]}: "
                f"{cause_label(cause, lang)}")
    for unit, names in (("_quartiers", ("Quartiere", "quartiers")),
                        ("_cells", ("Zellen", "cells"))):
        base = metric.removesuffix(unit)
        if metric.endswith(unit) and base in INDEX_LABELS:
            return f"{INDEX_LABELS[base][i]}, {names[i]}"
    if metric.startswith("persons_") and "_age_" in metric:
        sex, band = metric.removeprefix("persons_").split("_age_", 1)
        return f"{text(sex, lang)} {age_band_label(band)}"
    if i == 1:
        from sim.state.outcomes import DESCRIPTIONS

        return DESCRIPTIONS.get(metric, metric)
    return metric


def cause_label(cause: str, lang: str = "de") -> str:
    """A cause of out-migration (``rent``, ``no_dwelling``, ...)."""
    if cause in CAUSE_LABELS:
        return CAUSE_LABELS[cause][lang_index(lang)]
    return cause.replace("_", " ")


def index_label(index: str, lang: str = "de") -> str:
    """A segregation index without its unit (``dissimilarity_income``, ...)."""
    if index in INDEX_LABELS:
        return INDEX_LABELS[index][lang_index(lang)]
    return index.replace("_", " ")


def facility_label(kind: str, lang: str = "de") -> str:
    """A kind of facility (``gp``, ``nursing_home``, ...)."""
    if kind in FACILITY_KINDS:
        return FACILITY_KINDS[kind][lang_index(lang)]
    return kind.replace("_", " ")


def cell_variable_label(variable: str, lang: str = "de") -> str:
    """A map variable."""
    return CELL_VARIABLES[variable][lang_index(lang)]


def age_band_label(band: str) -> str:
    """``"05_09"`` -> ``"5-9"``, ``"85plus"`` -> ``"85+"``."""
    if band.endswith("plus"):
        return f"{int(band.removesuffix('plus'))}+"
    low, high = band.split("_")
    return f"{int(low)}-{int(high)}"


def scope_label(scope: str, lang: str = "de") -> str:
    """``city`` as Gesamtstadt / whole city; quartier ids as they are."""
    return text("city", lang) if scope == "city" else str(scope)


SHARE_METRICS = ("mean_rent_burden",)
"""Ratios without a share-like name that are shown in percent as well (rent / income)."""


def is_share(metric: str) -> bool:
    """Whether a metric is a share or a ratio (shown in percent)."""
    return (metric.startswith("share_") or metric.endswith(("_rate", "_share"))
            or metric in SHARE_METRICS)


UNITS: dict[str, tuple[str, str]] = {
    "percent": ("%", "%"),
    "persons": ("Personen", "persons"),
    "households": ("Haushalte", "households"),
    "dwellings": ("Wohnungen", "dwellings"),
    "doctors": ("Ärzte", "doctors"),
    "index": ("Index 0–1", "index 0–1"),
    "coverage": ("1 = Soll", "1 = target"),
    "quotient": ("Quotient", "quotient"),
    "years": ("Jahre", "years"),
    "eur_m2": ("EUR/m²", "EUR/m²"),
    "eur_month": ("EUR/Monat", "EUR/month"),
    "per_household": ("Personen je Haushalt", "persons per household"),
    "per_gp": ("Einwohner je Arzt", "inhabitants per GP"),
    "per_year": ("je Jahr", "per year"),
    "per_1000_age": ("je 1.000 der Altersgruppe", "per 1,000 of the age group"),
}


def metric_unit(metric: str, lang: str = "de") -> str:
    """The unit of a metric for axis titles ("" when it has none)."""
    i = lang_index(lang)
    if is_share(metric):
        key = "percent"
    elif metric in ("mean_rent_m2", "relet_rent_m2"):
        key = "eur_m2"
    elif metric in ("mean_equivalised_income",):
        key = "eur_month"
    elif metric in ("households",):
        key = "households"
    elif metric.startswith(("dwellings", "bindings_")):
        key = "dwellings"
    elif metric.startswith("gp_doctors") or metric in ("gp_retirements", "gp_refills"):
        key = "doctors"
    elif metric.startswith(("gp_access", "gp_coverage")):
        key = "coverage"
    elif metric.startswith(("dissimilarity", "multigroup", "theil", "isolation", "exposure",
                            "morans", "school_dissimilarity")):
        key = "index"
    elif metric.startswith("location_quotient") or metric == "old_age_ratio":
        key = "quotient"
    elif metric in ("mean_age", "gp_mean_age"):
        key = "years"
    elif metric == "mean_household_size":
        key = "per_household"
    elif metric == "inhabitants_per_gp":
        key = "per_gp"
    elif metric.startswith("net_migration_rate_"):
        key = "per_1000_age"
    elif metric.startswith(("out_migrants", "in_migrants", "net_migrants", "births", "deaths",
                            "population", "persons_", "moves_", "leaving_home", "care_dependent",
                            "nursing_home", "unmet_care", "partnerships")):
        key = "persons"
    else:
        return ""
    return UNITS[key][i]


def axis_title(metric: str, lang: str = "de") -> str:
    """A metric's label with its unit, for an axis."""
    label, unit = metric_label(metric, lang), metric_unit(metric, lang)
    return f"{label} [{unit}]" if unit and unit not in label else label
