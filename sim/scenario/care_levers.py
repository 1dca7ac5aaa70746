"""Care levers: new nursing homes (``[[levers.nursing_homes]]``) and Tagespflege places
(``[[levers.tagespflege]]``). Quartier ids are checked against the city when a scenario is
loaded; docs/care.md describes what each does."""

from __future__ import annotations

from pydantic import Field

from sim.scenario.base import StrictModel


class NewNursingHome(StrictModel):
    """One new nursing home: its places become nursing-home dwellings of the quartier from
    the opening year."""

    quartier: str = Field(..., description="Quartier id of the new home.")
    places: int = Field(
        80, ge=1, le=2000, description="Places (full inpatient permanent care; NRW 2023: 79.2 "
        "places per home).",
    )
    opening_year: int = Field(2025, ge=1900, le=2200)
    name: str = ""


class TagespflegePlaces(StrictModel):
    """Tagespflege (day-care) places in a quartier from the opening year."""

    quartier: str = Field(..., description="Quartier id of the day-care places.")
    places: int = Field(
        15, ge=1, le=2000, description="Places (Germany 2019: 15.25 places per facility).",
    )
    opening_year: int = Field(2025, ge=1900, le=2200)
