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
    """Mortality, fertility and leaving home (see docs/ODD.md for the sources)."""

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
    max_age: int = Field(110, ge=100, le=120, description="Nobody survives beyond this age.")


class MigrationParameters(_Strict):
    """Migration across the city boundary (placeholder rates until residential choice)."""

    in_migration_rate: float = Field(
        0.0536, ge=0.0, le=0.5,
        description="In-migrants per resident and year (Köln 2023: 58,189 / 1,084,831).",
    )
    out_migration_rate: float = Field(
        0.0495, ge=0.0, le=0.5,
        description="Out-migrants per resident and year (Köln 2023: 53,690 / 1,084,831).",
    )
    in_migrant_mean_age: float = Field(
        30.0, ge=15.0, le=70.0, description="Mean age of in-migrants (Köln 2023: about 30)."
    )
    out_migrant_mean_age: float = Field(
        30.0, ge=15.0, le=70.0,
        description="Mean age of out-migrants (no figure in the data: taken as in-migrants').",
    )


class Parameters(_Strict):
    """Behavioural parameters (uncertainties)."""

    demography: DemographyParameters = DemographyParameters()
    migration: MigrationParameters = MigrationParameters()


class Levers(_Strict):
    """Policy levers. Levers arrive with the housing and services processes."""


class OutcomesConfig(_Strict):
    """What is recorded each year."""

    per_quartier: bool = Field(True, description="Record every metric per quartier too.")


class Scenario(_Strict):
    """A validated scenario: everything a run needs besides the seed."""

    name: str = Field(..., min_length=1, max_length=200)
    description: str = ""
    start_year: int = Field(2024, ge=1900, le=2200)
    years: int = Field(20, ge=1, le=300, description="Years to simulate.")
    city: CityConfig = CityConfig()
    parameters: Parameters = Parameters()
    levers: Levers = Levers()
    outcomes: OutcomesConfig = OutcomesConfig()
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
    return scenario


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
