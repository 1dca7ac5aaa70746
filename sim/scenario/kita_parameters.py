"""Parameters of day care (Kitas: Kindertageseinrichtungen and Tagespflege) and of the
education outcomes (``[parameters.kitas]``). Sources: ``calibration/targets/childcare.csv``
(copied from the shared calibration data, SOURCES.md section 23) unless marked ASSUMPTION or
DERIVED. docs/kitas_education.md explains the model for users; docs/ODD.md section 7.20 lists
every parameter."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sim.scenario.base import StrictModel

Share = Annotated[float, Field(ge=0.0, le=1.0)]


class KitaParameters(StrictModel):
    """Demand for day care, the places synthesised where the city file gives none, how
    children are assigned, and what missing places do to families."""

    take_up_by_age_under3: tuple[Share, Share, Share] = Field(
        (0.011, 0.277, 0.626),
        description="Share of children aged 0, 1 and 2 in day care (Kita + Tagespflege), the "
        "Betreuungsquote by single age, NRW 1.3.2022: 1.1 %, 27.7 %, 62.6 % (IT.NRW via WDR; "
        "childcare.csv). Their mean, 30.4 %, is NRW's under-3 rate of that day.",
    )
    take_up_3to6: float = Field(
        0.906, ge=0.0, le=1.0,
        description="Share of children aged 3 to under 6 in day care, NRW 1.3.2022: 90.6 % "
        "(IT.NRW via WAZ; childcare.csv).",
    )
    wish_factor_under3: float = Field(
        1.3, ge=1.0, le=3.0,
        description="Parents who want a place for a child under 3, relative to those who have "
        "one (the Betreuungsquote is use; the wish is higher, but the data has no NRW figure "
        "for it). ASSUMPTION, in calibration/sensitivity.toml.",
    )
    wish_factor_3to6: float = Field(
        1.05, ge=1.0, le=3.0,
        description="The same for children aged 3 to under 6 (capped so that at most every "
        "child wants a place). ASSUMPTION, in calibration/sensitivity.toml.",
    )
    places_per_kita_under3: float = Field(
        19.7, gt=0.0, le=500.0,
        description="Places for under-3s per Kita where the city file gives no places: NRW "
        "planning 2019/20, (711,000 places − 508,000 for 3+) / 10,316 Kitas = 19.7. DERIVED "
        "(childcare.csv; includes Tagespflege places, which the model attaches to Kitas).",
    )
    places_per_kita_3to6: float = Field(
        48.9, gt=0.0, le=500.0,
        description="Places for children aged 3+ per Kita where the city file gives no places: "
        "NRW planning 2019/20, 504,000 places in Kitas / 10,316 Kitas = 48.9. DERIVED "
        "(childcare.csv).",
    )
    max_distance_m: float = Field(
        2500.0, gt=0.0, le=100_000.0,
        description="Farthest Kita (airline, m) parents accept; a child finding no free place "
        "this close has none. ASSUMPTION.",
    )
    kita_weight: float = Field(
        0.3, ge=0.0, le=5.0,
        description="Dissatisfaction of a family per unit share of its children who want a "
        "place and have none (part of the 'school' part, i.e. education); in the choice, the "
        "utility loss per unit of a quartier's shortfall of places above the city's is "
        "utility_school × kita_weight. ASSUMPTION, in calibration/sensitivity.toml.",
    )
    high_sozialindex: int = Field(
        7, ge=1, le=9,
        description="Schools with an NRW Schulsozialindex at or above this stage (1-9, 9 = "
        "the greatest burden) count as disadvantaged where the school file has the index. "
        "Stages 7-9 are the upper third of the scale (a documented choice).",
    )
    disadvantaged_poor_share_factor: float = Field(
        1.5, ge=1.0, le=10.0,
        description="Schools without a Sozialindex count as disadvantaged when their share of "
        "pupils at risk of poverty is at least this multiple of the city's. ASSUMPTION (the "
        "data has no NRW threshold; SOURCES.md: no pupil poverty shares by school).",
    )
