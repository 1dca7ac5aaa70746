"""``quartier city check FILE`` and ``quartier export DIR`` (registered by :mod:`sim.cli`)."""

from __future__ import annotations

from pathlib import Path

import typer

from sim.cli.common import console, fail, output_errors, print_table
from sim.errors import InputError

city_app = typer.Typer(help="Real cities described by their files (census, boundaries, "
                       "facilities).", no_args_is_help=True, add_completion=False)


def register(app: typer.Typer) -> None:
    """Add ``city check`` and ``export`` to the ``quartier`` app."""
    app.add_typer(city_app, name="city")
    app.command("export")(export)


@city_app.command("check")
def check(
    scenario_file: Path = typer.Argument(..., help="A scenario whose [city] has kind = "
                                         "\"files\", e.g. scenarios/essen.toml."),
) -> None:
    """Read a city's files and print a summary per quartier.

    Residents, households and dwellings per quartier as the census gives them, the facilities
    per kind the files give, and which kinds the model synthesises. Bad files give one line
    naming the file, the layer and the field (exit status 2).
    """
    try:
        import sim
        from sim.inputs.realcity import build_real_city

        scenario = sim.load_scenario(scenario_file)
        if scenario.city.kind != "files":
            raise InputError(str(scenario_file), "city.kind", "city check needs kind = "
                             f"\"files\" (this city is {scenario.city.kind!r})")
        city = build_real_city(scenario)
    except InputError as exc:
        fail(exc)
    _print_summary(city, scenario)


def _print_summary(city, scenario) -> None:
    import numpy as np
    from rich.table import Table

    real = city.real
    cells = real.cells
    n_q = city.n_quartiers
    q = cells["quartier"].to_numpy()
    per = {name: np.bincount(q, weights=cells[name].to_numpy(), minlength=n_q)
           for name in ("persons", "households", "dwellings")}
    kinds = sorted(set(real.facilities["kind"]))
    fq = city.cell_quartier[real.facilities["cell"].to_numpy()] if len(real.facilities) else []
    table = Table(title=f"{city.name}: {n_q} quartiers, census {real.census_year or '?'}, "
                  f"start {scenario.start_year}")
    for column in ("quartier", "name", "residents", "households", "dwellings", *kinds):
        table.add_column(column, justify="left" if column in ("quartier", "name") else "right")
    for i, profile in enumerate(city.quartiers):
        counts = [str(int(((real.facilities["kind"] == k).to_numpy() & (fq == i)).sum()))
                  for k in kinds]
        table.add_row(profile.id, profile.name, f"{per['persons'][i]:,.0f}",
                      f"{per['households'][i]:,.0f}", f"{per['dwellings'][i]:,.0f}", *counts)
    totals = [str(int((real.facilities["kind"] == k).sum())) for k in kinds]
    table.add_row("", "city", f"{per['persons'].sum():,.0f}", f"{per['households'].sum():,.0f}",
                  f"{per['dwellings'].sum():,.0f}", *totals)
    print_table(table)
    console.print(f"real facilities: {', '.join(real.real_kinds()) or 'none'}", highlight=False)
    console.print("synthesised: " + (", ".join(real.synthesised_kinds()) or "none"),
                  highlight=False)


def export(
    folder: Path = typer.Argument(..., help="Result folder of 'quartier run', 'compare' or "
                                  "'sweep' of a city built from files."),
    fmt: str = typer.Option("gpkg", "--format", "-f", metavar="gpkg|geojson",
                            help="gpkg (one GeoPackage with the layers cells and quartiers) "
                            "or geojson (two files)."),
    out: Path = typer.Option(None, "--out", "-o", metavar="FILE",
                             help="The file to write (default: "
                             "FOLDER/export.gpkg or FOLDER/export_*.geojson)."),
    year: int = typer.Option(None, "--year", metavar="YEAR", help="Year of the outcomes "
                             "(default: the "
                             "last)."),
) -> None:
    """Write per-cell and per-quartier results for GIS (QGIS, geopandas).

    Cells carry GITTER_ID_100m (the census id) and their square in EPSG:3035; quartiers their
    polygons, the outcomes of the year and, for a comparison, the paired differences.
    """
    from sim.experiments.results import check_output_file

    target = out if out is not None else folder / ("export." + fmt)
    with output_errors(target):
        if fmt not in ("gpkg", "geojson"):
            raise InputError("--format", None, f"must be gpkg or geojson (got {fmt!r})")
        check_output_file(target)
        from dashboards.data import load_results
        from sim.experiments.gis import export as write

        results = load_results(folder)
        paths = write(results.experiments, results.outcomes, results.cells, results.comparison,
                      target, fmt, year=year, source=str(folder))
    for path in paths:
        console.print(f"Wrote {path}", highlight=False, soft_wrap=True)
