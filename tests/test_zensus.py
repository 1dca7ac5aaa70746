"""Tests for the Zensus 100 m grid loader (sim.inputs.zensus)."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import numpy as np
import pytest

from sim.errors import InputError
from sim.inputs.zensus import city_from_zensus, read_zensus_grid

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sim" / "inputs" / "data" / "zensus_sample.csv"
SCENARIO = ROOT / "scenarios" / "zensus_sample.toml"
HEADER = "GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner"


def row(x_ll: int, y_ll: int, value: str | int) -> str:
    """A 2022-style data line for the cell with lower-left corner (x_ll, y_ll)."""
    return f"CRS3035RES100mN{y_ll}E{x_ll};{x_ll + 50};{y_ll + 50};{value}"


def write(tmp_path: Path, lines: list[str], name: str = "grid.csv", encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def sample_rows() -> list[dict[str, str]]:
    """The sample file read independently of sim.inputs.zensus."""
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


# --- the sample file -----------------------------------------------------------------------


def test_sample_loads_as_city():
    city = city_from_zensus(SAMPLE)
    assert city.name == "zensus_sample"
    assert (city.width, city.height) == (40, 30)
    assert (city.origin_x, city.origin_y) == (4_120_000.0, 3_140_000.0)
    assert city.cell_size_m == 100.0
    assert city.cell_quartier.dtype == np.int16
    assert city.cell_quartier.shape == city.cell_weight.shape == (1200,)
    # 4 km x 3 km, all twelve 1 km blocks populated.
    assert city.n_quartiers == 12
    assert city.quartier_ids() == sorted(city.quartier_ids())
    assert city.quartier_ids()[0] == "1kmN3140E4120"
    assert all(q.kind == "Zensus-Block" and q.affinity == {} for q in city.quartiers)
    assert sum(q.household_share for q in city.quartiers) == pytest.approx(1.0)


def test_sample_totals_match_csv():
    rows = sample_rows()
    values = [r["Einwohner"] for r in rows]
    suppressed = sum(v == "–" for v in values)
    shown = sum(int(v) for v in values if v != "–")
    assert 0 < suppressed < 20
    assert 10_000 < shown < 14_000

    df = read_zensus_grid(SAMPLE)
    assert list(df.columns) == ["gitter_id", "x_mp", "y_mp", "einwohner"]
    assert len(df) == len(rows)
    assert df["einwohner"].sum() == shown
    assert (df["einwohner"] >= 0).all()
    assert df.attrs["suppressed"] == suppressed

    city = city_from_zensus(SAMPLE)
    assert city.reported_population == shown
    assert city.cell_weight.sum() == shown
    # Cells missing from the file lie outside the city.
    assert int((city.cell_quartier >= 0).sum()) == len(rows)


def test_sample_is_on_the_lattice_and_ids_name_the_corner():
    for r in sample_rows():
        x, y = int(r["x_mp_100m"]), int(r["y_mp_100m"])
        assert x % 100 == 50 and y % 100 == 50
        assert r["GITTER_ID_100m"] == f"CRS3035RES100mN{y - 50}E{x - 50}"


def test_cell_indexing_round_trips():
    df = read_zensus_grid(SAMPLE)
    city = city_from_zensus(SAMPLE)
    cx, cy = city.cell_centres()
    index = {(int(x), int(y)): i for i, (x, y) in enumerate(zip(cx, cy, strict=True))}
    for x, y, n in df[["x_mp", "y_mp", "einwohner"]].itertuples(index=False):
        cell = index[(x, y)]
        assert city.cell_weight[cell] == n
        assert city.cell_quartier[cell] >= 0
    # A known cell by hand: midpoint 4120250/3140050 is row 0, column 2.
    assert (cx[2], cy[2]) == (4_120_250.0, 3_140_050.0)
    listed = {(x, y) for x, y in df[["x_mp", "y_mp"]].itertuples(index=False)}
    outside = [i for xy, i in index.items() if xy not in listed]
    assert outside and (city.cell_quartier[outside] == -1).all()
    assert (city.cell_weight[outside] == 0).all()


def test_scenario_points_at_the_sample():
    raw = tomllib.loads(SCENARIO.read_text(encoding="utf-8"))
    assert raw["extends"] == "baseline.toml"
    assert raw["city"]["kind"] == "zensus"
    assert (SCENARIO.parent / raw["city"]["zensus_file"]).resolve() == SAMPLE.resolve()
    if not (SCENARIO.parent / "baseline.toml").exists():
        pytest.skip("scenarios/baseline.toml not there yet")
    from sim.inputs.city import build_city
    from sim.inputs.levers import load_scenario

    city = build_city(load_scenario(SCENARIO))
    assert city.name == "zensus_sample" and city.n_quartiers == 12


def test_scenario_builds_the_city(tmp_path):
    # The scenario in a copy of the repository layout, with a minimal stand-in baseline.
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "sim" / "inputs" / "data").mkdir(parents=True)
    (tmp_path / "scenarios" / "baseline.toml").write_text('name = "baseline"\n')
    (tmp_path / "scenarios" / SCENARIO.name).write_bytes(SCENARIO.read_bytes())
    (tmp_path / "sim" / "inputs" / "data" / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    from sim.inputs.city import build_city
    from sim.inputs.levers import load_scenario

    scenario = load_scenario(tmp_path / "scenarios" / SCENARIO.name)
    assert scenario.name == "zensus_sample"
    assert scenario.city.kind == "zensus" and scenario.city.quartier_block_m == 1000
    city = build_city(scenario)
    assert city.reported_population == city_from_zensus(SAMPLE).reported_population
    assert city.n_quartiers == 12


# --- quartiers -----------------------------------------------------------------------------


def tiny_grid() -> list[str]:
    """Cells in three 1 km blocks; the block at E4338 has nobody."""
    return [
        HEADER,
        row(4336900, 2689100, 10),  # block N2689 E4336
        row(4337000, 2689100, 4),   # block N2689 E4337
        row(4337900, 2689900, 6),   # block N2689 E4337 (its north-east cell)
        row(4337500, 2689500, 0),   # N2689 E4337, nobody lives here
        row(4337000, 2690000, 5),   # block N2690 E4337
        row(4338000, 2689100, 0),   # block N2689 E4338: empty, no quartier
    ]


def test_block_quartiers(tmp_path):
    city = city_from_zensus(write(tmp_path, tiny_grid()), quartier_block_m=1000)
    assert (city.origin_x, city.origin_y) == (4_336_900.0, 2_689_100.0)
    assert (city.width, city.height) == (12, 10)
    assert city.quartier_ids() == ["1kmN2689E4336", "1kmN2689E4337", "1kmN2690E4337"]
    assert [q.household_share for q in city.quartiers] == pytest.approx([10 / 25, 10 / 25, 5 / 25])
    assert city.reported_population == 25

    def q_at(x_mp: int, y_mp: int) -> int:
        col, r = (x_mp - 50 - 4_336_900) // 100, (y_mp - 50 - 2_689_100) // 100
        return int(city.cell_quartier[r * city.width + col])

    assert q_at(4336950, 2689150) == 0
    assert q_at(4337050, 2689150) == 1
    assert q_at(4337950, 2689950) == 1
    assert q_at(4337550, 2689550) == 1  # empty cell in a populated block: member, weight 0
    assert city.cell_weight[(2689550 - 50 - 2689100) // 100 * 12 + 6] == 0
    assert q_at(4337050, 2690050) == 2
    assert q_at(4338050, 2689150) == -1  # block without inhabitants
    assert q_at(4336950, 2690050) == -1  # not in the file
    assert np.bincount(city.cell_quartier[city.cell_quartier >= 0]).tolist() == [1, 3, 1]


def test_block_size_in_ids(tmp_path):
    path = write(tmp_path, tiny_grid())
    ids_500 = city_from_zensus(path, quartier_block_m=500).quartier_ids()
    assert "500mN5378E8674" in ids_500  # 4337050 // 500 = 8674, 2689150 // 500 = 5378
    assert len(ids_500) == 4
    ids_2k = city_from_zensus(path, quartier_block_m=2000).quartier_ids()
    assert ids_2k == ["2kmN1344E2168", "2kmN1345E2168"]


def test_quartier_column(tmp_path):
    lines = [
        "GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner;Quartier",
        row(4337000, 2689100, 10) + ";Altstadt",
        row(4337100, 2689100, 20) + ";Altstadt",
        row(4337200, 2689100, 30) + ";Nordviertel",
        row(4337300, 2689100, 40) + ";",  # no name: its 1 km block
        row(4337400, 2689100, 0) + ";Park",  # nobody: no quartier
    ]
    df = read_zensus_grid(write(tmp_path, lines))
    assert df["quartier"].tolist() == ["Altstadt", "Altstadt", "Nordviertel", "", "Park"]
    city = city_from_zensus(write(tmp_path, lines))
    assert city.quartier_ids() == ["1kmN2689E4337", "Altstadt", "Nordviertel"]
    assert [q.kind for q in city.quartiers] == ["Zensus-Block", "Quartier", "Quartier"]
    assert [q.name for q in city.quartiers] == city.quartier_ids()
    assert [q.household_share for q in city.quartiers] == pytest.approx([0.4, 0.3, 0.3])
    assert city.cell_quartier.tolist() == [1, 1, 2, 0, -1]


# --- encodings and variants ----------------------------------------------------------------


def test_latin1_file_with_2011_header(tmp_path):
    lines = [
        "Gitter_ID_100m;x_mp_100m;y_mp_100m;Einwohner;Quartier",
        "100mN26891E43370;4337050;2689150;7;Süd",
        "100mN26891E43371;4337150;2689150;-1;Süd",
        "100mN26892E43370;4337050;2689250;12;Östlich",
    ]
    path = write(tmp_path, lines, encoding="latin-1")
    df = read_zensus_grid(path)
    assert df["einwohner"].tolist() == [7, 0, 12]
    assert df.attrs["suppressed"] == 1
    assert df["quartier"].tolist() == ["Süd", "Süd", "Östlich"]
    assert city_from_zensus(path).quartier_ids() == ["Süd", "Östlich"]


def test_utf8_bom_and_dashes(tmp_path):
    lines = [HEADER, row(4337000, 2689100, 4), row(4337100, 2689100, "–"),
             row(4337200, 2689100, "—"), row(4337300, 2689100, ""), row(4337400, 2689100, 9)]
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode("utf-8"))
    df = read_zensus_grid(path)
    assert df["einwohner"].tolist() == [4, 0, 0, 0, 9]
    assert df.attrs["suppressed"] == 3
    assert df["gitter_id"].iloc[0] == "CRS3035RES100mN2689100E4337000"


def test_windows_1252_dash_is_suppressed(tmp_path):
    path = tmp_path / "cp1252.csv"
    path.write_bytes(("\n".join([HEADER, row(4337000, 2689100, 3), row(4337100, 2689100, "–")])
                      + "\n").encode("cp1252"))
    df = read_zensus_grid(path)
    assert df["einwohner"].tolist() == [3, 0]


# --- malformed input -----------------------------------------------------------------------

BAD_INPUTS = {
    "not_a_number": ([HEADER, row(4337000, 2689100, 4), row(4337100, 2689100, "abc")],
                     "line 3: Einwohner", "'abc' is not a whole number"),
    "decimal_count": ([HEADER, row(4337000, 2689100, "4.5")],
                      "line 2: Einwohner", "not a whole number"),
    "negative_count": ([HEADER, row(4337000, 2689100, -5)], "line 2: Einwohner", "negative"),
    "missing_column": (["GITTER_ID_100m;y_mp_100m;Einwohner", "X;2689150;4"],
                       "header", "missing column(s) x_mp_100m"),
    "comma_separated": (["GITTER_ID_100m,x_mp_100m,y_mp_100m,Einwohner", "X,4337050,2689150,4"],
                        "header", "separator must be ';'"),
    "duplicate_column": ([HEADER + ";Einwohner", row(4337000, 2689100, 4) + ";4"],
                         "header", "appears twice"),
    "header_only": ([HEADER], None, "no data rows"),
    "off_lattice_x": ([HEADER, "CRS3035RES100mN2689100E4337000;4337000;2689150;4"],
                      "line 2: x_mp_100m", "must end in 50"),
    "off_lattice_y": ([HEADER, "CRS3035RES100mN2689100E4337000;4337050;2689199;4"],
                      "line 2: y_mp_100m", "must end in 50"),
    "negative_coordinate": ([HEADER, "CRS3035RES100mN2689100E4337000;4337050;-2689150;4"],
                            "line 2: y_mp_100m", "'-2689150' is negative"),
    "id_2011_contradicts_midpoint": (
        ["Gitter_ID_100m;x_mp_100m;y_mp_100m;Einwohner", "100mN26891E43371;4337050;2689150;3"],
        "line 2: Gitter_ID_100m", "expected '100mN26891E43370'"),
    "coordinate_text": ([HEADER, "CRS3035RES100mN2689100E4337000;east;2689150;4"],
                        "line 2: x_mp_100m", "'east' is not a whole number"),
    "duplicate_cell": ([HEADER, row(4337000, 2689100, 4), "", row(4337100, 2689100, 1),
                        row(4337000, 2689100, 2)],
                       "line 5: x_mp_100m/y_mp_100m", "already listed on line 2"),
    "too_many_fields": ([HEADER, row(4337000, 2689100, 4), row(4337100, 2689100, 4) + ";x"],
                        "line 3", "found 5"),
    "too_few_fields": ([HEADER, "CRS3035RES100mN2689100E4337000;4337050;2689150"],
                       "line 2", "found 3"),
    "id_contradicts_midpoint": ([HEADER, "CRS3035RES100mN2689100E4337000;4337150;2689150;4"],
                                "line 2: GITTER_ID_100m", "does not match the midpoint"),
    "empty_id": ([HEADER, ";4337050;2689150;4"], "line 2: GITTER_ID_100m", "empty grid ID"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_malformed_input_raises_one_line_error(tmp_path, case):
    lines, field, message = BAD_INPUTS[case]
    path = write(tmp_path, lines, name=f"{case}.csv")
    with pytest.raises(InputError) as info:
        read_zensus_grid(path)
    err = info.value
    text = str(err)
    assert "\n" not in text
    assert f"{case}.csv" in text
    assert err.field == field
    if field:
        assert field in text
    assert message in err.message


@pytest.mark.parametrize("content", [b"", b"\n  \n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"empty\.csv: file is empty"):
        read_zensus_grid(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nowhere\.csv: file not found"):
        city_from_zensus(tmp_path / "nowhere.csv")


def test_city_errors_also_come_from_reading(tmp_path):
    path = write(tmp_path, [HEADER, row(4337000, 2689100, "x1")], name="broken.csv")
    with pytest.raises(InputError, match=r"broken\.csv: line 2: Einwohner: 'x1'"):
        city_from_zensus(path)


def test_nobody_lives_there(tmp_path):
    path = write(tmp_path, [HEADER, row(4337000, 2689100, 0), row(4337100, 2689100, "–")],
                 name="deserted.csv")
    with pytest.raises(InputError, match=r"deserted\.csv: Einwohner: no inhabitants"):
        city_from_zensus(path)


def test_bad_block_size(tmp_path):
    with pytest.raises(ValueError, match="quartier_block_m"):
        city_from_zensus(write(tmp_path, tiny_grid()), quartier_block_m=0)
