"""Reading scenario files: ``extends`` chains, merged tables and errors that name the file.

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

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.errors import InputError, display_path
from sim.scenario.checks import ScenarioProblem
from sim.scenario.schema import Scenario

MAX_EXTENDS_DEPTH = 32  # files in one ``extends`` chain


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(display_path(path), None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(display_path(path), None, f"cannot read file ({exc.__class__.__name__})"
                         ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(display_path(path), None, f"not valid TOML: {exc}") from None


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
        raise InputError(display_path(chain[-1]), "extends", f"cycle: {cycle}")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise InputError(display_path(chain[0]), "extends", f"chain of more than "
                         f"{MAX_EXTENDS_DEPTH} files (reached {path.name}); a scenario may "
                         "extend at most that many files in a row")
    raw = _read_toml(path)
    parent = raw.pop("extends", None)
    if parent is None:
        base, origin = {}, {}
    else:
        if not isinstance(parent, str) or not parent:
            raise InputError(display_path(path), "extends", "must be a file name (a string)")
        parent_path = (path.parent / parent) if not Path(parent).is_absolute() else Path(parent)
        if not parent_path.exists():
            raise InputError(display_path(path), "extends", f"file not found: {parent}")
        base, origin = _load_raw(parent_path, (*chain, path))
        base.pop("name", None)  # a name is never inherited
    merged = _merge(base, raw, origin, str(path))
    city = raw.get("city")
    year = city.get("census_year") if isinstance(city, dict) else None
    if isinstance(year, int) and not isinstance(year, bool) and "start_year" not in raw:
        # A real city starts in its census year unless the same file says otherwise (a bad
        # census year is left to the schema, which names it).
        merged["start_year"] = city["census_year"]
        origin["start_year"] = str(path)
    return merged, origin


def read_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file, following ``extends``.

    The scenario remembers which file set each field (:meth:`Scenario.file_of`), so that
    later checks against the city (:func:`sim.inputs.check_levers`) name the right file.
    :func:`sim.load_scenario` reads and checks in one call.

    Args:
        path: The TOML file.

    Returns:
        The validated :class:`Scenario`.

    Raises:
        InputError: naming the file and the field for any invalid input.
    """
    path = Path(path)
    raw, origin = _load_raw(path, ())
    _rebase_paths(raw, origin, path.resolve().parent)
    raw.setdefault("name", path.stem)
    raw["source_file"] = str(path.resolve())
    try:
        scenario = Scenario.model_validate(raw)
    except ScenarioProblem as exc:
        field, message = exc.field, exc.message
        if exc.other is not None and field not in origin and exc.other[0] in origin:
            field, message = exc.other  # name the field of the pair that a file set
        file = _origin_of(field, origin) or str(path)
        raise InputError(display_path(file), field, message) from None
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
        raise InputError(display_path(file), field, msg) from None
    if scenario.city.kind == "zensus":
        zpath = scenario.resolve_path(scenario.city.zensus_file or "")
        if not zpath.is_file():
            file = _origin_of("city.zensus_file", origin) or str(path)
            raise InputError(display_path(file), "city.zensus_file", f"file not found: {zpath}")
    return scenario.with_origins(origin)


#: The city's file names: each is relative to the file that sets it.
_PATH_FIELDS = ("census", "boundaries", "zensus_file", "facilities")


def _rebase_paths(raw: dict[str, Any], origin: dict[str, str], folder: Path) -> None:
    """Rewrite the city's relative file names set by a file of the ``extends`` chain in
    another folder so that they are relative to ``folder`` (the scenario's own), where
    :meth:`Scenario.resolve_path` looks. Names set in ``folder`` stay as written."""
    city = raw.get("city")
    if not isinstance(city, dict):
        return
    for key in _PATH_FIELDS:
        setter = origin.get(f"city.{key}")
        if setter is None or key not in city or Path(setter).parent == folder:
            continue
        base = Path(setter).parent

        def rebased(name, base=base):
            if not isinstance(name, str) or not name or Path(name).is_absolute():
                return name
            return os.path.relpath(base / name, folder)

        value = city[key]
        if key == "facilities" and isinstance(value, list):
            city[key] = [{**spec, "file": rebased(spec.get("file"))}
                         if isinstance(spec, dict) and "file" in spec else spec
                         for spec in value]
        elif isinstance(value, list):
            city[key] = [rebased(v) for v in value]
        else:
            city[key] = rebased(value)


def _origin_of(field: str | None, origin: dict[str, str]) -> str | None:
    while field:
        if field in origin:
            return origin[field]
        field = field.rpartition(".")[0]
    return None

