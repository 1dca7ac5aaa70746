"""The scenario: the place (``[city]``), parameters, levers, what is recorded, and Schelling
mode; with dotted-path copies (:meth:`Scenario.with_values`) and the content hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from sim.errors import InputError, display_path
from sim.scenario.base import StrictModel
from sim.scenario.checks import ScenarioProblem, scenario_problem
from sim.scenario.levers import Levers
from sim.scenario.parameters import Parameters

FACILITY_KINDS = ("primary_school", "secondary_school", "kita", "gp", "nursing_home",
                   "ambulant_care", "stop")


class FacilityFile(StrictModel):
    """One layer of facility locations (``[[city.facilities]]``) of a real city."""

    kind: Literal["primary_school", "secondary_school", "school", "kita", "gp", "nursing_home",
                  "ambulant_care", "stop"] = Field(
        ..., description="What the points are. 'school' splits by `school_type_field`: "
        "Grundschule is primary, the other general schools secondary.")
    file: str = Field(..., description="GeoJSON, GeoPackage, Shapefile or CSV, relative to "
                      "the scenario file.")
    layer: str | None = Field(None, description="Layer of a GeoPackage (default: the only one).")
    capacity_field: str | None = Field(
        None, description="Column with the capacity (pupils, doctors, places); default: "
        "synthesised sizes.")
    name_field: str | None = Field(None, description="Column with the facility's name.")
    school_type_field: str | None = Field(
        None, description="kind='school': column with the school type (Schulform).")
    x_field: str | None = Field(None, description="CSV: column of the x coordinate.")
    y_field: str | None = Field(None, description="CSV: column of the y coordinate.")
    crs: str | None = Field(None, description="CSV: CRS of the coordinates, e.g. 'EPSG:4326'.")
    sozialindex_field: str | None = Field(
        None, description="Schools: column with the NRW school Sozialindex (1-9), used for the "
        "poverty proxy.")
    age_range_field: str | None = Field(
        None, description="Kitas: column with the ages taken, as 'von 3 J. - Schulpflicht' or "
        "'von 0 bis unter 3J.': a Kita from age 3 gets no places under 3, one up to under 3 "
        "none for ages 3-6.")
    outside: Literal["error", "drop"] = Field(
        "error", description="A point outside the city is an error, or is left out ('drop').")


class CityConfig(StrictModel):
    """The place: the built-in synthetic city, a Zensus 2022 100 m grid file, or a real city
    described by its files (census grids, boundaries, facilities)."""

    kind: Literal["ruhrstadt", "zensus", "files"] = Field(
        "ruhrstadt", description="'ruhrstadt' (built-in synthetic city), 'zensus' (grid CSV) "
        "or 'files' (census grids, boundaries and facilities; see README 'Your own city')."
    )
    households: int | None = Field(
        None, gt=0, le=20_000_000,
        description="Households at the start (default: 30,000 for 'ruhrstadt'; for 'zensus' "
        "the grid's inhabitants divided by the mean household size; for 'files' the census' "
        "households, and a smaller number scales every cell down for quick runs).",
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

    name: str | None = Field(None, description="kind='files': the city's name.")
    census: list[str] | None = Field(
        None, description="kind='files': census grid files (Zensus 2011 100 m long CSV, 1 km "
        "CSV, Zensus 2022 ZIP or CSV, or the tidy Parquet of the bundle), relative to this file.")
    census_year: int | None = Field(
        None, ge=2011, le=2100, description="kind='files': the census year; the start year "
        "unless start_year is given.")
    boundaries: str | None = Field(
        None, description="kind='files': GeoPackage, GeoJSON or Shapefile with the city "
        "outline and its quartiers (any CRS; reprojected to EPSG:3035).")
    city_layer: str | None = Field(
        None, description="kind='files': layer of the city outline (default: the union of the "
        "quartiers).")
    quartier_layer: str | None = Field(None, description="kind='files': layer of the quartiers "
                                       "(Stadtteile).")
    quartier_name_field: str | None = Field(None, description="kind='files': column with the "
                                            "quartier's name.")
    quartier_id_field: str | None = Field(None, description="kind='files': column with the "
                                          "quartier's id (default: the name).")
    facilities: list[FacilityFile] | None = Field(
        None, description="kind='files': facility layers; kinds not given are synthesised.")
    migration_background_per_foreigner: float | None = Field(
        None, ge=1.0, le=10.0, description="kind='files': persons with a migration background "
        "per foreign national (default 2.04: Essen 2019, Stadt Essen Amt für Statistik).")

    @model_validator(mode="after")
    def _zensus_needs_file(self) -> CityConfig:
        if self.kind == "zensus" and not self.zensus_file:
            raise ValueError("kind = 'zensus' needs city.zensus_file")
        if self.kind == "files":
            for key in ("census", "boundaries", "quartier_layer", "quartier_name_field"):
                if not getattr(self, key):
                    raise ValueError(f"kind = 'files' needs city.{key}")
        return self

    def referenced_files(self) -> list[str]:
        """Every input file the city names (kind='files'), for the content hash."""
        files = list(self.census or []) + ([self.boundaries] if self.boundaries else [])
        return files + [f.file for f in self.facilities or []]


# City fields added for real cities: left out of the content hash while unset, so the hashes
# (and run ids) of the other cities stay as they were.
_REAL_CITY_KEYS = ("name", "census", "census_year", "boundaries", "city_layer", "quartier_layer",
                   "quartier_name_field", "quartier_id_field", "facilities",
                   "migration_background_per_foreigner")



class SchellingSettings(StrictModel):
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


class OutcomesConfig(StrictModel):
    """What is recorded each year."""

    per_quartier: bool = Field(True, description="Record every metric per quartier too.")
    cell_snapshots: bool = Field(
        False, description="Also record a per-cell table every year (for maps)."
    )


class Scenario(StrictModel):
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
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)  # field -> file that set it

    @model_validator(mode="after")
    def _whole(self) -> Scenario:
        """A real city starts in its census year unless the file sets ``start_year``; then
        the checks that need the whole scenario."""
        if self.city.census_year is not None and "start_year" not in self.model_fields_set:
            self.__dict__["start_year"] = self.city.census_year
        problem = scenario_problem(self)
        if problem is not None:
            raise ScenarioProblem(*problem)
        return self

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
            return Scenario.model_validate(data).with_origins(self._origins)
        except ScenarioProblem as exc:
            raise InputError("parameters", exc.field, exc.message) from None
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise InputError("parameters", field, err["msg"]) from None

    def with_origins(self, origins: dict[str, str]) -> Scenario:
        """This scenario, remembering which file set each field (see :meth:`file_of`)."""
        self._origins = dict(origins)
        return self

    def file_of(self, field: str | None) -> str:
        """The file that set ``field`` (or its nearest parent table) for error messages: a
        file of the ``extends`` chain, else the scenario's own file, else its name."""
        while field:
            if field in self._origins:
                return display_path(self._origins[field])
            field = field.rpartition(".")[0]
        return display_path(self.source_file) if self.source_file else self.name

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
        data["parameters"].pop("costs", None)  # unit costs: computed after the run
        for key in _REAL_CITY_KEYS:
            if data["city"].get(key) is None:
                data["city"].pop(key, None)
        if self.city.kind == "files":
            data["city"]["file_digests"] = [_file_digest(self.resolve_path(f))
                                            for f in self.city.referenced_files()]
        if self.city.zensus_file:
            path = self.resolve_path(self.city.zensus_file)
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"
            data["city"]["zensus_file"] = f"sha256:{digest}"
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def _file_digest(path: Path) -> str:
    """SHA-256 of a file's content ('missing' if absent), read in blocks."""
    if not path.is_file():
        return "missing"
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def run_id(scenario_hash: str, seed: int) -> str:
    """Identifies a run: the scenario's content (:meth:`Scenario.content_hash`) and the seed."""
    return hashlib.sha256(f"{scenario_hash}:{int(seed)}".encode()).hexdigest()[:16]
