"""Bad files of a real city: one line naming the file, the layer and the field, exit status 2,
and nothing already written is touched (``quartier city check`` and ``quartier export``)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sim.cli import app

from .realcity_helpers import (
    KM_VALUES,
    boundaries,
    km_csv,
    schools_csv,
    snapshot,
    write_city,
)


def check(path):
    return CliRunner().invoke(app, ["city", "check", str(path)])


def assert_one_line(result, *needles):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture()
def city_dir(tmp_path):
    return tmp_path / "city"


def run_check_unchanged(folder, scenario, *needles):
    before = snapshot(folder)
    result = check(scenario)
    assert_one_line(result, *needles)
    assert snapshot(folder) == before


def test_boundaries_without_crs(city_dir):
    city_dir.mkdir()
    shp = boundaries(city_dir / "grenzen.shp", driver="ESRI Shapefile")
    (city_dir / "grenzen.prj").unlink()
    scenario = write_city(city_dir, bounds=shp, layer="grenzen")
    run_check_unchanged(city_dir, scenario, "grenzen.shp", "layer grenzen", "no CRS")


def test_missing_layer(city_dir):
    scenario = write_city(city_dir, layer="bezirke")
    run_check_unchanged(city_dir, scenario, "grenzen.gpkg", "layer bezirke", "no such layer")


def test_missing_name_column(city_dir):
    scenario = write_city(city_dir, name_field="name")
    run_check_unchanged(city_dir, scenario, "grenzen.gpkg", "layer stadtteile",
                        "field name", "no such column")


def test_decimal_comma_in_1km_grid(city_dir):
    city_dir.mkdir()
    km = km_csv(city_dir / "Zensus_spitze_Werte_1km.csv", decimal_comma=True)
    scenario = write_city(city_dir, km=km)
    run_check_unchanged(city_dir, scenario, "Zensus_spitze_Werte_1km.csv", "Alter_D",
                        "decimal comma")


def test_no_census_cell_inside_the_boundary(city_dir):
    city_dir.mkdir()
    far = {(col + 50, row): v for (col, row), v in KM_VALUES.items()}
    km = km_csv(city_dir / "Zensus_spitze_Werte_1km.csv", values=far)
    scenario = write_city(city_dir, km=km)
    run_check_unchanged(city_dir, scenario, "Einwohner", "no populated census cell inside")


def test_facility_outside_the_city(city_dir):
    city_dir.mkdir()
    schools = schools_csv(city_dir / "schulen.csv", outside=True)
    scenario = write_city(city_dir, schools=schools)
    run_check_unchanged(city_dir, scenario, "schulen.csv", "geometry", "GS Fern",
                        "outside the city")


def test_decimal_comma_in_facility_coordinates(city_dir):
    city_dir.mkdir()
    schools = schools_csv(city_dir / "schulen.csv", decimal_comma=True)
    scenario = write_city(city_dir, schools=schools)
    run_check_unchanged(city_dir, scenario, "schulen.csv", "lon", "decimal comma")


def test_facility_capacity_not_a_number(city_dir):
    city_dir.mkdir()
    schools = schools_csv(city_dir / "schulen.csv")
    schools.write_text(schools.read_text().replace(";220;", ";zweihundert;"))
    scenario = write_city(city_dir, schools=schools)
    run_check_unchanged(city_dir, scenario, "schulen.csv", "field schueler", "zweihundert")


def test_census_file_missing(city_dir):
    scenario = write_city(city_dir)
    (city_dir / "Wohnungen100m.csv").unlink()
    run_check_unchanged(city_dir, scenario, "Wohnungen100m.csv", "file not found")


def test_bad_grid_id(city_dir):
    scenario = write_city(city_dir)
    path = city_dir / "Wohnungen100m.csv"
    lines = path.read_text().splitlines()
    lines[1] = "Zelle7;" + lines[1].split(";", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    run_check_unchanged(city_dir, scenario, "Wohnungen100m.csv", "row 2: Gitter_ID_100m",
                        "not a Zensus grid id")


def test_1km_grid_without_population(city_dir):
    scenario = write_city(city_dir)
    path = city_dir / "Zensus_spitze_Werte_1km.csv"
    text = path.read_text().splitlines()
    cut = [";".join(f for i, f in enumerate(line.split(";")) if i != 3) for line in text]
    path.write_text("\n".join(cut) + "\n")
    run_check_unchanged(city_dir, scenario, "1 km grid", "Einwohner")


def test_duplicate_quartier_id(city_dir):
    import geopandas as gpd

    scenario = write_city(city_dir)
    path = city_dir / "grenzen.gpkg"
    frame = gpd.read_file(path, layer="stadtteile")
    frame["nr"] = 1
    frame.to_file(path, layer="stadtteile", engine="pyogrio")
    run_check_unchanged(city_dir, scenario, "grenzen.gpkg", "field nr", "appears twice")


def test_quartiers_are_not_polygons(city_dir):
    import geopandas as gpd

    scenario = write_city(city_dir)
    path = city_dir / "grenzen.gpkg"
    frame = gpd.read_file(path, layer="stadtteile")
    frame["geometry"] = frame.geometry.centroid
    path.unlink()
    frame.to_file(path, layer="stadtteile", engine="pyogrio")
    run_check_unchanged(city_dir, scenario, "grenzen.gpkg", "geometry", "polygons")


def test_unknown_census_file_type(city_dir):
    scenario = write_city(city_dir)
    (city_dir / "zensus.xlsx").write_bytes(b"PK")
    scenario.write_text(scenario.read_text().replace("Wohnungen100m.csv", "zensus.xlsx"))
    run_check_unchanged(city_dir, scenario, "zensus.xlsx", "unknown census file type")


def test_city_check_of_a_built_in_city(tmp_path):
    from .conftest import SCENARIOS

    result = check(SCENARIOS / "baseline.toml")
    assert_one_line(result, "city.kind", "kind = \"files\"")


def test_export_of_runs_without_georeference(tmp_path):
    """A run of the built-in city cannot be exported; the earlier export stays as it was."""
    import sim
    from sim.experiments.results import write_run

    from .conftest import SCENARIOS

    scenario = sim.load_scenario(SCENARIOS / "baseline.toml").with_values(
        {"city.households": 300, "years": 1})
    write_run(sim.build_model(scenario, seed=1).run(), tmp_path / "run")
    earlier = tmp_path / "export.gpkg"
    earlier.write_bytes(b"an earlier export")
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, ["export", str(tmp_path / "run"), "-o", str(earlier)])
    assert_one_line(result, "experiments: grid", "georeference")
    assert snapshot(tmp_path) == before


def test_export_unknown_format(tmp_path):
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, ["export", str(tmp_path), "--format", "shp"])
    assert_one_line(result, "--format", "gpkg or geojson")
    assert snapshot(tmp_path) == before


def test_facility_csv_with_an_unknown_crs(city_dir):
    scenario = write_city(city_dir)
    scenario.write_text(scenario.read_text().replace('crs = "EPSG:4326"', 'crs = "EPSG:999999"'))
    run_check_unchanged(city_dir, scenario, "schulen.csv", "crs", "EPSG:999999")
