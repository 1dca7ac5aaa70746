"""Policy levers (``[levers.*]`` tables): rent mixing and social housing, MVZ and doctor
incentives, public transport, school investment and ambulant care. Lever locations are checked
against the city when a scenario is loaded (:func:`sim.inputs.check_levers`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.scenario.base import StrictModel
from sim.scenario.care_levers import NewNursingHome, TagespflegePlaces


class RentMixingLever(StrictModel):
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


class MvzCentre(StrictModel):
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


class DoctorIncentive(StrictModel):
    """Incentives that bring doctors to a quartier each year and help its practices find
    successors."""

    from_year: int = Field(2025, ge=1900, le=2200)
    until_year: int = Field(2200, ge=1900, le=2200)
    quartier: str | None = Field(
        None, description="Quartier id the incentive targets (default: each year the quartier "
        "whose residents 65+ have the lowest GP access).",
    )
    doctors_per_year: float = Field(
        1.0, ge=0.0, le=100.0,
        description="Doctors added per year to the targeted quartier (in its cell with the "
        "most residents 65+).",
    )
    refill_probability: float = Field(
        0.9, ge=0.0, le=1.0,
        description="Probability that a retiring GP's seat in the targeted quartier gets a "
        "successor during the incentive's years (if higher than without it).",
    )


class MvzLever(StrictModel):
    """Medical care centres (levers.mvz)."""

    centres: list[MvzCentre] = Field(default_factory=list)
    incentive: DoctorIncentive | None = None


class PublicTransportLever(StrictModel):
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


class SchoolInvestment(StrictModel):
    """Investment in the schools of a quartier (schools as learning places)."""

    quartier: str = Field(..., description="Quartier id; its schools get the investment.")
    quality: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Offsets this much of the schools' relative disadvantage as families "
        "perceive it (share of pupils at risk of poverty above the city's).",
    )
    from_year: int = Field(2025, ge=1900, le=2200)
    extra_places: int = Field(
        0, ge=0, le=100_000,
        description="School places added to the quartier's schools (spread over them), so "
        "that more of the quartier's pupils find a place at a nearby school.",
    )


class KitaLever(StrictModel):
    """A new Kita (or an extension) in a quartier (``[[levers.kitas]]``): its places for
    children under 3 and aged 3 to under 6, open from ``opening_year`` on."""

    quartier: str = Field(..., description="Quartier id; the Kita goes to its cell with the "
                          "most residents.")
    places_under3: int = Field(0, ge=0, le=10_000, description="Places for children under 3.")
    places_3to6: int = Field(0, ge=0, le=10_000,
                             description="Places for children aged 3 to under 6.")
    opening_year: int = Field(2025, ge=1900, le=2200)
    name: str = ""

    @model_validator(mode="after")
    def _some_places(self) -> KitaLever:
        if self.places_under3 + self.places_3to6 <= 0:
            raise ValueError("a Kita needs places (places_under3 or places_3to6 above 0)")
        return self


class AmbulantCareLever(StrictModel):
    """More ambulant care capacity (levers.ambulant_care)."""

    from_year: int = Field(2025, ge=1900, le=2200)
    extra_clients: float = Field(100.0, gt=0.0, description="Extra clients served.")
    quartier: str | None = Field(None, description="Quartier of the new service (default: "
                                 "the one with the most unmet care).")


class DemolitionLever(StrictModel):
    """Rückbau: long-vacant dwellings are demolished (levers.demolition)."""

    from_year: int = Field(2025, ge=1900, le=2200, description="First year the lever acts.")
    rate: float | dict[str, float] = Field(
        0.5,
        description="Share of the long-vacant dwellings demolished per year, citywide (a "
        "number) or per quartier (a table quartier id = share; others: no lever).",
    )

    @model_validator(mode="after")
    def _shares(self) -> DemolitionLever:
        values = self.rate.values() if isinstance(self.rate, dict) else [self.rate]
        for v in values:
            if not 0.0 <= v <= 1.0:
                raise ValueError("rate must lie between 0 and 1")
        return self


class Levers(StrictModel):
    """Policy levers (each with the year it takes effect)."""

    rent_mixing: RentMixingLever | None = None
    mvz: MvzLever | None = None
    public_transport: PublicTransportLever | None = None
    school_investment: list[SchoolInvestment] = Field(default_factory=list)
    kitas: list[KitaLever] = Field(default_factory=list)
    ambulant_care: AmbulantCareLever | None = None
    demolition: DemolitionLever | None = None
    nursing_homes: list[NewNursingHome] = Field(default_factory=list)
    tagespflege: list[TagespflegePlaces] = Field(default_factory=list)

