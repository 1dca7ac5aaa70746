"""A small fictional city described by files, written by the tests into a folder.

Two quartiers ("Nord", "Sued") tile a 2 km x 2 km square in EPSG:3035 whose lower-left corner
is the corner of a 1 km Zensus cell; the census gives its four 1 km cells (2011 1 km layout)
and, per 100 m cell, dwellings by floor-space class and vacant dwellings (2011 long layout);
facilities are a CSV of schools with pupils in EPSG:4326.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

X0, Y0 = 4_200_000, 3_100_000  # lower-left corner (EPSG:3035), on the 1 km lattice
KM_HEADER = ("Gitter_ID_1km;x_mp_1km;y_mp_1km;Einwohner;Frauen_A;Alter_D;unter18_A;ab65_A;"
             "Auslaender_A;HHGroesse_D;Leerstandsquote;Wohnfl_Bew_D;Wohnfl_Whg_D")
# Per 1 km cell (col, row): persons, mean age, % under 18, % 65+, % foreign, household size,
# % vacant, m² per resident, m² per dwelling.
KM_VALUES = {(0, 0): (1800, 41.2, 17.5, 18.0, 22.0, 2.10, 5.0, 36.0, 72.0),
             (1, 0): (1500, 43.0, 16.0, 21.0, 12.0, 2.00, 4.0, 40.0, 78.0),
             (0, 1): (900, 46.5, 13.0, 27.0, 4.0, 1.85, 3.0, 46.0, 84.0),
             (1, 1): (700, 47.0, 12.5, 28.0, 3.0, 1.80, 2.5, 48.0, 86.0)}


def km_csv(path: Path, values=KM_VALUES, decimal_comma: bool = False) -> Path:
    lines = [KM_HEADER]
    for (col, row), v in values.items():
        x, y = X0 + col * 1000, Y0 + row * 1000
        numbers = ";".join(str(a) for a in v[1:])
        if decimal_comma:
            numbers = numbers.replace(".", ",")
        lines.append(f"1kmN{y // 1000}E{x // 1000};{x + 500};{y + 500};{v[0]};51.0;{numbers}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def long_csv(path: Path, seed: int = 7) -> Path:
    """Wohnungen100m.csv: floor-space classes (3-9) and vacant dwellings per 100 m cell."""
    rng = np.random.default_rng(seed)
    lines = ["Gitter_ID_100m;Gitter_ID_100m_neu;Merkmal;Auspraegung_Code;Auspraegung_Text;"
             "Anzahl;Anzahl_q"]
    for col in range(20):
        for row in range(20):
            if rng.random() < 0.3:
                continue  # parks and fields
            x, y = X0 + col * 100, Y0 + row * 100
            old = f"100mN{y // 100}E{x // 100}"
            new = f"CRS3035RES100mN{y}E{x}"
            for code in range(3, 10):
                n = int(rng.poisson(3))
                if n >= 3:
                    lines.append(f"{old};{new};WOHNFLAECHE_10S;{code};x;{n};0")
            if rng.random() < 0.2:
                lines.append(f"{old};{new};NUTZUNG_DETAIL_HHGEN;4;Leer stehend;3;0")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def boundaries(path: Path, crs: str = "EPSG:3035", driver: str | None = None) -> Path:
    import geopandas as gpd
    import shapely

    north = shapely.box(X0, Y0 + 1000, X0 + 2000, Y0 + 2000)
    south = shapely.box(X0, Y0, X0 + 2000, Y0 + 1000)
    frame = gpd.GeoDataFrame({"nr": [1, 2], "stadtteil": ["Nord", "Sued"]},
                             geometry=[north, south], crs="EPSG:3035")
    if crs != "EPSG:3035":
        frame = frame.to_crs(crs)
    frame.to_file(path, layer="stadtteile", driver=driver, engine="pyogrio")
    return path


def schools_csv(path: Path, outside: bool = False, decimal_comma: bool = False) -> Path:
    from pyproj import Transformer

    to_wgs = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
    points = [(X0 + 500, Y0 + 500, "Grundschule", "GS Sued", 220),
              (X0 + 1500, Y0 + 1500, "Grundschule", "GS Nord", 180),
              (X0 + 1200, Y0 + 700, "Gymnasium", "Gymnasium", 800)]
    if outside:
        points.append((X0 + 5000, Y0 + 5000, "Grundschule", "GS Fern", 100))
    lines = ["name;schulform;schueler;lon;lat"]
    for x, y, kind, name, pupils in points:
        lon, lat = to_wgs.transform(x, y)
        text = f"{lon:.6f};{lat:.6f}"
        if decimal_comma:
            text = text.replace(".", ",")
        lines.append(f"{name};{kind};{pupils};{text}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SCENARIO = """extends = "{base}"
name = "kleinstadt"

[city]
kind = "files"
name = "Kleinstadt"
census_year = 2011
census = ["{km}", "{hm}"]
boundaries = "{boundaries}"
quartier_layer = "{layer}"
quartier_name_field = "{name_field}"
quartier_id_field = "nr"

[[city.facilities]]
kind = "school"
file = "{schools}"
x_field = "lon"
y_field = "lat"
crs = "EPSG:4326"
capacity_field = "schueler"
name_field = "name"
school_type_field = "schulform"
"""


def write_city(folder: Path, *, km=None, hm=None, bounds=None, schools=None,
               layer: str = "stadtteile", name_field: str = "stadtteil") -> Path:
    """All files of the city and its scenario; arguments replace single files."""
    from .conftest import SCENARIOS

    folder.mkdir(parents=True, exist_ok=True)
    km = km or km_csv(folder / "Zensus_spitze_Werte_1km.csv")
    hm = hm or long_csv(folder / "Wohnungen100m.csv")
    bounds = bounds or boundaries(folder / "grenzen.gpkg")
    schools = schools or schools_csv(folder / "schulen.csv")
    text = SCENARIO.format(base=(SCENARIOS / "baseline.toml").as_posix(), km=Path(km).name,
                           hm=Path(hm).name, boundaries=Path(bounds).name,
                           schools=Path(schools).name, layer=layer, name_field=name_field)
    path = folder / "kleinstadt.toml"
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content (to show nothing was touched)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}
